"""Exact k-nearest-neighbor search, blocked over query rows under a memory budget.

One search of the ``K`` nearest neighbors serves every ``k <= K`` and every kNN measure
(:func:`pairspace.nngs_curve`, mutual kNN, CKNNA, permutation tests).

The search has two stages per block of query rows:

1. **Coarse selection** with one BLAS matrix product in the working dtype (float32 by default):
   for the euclidean metric ``||x_j||^2 - 2 <q, x_j>`` (the query's own norm is a per-row constant),
   for cosine ``-<q, x_j> / ||x_j||`` and for inner ``-<q, x_j>``. The ``k + margin`` smallest
   entries of every row are selected with ties going to the lower index.
2. **Refinement**: the candidates' distances are recomputed in float64 directly from the input rows
   (``||q - x_j||`` without the cancellation of the expanded form), then sorted by
   ``(distance, index)``. This makes the result independent of the BLAS blocking and breaks exact ties
   (duplicated rows, equidistant points) by the lower index, as the published NNGS code does.

The item itself is always excluded by index, also when it has duplicates. No ``n x n`` matrix is
built once ``n`` exceeds one block.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._progress import progress_bar
from ._validation import as_matrix, check_metric

DEFAULT_MEMORY_BUDGET = 256 * 2**20  # bytes of scratch memory per query block


@dataclass(frozen=True)
class KNNResult:
    """Neighbors of every row of a point cloud.

    Attributes
    ----------
    indices : numpy.ndarray of int64, shape (n, k)
        ``indices[i]`` lists the neighbors of item ``i`` by ascending distance; ties go to the lower
        index; ``i`` itself never appears.
    distances : numpy.ndarray of float64, shape (n, k)
        Euclidean distance, cosine distance ``1 - cos`` or negated inner product ``-<x_i, x_j>``
        (so that smaller is always closer).
    metric : str
        The metric used.
    backend : str
        The search backend (``"exact"`` unless another was asked for).
    recall : float or None
        For approximate backends, the recall measured against exact search on a sample of queries;
        ``None`` for exact search.
    """

    indices: np.ndarray
    distances: np.ndarray
    metric: str
    backend: str = "exact"
    recall: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of items."""
        return int(self.indices.shape[0])

    @property
    def k(self) -> int:
        """Number of neighbors per item."""
        return int(self.indices.shape[1])

    @property
    def exact(self) -> bool:
        """Whether the neighbors are exact (no approximate backend)."""
        return self.recall is None

    def truncate(self, k: int) -> KNNResult:
        """The ``k`` nearest neighbors (``k <= self.k``) without a new search."""
        if not 1 <= k <= self.k:
            raise ValueError(f"k={k} must lie in [1, {self.k}] to truncate this search")
        return KNNResult(
            self.indices[:, :k], self.distances[:, :k], self.metric, self.backend, self.recall,
            dict(self.info),
        )

    def to_dict(self) -> dict[str, Any]:
        """A small summary (no arrays)."""
        return {"n": self.n, "k": self.k, "metric": self.metric, "backend": self.backend,
                "recall": self.recall, **self.info}


def _row_norms_sq(A: np.ndarray, block_rows: int = 65536) -> np.ndarray:
    """Squared L2 norms of the rows, in float64, blocked so a memmap is read once."""
    out = np.empty(A.shape[0], dtype=np.float64)
    for s in range(0, A.shape[0], block_rows):
        blk = np.asarray(A[s : s + block_rows], dtype=np.float64)
        out[s : s + block_rows] = np.einsum("ij,ij->i", blk, blk)
    return out


def check_nonzero_rows(A: np.ndarray, name: str = "X") -> np.ndarray:
    """Return the squared row norms, raising if a row is the zero vector (undefined cosine)."""
    sq = _row_norms_sq(A)
    zero = np.flatnonzero(sq == 0.0)
    if zero.size:
        raise ValueError(
            f"{name} has {zero.size} zero vector(s) (first row {int(zero[0])}); the cosine metric "
            "is undefined for them. Remove them or use metric='euclidean'."
        )
    return sq


