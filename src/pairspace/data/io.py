"""Load the two inputs of a paired comparison from .npy, .npz, .parquet or .csv, aligned by id.

Formats
-------
``.npy``
    One 2-D numeric array (memory-mapped, never unpickled); no ids.
``.npz``
    A 2-D array under ``vectors``, ``embeddings``, ``X`` or ``x`` (or the only 2-D array) and
    optional ids under ``ids`` or ``id`` (the format :meth:`pairspace.data.EmbeddingTable.save`
    writes).
``.parquet``
    An id column (``id_column``, else ``id``, else the first string column) and either a list
    column of vectors (``vector_column``, else ``vector``/``embedding``/the only list column) or
    every numeric column as one feature each.
``.csv``
    A header row, an optional id column chosen as for parquet, and numeric feature columns.

Index columns
-------------
An index column written by pandas (``df.to_csv()`` without ``index=False``) is not a feature: a
first column with an empty name or named ``Unnamed: 0`` / ``index`` / ``__index_level_0__``, or
a first integer column holding exactly ``0..n-1``, is ignored (rows are then paired by the other
input's ids or by position, as the index says). ``columns`` names the feature columns
explicitly; :attr:`Space.columns` records which columns were used, so the CLI can print them.

Alignment
---------
When both inputs carry ids, the rows of Y are reordered to X's id order; an id on one side only is
an error that names a few of them. Otherwise rows are paired by position (the counts must match),
and the ids of whichever input has them are kept.

Every problem (missing or unreadable file, ragged rows, a non-numeric column, NaN or inf,
duplicated ids) raises a :class:`ValueError` or :class:`FileNotFoundError` naming the file and,
where possible, the row and id.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FORMATS = (".npy", ".npz", ".parquet", ".csv")
_VECTOR_KEYS = ("vectors", "embeddings", "X", "x")
_ID_KEYS = ("ids", "id")
_VECTOR_COLUMNS = ("vector", "vectors", "embedding", "embeddings")


@dataclass
class Space:
    """One loaded input: vectors (n x d), optional ids, and where they came from.

    ``columns`` (table inputs): ``id`` (the id column or None), ``features`` (the feature columns,
    or the vector column) and ``ignored`` (columns read but not used, e.g. an index).
    """

    vectors: np.ndarray
    ids: list[str] | None
    path: str
    columns: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.vectors.shape[0])


@dataclass
class PairedSpaces:
    """Two aligned spaces: ``X[i]`` and ``Y[i]`` are the same item ``ids[i]``."""

    X: np.ndarray
    Y: np.ndarray
    ids: list[str] | None
    aligned_by: str
    sources: dict[str, str] = field(default_factory=dict)

    columns: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description of the inputs (no arrays)."""
        return {"x": self.sources.get("x"), "y": self.sources.get("y"), "n": int(self.X.shape[0]),
                "dx": int(self.X.shape[1]), "dy": int(self.Y.shape[1]),
                "aligned_by": self.aligned_by, "has_ids": self.ids is not None,
                "columns": self.columns}


def _check_numeric(A: np.ndarray, path: Path, ids: list[str] | None) -> np.ndarray:
    if A.dtype == object or not (np.issubdtype(A.dtype, np.number) or A.dtype == bool):
        raise ValueError(f"{path}: expected numeric vectors, got dtype {A.dtype} (ragged rows or "
                         "text values?)")
    if A.ndim != 2:
        raise ValueError(f"{path}: expected a 2-D array (n_items x n_features); got shape {A.shape}")
    if A.shape[0] < 1 or A.shape[1] < 1:
        raise ValueError(f"{path}: the array is empty (shape {A.shape})")
    for s in range(0, A.shape[0], 65536):
        blk = np.asarray(A[s : s + 65536])
        bad = ~np.isfinite(blk)
        if bad.any():
            row = s + int(np.argmax(bad.any(axis=1)))
            rows = s + np.flatnonzero(bad.any(axis=1))
            kind = "NaN" if np.isnan(blk).any() else "inf"
            who = f" (id {ids[row]!r})" if ids is not None else ""
            raise ValueError(f"{path}: {kind} values in {rows.size}+ row(s); first in row {row}{who}")
    return A


