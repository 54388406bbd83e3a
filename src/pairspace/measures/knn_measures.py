r"""kNN-graph measures beside NNGS, computed from the same neighbor searches.

Mutual kNN (Huh, Cheung, Wang & Isola, "The Platonic Representation Hypothesis", ICML 2024):

.. math:: \mathrm{mKNN}(X, Y, k) = \frac{1}{n} \sum_i \frac{|N_k^X(i) \cap N_k^Y(i)|}{k}.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_metric, check_pair, resolve_k
from ..neighbors import KNNResult, knn_pair
from .nngs import overlap_counts


def mutual_knn_from_graphs(gx: KNNResult | np.ndarray, gy: KNNResult | np.ndarray,
                           k: int) -> float:
    """Mutual kNN from two precomputed searches of width ``>= k`` (no new search)."""
    ix = gx.indices if isinstance(gx, KNNResult) else np.asarray(gx)
    iy = gy.indices if isinstance(gy, KNNResult) else np.asarray(gy)
    return float(overlap_counts(ix, iy, k)[:, k - 1].mean() / k)


def mutual_knn(X: Any, Y: Any, k: int | float, metric: str = "cosine",
               metric_y: str | None = None, **knn_options: Any) -> float:
    r"""Mutual kNN alignment: the mean fraction of shared ``k`` nearest neighbors.

    .. math:: \mathrm{mKNN}(X, Y, k) = \frac{1}{n}\sum_i \frac{|N_k^X(i) \cap N_k^Y(i)|}{k}

    Parameters
    ----------
    X, Y : array-like, shapes (n, dx) and (n, dy)
        Paired point clouds.
    k : int or float
        Neighborhood size (a float in (0, 1) means ``floor(k * n)``).
    metric, metric_y : str
        Distances of X and Y (see :func:`pairspace.knn`).

    Returns
    -------
    float
        In ``[0, 1]``; 1 when every neighborhood is shared.

    References
    ----------
    Huh et al., "The Platonic Representation Hypothesis", ICML 2024.
    """
    check_metric(metric)
    A, B = check_pair(X, Y, dtype=None)
    kk = resolve_k(k, A.shape[0])
    gx, gy = knn_pair(A, B, kk, metric, metric_y, **knn_options)
    return mutual_knn_from_graphs(gx, gy, kk)