def select_smallest(S: np.ndarray, kk: int) -> np.ndarray:
    """Indices of the ``kk`` smallest entries of every row, ties going to the lower column index.

    The result is unsorted within a row. The fast path is one ``argpartition``; only the rows whose
    boundary value is tied with an unselected entry are redone exactly.
    """
    b, n = S.shape
    if kk >= n:
        return np.broadcast_to(np.arange(n), (b, n)).copy()
    idx = np.argpartition(S, kk - 1, axis=1)[:, :kk]
    rows = np.arange(b)[:, None]
    vals = S[rows, idx]
    t = vals.max(axis=1)
    n_at_t = (S == t[:, None]).sum(axis=1)
    n_sel_at_t = (vals == t[:, None]).sum(axis=1)
    n_below = (vals < t[:, None]).sum(axis=1)
    # A tie crosses the boundary when some entry equal to t is left out, or when the selected
    # entries equal to t are not the lowest-index ones among all entries equal to t.
    for r in np.flatnonzero(n_at_t > n_sel_at_t):
        row = S[r]
        below = np.flatnonzero(row < t[r])
        at = np.flatnonzero(row == t[r])[: kk - n_below[r]]
        idx[r] = np.concatenate([below, at])
    return idx


def _refined_distances(
    X0: np.ndarray, q_rows: np.ndarray, cand: np.ndarray, metric: str
) -> np.ndarray:
    """Float64 distances from each query row to its candidate rows, computed directly."""
    Q = np.asarray(X0[q_rows], dtype=np.float64)  # (b, d)
    flat = cand.ravel()
    order = np.argsort(flat, kind="stable")  # sorted gathers are friendlier to memmaps
    G = np.empty((flat.size, X0.shape[1]), dtype=np.float64)
    G[order] = np.asarray(X0[flat[order]], dtype=np.float64)
    G = G.reshape(cand.shape[0], cand.shape[1], X0.shape[1])  # (b, kk, d)
    if metric == "euclidean":
        diff = G - Q[:, None, :]
        return np.sqrt(np.einsum("bkd,bkd->bk", diff, diff))
    if metric == "cosine":
        Qn = Q / np.linalg.norm(Q, axis=1, keepdims=True)
        Gn = G / np.linalg.norm(G, axis=2, keepdims=True)
        return 1.0 - np.einsum("bkd,bd->bk", Gn, Qn)
    return -np.einsum("bkd,bd->bk", G, Q)  # inner


def _coarse_scores(
    Qw: np.ndarray, Aw: np.ndarray, metric: str, col_term: np.ndarray | None
) -> np.ndarray:
    """Selection scores (smaller is closer) of a query block against all rows."""
    S = Qw @ Aw.T
    if metric == "euclidean":
        S *= -2.0
        S += col_term  # ||x_j||^2
    elif metric == "cosine":
        S *= col_term  # -1 / ||x_j||
    else:
        np.negative(S, out=S)
    return S


