"""EmbeddingTable: ids, vectors, optional labels and metadata, saved atomically.

A table is the one type for ids + vectors in pairspace: the unit that flows between encoders,
alignment heads, tasks and measures, what every file reader returns (:func:`read_table`, one entry
point over every format of :mod:`pairspace.data.formats`, with one set of rules and errors), the
input of the paired comparison (:func:`pairspace.data.io.load_space`) and the word vectors of the
analogy benchmark (words are the ids; :meth:`EmbeddingTable.rows` looks them up, optionally
case-insensitively). A bare matrix (a ``.npy`` file) is a table without ids (``ids=None``: rows
are known by position only). On disk it
is a parquet file (an ``id`` column, a fixed-size-list ``vector`` column, an optional ``label``
column, optional extra per-item columns such as ``fold`` or ``path``, and the metadata as JSON in the
schema's key-value metadata), an uncompressed Arrow IPC file (``.arrow``, the same columns, which
:meth:`EmbeddingTable.load` can memory-map so the vectors are a zero-copy read-only view of the
file) or an ``.npz`` archive. Writes go to a temporary file in the same folder followed by an atomic
rename, so a crash never leaves a half-written table.

The metadata records where the vectors came from: ``metadata["provenance"]`` holds the encoder's
:class:`~pairspace.encoders.base.Provenance` and ``metadata["inputs_sha256"]`` a checksum of the
inputs, which ``pairspace embed`` compares before reusing a table.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_path
from .._validation import as_matrix, native_float
from . import formats
from .formats import META_KEY, RESERVED_COLUMNS, FileSource

__all__ = ["EmbeddingTable", "FileSource", "read_table"]


@dataclass
class EmbeddingTable:
    """Embeddings of ``n`` items: the one table type for ids + vectors.

    Attributes
    ----------
    ids : list of str or None
        Unique item ids (file names, words, caption ids); None for a bare matrix read from a file
        without ids (rows are then known by position only, and id lookups are an error).
    vectors : numpy.ndarray, shape (n, d)
        The embeddings (a memmap or view is fine). A table built in code holds float32 (other
        input is converted). A table read from a file (``source`` set) keeps a float32 or
        float64 matrix as stored, so a memory-mapped file is never copied, and widens anything
        else to float64.
    labels : list of str or None
        Optional class label per item.
    metadata : dict
        JSON-serializable metadata: encoder provenance, source files, anything else.
    columns : dict of str to list
        Extra per-item columns (``fold``, ``path``, ``caption``...), each of length n, holding
        strings, integers or floats.
    source : FileSource or None
        The file the table was read from and the columns used (set by :func:`read_table`).
    """

    ids: list[str] | None
    vectors: np.ndarray
    labels: list[str] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, list[Any]] = field(default_factory=dict)
    source: FileSource | None = field(default=None, compare=False)
    _lookup: dict[bool, tuple[Any, dict[str, int]]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        name = self.source.path if self.source is not None else "embedding table"
        if self.ids is not None and not isinstance(self.ids, list):
            self.ids = list(self.ids)
        self.vectors = _checked_vectors(self.vectors, name, self.ids, native=self.source is not None)
        n = self.vectors.shape[0]
        if self.ids is not None:
            self.ids = formats.check_ids(self.ids, name, n)
        if self.labels is not None:
            self.labels = _cells(self.labels, "label")
            if len(self.labels) != n:
                raise ValueError(f"{len(self.labels)} labels for {n} rows")
        cols = {}
        for col, values in dict(self.columns).items():
            if col in RESERVED_COLUMNS:
                raise ValueError(f"column name {col!r} is reserved (id, vector, label)")
            values = np.asarray(values).tolist() if isinstance(values, np.ndarray) else list(values)
            if len(values) != n:
                raise ValueError(f"column {col!r} has {len(values)} values for {n} rows")
            cols[str(col)] = values
        self.columns = cols

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        return int(self.vectors.shape[1])

    @property
    def path(self) -> str | None:
        """The file the table was read from (None for a table built in code)."""
        return None if self.source is None else self.source.path

    def _ids(self) -> list[str]:
        if self.ids is None:
            raise ValueError(f"{self.path or 'this table'} has no ids (rows are known by position "
                             "only); give the file an id column")
        return self.ids

    # ---------------------------------------------------------------- lookups by id
    def index(self, case_insensitive: bool = False) -> dict[str, int]:
        """Id -> row (keys lower-cased when ``case_insensitive``: a folded id maps to its first
        row, for word vectors the most frequent spelling, as gensim's case-insensitive
        evaluation does). Built once per ``ids`` list."""
        ids = self._ids()
        cached = self._lookup.get(case_insensitive)
        if cached is None or cached[0] is not ids:
            keys = (i.lower() for i in ids) if case_insensitive else iter(ids)
            out: dict[str, int] = {}
            for r, key in enumerate(keys):
                out.setdefault(key, r)
            cached = self._lookup[case_insensitive] = (ids, out)
        return cached[1]

    def rows(self, ids: Sequence[str], case_insensitive: bool = False) -> np.ndarray:
        """Row of each id (``-1`` for an id that is not in the table)."""
        idx = self.index(case_insensitive)
        fold = str.lower if case_insensitive else str
        return np.fromiter((idx.get(fold(i), -1) for i in ids), dtype=np.int64, count=len(ids))

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and item in self.index()

    def get(self, ids: Sequence[str], case_insensitive: bool = False) -> np.ndarray:
        """The float64 vectors of these ids (a ``ValueError`` lists ids that are missing)."""
        r = self.rows(ids, case_insensitive)
        if (r < 0).any():
            missing = [i for i, j in zip(ids, r, strict=True) if j < 0]
            raise ValueError(f"{len(missing)} ids are not in the table, e.g. {missing[:5]}")
        return np.asarray(self.vectors[r], dtype=np.float64)

    def select(self, ids: Sequence[str]) -> EmbeddingTable:
        """The rows with these ids, in this order (an error lists ids that are missing)."""
        rows = self.rows(ids)
        if (rows < 0).any():
            missing = [i for i, r in zip(ids, rows, strict=True) if r < 0]
            raise ValueError(f"{len(missing)} ids are not in the table, e.g. {missing[:5]}")
        return self.take(rows)

    def take(self, rows: Sequence[int] | np.ndarray) -> EmbeddingTable:
        """The rows at these positions (a boolean mask is accepted too)."""
        rows = np.asarray(rows)
        if rows.dtype == bool:
            if rows.shape != (len(self),):
                raise ValueError(f"a boolean mask needs {len(self)} entries; got {rows.shape}")
            rows = np.flatnonzero(rows)
        rows = rows.astype(np.int64)
        labels = [self.labels[r] for r in rows] if self.labels is not None else None
        cols = {k: [v[r] for r in rows] for k, v in self.columns.items()}
        ids = None if self.ids is None else [self.ids[r] for r in rows]
        return EmbeddingTable(ids, np.asarray(self.vectors)[rows], labels, dict(self.metadata), cols,
                              self.source)

    def where(self, column: str, values: str | Sequence[str]) -> EmbeddingTable:
        """The rows whose ``column`` (``label``, ``id`` or an extra column) is one of ``values``.

        Values are compared as strings, so ``where("fold", "1")`` matches an integer fold 1. An
        unknown column, or a selection with no row, is an error.
        """
        wanted = {str(values)} if isinstance(values, str) else {str(v) for v in values}
        if column == "id":
            cells: Sequence[Any] = self._ids()
        elif column == "label":
            if self.labels is None:
                raise ValueError("this table has no labels")
            cells = self.labels
        elif column in self.columns:
            cells = self.columns[column]
        else:
            raise ValueError(f"no column {column!r}; columns: id, label, "
                             f"{', '.join(sorted(self.columns)) or '(no extra columns)'}")
        mask = np.fromiter((str(v) in wanted for v in cells), dtype=bool, count=len(self))
        if not mask.any():
            raise ValueError(f"no row has {column} in {sorted(wanted)[:5]}")
        return self.take(mask)

    @property
    def provenance(self) -> dict[str, Any] | None:
        """The encoder provenance recorded in the metadata (a dict), if any."""
        return self.metadata.get("provenance")

    def class_names(self) -> list[str]:
        """The distinct labels in order of first appearance (an error when there are no labels)."""
        if self.labels is None:
            raise ValueError("this table has no labels")
        return list(dict.fromkeys(self.labels))

    @classmethod
    def concat(cls, tables: Sequence[EmbeddingTable], metadata: dict[str, Any] | None = None
               ) -> EmbeddingTable:
        """Rows of several tables with the same dimension and columns, in order."""
        if not tables:
            raise ValueError("no tables to concatenate")
        dims = {t.dim for t in tables}
        if len(dims) != 1:
            raise ValueError(f"tables have different dimensions: {sorted(dims)}")
        keys = {tuple(sorted(t.columns)) for t in tables}
        if len(keys) != 1:
            raise ValueError(f"tables have different columns: {sorted(keys)}")
        has_labels = {t.labels is not None for t in tables}
        if len(has_labels) != 1:
            raise ValueError("either every table or none must have labels")
        labels = sum((t.labels for t in tables), []) if tables[0].labels is not None else None
        cols = {k: sum((t.columns[k] for t in tables), []) for k in tables[0].columns}
        return cls(sum((t._ids() for t in tables), []),
                   np.concatenate([np.asarray(t.vectors) for t in tables]), labels,
                   dict(tables[0].metadata if metadata is None else metadata), cols)

    # ---------------------------------------------------------------- I/O
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write to ``.parquet``, ``.arrow`` or ``.npz`` atomically (temporary file, then rename)."""
        path = Path(path)
        suffix = formats.format_of(path, table=True)
        self._ids()
        with atomic_path(path) as tmp:
            if suffix in (".parquet", ".arrow"):
                self._write_arrow(tmp, suffix)
            else:
                formats.write_npz(tmp, {
                    "ids": np.asarray(self.ids, dtype=object).astype(str),
                    "vectors": np.asarray(self.vectors, dtype=np.float32),
                    "labels": np.asarray(self.labels if self.labels is not None else [], dtype=str),
                    "has_labels": np.asarray(self.labels is not None),
                    "metadata": np.asarray(json.dumps(self.metadata, default=str)),
                    "columns": np.asarray(json.dumps(self.columns, default=str)),
                }, atomic=False)
        return path

    def to_arrow(self) -> Any:
        """The table as a ``pyarrow.Table`` (metadata as JSON in the schema metadata)."""
        import pyarrow as pa

        vec = np.ascontiguousarray(self.vectors, dtype=np.float32)
        flat = pa.array(vec.ravel(), type=pa.float32())
        cols = {"id": pa.array(self._ids(), type=pa.string()),
                "vector": pa.FixedSizeListArray.from_arrays(flat, vec.shape[1])}
        if self.labels is not None:
            cols["label"] = pa.array(self.labels, type=pa.string())
        for name, values in self.columns.items():
            try:
                cols[name] = pa.array(values)
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                raise ValueError(f"column {name!r} mixes types or holds unsupported values: {exc}") from exc
        return pa.table(cols).replace_schema_metadata(
            {META_KEY: json.dumps(self.metadata, default=str).encode()}
        )

    def _write_arrow(self, path: str, suffix: str) -> None:
        formats.write_arrow(self.to_arrow(), path, suffix, atomic=False)

    @classmethod
    def load(cls, path: str | os.PathLike[str], mmap: bool = False, **options: Any) -> EmbeddingTable:
        """Read a table: :func:`read_table` with ids required (``options`` are its keywords).

        With ``mmap=True`` an ``.arrow`` file is memory-mapped and ``vectors`` is a read-only
        zero-copy view of it (the file is read lazily); ``.npy`` files are always mapped.
        """
        return read_table(path, mmap=mmap, **options)

    @classmethod
    def from_arrow(cls, t: Any, source: str = "arrow table") -> EmbeddingTable:
        """Build a table from a ``pyarrow.Table`` with ``id`` and ``vector`` columns."""
        if "id" not in t.column_names or "vector" not in t.column_names:
            raise ValueError(f"{source} is not an embedding table (needs 'id' and 'vector' columns)")
        parts = formats.arrow_to_matrix(t, source, "id", "vector", zero_copy=True, extras=True)
        try:
            return cls(parts.ids, parts.vectors, parts.labels, parts.metadata or {},
                       parts.columns or {})
        except ValueError as exc:
            raise ValueError(f"{source}: {exc}") from None


