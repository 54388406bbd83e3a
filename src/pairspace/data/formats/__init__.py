"""One reader and one writer per on-disk format of id + vector matrices.

Every other module reads and writes embeddings through this one: the paired-space loader
(:mod:`pairspace.data.io`), :class:`~pairspace.data.table.EmbeddingTable`, the out-of-core
inputs of the neighbor search and the word-vector loaders.

Formats (:data:`FORMATS`)
-------------------------
``.parquet``
    An id column (``id_column``, else ``id``, else the first string column) and either a list
    column of vectors (``vector_column``, else ``vector``/``embedding``/the only list column) or
    numeric columns as one feature each. Large files are read in record batches
    (:func:`iter_parquet_vectors`, :func:`parquet_to_npy`).
``.arrow``
    An uncompressed Arrow IPC file with the same columns; it can be memory-mapped.
``.npz``
    A 2-D array under ``vectors``, ``embeddings``, ``X`` or ``x`` (or the only 2-D array) and
    optional ids under ``ids`` or ``id``. Never unpickled.
``.npy``
    One 2-D numeric array, memory-mapped, never unpickled; no ids.
``.csv``
    A header row, an optional id column chosen as for parquet, and numeric feature columns. An
    index column written by pandas (an unnamed first column, ``Unnamed: 0``, or a first integer
    column holding exactly ``0..n-1``) is recognised and ignored, not read as a feature.

Every problem (missing or unreadable file, ragged rows, a non-numeric column, NaN or inf,
duplicated or missing ids) raises a :class:`ValueError` or :class:`FileNotFoundError` naming the
file and, where possible, the row, id or column.
"""


from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ._common import (
    DEFAULT_BATCH_ROWS,
    FORMATS,
    ID_KEYS,
    TABLE_SUFFIXES,
    VECTOR_COLUMNS,
    VECTOR_KEYS,
    FormatInfo,
    MatrixFile,
    check_ids,
    check_vectors,
    existing_file,
    format_of,
)
from .arrow import arrow_to_matrix, list_column_matrix, read_arrow, read_column, write_arrow
from .numpy_io import npz_matrix, read_npy, read_npz, write_npy, write_npz
from .stream import ParquetVectors, iter_parquet_vectors, parquet_to_npy

__all__ = [
    "DEFAULT_BATCH_ROWS", "FORMATS", "ID_KEYS", "TABLE_SUFFIXES", "VECTOR_COLUMNS", "VECTOR_KEYS",
    "FormatInfo", "MatrixFile", "ParquetVectors", "arrow_to_matrix", "check_ids", "check_vectors",
    "existing_file", "format_of", "iter_parquet_vectors", "list_column_matrix", "npz_matrix",
    "parquet_to_npy", "read_arrow", "read_column", "read_matrix", "read_npy", "read_npz",
    "write_arrow", "write_npy", "write_npz",
]


def read_matrix(path: str | os.PathLike[str], id_column: str | None = None,
                vector_column: str | None = None, columns: Sequence[str] | None = None,
                detect_index: bool = True, mmap: bool = True,
                dtype: np.dtype | type | None = None) -> MatrixFile:
    """Read an id + vector matrix from any of :data:`FORMATS` and check it.

    Parameters
    ----------
    path : path-like
        The input file.
    id_column : str, optional
        Column (parquet, arrow, CSV) holding the ids; default ``id``, else the first string column.
    vector_column : str, optional
        List column holding the vectors; default ``vector``/``embedding``/the only list column.
    columns : sequence of str, optional
        Numeric feature columns to use (instead of every numeric column but the id).
    detect_index : bool
        Ignore a pandas index column (unnamed first column or integers ``0..n-1``).
    mmap : bool
        Memory-map ``.npy`` and ``.arrow`` files.
    dtype : numpy dtype, optional
        Convert the vectors of ``.parquet``, ``.arrow``, ``.csv`` and ``.npz`` inputs to this dtype
        (a ``.npy`` memory map is left as it is, so it is never copied); None keeps the stored
        dtype.

    Returns
    -------
    MatrixFile
        ``vectors`` (a memmap for ``.npy``), ``ids`` or None, and the columns used.
    """
    p = existing_file(path)
    suffix = format_of(p)
    if suffix == ".npy":
        mf = MatrixFile(read_npy(p, mmap=mmap), None, str(p), ".npy")
    elif suffix == ".npz":
        mf = npz_matrix(p)
    else:
        mf = arrow_to_matrix(read_arrow(p, mmap=mmap, id_column=id_column), p, id_column,
                             vector_column, columns,
                             detect_index, zero_copy=mmap)
    if mf.ids is not None:
        mf.ids = check_ids(mf.ids, p, mf.vectors.shape[0] if mf.vectors.ndim >= 1 else 0)
    check_vectors(mf.vectors, p, mf.ids)
    if dtype is not None and suffix != ".npy":
        mf.vectors = np.asarray(mf.vectors, dtype=dtype)
    return mf