def query_blocks(n: int, n_cols: int, kk: int, d: int, itemsize: int, memory_budget: int,
                 block_size: int | None = None) -> Iterator[tuple[int, int]]:
    """Yield ``(start, stop)`` query blocks whose scratch memory stays under ``memory_budget``.

    Per query row the search holds a row of scores (``n_cols`` values in the working dtype), the
    partition scratch (``n_cols`` int64) and the refinement gather (``kk x d`` float64, twice).
    """
    if block_size is None:
        per_row = n_cols * (itemsize + 8 + 2) + 2 * kk * d * 8
        block_size = int(max(1, min(n, memory_budget // max(per_row, 1))))
    for s in range(0, n, block_size):
        yield s, min(n, s + block_size)


def knn(
    X: Any,
    k: int,
    metric: str = "cosine",
    *,
    dtype: Any = np.float32,
    refine: bool = True,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    block_size: int | None = None,
    backend: str = "exact",
    progress: bool | None = None,
    **backend_options: Any,
) -> KNNResult:
    """The ``k`` nearest neighbors of every row of ``X`` among the other rows.

    Parameters
    ----------
    X : array-like, shape (n, d)
        Point cloud: numpy array, memmap, torch tensor or nested list. NaN/inf are rejected.
    k : int
        Number of neighbors, ``1 <= k <= n - 1``.
    metric : {"cosine", "euclidean", "inner"}
        ``"cosine"``: ``1 - <x, y> / (||x|| ||y||)`` (zero rows are rejected); ``"euclidean"``:
        ``||x - y||``; ``"inner"``: largest inner product first (distance ``-<x, y>``).
    dtype : numpy dtype
        Working dtype of the matrix products, float32 (default) or float64.
    refine : bool
        Recompute the candidates' distances in float64 and sort by ``(distance, index)``
        (default). Without it, the working-dtype scores decide the order.
    memory_budget : int
        Bytes of scratch memory per block of query rows (default 256 MiB).
    block_size : int, optional
        Fixed number of query rows per block (overrides the budget).
    backend : str
        ``"exact"`` (this function), or another registered backend (see
        :func:`register_backend`).
    progress : bool or None
        Show a progress bar (``None``: only on an interactive terminal).

    Returns
    -------
    KNNResult
        ``indices`` and ``distances`` of shape (n, k), nearest first.

    Examples
    --------
    >>> import numpy as np, pairspace
    >>> res = pairspace.knn(np.arange(8.0)[:, None], 1, metric="euclidean")
    >>> res.indices.ravel().tolist()
    [1, 0, 1, 2, 3, 4, 5, 6]
    """
    check_metric(metric)
    if backend != "exact":
        if backend not in _BACKENDS:
            raise ValueError(f"unknown kNN backend {backend!r}; available: {sorted(_BACKENDS)}")
        return _BACKENDS[backend](X, k, metric=metric, dtype=dtype, progress=progress,
                                  **backend_options)
    if backend_options:
        raise TypeError(f"unexpected options for the exact backend: {sorted(backend_options)}")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64; got {dtype}")
    X0 = as_matrix(X, "X", dtype=None)
    n, d = X0.shape
    if n < 2:
        raise ValueError(f"kNN search needs at least 2 rows; got {n}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= n - 1:
        raise ValueError(f"k={k!r} is out of range: it must be an int in [1, n-1] = [1, {n - 1}]")
    k = int(k)

    Aw = X0 if X0.dtype == dtype else X0.astype(dtype)
    if metric == "euclidean":
        col_term = _row_norms_sq(Aw).astype(dtype)
    elif metric == "cosine":
        col_term = (-1.0 / np.sqrt(check_nonzero_rows(X0))).astype(dtype)
    else:
        col_term = None
    kk = min(n - 1, k + max(8, k // 4)) if refine else k

    indices = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k), dtype=np.float64)
    blocks = list(query_blocks(n, n, kk, d, dtype.itemsize, memory_budget, block_size))
    for s, e in progress_bar(blocks, desc=f"kNN search ({metric})", progress=progress,
                             unit="block"):
        b = e - s
        S = _coarse_scores(np.asarray(Aw[s:e]), Aw, metric, col_term)
        S[np.arange(b), np.arange(s, e)] = np.inf  # exclude the item itself by index
        cand = select_smallest(S, kk)
        if refine:
            dist = _refined_distances(X0, np.arange(s, e), cand, metric)
        else:
            dist = S[np.arange(b)[:, None], cand].astype(np.float64)
            dist = _finish_coarse(dist, np.asarray(Aw[s:e]), metric)
        order = np.lexsort((cand, dist), axis=1)[:, :k]  # by distance, then by index
        indices[s:e] = np.take_along_axis(cand, order, axis=1)
        distances[s:e] = np.take_along_axis(dist, order, axis=1)
    return KNNResult(indices, distances, metric, "exact", None,
                     {"dtype": dtype.name, "refine": refine})


def _finish_coarse(scores: np.ndarray, Q: np.ndarray, metric: str) -> np.ndarray:
    """Turn coarse selection scores into distances (used when ``refine=False``)."""
    Q = Q.astype(np.float64)
    if metric == "euclidean":
        return np.sqrt(np.maximum(scores + np.einsum("ij,ij->i", Q, Q)[:, None], 0.0))
    if metric == "cosine":
        return 1.0 + scores / np.linalg.norm(Q, axis=1)[:, None]
    return scores


_BACKENDS: dict[str, Any] = {}


def register_backend(name: str, fn: Any) -> None:
    """Register a kNN backend ``fn(X, k, metric=..., dtype=..., progress=..., **options)``.

    A backend returns a :class:`KNNResult`; approximate backends must set ``recall``.
    """
    _BACKENDS[name] = fn


def knn_pair(
    X: Any, Y: Any, k: int, metric: str = "cosine", metric_y: str | None = None, **options: Any
) -> tuple[KNNResult, KNNResult]:
    """One neighbor search per space of a paired embedding (the graphs every kNN measure uses)."""
    return knn(X, k, metric, **options), knn(Y, k, metric_y or metric, **options)