def _check_ids(ids: list[str], path: Path, n: int) -> list[str]:
    if len(ids) != n:
        raise ValueError(f"{path}: {len(ids)} ids for {n} vectors")
    if any(i is None or i == "None" for i in ids):
        raise ValueError(f"{path}: the id column has missing values")
    dup = [i for i, c in Counter(ids).items() if c > 1]
    if dup:
        raise ValueError(f"{path}: {len(dup)} duplicated id(s), e.g. {dup[:5]}")
    return ids


def _load_npy(path: Path) -> tuple[np.ndarray, list[str] | None]:
    try:
        A = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{path}: could not read as a numeric array ({exc}); ragged or object "
                         "arrays are not supported") from exc
    except Exception as exc:
        raise ValueError(f"{path}: not a readable .npy file ({exc})") from exc
    return A, None


def _load_npz(path: Path) -> tuple[np.ndarray, list[str] | None]:
    try:
        z = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise ValueError(f"{path}: not a readable .npz archive ({exc})") from exc
    with z:
        keys = list(z.files)
        try:
            vkey = next((k for k in _VECTOR_KEYS if k in keys), None)
            if vkey is None:
                twod = [k for k in keys if k not in _ID_KEYS and z[k].ndim == 2]
                if len(twod) != 1:
                    raise ValueError(f"{path}: cannot tell which array holds the vectors (keys "
                                     f"{keys}); name it 'vectors'")
                vkey = twod[0]
            A = np.asarray(z[vkey])
            ikey = next((k for k in _ID_KEYS if k in keys), None)
            ids = [str(v) for v in z[ikey].tolist()] if ikey is not None else None
        except ValueError as exc:
            if str(path) in str(exc):
                raise
            raise ValueError(f"{path}: could not read the arrays ({exc}); object or ragged arrays "
                             "are not supported") from exc
    return A, ids


_INDEX_NAMES = re.compile(r"^(|Unnamed: \d+|index|__index_level_\d+__)$")


def _index_column(t: Any, names: list[str], types: dict[str, Any]) -> str | None:
    """The name of a pandas index column at position 0, or None."""
    import pyarrow as pa

    if not names:
        return None
    first = names[0]
    if _INDEX_NAMES.match(first):
        return first
    if pa.types.is_integer(types[first]) and first != "id":
        v = np.asarray(t.column(first).to_numpy(zero_copy_only=False))
        if v.size > 1 and np.array_equal(v, np.arange(v.size)):
            return first
    return None


def _pick_id_column(path: Path, names: list[str], types: dict[str, Any],
                    id_column: str | None) -> str | None:
    import pyarrow as pa

    if id_column is not None:
        if id_column not in names:
            raise ValueError(f"{path}: no id column {id_column!r} (columns: {names[:10]})")
        return id_column
    if "id" in names:
        return "id"
    return next((c for c in names if pa.types.is_string(types[c])
                 or pa.types.is_large_string(types[c])), None)


def _vector_matrix(t: Any, path: Path, vector_column: str) -> np.ndarray:
    import pyarrow.compute as pc

    col = t.column(vector_column).combine_chunks()
    if col.null_count:
        raise ValueError(f"{path}: {col.null_count} row(s) have no vector in {vector_column!r}")
    lengths = np.asarray(pc.list_value_length(col).to_numpy(zero_copy_only=False))
    if lengths.size and (lengths != lengths[0]).any():
        row = int(np.argmax(lengths != lengths[0]))
        raise ValueError(f"{path}: ragged vectors in {vector_column!r}: row 0 has {lengths[0]} "
                         f"values, row {row} has {lengths[row]}")
    flat = np.asarray(col.flatten().to_numpy(zero_copy_only=False))
    try:
        return flat.astype(np.float64).reshape(len(col), int(lengths[0]) if lengths.size else 0)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: the vector column {vector_column!r} is not numeric") from exc


