"""Load the two inputs of a paired comparison, aligned by id.

Reading
-------
Every file is read by :func:`pairspace.data.table.read_table` (``.npy``, ``.npz``,
``.parquet``, ``.arrow``, ``.csv``; the one entry point over the readers of the toolkit) as an
:class:`~pairspace.data.table.EmbeddingTable`: an id column (``id``,
else the first string column, or ``id_column``), a list column of vectors or numeric feature
columns (or exactly ``columns``). An index column written by pandas (an unnamed first column,
``Unnamed: 0``, or a first integer column holding exactly ``0..n-1``) is ignored, not read as a
feature; the table's ``source`` records the columns used, so the CLI can print them.

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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import align_ids
from .formats import format_of
from .table import EmbeddingTable, read_table

__all__ = ["PairedSpaces", "Space", "align_ids", "load_pair", "load_space"]

_NUMPY = (".npy", ".npz")


Space = EmbeddingTable
"""One loaded input: an :class:`~pairspace.data.table.EmbeddingTable` (the name is kept for the
API)."""


@dataclass
class PairedSpaces:
    """Two aligned tables: row ``i`` of ``x`` and of ``y`` is the same item ``ids[i]``.

    Attributes
    ----------
    x, y : EmbeddingTable
        The two spaces, ``y`` reordered to ``x``'s ids when both have ids.
    aligned_by : {"id", "position"}
        How the rows were paired.
    """

    x: EmbeddingTable
    y: EmbeddingTable
    aligned_by: str

    @property
    def X(self) -> np.ndarray:  # noqa: N802
        """The vectors of ``x``."""
        return self.x.vectors

    @property
    def Y(self) -> np.ndarray:  # noqa: N802
        """The vectors of ``y`` (row ``i`` pairs with ``X[i]``)."""
        return self.y.vectors

    @property
    def ids(self) -> list[str] | None:
        """The ids of the rows (from whichever side has them), or None."""
        return self.x.ids if self.x.ids is not None else self.y.ids

    @property
    def sources(self) -> dict[str, str]:
        """The two files."""
        return {"x": str(self.x.path), "y": str(self.y.path)}

    @property
    def columns(self) -> dict[str, dict[str, Any]]:
        """The columns used on each side that has columns (parquet, arrow, CSV)."""
        return {k: t.source.columns_used() for k, t in (("x", self.x), ("y", self.y))
                if t.source is not None and t.source.columns_used()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description of the inputs (no arrays)."""
        return {"x": self.sources["x"], "y": self.sources["y"], "n": len(self.x),
                "dx": self.x.dim, "dy": self.y.dim, "aligned_by": self.aligned_by,
                "has_ids": self.ids is not None, "columns": self.columns}


def load_space(path: str | os.PathLike[str], id_column: str | None = None,
               vector_column: str | None = None, columns: Sequence[str] | None = None) -> Space:
    """Load one space from any format of :mod:`pairspace.data.formats` (see the module docstring).

    Parameters
    ----------
    path : path-like
        The input file.
    id_column, vector_column : str, optional
        Column names for parquet/arrow/CSV inputs (default: detected).
    columns : sequence of str, optional
        Feature columns of parquet/arrow/CSV inputs (default: every numeric column but the id and
        a pandas index).

    Returns
    -------
    EmbeddingTable
        ``vectors`` (a memmap for ``.npy`` and ``.arrow``, float32 or float64 as stored), ``ids``
        or None, and ``source`` (the path and the columns used).
    """
    if format_of(path) in _NUMPY and (columns is not None or id_column is not None):
        raise ValueError(f"{path}: id and feature columns apply to parquet, arrow and CSV inputs "
                         "only")
    return read_table(path, id_column=id_column, vector_column=vector_column,
                      feature_columns=columns, mmap=True, require_ids=False, extras=False)


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
    if sx.ids is not None and sy.ids is not None:
        order = align_ids(sx.ids, sy.ids)
        return PairedSpaces(sx, sy if np.array_equal(order, np.arange(order.size)) else sy.take(order),
                            "id")
    if len(sx) != len(sy):
        raise ValueError(f"{sx.path} has {len(sx)} rows and {sy.path} has {len(sy)}; without ids on both "
                         "sides the rows are paired by position, so the counts must match")
    return PairedSpaces(sx, sy, "position")


def _table_options(path: str | os.PathLike[str], id_column: str | None, vector_column: str | None,
                   columns: Sequence[str] | None) -> tuple[Any, Any, Any]:
    """The column options for one side of a pair (numpy inputs have no columns)."""
    if Path(path).suffix.lower() in _NUMPY:
        return None, None, None
    return id_column, vector_column, columns
