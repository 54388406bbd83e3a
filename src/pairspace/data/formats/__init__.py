"""One reader and one writer per on-disk format of id + vector matrices.

Every other module reads and writes embeddings through this one, behind one entry point:
:func:`pairspace.data.table.read_table` (and :meth:`EmbeddingTable.load
<pairspace.data.table.EmbeddingTable.load>`) turns any of these files into the one table type,
:class:`~pairspace.data.table.EmbeddingTable`; the paired-space loader (:mod:`pairspace.data.io`)
and the out-of-core inputs of the neighbor search go through it.

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
from typing import Any

import numpy as np

from ._common import (
    DEFAULT_BATCH_ROWS,
    FORMATS,
    ID_KEYS,
    META_KEY,
    RESERVED_COLUMNS,
    TABLE_SUFFIXES,
    VECTOR_COLUMNS,
    VECTOR_KEYS,
    FileSource,
    FormatInfo,
    Parts,
    check_ids,
    check_vectors,
    existing_file,
    format_of,
)
from .arrow import arrow_to_matrix, list_column_matrix, read_arrow, read_column, write_arrow
from .numpy_io import npz_matrix, read_npy, read_npz, write_npy, write_npz
from .stream import ParquetVectors, iter_parquet_vectors, parquet_to_npy

__all__ = [
    "DEFAULT_BATCH_ROWS", "FORMATS", "ID_KEYS", "META_KEY", "RESERVED_COLUMNS", "TABLE_SUFFIXES",
    "VECTOR_COLUMNS", "VECTOR_KEYS",
    "FileSource", "FormatInfo", "ParquetVectors", "Parts", "arrow_to_matrix", "check_ids",
    "check_vectors", "existing_file", "format_of", "iter_parquet_vectors", "list_column_matrix",
    "npz_matrix", "parquet_to_npy", "read_arrow", "read_column", "read_npy", "read_npz", "read_parts",
    "write_arrow", "write_npy", "write_npz",
]


def read_parts(path: str | os.PathLike[str], id_column: str | None = None,
               vector_column: str | None = None, feature_columns: Sequence[str] | None = None,
               detect_index: bool = True, mmap: bool = True,
               dtype: np.dtype | type | None = None, extras: bool = True) -> Parts:
    """The vectors, ids and source of a file in any of :data:`FORMATS` (not yet checked).

    This is the per-format step of :func:`pairspace.data.table.read_table`, the one entry point
    that returns an :class:`~pairspace.data.table.EmbeddingTable` (which checks the vectors).

    Parameters
    ----------
    path : path-like
        The input file.
    id_column : str, optional
        Column (parquet, arrow, CSV) holding the ids; default ``id``, else the first string column.
    vector_column : str, optional
        List column holding the vectors; default ``vector``/``embedding``/the only list column.
    feature_columns : sequence of str, optional
        Numeric feature columns to use (instead of every numeric column but the id).
    detect_index : bool
        Ignore a pandas index column (unnamed first column or integers ``0..n-1``).
    mmap : bool
        Memory-map ``.npy`` and ``.arrow`` files.
    dtype : numpy dtype, optional
        Convert the vectors of ``.parquet``, ``.arrow``, ``.csv`` and ``.npz`` inputs to this dtype
        (a ``.npy`` memory map is left as it is, so it is never copied); None keeps the stored
        dtype.
    extras : bool
        Also read the labels, extra columns and metadata of a file that stores a whole table.
    """
    p = existing_file(path)
    suffix = format_of(p)
    if suffix == ".npy":
        parts = Parts(read_npy(p, mmap=mmap), None, FileSource(str(p), ".npy"))
    elif suffix == ".npz":
        parts = npz_matrix(p)
    else:
        parts = arrow_to_matrix(read_arrow(p, mmap=mmap, id_column=id_column), p, id_column,
                                vector_column, feature_columns, detect_index, zero_copy=True,
                                extras=extras)
    A = parts.vectors  # the table checks vectors and ids (one set of rules: check_vectors, check_ids)
    if dtype is not None and suffix != ".npy" and A.dtype != object:
        A = np.asarray(A, dtype=dtype)
    if not extras:
        return Parts(A, parts.ids, parts.source)
    return parts._replace(vectors=A)


def read_matrix(path: str | os.PathLike[str], id_column: str | None = None,
                vector_column: str | None = None, columns: Sequence[str] | None = None,
                detect_index: bool = True, mmap: bool = True,
                dtype: np.dtype | type | None = None) -> Any:
    """Deprecated: :func:`pairspace.data.table.read_table` with ``require_ids=False`` (the one
    reader; it returns the one table type, an ``EmbeddingTable``)."""
    import importlib
    import warnings

    warnings.warn("pairspace.data.formats.read_matrix is deprecated; use "
                  "pairspace.data.table.read_table (one table type for ids + vectors)",
                  DeprecationWarning, stacklevel=2)
    read_table = importlib.import_module("pairspace.data.table").read_table
    return read_table(path, id_column=id_column, vector_column=vector_column,
                      feature_columns=columns, detect_index=detect_index, mmap=mmap, dtype=dtype,
                      require_ids=False, extras=False)
