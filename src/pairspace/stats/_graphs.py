"""Shared by the permutation tests and the intervals: the graphs of a pair and a measure's scorer."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..measures.graph_scores import GraphScorer
from ..measures.knn_measures import maybe_platonic
from ..measures.registry import MeasureInfo, available_measures, get_measure
from ..neighbors import KNNResult, knn_pair


def graph_indices(g: KNNResult | np.ndarray) -> np.ndarray:
    """The neighbor lists of a search result (or the array itself)."""
    return g.indices if isinstance(g, KNNResult) else np.asarray(g)


def relabel_graph(iy: np.ndarray, perm: np.ndarray) -> np.ndarray:
    r"""Neighbor lists of :math:`Y_\pi` (rows ``Y[perm]``) from those of Y, without a search.

    .. math:: N^{Y_\pi}(i) = \pi^{-1}\big(N^{Y}(\pi(i))\big)

    ``out[i] = inv[iy[perm[i]]]`` with ``inv = perm^{-1}``: :math:`O(nk)`.
    """
    inv = np.empty(perm.size, dtype=iy.dtype)
    inv[perm] = np.arange(perm.size, dtype=iy.dtype)
    return inv[iy[perm]]


def prepare_graphs(A: np.ndarray, B: np.ndarray, k: int, metric: str, metric_y: str | None,
                   graphs: tuple[KNNResult, KNNResult] | None, progress: bool | None,
                   **knn_options: Any) -> tuple[np.ndarray, np.ndarray]:
    """The first ``k`` neighbors of X and Y (searched once unless ``graphs`` are given), int32."""
    if graphs is None:
        gx, gy = knn_pair(A, B, k, metric, metric_y, progress=progress, **knn_options)
    else:
        gx, gy = graphs
    ix, iy = graph_indices(gx), graph_indices(gy)
    if ix.shape[0] != A.shape[0] or iy.shape[0] != A.shape[0]:
        raise ValueError(f"the graphs have {ix.shape[0]} and {iy.shape[0]} rows for n={A.shape[0]}")
    if min(ix.shape[1], iy.shape[1]) < k:
        raise ValueError(f"the graphs hold {min(ix.shape[1], iy.shape[1])} neighbors; k={k} needs more")
    # int32 lists halve the memory traffic of the per-permutation gathers and comparisons
    dt = np.int32 if A.shape[0] < 2**31 else np.int64
    return np.ascontiguousarray(ix[:, :k], dtype=dt), np.ascontiguousarray(iy[:, :k], dtype=dt)


def knn_scorer(info: MeasureInfo, A: np.ndarray, B: np.ndarray, k: int, metric: str,
               metric_y: str | None, graphs: Any, progress: bool | None,
               platonic: bool = False, **knn_options: Any
               ) -> tuple[GraphScorer, np.ndarray]:
    """The measure's per-item scorer on the pair's graphs, and Y's neighbor lists."""
    if platonic and "platonic" not in info.options:
        with_it = [m for m in available_measures() if "platonic" in get_measure(m).options]
        raise ValueError(f"platonic preprocessing is an option of {' and '.join(with_it)} only; "
                         f"not of {info.name}")
    A, B, metric, metric_y = maybe_platonic(A, B, metric, metric_y, platonic)
    ix, iy = prepare_graphs(A, B, k, metric, metric_y, graphs, progress, **knn_options)
    return info.item_scorer(A, B, ix, iy, k), iy
