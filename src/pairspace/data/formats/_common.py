"""Format table, checks and the result type shared by the readers of :mod:`pairspace.data.formats`."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


@dataclass
class MatrixFile:
    """A matrix read from disk: vectors, optional ids, and which columns they came from."""

    vectors: np.ndarray
    ids: list[str] | None
    path: str
    format: str
    id_column: str | None = None
    feature_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.vectors.shape[0])

    @property
    def columns(self) -> dict[str, Any]:
        """The columns used (table formats): ``id``, ``features`` (the feature columns, or the
        vector column) and ``ignored`` (read but not used, e.g. a pandas index); ``{}`` for numpy
        files."""
        if self.format in (".npy", ".npz"):
            return {}
        return {"id": self.id_column, "features": self.feature_columns,
                "ignored": self.ignored_columns}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (no arrays)."""
        return {"path": self.path, "format": self.format, "n": self.n,
                "d": int(self.vectors.shape[1]), "id_column": self.id_column,
                "feature_columns": list(self.feature_columns),
                "ignored_columns": list(self.ignored_columns)}


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
    """Ids as strings after checking their count, that none is missing and none repeats."""
    if len(ids) != n:
        raise ValueError(f"{path}: {len(ids)} ids for {n} vectors")
    missing = [i for i, v in enumerate(ids) if v is None or (isinstance(v, float) and v != v)]
    if missing:
        raise ValueError(f"{path}: the id column has missing values (first in row {missing[0]})")
    out = [str(v) for v in ids]
    dup = [i for i, c in Counter(out).items() if c > 1]
    if dup:
        raise ValueError(f"{path}: {len(dup)} duplicated id(s), e.g. {dup[:5]}")
    return out


