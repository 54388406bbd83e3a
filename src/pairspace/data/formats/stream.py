"""A parquet vector column read in record batches (larger-than-memory inputs)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..._atomic import atomic_path
from ..._validation import resolve_memory_budget, rows_per_block
from ._common import DEFAULT_BATCH_ROWS, existing_file
from .arrow import list_column_matrix


@dataclass
class ParquetVectors:
    """A parquet vector column read lazily in record batches (``n`` rows of ``d`` values)."""

    path: Path
    column: str
    n: int
    dtype: np.dtype
    batch_rows: int = DEFAULT_BATCH_ROWS

    def __iter__(self) -> Iterator[np.ndarray]:
        import pyarrow.parquet as pq

        width = None
        for batch in pq.ParquetFile(self.path).iter_batches(batch_size=self.batch_rows,
                                                              columns=[self.column]):
            blk = list_column_matrix(batch.column(0), self.path, self.column, width)
            width = blk.shape[1]
            yield blk


def iter_parquet_vectors(path: str | os.PathLike[str], column: str = "vector",
                         batch_rows: int | None = None,
                         memory_budget: int | None = None) -> ParquetVectors:
    """Open a parquet vector column for streaming, one record batch at a time.

    Parameters
    ----------
    path : path-like
        The parquet file.
    column : str
        The list column holding the vectors.
    batch_rows : int, optional
        Rows per batch. By default as many as fit in ``memory_budget`` bytes (arrow's buffer and
        the numpy copy of one batch, :func:`pairspace._validation.rows_per_block`), at most
        65,536.
    memory_budget : int or None
        Scratch bytes of one batch (None: the configured setting, :func:`pairspace.set_config`).
    """
    import pyarrow.parquet as pq

    p = existing_file(path, "matrix file")
    try:
        pf = pq.ParquetFile(p)
    except Exception as exc:
        raise ValueError(f"{p}: not a readable parquet file ({exc})") from exc
    names = pf.schema_arrow.names
    if column not in names:
        raise ValueError(f"{p} has no column {column!r}; columns: {names}")
    n = pf.metadata.num_rows
    if n == 0:
        raise ValueError(f"{p} has no rows")
    value_type = getattr(pf.schema_arrow.field(column).type, "value_type", None)
    if value_type is None:
        raise ValueError(f"{p}: column {column!r} must hold lists of numbers")
    dtype = np.dtype(np.float64 if str(value_type) == "double" else np.float32)
    if batch_rows is None:
        width = getattr(pf.schema_arrow.field(column).type, "list_size", None) or 1024
        batch_rows = rows_per_block(resolve_memory_budget(memory_budget), 2 * int(width) * dtype.itemsize,
                                    cap=DEFAULT_BATCH_ROWS)
    elif batch_rows < 1:
        raise ValueError(f"batch_rows must be >= 1; got {batch_rows}")
    return ParquetVectors(p, column, n, dtype, int(batch_rows))


def parquet_to_npy(source: ParquetVectors, target: str | os.PathLike[str],
                   progress: Any = None) -> Path:
    """Copy a streamed parquet column into a ``.npy`` file, one batch at a time.

    ``progress`` is an object with ``update(rows)`` (a progress bar) or None. The target is
    written under a temporary name and renamed, so it is never seen half written.
    """
    target = Path(target)
    with atomic_path(target) as tmp:
        out = None
        row = 0
        for blk in source:
            if out is None:
                out = np.lib.format.open_memmap(tmp, mode="w+", dtype=source.dtype,
                                                shape=(source.n, blk.shape[1]))
            out[row : row + blk.shape[0]] = blk
            row += blk.shape[0]
            if progress is not None:
                progress.update(blk.shape[0])
        if out is None or row != source.n:
            raise ValueError(f"{source.path}: read {row} rows, the metadata says {source.n}")
        out.flush()
        del out
    return target

