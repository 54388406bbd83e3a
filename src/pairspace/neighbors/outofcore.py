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

import numpy as np

from .._progress import progress_bar
from ..data.formats._common import DEFAULT_BATCH_ROWS


def open_matrix(path: str | os.PathLike[str], column: str = "vector",
                batch_rows: int = DEFAULT_BATCH_ROWS, cache_dir: str | os.PathLike[str] | None = None,
                progress: bool | None = None) -> np.memmap:
    """Open a matrix stored on disk as a read-only memory map.

    Parameters
    ----------
    path : str or PathLike
        A ``.npy`` file (mapped directly), a ``.parquet`` (or ``.pq``) file whose ``column`` holds
        one fixed-size list of floats per row (read in batches of ``batch_rows``), or any other
        format of :data:`pairspace.data.formats.FORMATS` (read by
        :func:`~pairspace.data.table.read_table`, with the same rules and errors).
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
    from ..data.formats._common import existing_file, format_of
    from ..data.formats.numpy_io import read_npy

    p = existing_file(path, "matrix file")
    suffix = ".parquet" if p.suffix.lower() == ".pq" else format_of(p)
    if suffix == ".npy":
        arr = read_npy(p, mmap=True)
        if arr.ndim != 2:
            raise ValueError(f"{p} must hold a 2-D matrix; got shape {arr.shape}")
        return arr
    if suffix == ".parquet":
        return parquet_to_memmap(p, column=column, batch_rows=batch_rows, cache_dir=cache_dir,
                                 progress=progress)
    from ..data.table import read_table

    # .arrow memory-mapped; .npz and .csv read into memory
    return read_table(p, mmap=True, require_ids=False, extras=False).vectors


def parquet_to_memmap(path: str | os.PathLike[str], column: str = "vector",
                      batch_rows: int = DEFAULT_BATCH_ROWS,
                      cache_dir: str | os.PathLike[str] | None = None,
                      progress: bool | None = None) -> np.memmap:
    """Copy a parquet vector column into a ``.npy`` memory map, one record batch at a time.

    See :func:`open_matrix` for the parameters. Memory use is one batch (``batch_rows x d``). The
    reading is :func:`pairspace.data.formats.stream.iter_parquet_vectors` (the one parquet
    reader); this function adds the cache. A cached file is keyed by :func:`cache_name` and
    renamed into place, so a map of an earlier version keeps its own (old) file.
    """
    from ..data.formats.stream import iter_parquet_vectors, parquet_to_npy

    p = Path(path)
    cached = None if cache_dir is None else Path(cache_dir) / cache_name(p, column)
    if cached is not None and cached.exists():
        return np.load(cached, mmap_mode="r")
    source = iter_parquet_vectors(p, column, batch_rows=batch_rows)
    if cached is not None:
        target = cached
    else:
        fd, tmp = tempfile.mkstemp(suffix=".npy", prefix=f"{p.stem}-")
        os.close(fd)
        target = Path(tmp)
    try:
        with progress_bar(total=source.n, desc=f"reading {p.name}", progress=progress,
                          unit="row") as bar:
            parquet_to_npy(source, target, progress=bar)
        result = np.load(target, mmap_mode="r")
    except BaseException:
        if cached is None:
            target.unlink(missing_ok=True)
        raise
    if cached is None:
        target.unlink()  # the mapping stays valid; the disk space is freed when it is released
    return result


def cache_name(path: str | os.PathLike[str], column: str) -> str:
    """The cache file name of a parquet matrix: ``<stem>-<key>.npy``, with ``key`` a hash of the
    resolved path, the size and modification time (ns) of the file, and the column."""
    p = Path(path).resolve()
    st = p.stat()
    ident = f"{p}\0{st.st_size}\0{st.st_mtime_ns}\0{column}".encode()
    return f"{p.stem}-{hashlib.sha256(ident).hexdigest()[:20]}.npy"
