"""Format table, checks and the parts record shared by the readers of :mod:`pairspace.data.formats`."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np


@dataclass(frozen=True)
class FormatInfo:
    """What a format holds: ids, the full table (labels, columns, metadata), memory mapping."""

    suffix: str
    ids: bool
    table: bool
    mmap: bool
    description: str


FORMATS: dict[str, FormatInfo] = {
    ".parquet": FormatInfo(".parquet", True, True, False, "Apache Parquet (id, vector, columns)"),
    ".arrow": FormatInfo(".arrow", True, True, True, "Arrow IPC file (memory-mappable)"),
    ".npz": FormatInfo(".npz", True, True, False, "numpy archive (vectors, ids)"),
    ".npy": FormatInfo(".npy", False, False, True, "one numpy matrix, no ids"),
    ".csv": FormatInfo(".csv", True, False, False, "header row, id and numeric columns"),
}
"""Every supported suffix. ``table=True`` formats store a whole EmbeddingTable."""

TABLE_SUFFIXES = tuple(s for s, f in FORMATS.items() if f.table)
VECTOR_KEYS = ("vectors", "embeddings", "X", "x")
ID_KEYS = ("ids", "id")
VECTOR_COLUMNS = ("vector", "vectors", "embedding", "embeddings")
DEFAULT_BATCH_ROWS = 65536
_UNNAMED = re.compile(r"^(|Unnamed: \d+|index|__index_level_\d+__)$")


def format_of(path: str | os.PathLike[str], table: bool = False) -> str:
    """The suffix of ``path`` (lower case) after checking it is supported.

    Parameters
    ----------
    path : path-like
        A file name.
    table : bool
        Require a format that stores a whole table (``.parquet``, ``.arrow``, ``.npz``).
    """
    p = Path(path)
    suffix = p.suffix.lower()
    allowed = TABLE_SUFFIXES if table else tuple(FORMATS)
    if suffix not in allowed:
        kind = "table format" if table else "input format"
        raise ValueError(f"unsupported {kind} {p.suffix!r} for {p}; use one of {', '.join(allowed)}")
    return suffix


def existing_file(path: str | os.PathLike[str], what: str = "input file") -> Path:
    """``path`` as a Path after checking that it is an existing file (not a folder)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{what} not found: {p}")
    if p.is_dir():
        raise ValueError(f"{p} is a folder; expected a file ({', '.join(FORMATS)})")
    return p


@dataclass(frozen=True)
class FileSource:
    """Where a table was read from: the file, its format and the columns used.

    Attributes
    ----------
    path : str
        The file (or the name of an embedded data set).
    format : str
        Its suffix (``.parquet``, ``.npy``...) or a word-vector format (``glove``, ``word2vec``).
    id_column : str or None
        The column (or ``.npz`` key) that gave the ids.
    feature_columns : tuple of str
        The feature columns, or the one vector column (or ``.npz`` key).
    ignored_columns : tuple of str
        Columns read but not used (a pandas index).
    """

    path: str
    format: str
    id_column: str | None = None
    feature_columns: tuple[str, ...] = ()
    ignored_columns: tuple[str, ...] = ()

    def columns_used(self) -> dict[str, Any]:
        """``id``, ``features`` and ``ignored`` for column formats; ``{}`` for numpy files."""
        if self.format not in (".parquet", ".arrow", ".csv"):
            return {}
        return {"id": self.id_column, "features": list(self.feature_columns),
                "ignored": list(self.ignored_columns)}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description."""
        return {"path": self.path, "format": self.format, "id_column": self.id_column,
                "feature_columns": list(self.feature_columns),
                "ignored_columns": list(self.ignored_columns)}


class Parts(NamedTuple):
    """What a format reader found: the vectors, the ids (None: no id column), the source and, for
    a file that stores a whole table, its labels, extra per-item columns and metadata."""

    vectors: np.ndarray
    ids: list[Any] | None
    source: FileSource
    labels: list[Any] | None = None
    columns: dict[str, list[Any]] | None = None
    metadata: dict[str, Any] | None = None


#: The columns of a stored table that are not extra per-item columns.
RESERVED_COLUMNS = ("id", "vector", "label")
#: The key of the table metadata (JSON) in a parquet/arrow schema.
META_KEY = b"pairspace"


def table_metadata(raw: bytes | str, source: str) -> dict[str, Any]:
    """The table metadata (JSON text) as a dict, or an error naming the file."""
    try:
        meta = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{source}: the table metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{source}: the table metadata must be a JSON object; got "
                         f"{type(meta).__name__}")
    return meta


def check_vectors(A: np.ndarray, path: str | os.PathLike[str], ids: list[str] | None = None,
                  block_rows: int = DEFAULT_BATCH_ROWS) -> np.ndarray:
    """Check a matrix read from ``path``: numeric, 2-D, non-empty, finite (checked in blocks)."""
    if A.dtype == object or not (np.issubdtype(A.dtype, np.number) or A.dtype == bool):
        raise ValueError(f"{path}: expected numeric vectors, got dtype {A.dtype} (ragged rows or "
                         "text values?)")
    if A.ndim != 2:
        raise ValueError(f"{path}: expected a 2-D array (n_items x n_features); got shape {A.shape}")
    if A.shape[0] < 1 or A.shape[1] < 1:
        raise ValueError(f"{path}: the array is empty (shape {A.shape})")
    for s in range(0, A.shape[0], block_rows):
        blk = np.asarray(A[s : s + block_rows])
        bad = ~np.isfinite(blk)
        if bad.any():
            rows = s + np.flatnonzero(bad.any(axis=1))
            row = int(rows[0])
            kind = "NaN" if np.isnan(blk).any() else "inf"
            who = f" (id {ids[row]!r})" if ids is not None else ""
            raise ValueError(f"{path}: {kind} values in {rows.size}+ row(s); first in row {row}{who}")
    return A


def check_ids(ids: Sequence[Any], path: str | os.PathLike[str], n: int) -> list[str]:
    """Ids as strings after checking their count, that none is missing and none repeats.

    A missing id (None or NaN) is an error, not the id ``"None"``; a real string ``"None"`` is
    kept as it is.
    """
    if len(ids) != n:
        raise ValueError(f"{path}: {len(ids)} ids for {n} vectors; they must match")
    missing = [i for i, v in enumerate(ids) if v is None or (isinstance(v, float) and v != v)]
    if missing:
        raise ValueError(f"{path}: the id column has missing values (first in row {missing[0]}); "
                         "every row needs an id")
    out = [v if type(v) is str else str(v) for v in ids]
    if len(set(out)) == n:
        return out
    dup = [i for i, c in Counter(out).items() if c > 1]
    if dup:
        raise ValueError(f"{path}: {len(dup)} duplicated id(s), e.g. {dup[:5]}; ids must be unique")
    return out