def read_table(path: str | os.PathLike[str], *, id_column: str | None = None,
               vector_column: str | None = None, feature_columns: Sequence[str] | None = None,
               detect_index: bool = True, mmap: bool = False,
               dtype: np.dtype | type | None = None, require_ids: bool = True,
               extras: bool = True) -> EmbeddingTable:
    """Read any file of :data:`pairspace.data.formats.FORMATS` as an :class:`EmbeddingTable`.

    The one entry point of every reader: the per-format step is
    :func:`pairspace.data.formats.read_parts` (its rules: the id column is ``id_column``, else
    ``id``, else the first string column; the vectors a list column or the numeric feature
    columns; a pandas index column is ignored), the table checks the vectors (numeric, 2-D,
    finite; errors name the file, row and id).

    Parameters
    ----------
    path : path-like
        ``.parquet``, ``.arrow``, ``.npz``, ``.npy`` or ``.csv``.
    id_column, vector_column : str, optional
        Column names (default: detected).
    feature_columns : sequence of str, optional
        Numeric feature columns (default: every numeric column but the id and a pandas index).
    detect_index : bool
        Ignore a pandas index column.
    mmap : bool
        Memory-map an ``.arrow`` file (a ``.npy`` file is always mapped, never copied).
    dtype : numpy dtype, optional
        Convert the stored vectors (not those of a ``.npy`` memory map) to this dtype.
    require_ids : bool
        Refuse a file without ids (default); False reads it as a table with ``ids=None``.
    extras : bool
        Also read the labels, extra columns and metadata a table file stores (False skips
        them, e.g. for a comparison that needs only the vectors).

    Returns
    -------
    EmbeddingTable
        With ``source`` (the file, its format, the columns used).
    """
    parts = formats.read_parts(path, id_column, vector_column, feature_columns, detect_index,
                               mmap=mmap or Path(path).suffix.lower() == ".npy", dtype=dtype,
                               extras=extras)
    if require_ids and parts.ids is None:
        raise ValueError(f"{path} has no ids: an embedding table needs an id per row (an 'id' "
                         "column, or an 'ids' array in an .npz archive)")
    try:
        return EmbeddingTable(parts.ids, parts.vectors, parts.labels, parts.metadata or {},
                              parts.columns or {}, parts.source)
    except ValueError as exc:
        msg = str(exc)  # the checks name the file already (as parts.source.path spells it)
        raise ValueError(msg if msg.startswith(parts.source.path) else f"{path}: {msg}") from None


def _checked_vectors(V: Any, name: str, ids: list[str] | None, native: bool) -> np.ndarray:
    """The vectors after the one check of every table (numeric, 2-D, non-empty, finite).

    A numpy array that already has the target dtype is returned as it is (a memmap is never
    copied). The target is float32, or for a table read from a file (``native``) float32 for a
    float32 matrix and float64 for anything else.
    """
    if not isinstance(V, np.ndarray):
        return as_matrix(V, name, dtype=None if native else np.float32)
    formats.check_vectors(V, name, ids)
    target = native_float(V) if native else np.float32
    if V.dtype == target:
        return V
    if np.iscomplexobj(V):
        raise ValueError(f"{name}: complex vectors are not supported (dtype {V.dtype})")
    return V.astype(target)


def _cells(values: Any, what: str) -> list[str]:
    """Labels as strings; a missing value (None or NaN) is an error naming its row.

    ``str(None)`` would turn a null into the id or class ``"None"``; a real string ``"None"`` is
    kept as it is.
    """
    out = []
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and v != v):
            raise ValueError(f"the {what} of row {i} is missing (null); every row needs a {what}")
        out.append(str(v))
    return out