def _feature_matrix(t: Any, path: Path, feats: list[str], types: dict[str, Any]) -> np.ndarray:
    import pyarrow as pa

    bad = [c for c in feats if not (pa.types.is_integer(types[c]) or pa.types.is_floating(types[c])
                                    or pa.types.is_boolean(types[c]) or pa.types.is_null(types[c]))]
    if bad:
        raise ValueError(f"{path}: non-numeric feature column(s) {bad[:5]}; give an id column "
                         "named 'id' (or --id-column) and numeric features (or --columns)")
    if not feats:
        raise ValueError(f"{path}: no feature columns")
    return np.column_stack([np.asarray(t.column(c).to_numpy(zero_copy_only=False), dtype=np.float64)
                            for c in feats])  # nulls become NaN and are reported later


def _table_to_arrays(t: Any, path: Path, id_column: str | None, vector_column: str | None,
                     columns: Sequence[str] | None = None
                     ) -> tuple[np.ndarray, list[str] | None, dict[str, Any]]:
    import pyarrow as pa

    names = t.column_names
    types = {c: t.schema.field(c).type for c in names}
    index = _index_column(t, names, types)
    id_column = _pick_id_column(path, names, types, id_column)
    ids = None
    if id_column is not None:
        ids = [None if v is None else str(v) for v in t.column(id_column).to_pylist()]
    ignored = [index] if index is not None and index != id_column else []
    if vector_column is not None and vector_column not in names:
        raise ValueError(f"{path}: no vector column {vector_column!r} (columns: {names[:10]})")
    if columns is not None:
        missing = [c for c in columns if c not in names]
        if missing or not columns:
            raise ValueError(f"{path}: no column(s) {missing} (columns: {names[:10]})")
        feats = list(columns)
        if id_column in feats:
            raise ValueError(f"{path}: the id column {id_column!r} is also listed in columns")
        info = {"id": id_column, "features": feats,
                "ignored": [c for c in names if c not in feats and c != id_column]}
        return _feature_matrix(t, path, feats, types), ids, info
    if vector_column is None:
        lists = [c for c in names if pa.types.is_list(types[c]) or pa.types.is_large_list(types[c])
                 or pa.types.is_fixed_size_list(types[c])]
        vector_column = next((c for c in _VECTOR_COLUMNS if c in lists), None)
        if vector_column is None and len(lists) == 1:
            vector_column = lists[0]
    if vector_column is not None:
        info = {"id": id_column, "features": [vector_column],
                "ignored": [c for c in names if c not in (vector_column, id_column)]}
        return _vector_matrix(t, path, vector_column), ids, info
    feats = [c for c in names if c != id_column and c not in ignored]
    info = {"id": id_column, "features": feats, "ignored": ignored}
    return _feature_matrix(t, path, feats, types), ids, info


def _load_parquet(path: Path, id_column: str | None, vector_column: str | None,
                  columns: Sequence[str] | None) -> tuple[np.ndarray, list[str] | None, dict]:
    import pyarrow.parquet as pq

    try:
        t = pq.read_table(path)
    except Exception as exc:
        raise ValueError(f"{path}: not a readable parquet file ({exc})") from exc
    return _table_to_arrays(t, path, id_column, vector_column, columns)


def _load_csv(path: Path, id_column: str | None,
              columns: Sequence[str] | None) -> tuple[np.ndarray, list[str] | None, dict]:
    import pyarrow.csv as pcsv

    try:
        t = pcsv.read_csv(path)
    except Exception as exc:
        raise ValueError(f"{path}: not a readable CSV file ({str(exc).splitlines()[0]})") from exc
    return _table_to_arrays(t, path, id_column, None, columns)


