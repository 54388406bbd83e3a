"""Arrow-backed formats: parquet, Arrow IPC and CSV tables of ids and vectors."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..._atomic import atomic_path
from ._common import (
    _UNNAMED,
    META_KEY,
    RESERVED_COLUMNS,
    VECTOR_COLUMNS,
    FileSource,
    Parts,
    existing_file,
    table_metadata,
)


def read_arrow(path: str | os.PathLike[str], mmap: bool = False, id_column: str | None = None) -> Any:
    """A ``.parquet``, ``.arrow`` or ``.csv`` file as a ``pyarrow.Table``.

    With ``mmap=True`` an ``.arrow`` file is memory-mapped (its buffers are views of the file). A
    CSV file's id column (``id_column``, default ``id``) is read as text, so ids ``007`` and ``7``
    stay different; its header may not repeat a column, and it must be UTF-8 (a byte-order mark is
    dropped).
    """
    import pyarrow as pa

    p = existing_file(path)
    suffix = p.suffix.lower()
    if suffix == ".csv":
        _check_csv_text(p)
    try:
        if suffix == ".arrow":
            source = pa.memory_map(str(p), "r") if mmap else pa.OSFile(str(p), "rb")
            t = pa.ipc.open_file(source).read_all()
        elif suffix == ".csv":
            import pyarrow.csv as pcsv

            t = pcsv.read_csv(p, convert_options=pcsv.ConvertOptions(
                column_types={id_column or "id": pa.string()}))
        else:
            import pyarrow.parquet as pq

            t = pq.read_table(p)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        kind = {".csv": "CSV", ".arrow": "Arrow IPC"}.get(suffix, "parquet")
        raise ValueError(f"{p}: not a readable {kind} file ({str(exc).splitlines()[0]})") from exc
    names = list(t.column_names)
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise ValueError(f"{p}: the column(s) {dup} appear more than once; every column needs its "
                         "own name")
    return t


def _check_csv_text(p: Path, block: int = 1 << 24) -> None:
    """Refuse a CSV file that is not UTF-8, naming the line (read in blocks, never whole)."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with open(p, "rb") as f:
        head = f.read(4)
        for bom, name in ((codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16")):
            if head.startswith(bom):
                raise ValueError(f"{p} is {name} text; CSV inputs must be UTF-8: save it as UTF-8")
        f.seek(0)
        while chunk := f.read(block):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line += chunk.count(b"\n", 0, exc.start)
                raise ValueError(f"{p} line {line}: byte 0x{chunk[exc.start]:02x} is not UTF-8; "
                                 "CSV inputs must be UTF-8 (convert latin-1 or Windows-1252 "
                                 "files)") from None
            line += chunk.count(b"\n")


def write_arrow(table: Any, path: str | os.PathLike[str], suffix: str | None = None,
                atomic: bool = True) -> Path:
    """Write a ``pyarrow.Table`` to ``.parquet`` or ``.arrow``.

    ``suffix`` overrides the format read from the name (for a temporary file); with
    ``atomic=True`` the file is written under a temporary name and renamed.
    """
    import pyarrow as pa

    p = Path(path)
    suffix = (suffix or p.suffix).lower()
    if suffix not in (".parquet", ".arrow"):
        raise ValueError(f"write_arrow writes .parquet or .arrow, not {suffix!r}")
    if atomic:
        with atomic_path(p) as tmp:
            return write_arrow(table, tmp, suffix, atomic=False) and p
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, str(p))
    else:
        with pa.OSFile(str(p), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    return p


def list_column_matrix(col: Any, path: str | os.PathLike[str], column: str,
                       width: int | None = None, zero_copy: bool = False) -> np.ndarray:
    """A list (or fixed-size list) column of numbers as an ``(rows, d)`` array.

    With ``zero_copy=True`` the result is a view of the arrow buffer when the column allows it.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if hasattr(col, "num_chunks"):
        col = col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
    t = col.type
    if not (pa.types.is_list(t) or pa.types.is_fixed_size_list(t) or pa.types.is_large_list(t)):
        raise ValueError(f"{path}: column {column!r} must hold lists of numbers; got {t}")
    if col.null_count:
        raise ValueError(f"{path}: {col.null_count} row(s) have no vector in {column!r}")
    if pa.types.is_fixed_size_list(t):
        w = t.list_size
    else:
        lengths = np.asarray(pc.list_value_length(col).to_numpy(zero_copy_only=False))
        if lengths.size and (lengths != lengths[0]).any():
            row = int(np.argmax(lengths != lengths[0]))
            raise ValueError(f"{path}: ragged vectors in {column!r}: row 0 has {lengths[0]} "
                             f"values, row {row} has {lengths[row]}")
        w = int(lengths[0]) if lengths.size else (width or 0)
    if width is not None and w != width:
        raise ValueError(f"{path}: column {column!r} changes width from {width} to {w}")
    flat = col.flatten()
    if not (pa.types.is_integer(flat.type) or pa.types.is_floating(flat.type)
            or pa.types.is_boolean(flat.type)):
        raise ValueError(f"{path}: the vector column {column!r} is not numeric ({flat.type})")
    try:
        values = flat.to_numpy(zero_copy_only=zero_copy)
    except pa.ArrowInvalid:
        values = flat.to_numpy(zero_copy_only=False)
    return np.asarray(values).reshape(len(col), w)


def _is_index(name: str, values: np.ndarray | None) -> bool:
    """An index column written by pandas: unnamed, or integers exactly 0..n-1."""
    if _UNNAMED.match(name):
        return True
    return values is not None and np.issubdtype(values.dtype, np.integer) and \
        np.array_equal(values, np.arange(values.size))


def arrow_to_matrix(t: Any, path: str | os.PathLike[str], id_column: str | None = None,
                    vector_column: str | None = None, columns: Sequence[str] | None = None,
                    detect_index: bool = True, zero_copy: bool = False, extras: bool = False) -> Parts:
    """Vectors and ids of a ``pyarrow.Table`` (the rules in the module docstring).

    With ``extras`` a table with a list column of vectors also gives its ``label`` column, its
    other columns (extra per-item columns) and the table metadata of its schema.
    """
    import pyarrow as pa

    names = list(t.column_names)
    types = {c: t.schema.field(c).type for c in names}
    for what, c in (("id", id_column), ("vector", vector_column)):
        if c is not None and c not in names:
            raise ValueError(f"{path}: no {what} column {c!r} (columns: {names[:10]})")
    if id_column is None:
        id_column = "id" if "id" in names else next(
            (c for c in names if pa.types.is_string(types[c]) or pa.types.is_large_string(types[c])),
            None)
    ids = None
    if id_column is not None:
        ids = [None if v is None else str(v) for v in t.column(id_column).to_pylist()]
    fmt = Path(path).suffix.lower()
    if vector_column is None and columns is None:
        lists = [c for c in names if pa.types.is_list(types[c]) or pa.types.is_large_list(types[c])
                 or pa.types.is_fixed_size_list(types[c])]
        vector_column = next((c for c in VECTOR_COLUMNS if c in lists), None)
        if vector_column is None and len(lists) == 1:
            vector_column = lists[0]
    if vector_column is not None:
        A = list_column_matrix(t.column(vector_column), path, vector_column, zero_copy=zero_copy)
        src = FileSource(str(path), fmt, id_column, (vector_column,))
        if not extras:
            return Parts(A, ids, src)
        keep = [c for c in names if c not in (id_column, vector_column, *RESERVED_COLUMNS)]
        labels = (t.column("label").to_pylist() if "label" in names and id_column != "label"
                  else None)
        meta = table_metadata((t.schema.metadata or {}).get(META_KEY, b"{}"), str(path))
        return Parts(A, ids, src, labels, {c: t.column(c).to_pylist() for c in keep}, meta)
    ignored: list[str] = []
    if columns is not None:
        missing = [c for c in columns if c not in names]
        if missing:
            raise ValueError(f"{path}: no column(s) {missing[:5]} (columns: {names[:10]})")
        feats = list(columns)
    else:
        feats = [c for c in names if c != id_column]
        if detect_index and feats and feats[0] == names[0]:
            first = feats[0]
            vals = (np.asarray(t.column(first).to_numpy(zero_copy_only=False))
                    if pa.types.is_integer(types[first]) else None)
            if _is_index(first, vals):
                ignored.append(first)
                feats = feats[1:]
    bad = [c for c in feats if not (pa.types.is_integer(types[c]) or pa.types.is_floating(types[c])
                                    or pa.types.is_boolean(types[c]) or pa.types.is_null(types[c]))]
    if bad:
        raise ValueError(f"{path}: non-numeric feature column(s) {bad[:5]}; give an id column "
                         "named 'id' and numeric features")
    if not feats:
        raise ValueError(f"{path}: no feature columns")
    A = np.column_stack([np.asarray(t.column(c).to_numpy(zero_copy_only=False), dtype=np.float64)
                         for c in feats])  # nulls become NaN and are reported by check_vectors
    return Parts(A, ids, FileSource(str(path), fmt, id_column, tuple(feats), tuple(ignored)))



def read_column(path: str | os.PathLike[str], column: str | None = None) -> list[str]:
    """One column of a parquet/arrow/CSV file as strings (default: the only column)."""
    p = existing_file(path)
    t = read_arrow(p)
    if column is None:
        if t.num_columns != 1:
            raise ValueError(f"{p}: expected one column, found {t.column_names[:10]}; name it")
        column = t.column_names[0]
    if column not in t.column_names:
        raise ValueError(f"{p}: no column {column!r} (columns: {t.column_names[:10]})")
    values = t.column(column).to_pylist()
    if any(v is None for v in values):
        raise ValueError(f"{p}: column {column!r} has missing values")
    return [str(v) for v in values]


