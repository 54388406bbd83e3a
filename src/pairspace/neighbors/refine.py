"""Float64 refinement of candidate neighbors, and the ``(distance, index)`` order of the result.

The coarse scores of the working dtype choose candidates; their distances are recomputed here in
float64 directly from the input rows, so the result does not depend on the BLAS blocking and exact
ties (duplicated rows, equidistant points) go to the lower index, as in the published NNGS code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from . import kernels
from ._core import _pool, is_out_of_core
from .selection import _smallest_by_value_then_index


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
    blocks are split over the CPU cores (numpy releases the GIL in these loops). With the C kernels
    (:mod:`pairspace.neighbors.kernels`) the float32 form reads the candidate rows in place, with no
    gathered copy. With a boolean ``mask`` of the shape of ``cand``, only the masked entries are
    computed (the others are NaN).
    """
    b, kk = cand.shape
    lib = kernels.library()
    if lib is not None and sq is not None and X0.dtype == np.float32:
        return _refined_c(lib, X0, q_rows, cand, metric, sq, mask)
    if mask is not None:
        return _refined_masked(X0, q_rows, cand, metric, mask, rows_per_pass, sq)
    job = _RefineJob.build(X0, q_rows, cand, metric, sq)
    out = np.empty((b, kk), dtype=np.float64)

    def rows(lo: int, hi: int) -> None:
        for s in range(lo, hi, rows_per_pass):
            job.run(s, min(hi, s + rows_per_pass), out)

    workers = min(os.cpu_count() or 1, max(1, b * kk * X0.shape[1] // 2**20), 8)
    if workers == 1:
        rows(0, b)
    else:
        step = -(-b // workers)
        list(_pool().map(lambda lo: rows(lo, min(b, lo + step)), range(0, b, step)))
    return out


def gather_rows(X0: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """The rows ``X0[cand]`` as a (cand.size, d) array, read in one sorted pass (friendlier to
    memmaps than random reads)."""
    flat = cand.ravel()
    order = np.argsort(flat, kind="stable")
    G = np.empty((flat.size, X0.shape[1]), dtype=X0.dtype)
    G[order] = X0[flat[order]]
    return G


def _refined_c(lib: object, X0: np.ndarray, q_rows: np.ndarray, cand: np.ndarray, metric: str,
               sq: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """:func:`refined_distances` of float32 rows with the C dot kernel, one call per core. In-memory
    rows are read in place; a memmap's candidate rows are gathered once, in index order."""
    b, kk = cand.shape
    d = X0.shape[1]
    q = np.ascontiguousarray(q_rows, dtype=np.int64)
    c = np.ascontiguousarray(cand, dtype=np.int64)
    m = None if mask is None else np.ascontiguousarray(mask, dtype=np.uint8)
    if is_out_of_core(X0) or not X0.flags.c_contiguous:
        Q, qi = np.ascontiguousarray(X0[q], dtype=np.float32), np.arange(b, dtype=np.int64)
        C = gather_rows(X0, np.where(c < 0, 0, c))
        ci = np.where(c < 0, -1, np.arange(b * kk, dtype=np.int64).reshape(b, kk))
    else:
        Q, qi, C, ci = X0, q, X0, c
    dots = np.full((b, kk), np.nan)
    ptr = kernels.ptr

    def rows(lo: int, hi: int) -> None:
        lib.ps_dots_f32(ptr(Q), ptr(qi[lo:hi]), hi - lo, ptr(C), ptr(ci[lo:hi]), kk, d,
                        None if m is None else ptr(m[lo:hi]), ptr(dots[lo:hi]))

    workers = min(os.cpu_count() or 1, max(1, b * kk * d // 2**21), 8)
    step = -(-b // workers)
    if workers == 1:
        rows(0, b)
    else:
        list(_pool().map(lambda lo: rows(lo, min(b, lo + step)), range(0, b, step)))
    csq, qsq = sq[c], sq[q][:, None]
    if metric == "euclidean":
        return np.sqrt(np.maximum(csq + qsq - 2.0 * dots, 0.0))
    if metric == "cosine":
        return 1.0 - dots / np.sqrt(csq * qsq)
    return -dots


@dataclass
class _RefineJob:
    """The operands of one :func:`refined_distances` call (queries, gathered or indexed rows)."""

    metric: str
    cand: np.ndarray
    Q: np.ndarray
    expanded: bool
    G: np.ndarray | None  # candidate rows gathered once (memmaps), else None
    A: np.ndarray | None  # the in-memory rows, indexed a few query rows at a time
    qsq: np.ndarray | None = None
    csq: np.ndarray | None = None

    @classmethod
    def build(cls, X0: np.ndarray, q_rows: np.ndarray, cand: np.ndarray, metric: str,
              sq: np.ndarray | None) -> _RefineJob:
        expanded = sq is not None and X0.dtype == np.float32
        if expanded:
            Q = np.asarray(X0[q_rows])  # float32; the products are exact in float64
        else:
            Q = np.asarray(X0[q_rows], dtype=np.float64)  # (b, d)
            if metric == "cosine":
                Q /= np.linalg.norm(Q, axis=1, keepdims=True)
        G = A = None
        if is_out_of_core(X0):
            G = gather_rows(X0, cand).reshape(cand.shape[0], cand.shape[1], X0.shape[1])
        else:
            A = np.asarray(X0)
        job = cls(metric, cand, Q, expanded, G, A)
        if expanded:
            job.qsq, job.csq = sq[q_rows], sq[cand]
        return job

    def run(self, s: int, e: int, out: np.ndarray) -> None:
        """Distances of query rows ``s:e`` into ``out[s:e]``."""
        g = self.G[s:e] if self.G is not None else self.A[self.cand[s:e]]
        metric = self.metric
        if self.expanded:
            dot = np.einsum("bkd,bd->bk", g, self.Q[s:e], dtype=np.float64)
            if metric == "euclidean":
                out[s:e] = np.sqrt(np.maximum(self.csq[s:e] + self.qsq[s:e, None] - 2.0 * dot, 0.0))
            elif metric == "cosine":
                out[s:e] = 1.0 - dot / np.sqrt(self.csq[s:e] * self.qsq[s:e, None])
            else:  # inner
                out[s:e] = -dot
            return
        g = g.astype(np.float64)
        q = self.Q[s:e, None, :]
        if metric == "euclidean":
            g -= q
            out[s:e] = np.sqrt(np.einsum("bkd,bkd->bk", g, g))
        elif metric == "cosine":
            g /= np.linalg.norm(g, axis=2, keepdims=True)
            out[s:e] = 1.0 - np.einsum("bkd,bkd->bk", g, q)
        else:  # inner
            out[s:e] = -np.einsum("bkd,bkd->bk", g, q)


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


def finish_candidates(X0: np.ndarray, q_rows: np.ndarray, cand: np.ndarray, k: int, metric: str,
                      coarse: np.ndarray | None = None, sq: np.ndarray | None = None,
                      ties: bool = False) -> tuple[np.ndarray, ...]:
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
    ties : bool
        Also return the number of query rows whose ``k``-th distance is shared by a candidate left
        out (the tie at the boundary is broken by index alone). Exact only when ``cand`` holds every
        item at that distance, as the certified window of the exact search does.

    Returns
    -------
    (indices, distances) : numpy.ndarray of shapes (b, k)
        Followed by the number of tied rows when ``ties``.
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
    best = np.take_along_axis(dist, order, axis=1)
    if not ties:
        return indices, best
    return indices, best, int(np.count_nonzero((dist <= best[:, -1:]).sum(axis=1) > k))


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


def _finish_coarse(scores: np.ndarray, qsq: np.ndarray, metric: str) -> np.ndarray:
    """Turn coarse selection scores into distances, given the queries' squared norms ``qsq``."""
    if metric == "euclidean":
        return np.sqrt(np.maximum(scores + qsq[:, None], 0.0))
    if metric == "cosine":
        return 1.0 + scores
    return scores