def load_space(path: str | os.PathLike[str], id_column: str | None = None,
               vector_column: str | None = None, columns: Sequence[str] | None = None) -> Space:
    """Load one space from ``.npy``, ``.npz``, ``.parquet`` or ``.csv`` (see the module docstring).

    Parameters
    ----------
    path : path-like
        The input file.
    id_column, vector_column : str, optional
        Column names for parquet/CSV inputs (default: detected).
    columns : sequence of str, optional
        Feature columns of parquet/CSV inputs (default: every numeric column but the id and a
        pandas index).

    Returns
    -------
    Space
        ``vectors`` (a memmap for ``.npy``, float64 otherwise), ``ids`` or None, ``path``.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"input file not found: {p}")
    if p.is_dir():
        raise ValueError(f"{p} is a folder; expected a file ({', '.join(FORMATS)})")
    suffix = p.suffix.lower()
    info: dict[str, Any] = {}
    if suffix in (".npy", ".npz") and (columns is not None or id_column is not None):
        raise ValueError(f"{p}: id and feature columns apply to parquet and CSV inputs only")
    if suffix == ".npy":
        A, ids = _load_npy(p)
    elif suffix == ".npz":
        A, ids = _load_npz(p)
    elif suffix == ".parquet":
        A, ids, info = _load_parquet(p, id_column, vector_column, columns)
    elif suffix == ".csv":
        A, ids, info = _load_csv(p, id_column, columns)
    else:
        raise ValueError(f"unsupported input format {p.suffix!r} for {p}; use one of "
                         f"{', '.join(FORMATS)}")
    if ids is not None:
        ids = _check_ids(ids, p, A.shape[0] if A.ndim >= 1 else 0)
    return Space(_check_numeric(A, p, ids), ids, str(p), info)


def align_ids(ids_x: list[str], ids_y: list[str], show: int = 5) -> np.ndarray:
    """Row order of Y that matches X's ids; an error names ids that are on one side only."""
    pos = {v: i for i, v in enumerate(ids_y)}
    only_x = [i for i in ids_x if i not in pos]
    sx = set(ids_x)
    only_y = [i for i in ids_y if i not in sx]
    if only_x or only_y:
        parts = []
        if only_x:
            parts.append(f"{len(only_x)} id(s) only in X, e.g. {only_x[:show]}")
        if only_y:
            parts.append(f"{len(only_y)} id(s) only in Y, e.g. {only_y[:show]}")
        raise ValueError("the two inputs do not hold the same items: " + "; ".join(parts))
    return np.fromiter((pos[i] for i in ids_x), dtype=np.int64, count=len(ids_x))


def load_pair(path_x: str | os.PathLike[str], path_y: str | os.PathLike[str],
              id_column: str | None = None, vector_column: str | None = None,
              columns: Sequence[str] | None = None) -> PairedSpaces:
    """Load two paired spaces and align their rows (by id when both have ids).

    Parameters
    ----------
    path_x, path_y : path-like
        The two inputs (any of the formats of :func:`load_space`).
    id_column, vector_column : str, optional
        Column names for parquet/CSV inputs (a ``.npy``/``.npz`` side ignores them).
    columns : sequence of str, optional
        Feature columns of the parquet/CSV inputs.

    Returns
    -------
    PairedSpaces
        ``X``, ``Y`` with matching rows, ``ids`` (or None) and ``aligned_by``
        (``"id"`` or ``"position"``).
    """
    sx, sy = (load_space(p, *(_table_options(p, id_column, vector_column, columns)))
              for p in (path_x, path_y))
    sources = {"x": sx.path, "y": sy.path}
    cols = {k: s.columns for k, s in (("x", sx), ("y", sy)) if s.columns}
    if sx.ids is not None and sy.ids is not None:
        order = align_ids(sx.ids, sy.ids)
        Y = sy.vectors if np.array_equal(order, np.arange(order.size)) else np.asarray(sy.vectors)[order]
        return PairedSpaces(sx.vectors, Y, sx.ids, "id", sources, cols)
    if sx.n != sy.n:
        raise ValueError(f"{sx.path} has {sx.n} rows and {sy.path} has {sy.n}; without ids on both "
                         "sides the rows are paired by position, so the counts must match")
    return PairedSpaces(sx.vectors, sy.vectors, sx.ids or sy.ids, "position", sources, cols)


def _table_options(path: str | os.PathLike[str], id_column: str | None, vector_column: str | None,
                   columns: Sequence[str] | None) -> tuple[Any, Any, Any]:
    """The column options for one side of a pair (numpy inputs have no columns)."""
    if Path(path).suffix.lower() in (".npy", ".npz"):
        return None, None, None
    return id_column, vector_column, columns
