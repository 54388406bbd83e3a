"""Out-of-core matrices for neighbor search: ``.npy`` memory maps and parquet read in batches.

A point cloud larger than memory (n = 1,000,000 rows of d = 256 float32 is 1 GB) is searched
without loading it: :func:`pairspace.knn` streams a :class:`numpy.memmap` chunk by chunk, so its
peak memory is the scratch of one query block plus the ``n x k`` result.

A parquet file (the :class:`pairspace.data.table.EmbeddingTable` format: a fixed-size-list
``vector`` column) is read in record batches and copied into a ``.npy`` memory map on disk, one
batch at a time, so it is never held in memory whole either.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .._progress import progress_bar

DEFAULT_BATCH_ROWS = 65536


def open_matrix(path: str | os.PathLike[str], column: str = "vector",
                batch_rows: int = DEFAULT_BATCH_ROWS, cache_dir: str | os.PathLike[str] | None = None,
                progress: bool | None = None) -> np.memmap:
    """Open a matrix stored on disk as a read-only memory map.

    Parameters
    ----------
    path : str or PathLike
        A ``.npy`` file (mapped directly) or a ``.parquet`` file whose ``column`` holds one
        fixed-size list of floats per row (read in batches of ``batch_rows``).
    column : str
        Parquet column with the vectors (default ``"vector"``, as written by ``EmbeddingTable``).
    batch_rows : int
        Rows per parquet record batch.
    cache_dir : str or PathLike, optional
        Where the parquet data is copied as ``<stem>-<key>.npy`` and kept for reuse. The key hashes
        the file's resolved path, size, modification time and ``column``, so two files of the same
        name never share a cache entry and a rewritten file gets a new one. A cache file is written
        under a temporary name and renamed into place, so a file another memory map reads is never
        overwritten. By default the data goes to an anonymous temporary file that disappears once
        the memory map is released.
    progress : bool or None
        Progress bar while converting parquet.

    Returns
    -------
    numpy.memmap, shape (n, d)
        Read-only; float32 unless the file holds float64.
    """
    p = Path(path)
    if not p.exists():
        raise ValueError(f"matrix file {str(p)!r} does not exist")
    suffix = p.suffix.lower()
    if suffix == ".npy":
        arr = np.load(p, mmap_mode="r")
        if arr.ndim != 2:
            raise ValueError(f"{p} must hold a 2-D matrix; got shape {arr.shape}")
        return arr
    if suffix in (".parquet", ".pq"):
        return parquet_to_memmap(p, column=column, batch_rows=batch_rows, cache_dir=cache_dir,
                                 progress=progress)
    raise ValueError(f"unsupported matrix file {str(p)!r}: use .npy or .parquet")


def _batch_matrix(col: Any, d: int | None, path: Path, column: str) -> np.ndarray:
    """One record batch's list column as an ``(rows, d)`` array."""
    import pyarrow as pa

    if pa.types.is_fixed_size_list(col.type):
        width = col.type.list_size
    elif pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
        offsets = np.asarray(col.offsets)
        widths = np.diff(offsets)
        if widths.size and (widths != widths[0]).any():
            raise ValueError(f"{path}: column {column!r} has vectors of different lengths")
        width = int(widths[0]) if widths.size else (d or 0)
    else:
        raise ValueError(f"{path}: column {column!r} must hold lists of floats; got {col.type}")
    if d is not None and width != d:
        raise ValueError(f"{path}: column {column!r} changes width from {d} to {width}")
    if col.null_count:
        raise ValueError(f"{path}: column {column!r} has missing vectors")
    values = col.flatten().to_numpy(zero_copy_only=False)
    return values.reshape(len(col), width)


def parquet_to_memmap(path: str | os.PathLike[str], column: str = "vector",
                      batch_rows: int = DEFAULT_BATCH_ROWS,
                      cache_dir: str | os.PathLike[str] | None = None,
                      progress: bool | None = None) -> np.memmap:
    """Copy a parquet vector column into a ``.npy`` memory map, one record batch at a time.

    See :func:`open_matrix` for the parameters. Memory use is one batch (``batch_rows x d``).
    """
    import pyarrow.parquet as pq

    p = Path(path)
    cached = None if cache_dir is None else Path(cache_dir) / cache_name(p, column)
    if cached is not None and cached.exists():
        return np.load(cached, mmap_mode="r")
    pf = pq.ParquetFile(p)
    names = pf.schema_arrow.names
    if column not in names:
        raise ValueError(f"{p} has no column {column!r}; columns: {names}")
    n = pf.metadata.num_rows
    if n == 0:
        raise ValueError(f"{p} has no rows")
    value_type = pf.schema_arrow.field(column).type.value_type
    dtype = np.float64 if str(value_type) == "double" else np.float32
    batches = pf.iter_batches(batch_size=batch_rows, columns=[column])
    first = _batch_matrix(next(batches).column(0), None, p, column)
    d = first.shape[1]
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".npy.partial", prefix=f"{p.stem}-",
                               dir=None if cached is None else cached.parent)
    os.close(fd)
    target = Path(tmp)
    try:
        out = np.lib.format.open_memmap(target, mode="w+", dtype=dtype, shape=(n, d))
        out[: first.shape[0]] = first
        row = first.shape[0]
        with progress_bar(total=n, desc=f"reading {p.name}", progress=progress, unit="row") as bar:
            bar.update(row)
            for batch in batches:
                blk = _batch_matrix(batch.column(0), d, p, column)
                out[row : row + blk.shape[0]] = blk
                row += blk.shape[0]
                bar.update(blk.shape[0])
        out.flush()
        del out
        if cached is not None:  # atomic; a map of an earlier file keeps its own (old) inode
            os.replace(target, cached)
            return np.load(cached, mmap_mode="r")
        result = np.load(target, mmap_mode="r")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    target.unlink()  # the mapping stays valid; the disk space is freed when it is released
    return result


def cache_name(path: str | os.PathLike[str], column: str) -> str:
    """The cache file name of a parquet matrix: ``<stem>-<key>.npy``, with ``key`` a hash of the
    resolved path, the size and modification time (ns) of the file, and the column."""
    p = Path(path).resolve()
    st = p.stat()
    ident = f"{p}\0{st.st_size}\0{st.st_mtime_ns}\0{column}".encode()
    return f"{p.stem}-{hashlib.sha256(ident).hexdigest()[:20]}.npy"
