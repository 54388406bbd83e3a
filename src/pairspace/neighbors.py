"""Exact k-nearest-neighbor search, blocked under a memory budget, near the machine's matmul speed.

One search of the ``K`` nearest neighbors serves every ``k <= K`` and every kNN measure
(:func:`pairspace.nngs_curve`, mutual kNN, CKNNA, permutation tests).

The search has two stages per block of ``b`` query rows:

1. **Coarse selection** with BLAS matrix products in the working dtype (float32 by default). The
   database rows are *prepared* once so that one product gives a score that is smaller for closer
   rows, with no further pass over the ``b x n`` scores:

   - euclidean: ``s(q, x) = ||x||^2 - 2 <q, x>`` as ``[-2q, 1] . [x, ||x||^2]`` (the query's own
     norm is a per-row constant);
   - cosine: ``s(q, x) = -<q/||q||, x/||x||>``;
   - inner: ``s(q, x) = -<q, x>``.

   When the whole ``b x n`` block of scores fits the memory budget and ``kk = k + margin`` is
   not small, one product per block gives it and one ``torch.topk`` its ``kk`` smallest scores
   (ties to the lower index). Otherwise the database is walked in chunks of columns. The first
   chunk gives every query row its ``kk`` smallest scores exactly. Every later chunk is only
   *compared* with the row's current ``kk``-th smallest score ``t``: an entry is a candidate iff
   its score is ``< t`` (strictly: an equal score in a later chunk has a higher index and loses the
   tie). The few candidates are found through the comparison mask read as 64-bit words and merged
   with a stable sort, so the selection costs about one comparison pass instead of a partial sort
   of the ``b x n`` block (``argpartition`` costs about as much as the product itself at d = 512).
2. **Refinement**: a rounding-error bound on the coarse scores (see
   :meth:`ExactSearcher.search_block`) tells which candidates can still be in the top ``k`` (a
   row that needs more than its ``kk`` is searched again with more) and which can be out of order.
   Their distances are recomputed in float64 directly from the input rows, then sorted by
   ``(distance, index)``. This makes the result independent of the BLAS blocking and breaks exact
   ties (duplicated rows, equidistant points) by the lower index, as the published NNGS code does.

The item itself is always excluded by index, also when it has duplicates. No ``n x n`` matrix is
built: the scratch memory is ``b x chunk`` scores plus the ``n x k`` result. An in-memory input gets
one prepared copy in the working dtype; a :class:`numpy.memmap` input (or a path to a ``.npy`` or
parquet file, see :mod:`pairspace.outofcore`) is streamed chunk by chunk and never loaded whole.

Other backends (``"faiss"``, ``"hnsw"``, ``"dask"``) are reached through the same :func:`knn` call
(see :func:`register_backend`); an approximate backend always reports its measured recall.
"""

from __future__ import annotations

import importlib
import mmap
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._progress import progress_bar
from ._validation import as_matrix, check_metric

DEFAULT_MEMORY_BUDGET = 256 * 2**20  # bytes of scratch memory per query block
DEFAULT_CHUNK_ROWS = 2048  # database rows per matrix product (b x 2048 scores stay in cache)
FIRST_CHUNK_ROWS = 2048  # database rows of the first product (fully sorted to seed the thresholds)
MAX_QUERY_BLOCK = 2048  # query rows per block for in-memory inputs (streamed inputs may use more)
FULL_WIDTH_MIN_ROWS = 512  # query rows whose whole score rows must fit the budget for one-chunk blocks
FULL_WIDTH_MIN_KK = 32  # below, chunked threshold passes beat one topk of the whole row
TORCH_MIN_WORK = 2e10  # n * n * d above which torch is imported (if installed) for the products


class ApproximateSearchWarning(UserWarning):
    """An approximate kNN backend was used; the message carries its measured recall."""


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
        For approximate backends, the recall measured against exact search on a sample of queries,
        ``mean_i |N_approx(i) ∩ N_exact(i)| / k``; ``None`` for exact search.
    info : dict
        Backend details (dtype, sample size of the recall, index parameters, ...).
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


def _row_norms_sq(A: np.ndarray, block_rows: int = 4096) -> np.ndarray:
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


def is_out_of_core(A: Any) -> bool:
    """Whether ``A`` (or the array it views) is a memory map, to be streamed rather than copied."""
    obj = A
    while obj is not None:
        if isinstance(obj, np.memmap | mmap.mmap):
            return True
        obj = getattr(obj, "base", None)
    return False


def _torch(load: bool = False) -> Any:
    """The torch module (an optional speed-up of the products and of ``topk``) when it is already
    imported, or when ``load`` and it is installed; else None. Small searches never import it."""
    torch = sys.modules.get("torch")
    if torch is None and load:
        try:
            torch = importlib.import_module("torch")
        except ImportError:  # pragma: no cover - torch is an optional extra
            return None
    return torch


