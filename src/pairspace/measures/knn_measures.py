r"""kNN-graph measures beside NNGS, computed from the same neighbor searches.

Mutual kNN (Huh, Cheung, Wang & Isola, "The Platonic Representation Hypothesis", ICML 2024):

.. math:: \mathrm{mKNN}(X, Y, k) = \frac{1}{n} \sum_i \frac{|N_k^X(i) \cap N_k^Y(i)|}{k}.

CKNNA (same paper, Eq. 4-5): centered kernel alignment restricted to the pairs that are mutual
``k`` nearest neighbors. With the linear kernels :math:`K_{ij} = \langle x_i, x_j\rangle`,
:math:`L_{ij} = \langle y_i, y_j\rangle` and the row-centered entries
:math:`\bar K_{ij} = K_{ij} - \frac{1}{n}\sum_l K_{il} = \langle x_i, x_j - \bar x\rangle`,

.. math::

    \mathrm{Align}(K, L) = \sum_i \sum_{j} \alpha_{ij}\, \bar K_{ij} \bar L_{ij}, \qquad
    \alpha_{ij} = \mathbb{1}[i \ne j,\; j \in N_k^X(i),\; j \in N_k^Y(i)],

    \mathrm{CKNNA}(X, Y, k) = \frac{\mathrm{Align}(K, L)}
    {\sqrt{\mathrm{Align}(K, K)\, \mathrm{Align}(L, L)}}.

In :math:`\mathrm{Align}(K, K)` the mask is the kNN graph of X alone (its mutual graph with itself).
Only the :math:`nk` entries on the neighbor lists are ever evaluated, in :math:`O(nkd)`, with no
:math:`n \times n` kernel matrix. By Cauchy-Schwarz the value lies in ``[-1, 1]``.

The published reference code evaluates an unbiased HSIC of the masked ``n x n`` kernels and fails
for some arguments (small ``k``, few items); this module implements the definition above instead.

The **Platonic preprocessing** (``platonic=True``) follows the same paper's evaluation: every entry
is clamped to ``[-t, t]`` where ``t`` is the 95th percentile of ``|x|`` (per row, averaged over
rows), rows are L2-normalized and the neighbors are cosine neighbors. The kernels of CKNNA are then
cosine similarities.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import (
    CACHE_BLOCK_BYTES,
    as_matrix,
    resolve_k,
    resolve_memory_budget,
    rows_per_block,
    unit_rows,
)
from ..neighbors import KNNResult, knn_pair
from .nngs import checked_pair
from .overlap import overlap_counts

PLATONIC_QUANTILE = 0.95


def _indices(g: KNNResult | np.ndarray) -> np.ndarray:
    return g.indices if isinstance(g, KNNResult) else np.asarray(g)


def platonic_preprocess(X: Any, q: float = PLATONIC_QUANTILE, name: str = "X") -> np.ndarray:
    r"""The preprocessing of Huh et al. (2024): clamp outlying entries, then L2-normalize rows.

    Every entry is clamped to :math:`[-t, t]`, then each row is divided by its L2 norm. The
    threshold is one scalar for the whole space, :math:`t = \frac{1}{n}\sum_i Q_q(|x_i|)`: the
    ``q``-quantile of the absolute entries of each row, averaged over rows (the convention of the
    paper's evaluation code).

    Parameters
    ----------
    X : array-like, shape (n, d)
        A point cloud.
    q : float
        Quantile of the absolute values used as the clamp (0.95 in the paper); ``q=1`` only
        normalizes.

    Returns
    -------
    numpy.ndarray of float64, shape (n, d)
        Unit-norm rows.
    """
    if not 0.0 < q <= 1.0:
        raise ValueError(f"the clamp quantile q must lie in (0, 1]; got {q}")
    A = as_matrix(X, name)
    if q < 1.0:
        t = float(np.quantile(np.abs(A), q, axis=1).mean())
        A = np.clip(A, -t, t)
    return unit_rows(A, f"{name} after clamping")


def maybe_platonic(A: np.ndarray, B: np.ndarray, metric: str, metric_y: str | None,
                   platonic: bool) -> tuple[np.ndarray, np.ndarray, str, str | None]:
    """Apply :func:`platonic_preprocess` to both spaces (and switch to cosine) when asked."""
    if not platonic:
        return A, B, metric, metric_y
    return platonic_preprocess(A, name="X"), platonic_preprocess(B, name="Y"), "cosine", "cosine"


def prepare_knn_pair(X: Any, Y: Any, k: int | float, metric: str, metric_y: str | None,
                     platonic: bool, **knn_options: Any
                     ) -> tuple[np.ndarray, np.ndarray, int, KNNResult, KNNResult]:
    """Validate a pair, resolve ``k``, optionally preprocess, and search both spaces once."""
    A, B = checked_pair(X, Y, metric, metric_y)
    kk = resolve_k(k, A.shape[0])
    A, B, metric, metric_y = maybe_platonic(A, B, metric, metric_y, platonic)
    gx, gy = knn_pair(A, B, kk, metric, metric_y, **knn_options)
    return A, B, kk, gx, gy


def mutual_knn_per_item(gx: KNNResult | np.ndarray, gy: KNNResult | np.ndarray, k: int) -> np.ndarray:
    """Per-item fraction of shared ``k`` nearest neighbors, from two searches of width ``>= k``."""
    return overlap_counts(_indices(gx)[:, :k], _indices(gy)[:, :k], cumulative=False) / float(k)


def mutual_knn_from_graphs(gx: KNNResult | np.ndarray, gy: KNNResult | np.ndarray,
                           k: int) -> float:
    """Mutual kNN from two precomputed searches of width ``>= k`` (no new search)."""
    return float(mutual_knn_per_item(gx, gy, k).mean())


def mutual_knn(X: Any, Y: Any, k: int | float, metric: str = "cosine",
               metric_y: str | None = None, platonic: bool = False, **knn_options: Any) -> float:
    r"""Mutual kNN alignment: the mean fraction of shared ``k`` nearest neighbors.

    .. math:: \mathrm{mKNN}(X, Y, k) = \frac{1}{n}\sum_i \frac{|N_k^X(i) \cap N_k^Y(i)|}{k}

    Parameters
    ----------
    X, Y : array-like, shapes (n, dx) and (n, dy)
        Paired point clouds.
    k : int or float
        Neighborhood size (a float in (0, 1) means ``floor(k * n)``).
    metric, metric_y : str
        Distances of X and Y (see :func:`pairspace.knn`). Ignored when ``platonic=True``.
    platonic : bool
        Apply the paper's preprocessing (:func:`platonic_preprocess`: clamp at the 95th
        percentile of ``|x|``, L2-normalize rows) and use cosine neighbors.

    Returns
    -------
    float
        In ``[0, 1]``; 1 when every neighborhood is shared.

    References
    ----------
    Huh et al., "The Platonic Representation Hypothesis", ICML 2024.
    """
    A, B, kk, gx, gy = prepare_knn_pair(X, Y, k, metric, metric_y, platonic, **knn_options)
    return mutual_knn_from_graphs(gx, gy, kk)


def centered_kernel_on_graph(A: Any, idx: np.ndarray, memory_budget: int | None = None
                             ) -> np.ndarray:
    r"""Row-centered linear kernel on a neighbor list: :math:`\langle a_i, a_j - \bar a\rangle`.

    Parameters
    ----------
    A : array-like, shape (n, d)
        Features.
    idx : numpy.ndarray of int, shape (n, k)
        Neighbor lists.
    memory_budget : int or None
        Bytes of scratch memory of one row block of gathered neighbors (None: the configured
        setting, :func:`pairspace.set_config`).

    Returns
    -------
    numpy.ndarray of float64, shape (n, k)
        ``out[i, s] = <a_i, a_{idx[i, s]}> - <a_i, mean(a)>``.
    """
    n, k = idx.shape
    block_rows = rows_per_block(resolve_memory_budget(memory_budget), 8 * k * A.shape[1], n)
    mean = np.zeros(A.shape[1])
    for s in range(0, n, 65536):
        mean += np.asarray(A[s : s + 65536], dtype=np.float64).sum(0)
    mean /= n
    out = np.empty((n, k))
    for s in range(0, n, block_rows):
        e = min(n, s + block_rows)
        a = np.asarray(A[s:e], dtype=np.float64)
        nb = np.asarray(A[idx[s:e].ravel()], dtype=np.float64).reshape(e - s, k, -1)
        out[s:e] = np.einsum("bd,bkd->bk", a, nb) - (a @ mean)[:, None]
    return out


def cknna_terms(A: Any, B: Any, ix: np.ndarray, iy: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, float, float]:
    """The pieces of CKNNA from two neighbor lists of width ``k``.

    Returns the centered kernels on X's and Y's lists (``(n, k)`` each) and the two normalizers
    :math:`\\mathrm{Align}(K, K)` and :math:`\\mathrm{Align}(L, L)`.
    """
    kx = centered_kernel_on_graph(A, ix)
    ky = centered_kernel_on_graph(B, iy)
    return kx, ky, float(np.sum(kx * kx)), float(np.sum(ky * ky))


def cknna_per_item_from_terms(kx: np.ndarray, ky: np.ndarray, ix: np.ndarray, iy: np.ndarray,
                              memory_budget: int | None = None) -> np.ndarray:
    r"""Per-item numerators :math:`\sum_j \alpha_{ij} \bar K_{ij} \bar L_{ij}` (length n).

    ``kx`` and ``ky`` hold the centered kernels on the lists ``ix`` and ``iy`` (same shapes); the
    matches are found by comparing the lists in row blocks of at most ``memory_budget`` bytes of
    boolean match table (None: ``CACHE_BLOCK_BYTES``, or the configured setting,
    :func:`pairspace.set_config`, where that is smaller).
    """
    n = ix.shape[0]
    block_rows = rows_per_block(resolve_memory_budget(memory_budget, cap=CACHE_BLOCK_BYTES),
                                ix.shape[1] * iy.shape[1], n)
    out = np.empty(n)
    for s in range(0, n, block_rows):
        e = min(n, s + block_rows)
        eq = ix[s:e, :, None] == iy[s:e, None, :]
        out[s:e] = np.einsum("bxy,bx,by->b", eq, kx[s:e], ky[s:e])
    return out


def _cknna_ratio(num: float, nx: float, ny: float) -> float:
    if nx <= 0.0 or ny <= 0.0:
        raise ValueError("CKNNA is undefined: a space has zero centered kernel on its kNN graph "
                         "(constant features?)")
    return float(num / np.sqrt(nx * ny))


def cknna_from_graphs(A: Any, B: Any, gx: KNNResult | np.ndarray, gy: KNNResult | np.ndarray,
                      k: int) -> float:
    """CKNNA from the features and two precomputed searches of width ``>= k`` (no new search)."""
    ix, iy = _indices(gx)[:, :k], _indices(gy)[:, :k]
    kx, ky, nx, ny = cknna_terms(A, B, ix, iy)
    return _cknna_ratio(float(cknna_per_item_from_terms(kx, ky, ix, iy).sum()), nx, ny)


def cknna(X: Any, Y: Any, k: int | float = 10, metric: str = "cosine",
          metric_y: str | None = None, platonic: bool = False, **knn_options: Any) -> float:
    r"""CKNNA: centered kernel alignment on the mutual ``k``-nearest-neighbor pairs.

    .. math::

        \mathrm{CKNNA} = \frac{\sum_i \sum_j \alpha_{ij} \bar K_{ij} \bar L_{ij}}
        {\sqrt{\sum_{i} \sum_{j \in N_k^X(i)} \bar K_{ij}^2 \;
               \sum_{i} \sum_{j \in N_k^Y(i)} \bar L_{ij}^2}}

    with linear kernels, :math:`\bar K_{ij} = \langle x_i, x_j - \bar x\rangle` and
    :math:`\alpha_{ij} = 1` when :math:`j` is among the ``k`` nearest neighbors of :math:`i` in
    both spaces (see the module docstring).

    Parameters
    ----------
    X, Y : array-like, shapes (n, dx) and (n, dy)
        Paired point clouds.
    k : int or float
        Neighborhood size (a float in (0, 1) means ``floor(k * n)``); any ``1 <= k <= n - 1``.
    metric, metric_y : str
        Distances that define the neighbors (see :func:`pairspace.knn`). The kernel is always the
        inner product of the (possibly preprocessed) features.
    platonic : bool
        Apply :func:`platonic_preprocess` to both spaces and use cosine neighbors, as the paper.

    Returns
    -------
    float
        In ``[-1, 1]``; 1 for identical spaces.

    References
    ----------
    Huh, Cheung, Wang & Isola, "The Platonic Representation Hypothesis", ICML 2024.
    """
    A, B, kk, gx, gy = prepare_knn_pair(X, Y, k, metric, metric_y, platonic, **knn_options)
    return cknna_from_graphs(A, B, gx, gy, kk)
