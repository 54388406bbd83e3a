r"""Overlap of two kNN graphs: how many of each item's neighbors the two graphs share, for every
neighborhood size up to ``K`` from one pass (the counting kernel of NNGS and mutual kNN).

With :math:`r_X(i, j)` the rank of :math:`j` in the neighbor list of :math:`i`,
:math:`j \in N_k^X(i) \cap N_k^Y(i)` iff :math:`\max(r_X(i, j), r_Y(i, j)) < k`, so a cumulative
histogram of :math:`\max(r_X, r_Y)` per item gives :math:`c_i(k)` for every :math:`k \le K` in
:math:`O(nK)` (Tavares, Ayres & Smaragdis, arXiv 2411.08687).
"""

from __future__ import annotations

import numpy as np

from .._validation import CACHE_BLOCK_BYTES, resolve_memory_budget, rows_per_block

_BROADCAST_MAX_K = 32


def overlap_counts(ix: np.ndarray, iy: np.ndarray, K: int | None = None, *,
                   cumulative: bool = True,
                   memory_budget: int | None = None) -> np.ndarray:
    r"""Overlap counts :math:`c_i(k) = |N_k^X(i) \cap N_k^Y(i)|` of two neighbor lists.

    The one overlap counter of the toolkit (NNGS, mutual kNN, the permutation tests and the
    per-item disagreement all count shared neighbors here).

    Parameters
    ----------
    ix, iy : numpy.ndarray of int, shape (n, >= K)
        Neighbor lists of the two spaces, nearest first (from :func:`pairspace.knn`); the entries
        of a row are distinct.
    K : int, optional
        Largest neighborhood size (default: the common width of the lists).
    cumulative : bool
        ``True``: the counts for every ``k <= K`` (the curve); ``False``: only :math:`c_i(K)`.
    memory_budget : int or None
        Scratch bytes of one row block (see :func:`pairspace._validation.rows_per_block`; None:
        ``CACHE_BLOCK_BYTES``, a cache-sized block, or the configured setting,
        :func:`pairspace.set_config`, where that is smaller). The counts do not depend on it.

    Returns
    -------
    numpy.ndarray
        ``cumulative=True``: int32, shape (n, K), ``counts[i, k - 1] = c_i(k)``.
        ``cumulative=False``: int64, shape (n,), ``c_i(K)``.

    Notes
    -----
    For ``K <= 32`` the lists are compared column by column (``K`` vectorized comparisons,
    :math:`O(nK^2)`); for wider lists a sort and a binary search per row block find the shared
    items and their ranks (:math:`O(nK \log K)`). An item ``j`` is shared by both
    ``k``-neighborhoods iff :math:`\max(r_X(i, j), r_Y(i, j)) < k`, so a bincount of that maximum,
    accumulated, gives every ``k`` at once.
    """
    ix = np.asarray(ix)
    iy = np.asarray(iy)
    if ix.ndim != 2 or iy.ndim != 2 or ix.shape[0] != iy.shape[0]:
        raise ValueError(f"neighbor lists must be 2-D with equal rows; got {ix.shape}, {iy.shape}")
    K = min(ix.shape[1], iy.shape[1]) if K is None else int(K)
    if not 1 <= K <= min(ix.shape[1], iy.shape[1]):
        raise ValueError(f"K={K} exceeds the neighbor lists' width {min(ix.shape[1], iy.shape[1])}")
    n = ix.shape[0]
    out = np.empty((n, K) if cumulative else n, dtype=np.int32 if cumulative else np.int64)
    small = K <= _BROADCAST_MAX_K
    rows = rows_per_block(resolve_memory_budget(memory_budget, cap=CACHE_BLOCK_BYTES),
                          (18 if small else 40) * K, n)
    count = _counts_broadcast if small else _counts_sorted
    for s in range(0, n, rows):
        count(ix[s : s + rows, :K], iy[s : s + rows, :K], n, out[s : s + rows], cumulative)
    return out


def _counts_broadcast(a: np.ndarray, b: np.ndarray, n: int, out: np.ndarray,
                      cumulative: bool) -> None:
    """Small-``K`` block of :func:`overlap_counts`: ``K`` vectorized column comparisons.

    ``q[i, p]`` is the position in Y's list of the item at position ``p`` of X's list (``K`` if
    absent); the item enters both neighborhoods at ``k = max(p, q) + 1``.
    """
    m, K = a.shape
    if not cumulative:
        hit = a == b[:, :1]
        for j in range(1, K):
            hit |= a == b[:, j : j + 1]
        out[:] = np.count_nonzero(hit, axis=1)
        return
    q = np.full(a.shape, K, dtype=np.int64)
    for j in range(K - 1, -1, -1):
        q[a == b[:, j : j + 1]] = j
    last = np.maximum(np.arange(K, dtype=np.int64)[None, :], q)  # K where absent
    hist = np.bincount((np.arange(m)[:, None] * (K + 1) + last).ravel(),
                       minlength=m * (K + 1)).reshape(m, K + 1)[:, :K]
    np.cumsum(hist, axis=1, out=out)


def _counts_sorted(a: np.ndarray, b: np.ndarray, n: int, out: np.ndarray,
                   cumulative: bool) -> None:
    """Wide-``K`` block of :func:`overlap_counts`: sort Y's keys, binary-search X's."""
    m, K = a.shape
    row = np.repeat(np.arange(m, dtype=np.int64), K)
    key_x = row * n + a.ravel()
    key_y = row * n + b.ravel()
    order = np.argsort(key_y, kind="stable")
    sorted_y = key_y[order]
    pos = np.minimum(np.searchsorted(sorted_y, key_x), sorted_y.size - 1)
    hit = sorted_y[pos] == key_x
    if not cumulative:
        out[:] = np.bincount(row[hit], minlength=m)
        return
    r_x = np.tile(np.arange(K), m)[hit]
    r_y = order[pos[hit]] % K
    last = np.maximum(r_x, r_y)  # j is shared by both k-neighborhoods iff last < k
    hist = np.bincount(row[hit] * K + last, minlength=m * K).reshape(m, K)
    np.cumsum(hist, axis=1, out=out)


def shared_counts(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
    """Per-item ``|ix[i] ∩ iy[i]|`` for neighbor lists of the same width (``overlap_counts`` at
    ``cumulative=False``)."""
    return overlap_counts(ix, iy, cumulative=False)