def _lex_sorted(vals: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort every row of ``(vals, idx)`` by value, then by index."""
    order = np.lexsort((idx, vals), axis=1)
    return np.take_along_axis(vals, order, axis=1), np.take_along_axis(idx, order, axis=1)


def select_smallest_sorted(S: np.ndarray, kk: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``kk`` smallest entries of every row as ``(values, column indices)``, sorted by
    ``(value, index)``, ties going to the lower index.

    Uses ``torch.topk`` (several times faster than ``argpartition``) when torch is installed; a row
    whose ``kk``-th and ``(kk+1)``-th values are equal is redone exactly with :func:`select_smallest`.
    """
    b, n = S.shape
    torch = _torch()
    if torch is None or kk >= n or not S.flags.c_contiguous or not S.flags.writeable:
        idx = select_smallest(S, kk)
        return _lex_sorted(np.take_along_axis(S, idx, axis=1), idx.astype(np.int64))
    vals_t, idx_t = torch.topk(torch.from_numpy(S), kk + 1, dim=1, largest=False, sorted=True)
    return _exact_topk(vals_t.numpy(), idx_t.numpy(), kk, lambda rows: S[rows])


def _exact_topk(vals: np.ndarray, idx: np.ndarray, kk: int,
                score_rows: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The ``kk`` smallest ``(value, index)`` pairs from a ``topk`` of ``kk + 1`` sorted by value.

    A row whose ``kk``-th and ``(kk+1)``-th values are equal is redone with :func:`select_smallest`
    on its full scores (``score_rows(rows)``); the rows holding equal values are reordered by index
    (``topk`` orders ties arbitrarily).
    """
    tied = np.flatnonzero(vals[:, kk - 1] == vals[:, kk])
    vals, idx = vals[:, :kk].copy(), idx[:, :kk].astype(np.int64)
    if tied.size:
        S = score_rows(tied)
        sel = select_smallest(S, kk)
        vals[tied], idx[tied] = _lex_sorted(np.take_along_axis(S, sel, axis=1), sel)
    equal = np.flatnonzero((vals[:, 1:] == vals[:, :-1]).any(axis=1))
    if equal.size:
        vals[equal], idx[equal] = _lex_sorted(vals[equal], idx[equal])
    return vals, idx


def _mask_hits(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a sparse 2-D boolean mask, reading it as 64-bit words (much faster)."""
    b, w = mask.shape
    if w % 8 or not mask.flags.c_contiguous:
        return np.nonzero(mask)
    words = np.flatnonzero(mask.view(np.uint64).ravel() != 0)  # != 0 first: 3x faster
    sub_r, sub_j = np.nonzero(mask.reshape(-1, 8)[words])
    flat = words[sub_r] * 8 + sub_j
    return flat // w, flat % w


def _threshold_hits(S: np.ndarray, t: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero(S < t)`` for a per-row threshold column ``t``, in row slices of about 2 MiB
    so that the comparison and the word scan of its mask stay in cache."""
    b = S.shape[0]
    step = max(1, 2**19 // max(1, S.shape[1]))
    rs, js = [], []
    for s in range(0, b, step):
        e = min(b, s + step)
        np.less(S[s:e], t[s:e], out=mask[s:e])
        r, j = _mask_hits(mask[s:e])
        rs.append(r + s)
        js.append(j)
    return np.concatenate(rs), np.concatenate(js)


def _merge_hits(best_v: np.ndarray, best_i: np.ndarray, r: np.ndarray, v: np.ndarray,
                j: np.ndarray) -> None:
    """Merge new candidates ``(row r, value v, index j)`` into the per-row sorted
    ``(best_v, best_i)``, in place. Within a row, the new candidates must come after the current
    ones in index order and, among equal values, in index order."""
    kk = best_v.shape[1]
    rows, start, counts = np.unique(r, return_index=True, return_counts=True)
    width = kk + int(counts.max())
    mv = np.full((rows.size, width), np.inf, dtype=best_v.dtype)
    mi = np.zeros((rows.size, width), dtype=np.int64)
    mv[:, :kk] = best_v[rows]
    mi[:, :kk] = best_i[rows]
    slot = kk + np.arange(r.size) - np.repeat(start, counts)
    pos = np.repeat(np.arange(rows.size), counts)
    mv[pos, slot] = v
    mi[pos, slot] = j
    # A stable sort by value keeps the current entries (lower indices) ahead of equal new ones.
    order = np.argsort(mv, axis=1, kind="stable")[:, :kk]
    best_v[rows] = np.take_along_axis(mv, order, axis=1)
    best_i[rows] = np.take_along_axis(mi, order, axis=1)


def _merge_pending(best_v: np.ndarray, best_i: np.ndarray,
                   pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
    """Merge hits of several chunks (in chunk order) into ``(best_v, best_i)``, in place."""
    r = np.concatenate([p[0] for p in pending])
    order = np.argsort(r, kind="stable")  # by row; chunk (index) order kept within a row
    _merge_hits(best_v, best_i, r[order], np.concatenate([p[1] for p in pending])[order],
                np.concatenate([p[2] for p in pending])[order])


def _matmul_into(Q: np.ndarray, C: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out = Q @ C.T`` through torch's BLAS when available (faster threading), else numpy."""
    torch = _torch()
    if torch is not None and Q.flags.writeable and C.flags.writeable and C.flags.c_contiguous:
        torch.mm(torch.from_numpy(Q), torch.from_numpy(C).T, out=torch.from_numpy(out))
    else:
        np.matmul(Q, C.T, out=out)
    return out


def _prepare_base(rows: np.ndarray, metric: str, dtype: np.dtype,
                  sq: np.ndarray | None = None) -> np.ndarray:
    """Database rows prepared so that ``query_prep @ base_prep.T`` is the selection score.

    ``sq`` are the rows' squared norms (float64) when already known.
    """
    if sq is None and metric != "inner":
        sq = _row_norms_sq(rows)
    if metric == "cosine":
        out = np.array(rows, dtype=dtype)
        out *= (1.0 / np.sqrt(sq)).astype(dtype)[:, None]
        return out
    if metric == "euclidean":
        out = np.empty((rows.shape[0], rows.shape[1] + 1), dtype=dtype)
        out[:, :-1] = rows
        out[:, -1] = sq
        return out
    return np.ascontiguousarray(rows, dtype=dtype)


def _prepare_queries(rows: np.ndarray, metric: str, dtype: np.dtype,
                     sq: np.ndarray | None = None) -> np.ndarray:
    """Query rows prepared to pair with :func:`_prepare_base` (smaller score = closer)."""
    if metric == "cosine":
        return -_prepare_base(rows, metric, dtype, sq)
    if metric == "euclidean":
        out = np.empty((rows.shape[0], rows.shape[1] + 1), dtype=dtype)
        out[:, :-1] = rows
        out[:, :-1] *= -2.0
        out[:, -1] = 1.0
        return out
    return -np.asarray(rows, dtype=dtype)


def refined_distances(X0: np.ndarray, q_rows: np.ndarray, cand: np.ndarray, metric: str,
                      rows_per_pass: int = 64, sq: np.ndarray | None = None,
                      mask: np.ndarray | None = None) -> np.ndarray:
    r"""Float64 distances from each query row ``X0[q_rows[i]]`` to its candidate rows ``X0[cand[i]]``.

    Two exact-enough forms, chosen by the input dtype:

    - **float32 input with its float64 squared norms** ``sq``: every product of two float32 numbers
      is exact in float64, so the dot products :math:`\langle q, x\rangle` are accumulated in float64
      straight from the float32 rows (no widened copy) and
      :math:`\|q - x\|^2 = \|q\|^2 + \|x\|^2 - 2\langle q, x\rangle` loses only about
      :math:`d\,u_{64}(\|q\|^2 + \|x\|^2)` (:math:`u_{64} \approx 10^{-16}`), far below float32
      resolution; identical rows still give bit-identical values, so exact ties go to the lower index.
      This is about 2.5x faster than the direct form, whose cost is the float64 copy.
    - **otherwise** (float64 input): directly, ``||q - x||`` in float64 with no expanded form, so no
      cancellation for data far from the origin.

    The candidates are gathered a few query rows at a time, so the work stays in cache; large
    blocks are split over the CPU cores (numpy releases the GIL in these loops). With a boolean
    ``mask`` of the shape of ``cand``, only the masked entries are computed (the others are NaN).
    """
    b, kk = cand.shape
    if mask is not None:
        return _refined_masked(X0, q_rows, cand, metric, mask, rows_per_pass, sq)
    d = X0.shape[1]
    expanded = sq is not None and X0.dtype == np.float32
    if expanded:
        Q = np.asarray(X0[q_rows])  # float32; the products are exact in float64
        qsq, csq = sq[q_rows], sq[cand]
    else:
        Q = np.asarray(X0[q_rows], dtype=np.float64)  # (b, d)
        if metric == "cosine":
            Q /= np.linalg.norm(Q, axis=1, keepdims=True)
    if is_out_of_core(X0):  # one sorted gather: friendlier to memmaps
        flat = cand.ravel()
        order = np.argsort(flat, kind="stable")
        G = np.empty((flat.size, d), dtype=X0.dtype)
        G[order] = X0[flat[order]]
        G = G.reshape(b, kk, d)
    else:
        G = None
        A = np.asarray(X0)
    out = np.empty((b, kk), dtype=np.float64)

    def rows(lo: int, hi: int) -> None:
        for s in range(lo, hi, rows_per_pass):
            e = min(hi, s + rows_per_pass)
            if expanded:
                g = G[s:e] if G is not None else A[cand[s:e]]
                dot = np.einsum("bkd,bd->bk", g, Q[s:e], dtype=np.float64)
                if metric == "euclidean":
                    out[s:e] = np.sqrt(np.maximum(csq[s:e] + qsq[s:e, None] - 2.0 * dot, 0.0))
                elif metric == "cosine":
                    out[s:e] = 1.0 - dot / np.sqrt(csq[s:e] * qsq[s:e, None])
                else:  # inner
                    out[s:e] = -dot
                continue
            g = (G[s:e] if G is not None else A[cand[s:e]]).astype(np.float64)
            q = Q[s:e, None, :]
            if metric == "euclidean":
                g -= q
                out[s:e] = np.sqrt(np.einsum("bkd,bkd->bk", g, g))
            elif metric == "cosine":
                g /= np.linalg.norm(g, axis=2, keepdims=True)
                out[s:e] = 1.0 - np.einsum("bkd,bkd->bk", g, q)
            else:  # inner
                out[s:e] = -np.einsum("bkd,bkd->bk", g, q)

    workers = min(os.cpu_count() or 1, max(1, b * kk * d // 2**20), 8)
    if workers == 1:
        rows(0, b)
    else:
        step = -(-b // workers)
        list(_pool().map(lambda lo: rows(lo, min(b, lo + step)), range(0, b, step)))
    return out


def _refined_masked(X0: np.ndarray, q_rows: np.ndarray, cand: np.ndarray, metric: str,
                    mask: np.ndarray, rows_per_pass: int, sq: np.ndarray | None,
                    bucket_rows: int = 256) -> np.ndarray:
    """:func:`refined_distances` of the entries of ``mask`` only (NaN elsewhere).

    The rows are taken by decreasing number of masked entries, in buckets whose masked candidates
    are packed to the left, so the dense routine runs on little padding.
    """
    out = np.full(cand.shape, np.nan)
    counts = mask.sum(axis=1)
    perm = np.argsort(-counts, kind="stable")
    packed = np.argsort(~mask, axis=1, kind="stable")  # positions of the masked entries first
    for s in range(0, cand.shape[0], bucket_rows):
        rows = perm[s : s + bucket_rows]
        m = int(counts[rows[0]])
        if m == 0:
            break
        pos = packed[rows, :m]
        dist = refined_distances(X0, q_rows[rows], np.take_along_axis(cand[rows], pos, axis=1),
                                 metric, rows_per_pass, sq)
        valid = np.arange(m)[None, :] < counts[rows][:, None]
        out[np.broadcast_to(rows[:, None], pos.shape)[valid], pos[valid]] = dist[valid]
    return out


_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    """A small thread pool for the refinement (created on first use)."""
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, 8),
                                   thread_name_prefix="pairspace-refine")
    return _POOL


def finish_candidates(X0: np.ndarray, q_rows: np.ndarray, cand: np.ndarray, k: int, metric: str,
                      coarse: np.ndarray | None = None, sq: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Refine candidate neighbors in float64 and keep the ``k`` best by ``(distance, index)``.

    Parameters
    ----------
    X0 : numpy.ndarray, shape (n, d)
        The input rows (array or memmap).
    q_rows : numpy.ndarray of int, shape (b,)
        Query row numbers.
    cand : numpy.ndarray of int, shape (b, kk), kk >= k
        Candidate neighbors (the query itself must not be among them; ``-1`` marks a missing one).
    k : int
        Neighbors to keep.
    metric : str
        Distance.
    coarse : numpy.ndarray, optional
        Distances already known for the candidates (skips the float64 refinement).
    sq : numpy.ndarray, optional
        Float64 squared row norms of ``X0`` (enables the faster refinement of float32 inputs, see
        :func:`refined_distances`).

    Returns
    -------
    (indices, distances) : numpy.ndarray of shapes (b, k)
    """
    missing = cand < 0  # an index may return fewer candidates than asked
    if missing.any():
        cand = np.where(missing, 0, cand)
    dist = refined_distances(X0, q_rows, cand, metric, sq=sq) if coarse is None else coarse
    if missing.any():
        dist = np.where(missing, np.inf, dist)
        cand = np.where(missing, np.iinfo(np.int64).max, cand)
    order = _smallest_by_value_then_index(dist, cand, k)
    indices = np.take_along_axis(cand, order, axis=1).astype(np.int64)
    if missing.any() and (indices == np.iinfo(np.int64).max).any():
        raise ValueError(f"the index returned fewer than k={k} neighbors for some queries")
    return indices, np.take_along_axis(dist, order, axis=1)


def _smallest_by_value_then_index(vals: np.ndarray, idx: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` smallest ``(value, index)`` pairs of every row, in that order.

    A stable argsort (fast on nearly sorted rows); only rows with equal values among their first
    ``k + 1`` are redone with a lexsort, so that those ties go to the lower index.
    """
    order = np.argsort(vals, axis=1, kind="stable")
    head = np.take_along_axis(vals, order[:, : k + 1], axis=1)
    tied = np.flatnonzero((head[:, 1:] == head[:, :-1]).any(axis=1))
    if tied.size:
        order[tied] = np.lexsort((idx[tied], vals[tied]), axis=1)
    return order[:, :k]


def candidate_width(k: int, n: int, refine: bool = True) -> int:
    """Candidates kept for the float64 refinement: ``k + max(8, k // 8)`` (at most ``n - 1``;
    rows whose refinement window needs more are searched again, see
    :meth:`ExactSearcher.search_block`)."""
    return min(n - 1, k + max(8, k // 8)) if refine else k


def self_mask(labels: np.ndarray, q_rows: np.ndarray) -> np.ndarray:
    """Boolean mask of shape (b, m) that keeps ``m - 1`` entries of every row of ``labels``: all
    but the query's own index (its first occurrence), or all but the last when it is absent."""
    labels = np.asarray(labels)
    b, m = labels.shape
    if m < 2:
        raise ValueError("dropping the query itself needs at least 2 candidates per query")
    is_self = labels == np.asarray(q_rows)[:, None]
    first = np.argmax(is_self, axis=1)
    first[~is_self.any(axis=1)] = m - 1
    keep = np.ones((b, m), dtype=bool)
    keep[np.arange(b), first] = False
    return keep


def drop_self(labels: np.ndarray, q_rows: np.ndarray) -> np.ndarray:
    """Remove each query's own index from its candidate list (or the last candidate when absent).

    ``labels`` has shape (b, m); the result has shape (b, m - 1). Missing results of an index
    (negative labels) and repeated self entries become ``-1``, which :func:`finish_candidates`
    ranks last.
    """
    labels = np.asarray(labels, dtype=np.int64)
    rows = np.asarray(q_rows)[:, None]
    out = labels[self_mask(labels, q_rows)].reshape(labels.shape[0], labels.shape[1] - 1)
    return np.where((out < 0) | (out == rows), -1, out)


@dataclass
class ExactSearcher:
    """Exact blocked search of ``K`` neighbors for any subset of the rows of ``X`` (reusable).

    Build it once, then call :meth:`search` on blocks of query rows (what :func:`knn`, the dask
    backend and the recall check of approximate backends do).

    Parameters
    ----------
    X0 : numpy.ndarray, shape (n, d)
        Validated input (array or memmap).
    k : int
        Neighbors per query.
    metric : str
        ``"cosine"``, ``"euclidean"`` or ``"inner"``.
    dtype : numpy dtype
        Working dtype of the products.
    refine : bool
        Float64 refinement of ``k + margin`` candidates.
    chunk_rows : int or None
        Database rows per matrix product. ``None``: the whole database in one product per query
        block (its ``kk`` smallest scores then come from one ``torch.topk``, with no threshold
        passes and no merges) when torch is loaded, the data is in memory, at least
        ``FULL_WIDTH_MIN_ROWS`` whole rows of scores fit in ``memory_budget`` and
        ``kk >= FULL_WIDTH_MIN_KK`` (for fewer candidates the chunked threshold passes are
        faster: 1.75 s against 1.96 s for k = 10 at n = 20,000, d = 512; 3.27 s against 2.58 s for
        k = 100); else ``DEFAULT_CHUNK_ROWS``.
    stream : bool or None
        Prepare database chunks on the fly instead of keeping a prepared copy (default: only for
        memmaps, which stay out of core).
    memory_budget : int
        Bytes of scratch memory per query block (used to choose ``chunk_rows``).
    exact_distances : bool
        Float64 distances for all neighbors (default); otherwise only where the float32 order is
        uncertain (the neighbors and their order are the same; see :meth:`search_block`).
    device : str or None
        A torch device (e.g. ``"cuda"``): the prepared database is copied there once and every
        query block's whole rows of scores and their ``topk`` are computed there; the certified
        window and the float64 refinement run on the CPU as for the other paths.
    """

    X0: np.ndarray
    k: int
    metric: str
    dtype: np.dtype = field(default_factory=lambda: np.dtype(np.float32))
    refine: bool = True
    chunk_rows: int | None = DEFAULT_CHUNK_ROWS
    stream: bool | None = None
    memory_budget: int = DEFAULT_MEMORY_BUDGET
    exact_distances: bool = True
    device: str | None = None
    kk: int = field(default=0, init=False)
    widened: int = field(default=0, init=False)
    _base: np.ndarray | None = field(default=None, init=False, repr=False)
    _sq: np.ndarray | None = field(default=None, init=False, repr=False)
    _scratch: threading.local = field(default_factory=threading.local, init=False, repr=False)
    _device_base: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        n = self.X0.shape[0]
        self.dtype = np.dtype(self.dtype)
        self.kk = candidate_width(self.k, n, self.refine)
        if self.stream is None:
            self.stream = is_out_of_core(self.X0)
        if float(n) * n * self.X0.shape[1] > TORCH_MIN_WORK:
            _torch(load=True)  # worth its import time: faster threaded products and topk
        if self.chunk_rows is None:
            whole_rows = self.memory_budget // (n * (self.dtype.itemsize + 1))
            full = (not self.stream and _torch() is not None and whole_rows >= FULL_WIDTH_MIN_ROWS
                    and self.kk >= FULL_WIDTH_MIN_KK)
            self.chunk_rows = n if full else DEFAULT_CHUNK_ROWS
        # the first chunk must hold kk candidates besides the query itself
        self.chunk_rows = int(min(n, max(self.chunk_rows, self.kk + 1)))
        self._sq = check_nonzero_rows(self.X0) if self.metric == "cosine" else _row_norms_sq(self.X0)
        if self.device is not None:
            self._device_base = _device_copy(self.X0, self.metric, self.dtype, self._sq, self.device)
            self.chunk_rows = n
        elif not self.stream:
            self._base = _prepare_base(np.asarray(self.X0), self.metric, self.dtype, self._sq)

    def _chunks(self, kk: int) -> Iterator[tuple[int, np.ndarray]]:
        """Prepared database chunks ``(start, rows)``. The first chunk is small (a partial sort
        gives the first thresholds of ``kk`` candidates, cheaply); the others only need a
        comparison."""
        n, c = self.X0.shape[0], self.chunk_rows
        first = n if c >= n else min(n, max(kk + 1, min(c, FIRST_CHUNK_ROWS)))
        bounds = [0, *range(first, n, c), n]
        for s, e in zip(bounds[:-1], bounds[1:], strict=True):
            if self._base is not None:
                yield s, self._base[s:e]
            else:
                yield s, _prepare_base(np.asarray(self.X0[s:e]), self.metric, self.dtype,
                                       self._sq[s:e])

    def _buffer(self, name: str, b: int, dtype: np.dtype) -> np.ndarray:
        """A ``(b, chunk_rows)`` scratch array, kept per thread and reused by the next query
        blocks (a fresh allocation of this size costs page faults on every block)."""
        buf = getattr(self._scratch, name, None)
        if buf is None or buf.shape[0] < b:
            buf = np.empty((b, self.chunk_rows), dtype=dtype)
            setattr(self._scratch, name, buf)
        return buf[:b]

    def candidates(self, q_rows: np.ndarray, kk: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``kk`` (default ``self.kk``) smallest selection scores of every query row and their
        indices, sorted by ``(score, index)``, the query itself excluded."""
        q_rows = np.asarray(q_rows, dtype=np.int64)
        b, kk = q_rows.size, self.kk if kk is None else kk
        if self._device_base is not None:
            return self._device_candidates(q_rows, kk)
        if self._base is not None and self.metric != "euclidean":
            Qp = -self._base[q_rows]
        else:
            Qp = _prepare_queries(np.asarray(self.X0[q_rows]), self.metric, self.dtype,
                                  self._sq[q_rows])
        buf = self._buffer("scores", b, self.dtype)
        best_v = best_i = None
        # Hits wait in `pending` and are merged once they rival the kept candidates in number: a
        # merge re-sorts all kk kept entries, so merging after every chunk would dominate for large
        # k. Comparing with a stale threshold stays exact (it is never below the current one).
        pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        n_pending = 0
        for c0, C in self._chunks(kk):
            w = C.shape[0]
            S = buf if w == self.chunk_rows else np.empty((b, w), dtype=self.dtype)
            _matmul_into(Qp, C, S)
            mine = np.flatnonzero((q_rows >= c0) & (q_rows < c0 + w))
            S[mine, q_rows[mine] - c0] = np.inf  # exclude the item itself by index
            if best_v is None:
                best_v, best_i = select_smallest_sorted(S, kk)
                best_i = best_i.astype(np.int64)
                continue
            m = self._buffer("mask", b, np.dtype(bool)) if w == self.chunk_rows else \
                np.empty((b, w), dtype=bool)
            r, j = _threshold_hits(S, best_v[:, -1:], m)
            if r.size > 4 * b * kk:  # many hits (adversarial order): select within the chunk first
                cv, ci = select_smallest_sorted(S, min(kk, w))
                r = np.repeat(np.arange(b), cv.shape[1])
                v, j = cv.ravel(), ci.ravel().astype(np.int64)
                keep = v < np.repeat(best_v[:, -1], cv.shape[1])
                r, v, j = r[keep], v[keep], j[keep]
            else:
                v = S[r, j]
            if r.size:
                pending.append((r, v, j + c0))
                n_pending += r.size
            if n_pending >= b * kk:
                _merge_pending(best_v, best_i, pending)
                pending, n_pending = [], 0
        assert best_v is not None and best_i is not None
        if pending:
            _merge_pending(best_v, best_i, pending)
        return best_v, best_i

    def _device_candidates(self, q_rows: np.ndarray, kk: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`candidates` with the products and ``topk`` on the torch device."""
        torch = _torch()
        base = self._device_base
        Qp = _prepare_queries(np.asarray(self.X0[q_rows]), self.metric, self.dtype, self._sq[q_rows])
        S = torch.from_numpy(Qp).to(base.device) @ base.T
        S[torch.arange(q_rows.size, device=base.device),
          torch.from_numpy(q_rows).to(base.device)] = float("inf")  # the item itself
        vals, idx = torch.topk(S, kk + 1, dim=1, largest=False, sorted=True)  # kk + 1 <= n
        return _exact_topk(vals.cpu().numpy(), idx.cpu().numpy(), kk,
                           lambda rows: S[torch.from_numpy(rows).to(base.device)].cpu().numpy())

    def search(self, q_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(indices, distances)`` of shape (b, k) for the query rows ``q_rows``."""
        indices, distances, widened = self.search_block(q_rows)
        self.widened += widened
        return indices, distances

    def search_block(self, q_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        r"""Like :meth:`search`, also returning the number of rows searched again with more
        candidates (thread-safe).

        A float32 product of length :math:`m` has error at most :math:`\gamma_m \sum_i |a_i b_i|`
        with :math:`\gamma_m = m u / (1 - m u)` and :math:`u` the unit roundoff (Higham, *Accuracy
        and Stability of Numerical Algorithms*, 2002, §3.1). With that bound ``e`` on every coarse
        score (:meth:`score_bound`):

        - any item of the exact top ``k`` has a coarse score at most ``s_(k) + 2e`` (``s_(k)``: the
          ``k``-th smallest coarse score), so only that *window* of the sorted candidates matters.
          A row whose window reaches the last of its ``kk`` candidates is searched again with
          twice as many (until the window ends inside them), so every row is exact;
        - two candidates whose coarse scores differ by more than ``2e`` are in the right order. So
          the window splits at every gap wider than ``2e`` of the sorted coarse scores into groups
          whose order is certain; only the members of groups of two or more can be out of order.

        With ``exact_distances`` every window candidate gets its float64 distance; without it only
        the members of those groups do (about half of them at d = 512), which gives the same
        neighbors in the same order, the other distances keeping the working dtype's rounding.
        """
        q_rows = np.asarray(q_rows, dtype=np.int64)
        qsq = self._sq[q_rows]
        if not self.refine:
            vals, cand = self.candidates(q_rows)
            coarse = _finish_coarse(vals.astype(np.float64), qsq, self.metric)
            ind, dist = finish_candidates(self.X0, q_rows, cand, self.k, self.metric, coarse=coarse)
            return ind, dist, 0
        gap = 2.0 * self.score_bound(q_rows)[:, None]
        v, cand, inside, widened = self._window(q_rows, gap)
        if self.exact_distances:
            ind, dist = finish_candidates(self.X0, q_rows, cand, self.k, self.metric, sq=self._sq)
            return ind, dist, widened
        with np.errstate(invalid="ignore"):  # inf - inf past a row's window
            link = np.diff(v, axis=1) <= gap  # neighbors in the coarse order that may be swapped
        need = np.zeros(v.shape, dtype=bool)
        need[:, 1:] = link
        need[:, :-1] |= link
        need &= inside
        dist = np.where(inside, _finish_coarse(v, qsq, self.metric), np.inf)
        refined = refined_distances(self.X0, q_rows, cand, self.metric, sq=self._sq, mask=need)
        dist[need] = refined[need]
        ind, dist = finish_candidates(self.X0, q_rows, cand, self.k, self.metric, coarse=dist)
        return ind, dist, widened

    def _window(self, q_rows: np.ndarray, gap: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Sorted coarse candidates ``(scores in float64, indices, inside the window)``, cut to the
        widest window of the block, and the number of rows searched again with more candidates.
        Missing entries of rows whose window is narrower have index ``-1`` and score ``inf``."""
        n, k = self.X0.shape[0], self.k
        vals, cand = self.candidates(q_rows)
        v = vals.astype(np.float64)
        inside = v <= v[:, k - 1 : k] + gap
        kk = v.shape[1]
        redo = np.flatnonzero(inside[:, -1]) if kk < n - 1 else np.empty(0, dtype=np.int64)
        widened = int(redo.size)
        while redo.size:
            kk = min(n - 1, 2 * kk)
            grow = ((0, 0), (0, kk - v.shape[1]))
            v = np.pad(v, grow, constant_values=np.inf)
            cand = np.pad(cand, grow, constant_values=-1)
            inside = np.pad(inside, grow, constant_values=False)
            vals, c2 = self.candidates(q_rows[redo], kk)
            v[redo], cand[redo] = vals, c2
            inside[redo] = v[redo] <= v[redo, k - 1 : k] + gap[redo]
            redo = redo[inside[redo, -1]] if kk < n - 1 else redo[:0]
        width = int(max(k, inside.sum(axis=1).max()))
        return v[:, :width], cand[:, :width], inside[:, :width], widened

    def score_bound(self, q_rows: np.ndarray) -> np.ndarray:
        """Bound ``e`` on the error of every coarse score of the query rows (see
        :meth:`search_block`), from the largest row norm of the data."""
        assert self._sq is not None
        m = self.X0.shape[1] + 1
        u = float(np.finfo(self.dtype).eps) / 2
        c = (m * u / (1 - m * u) + 3 * u) * 1.01
        xmax = float(np.sqrt(self._sq.max()))
        qn = np.sqrt(self._sq[q_rows])
        if self.metric == "euclidean":
            return c * (2.0 * qn * xmax + xmax * xmax)
        if self.metric == "cosine":
            return np.full(q_rows.size, c * 1.01)
        return c * qn * xmax

    def query_block_rows(self, memory_budget: int) -> int:
        """Query rows per block under ``memory_budget`` bytes of scratch memory."""
        return query_block_rows(self.X0.shape[0], self.X0.shape[1], self.kk, self.chunk_rows,
                                self.dtype.itemsize, bool(self.stream), memory_budget)


def query_block_rows(n: int, d: int, kk: int, chunk_rows: int, itemsize: int, stream: bool,
                     memory_budget: int) -> int:
    """Query rows per block of the exact search under ``memory_budget`` bytes of scratch memory.

    Per query row: a chunk of scores (working dtype) and its mask (1 byte per entry), the prepared
    query, the candidates, and for streamed inputs the gathered candidate rows (``kk x d``). The
    in-memory refinement works a few rows at a time and needs no per-row budget.
    """
    chunk = min(n, max(chunk_rows, kk + 1))
    per_row = chunk * (itemsize + 1) + (d + 1) * itemsize + kk * 24 + (kk * d * 8 if stream else 0)
    rows = max(1, memory_budget // per_row)
    cap = 8 * MAX_QUERY_BLOCK if stream else MAX_QUERY_BLOCK
    return int(min(n, rows, cap))


def _finish_coarse(scores: np.ndarray, qsq: np.ndarray, metric: str) -> np.ndarray:
    """Turn coarse selection scores into distances, given the queries' squared norms ``qsq``."""
    if metric == "euclidean":
        return np.sqrt(np.maximum(scores + qsq[:, None], 0.0))
    if metric == "cosine":
        return 1.0 + scores
    return scores


def query_blocks(n: int, block_size: int) -> Iterator[tuple[int, int]]:
    """Yield ``(start, stop)`` blocks of ``block_size`` query rows."""
    for s in range(0, n, block_size):
        yield s, min(n, s + block_size)


def validate_input(X: Any, k: Any, dtype: Any = np.float32) -> tuple[np.ndarray, int, np.dtype]:
    """Shared argument checks of every backend: ``(X0, k, dtype)``.

    ``X`` may be an array, memmap, torch tensor, nested list, or a path to a ``.npy`` or parquet
    file (opened out of core by :func:`pairspace.outofcore.open_matrix`).
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64; got {dtype}")
    if isinstance(X, str | os.PathLike):
        from .outofcore import open_matrix

        X = open_matrix(X)
    X0 = as_matrix(X, "X", dtype=None)
    n = X0.shape[0]
    if n < 2:
        raise ValueError(f"kNN search needs at least 2 rows; got {n}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= n - 1:
        raise ValueError(f"k={k!r} is out of range: it must be an int in [1, n-1] = [1, {n - 1}]")
    return X0, int(k), dtype


def knn(
    X: Any,
    k: int,
    metric: str = "cosine",
    *,
    dtype: Any = np.float32,
    refine: bool = True,
    exact_distances: bool = True,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    block_size: int | None = None,
    backend: str = "exact",
    progress: bool | None = None,
    **backend_options: Any,
) -> KNNResult:
    """The ``k`` nearest neighbors of every row of ``X`` among the other rows.

    Parameters
    ----------
    X : array-like or path, shape (n, d)
        Point cloud: numpy array, memmap (streamed, never loaded whole), torch tensor, nested list,
        or the path of a ``.npy`` file or a parquet file with a ``vector`` column (read in batches;
        see :func:`pairspace.outofcore.open_matrix`). NaN/inf are rejected.
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
    exact_distances : bool
        With ``refine``: float64 distances for all ``k`` neighbors (default). ``False`` refines
        only the candidates whose order the working dtype leaves uncertain: the same neighbors in
        the same order, about twice as fast to finish, the other distances keeping the working
        dtype's rounding (what the kNN measures use, as they read only the order). Only the
        exact backend uses it.
    memory_budget : int
        Bytes of scratch memory per block of query rows (default 256 MiB).
    block_size : int, optional
        Fixed number of query rows per block (overrides the budget).
    backend : str
        ``"exact"`` (default), ``"faiss"`` (exact flat index), ``"hnsw"`` (approximate, with
        measured recall), ``"dask"`` (exact, query blocks as tasks on a cluster), or another
        registered backend (see :func:`register_backend`).
    progress : bool or None
        Show a progress bar (``None``: only on an interactive terminal).
    **backend_options
        Options of the backend. The exact backend takes ``chunk_rows`` (database rows per
        product; default: the whole database when torch is installed and enough whole rows of
        scores fit in ``memory_budget``, see :class:`ExactSearcher`), ``stream`` (``True``: no
        prepared copy of the data, each block prepares its chunks again; the default for
        memmaps) and ``device`` (a torch device such as ``"cuda"``: the products and the
        selection run there, the float64 refinement on the CPU).

    Returns
    -------
    KNNResult
        ``indices`` and ``distances`` of shape (n, k), nearest first. An approximate backend sets
        ``recall`` and emits an :class:`ApproximateSearchWarning` naming it.

    Examples
    --------
    >>> import numpy as np, pairspace
    >>> res = pairspace.knn(np.arange(8.0)[:, None], 1, metric="euclidean")
    >>> res.indices.ravel().tolist()
    [1, 0, 1, 2, 3, 4, 5, 6]
    """
    check_metric(metric)
    if backend != "exact":
        fn = get_backend(backend)
        res = fn(X, k, metric=metric, dtype=dtype, refine=refine, memory_budget=memory_budget,
                 block_size=block_size, progress=progress, **backend_options)
        if res.recall is not None:
            warnings.warn(
                f"approximate kNN search (backend {backend!r}): recall@{res.k} = {res.recall:.4f}, "
                f"measured against exact search on {res.info.get('recall_sample', '?')} sampled "
                "queries; every measure built on this search inherits the approximation",
                ApproximateSearchWarning, stacklevel=2,
            )
        return res
    unknown = set(backend_options) - {"chunk_rows", "device", "stream"}
    if unknown:
        raise TypeError(f"unexpected options for the exact backend: {sorted(unknown)}")
    X0, k, dtype = validate_input(X, k, dtype)
    chunk_rows, device = backend_options.get("chunk_rows"), backend_options.get("device")
    searcher = ExactSearcher(X0, k, metric, dtype, refine,
                             None if chunk_rows is None else int(chunk_rows),
                             backend_options.get("stream"), memory_budget, exact_distances,
                             None if device is None else str(device))
    return search_all(searcher, "exact", memory_budget, block_size, progress)


def search_all(searcher: ExactSearcher, backend: str, memory_budget: int, block_size: int | None,
               progress: bool | None) -> KNNResult:
    """Run ``searcher`` over every query block and assemble the :class:`KNNResult`."""
    n = searcher.X0.shape[0]
    b = block_size if block_size is not None else searcher.query_block_rows(memory_budget)
    indices = np.empty((n, searcher.k), dtype=np.int64)
    distances = np.empty((n, searcher.k), dtype=np.float64)
    blocks = list(query_blocks(n, int(b)))
    for s, e in progress_bar(blocks, desc=f"kNN search ({searcher.metric})", progress=progress,
                             unit="block"):
        indices[s:e], distances[s:e] = searcher.search(np.arange(s, e))
    info = {"dtype": searcher.dtype.name, "refine": searcher.refine,
            "widened_rows": searcher.widened}
    if searcher.device is not None:
        info["device"] = searcher.device
    return KNNResult(indices, distances, searcher.metric, backend, None, info)


def _device_copy(X0: np.ndarray, metric: str, dtype: np.dtype, sq: np.ndarray, device: str) -> Any:
    """The prepared database as a torch tensor on ``device`` (copied in pieces of 65,536 rows)."""
    torch = _torch(load=True)
    if torch is None:
        raise ValueError("device=... needs PyTorch; install pairspace[torch]")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but CUDA is not available")
    pieces = [torch.from_numpy(_prepare_base(np.asarray(X0[s : s + 65536]), metric, dtype,
                                             sq[s : s + 65536])).to(dev)
              for s in range(0, X0.shape[0], 65536)]
    return torch.cat(pieces)


_BACKENDS: dict[str, Callable[..., KNNResult]] = {}
_LAZY_BACKENDS = {
    "faiss": ("pairspace.backends.faiss_flat", "knn_faiss"),
    "hnsw": ("pairspace.backends.hnsw", "knn_hnsw"),
    "dask": ("pairspace.backends.dask_backend", "knn_dask"),
}


def register_backend(name: str, fn: Callable[..., KNNResult]) -> None:
    """Register a kNN backend ``fn(X, k, metric=..., dtype=..., refine=..., memory_budget=...,
    block_size=..., progress=..., **options)``.

    A backend returns a :class:`KNNResult`; approximate backends must set ``recall``.
    """
    _BACKENDS[name] = fn


def get_backend(name: str) -> Callable[..., KNNResult]:
    """The registered backend ``name`` (the built-in ones are imported on first use)."""
    if name not in _BACKENDS and name in _LAZY_BACKENDS:
        module, attr = _LAZY_BACKENDS[name]
        register_backend(name, getattr(importlib.import_module(module), attr))
    if name not in _BACKENDS:
        names = sorted(set(_BACKENDS) | set(_LAZY_BACKENDS) | {"exact"})
        raise ValueError(f"unknown kNN backend {name!r}; available: {names}")
    return _BACKENDS[name]


def knn_pair(
    X: Any, Y: Any, k: int, metric: str = "cosine", metric_y: str | None = None, **options: Any
) -> tuple[KNNResult, KNNResult]:
    """One neighbor search per space of a paired embedding (the graphs every kNN measure uses).

    The measures read only the neighbors' order, so ``exact_distances`` defaults to ``False``
    here (see :func:`knn`); the other ``options`` go to :func:`knn` as they are.
    """
    options.setdefault("exact_distances", False)
    return knn(X, k, metric, **options), knn(Y, k, metric_y or metric, **options)
