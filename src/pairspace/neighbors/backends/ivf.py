r"""``backend="ivf"``: approximate search over k-means lists, scanned list by list with matrix
products, its probes chosen for a target recall.

The inverted file (IVF) of Jégou, Douze & Schmid, "Product quantization for nearest neighbor
search", IEEE TPAMI 2011 (faiss's ``IndexIVFFlat``; Johnson, Douze & Jégou, IEEE Trans. Big Data
2019), with the scan organized for a self-search of the whole space:

1. k-means (Lloyd, spherical for the cosine metric) on a sample gives ``nlist`` centroids
   :math:`c_l`; every item joins the list of its best centroid, and the rows are stored list by
   list.
2. Every query probes its ``nprobe`` best centroids (the same score as the search).
3. **List-major scan.** For each list :math:`l`, the queries that probe it are gathered into one
   block :math:`Q_l` and multiplied with the list's rows, :math:`Q_l X_l^\top`, and the products
   are fed to one heap per query (the C kernels of the exact search). Every (query, list) pair is
   computed once, as in faiss, but as a matrix product instead of one query at a time.
4. **Probes from a recall target.** For a tuning query :math:`q` with exact neighbors
   :math:`E_q`, a neighbor :math:`j` is found iff the rank of its list among the centroids of
   :math:`q` is below ``nprobe``, so the recall of every ``nprobe`` is read off at once,

   .. math:: \widehat{\mathrm{recall}}(p) = \frac{1}{m k} \sum_{q} \sum_{j \in E_q}
             [\operatorname{rank}_q(\mathrm{list}(j)) < p],

   and ``nprobe`` is the smallest :math:`p` with :math:`\widehat{\mathrm{recall}}(p)` at or above
   ``target_recall``.
5. The returned ``recall`` is measured against exact search on a second sample, disjoint from the
   tuning one. The candidates are refined in float64 as in every backend; a query whose probed
   lists hold fewer than ``k`` other items is searched exactly.
"""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ..._progress import progress_bar
from ..._validation import resolve_memory_budget
from .. import kernels
from .._core import _row_norms_sq, check_nonzero_rows, is_out_of_core, require_float32_range
from ..api import BACKENDS, KNNResult, validate_input
from ..exact import ExactSearcher, query_blocks
from ..refine import candidate_width
from ..selection import _smallest_by_value_then_index, select_smallest_sorted
from ._common import finish_labels, prepared_rows, recall_at_k

CHUNK_ROWS = 16384  # queries scanned together (their heaps, probes and gathers stay small)
ROWS_PER_LIST = 32  # k-means sample: this many rows per centroid at most
CONFIDENCE_Z = 1.645  # nprobe meets the target recall with about 95 % one-sided confidence


def default_nlist(n: int) -> int:
    """``round(1.6 sqrt(n))`` lists, at most ``n``.

    Fewer than faiss's rule of thumb (4 to 16 sqrt(n)): here every query's probes and the k-means
    are a real share of the time. On GloVe 400k (cosine, k = 10, target recall 0.95; measured
    recall 0.953-0.960 on 2,000 words), whole calls with 700 / 1,000 / 1,600 / 2,530 lists took
    18.1 / 15.2-16.4 / 17.0-17.8 / 19.2 s (``benchmarks/bench_glove.py``, 2-core AMD EPYC).
    """
    return int(max(1, min(n, round(1.6 * np.sqrt(n)))))


def scores(Q: np.ndarray, W: np.ndarray, q_norms: np.ndarray | None,
           w_norms: np.ndarray | None) -> np.ndarray:
    """Selection scores of float32 rows (smaller is better), the operations of the C kernels:
    ``-q·w``, or ``fl(fl(|q|² + |w|²) - 2 q·w)`` with float32 squared norms."""
    P = Q @ W.T
    if q_norms is None:
        return np.negative(P, out=P)
    return (q_norms[:, None] + w_norms[None, :]) - (P + P)


def best_lists(Q: np.ndarray, C: np.ndarray, m: int, q_norms: np.ndarray | None,
               c_norms: np.ndarray | None, ordered: bool = True) -> np.ndarray:
    """The ``m`` best centroids of every query (int64), best first and ties to the lower list;
    ``ordered=False``: only the best first, the others in no order."""
    best = kernels.smallest_scores(Q, C, m, q_norms, c_norms, ordered=ordered)
    if best is not None:
        return best[1]
    out = np.empty((Q.shape[0], min(m, C.shape[0])), dtype=np.int64)
    for s, e in query_blocks(Q.shape[0], 4096):
        out[s:e] = select_smallest_sorted(
            scores(Q[s:e], C, None if q_norms is None else q_norms[s:e], c_norms), out.shape[1])[1]
    return out


def train_centroids(P: np.ndarray, nlist: int, metric: str, n_iter: int,
                    rng: np.random.Generator) -> np.ndarray:
    r"""Lloyd's k-means on at most ``ROWS_PER_LIST * nlist`` sampled rows of ``P`` (float32).

    Each iteration assigns every sample row to its best centroid and moves each centroid to the
    mean of its rows, :math:`c_l = \frac{1}{|S_l|} \sum_{x \in S_l} x`, normalized for the cosine
    metric (spherical k-means); an empty list takes a random sample row.
    """
    n, d = P.shape
    m = min(n, ROWS_PER_LIST * nlist)
    S = P[np.sort(rng.choice(n, size=m, replace=False))] if m < n else P
    s_norms = _row_norms_sq(S).astype(np.float32) if metric == "euclidean" else None
    C = S[rng.choice(S.shape[0], size=nlist, replace=False)].astype(np.float32)
    for _ in range(n_iter):
        c_norms = _row_norms_sq(C).astype(np.float32) if metric == "euclidean" else None
        a = best_lists(S, C, 1, s_norms, c_norms)[:, 0]
        order = np.argsort(a, kind="stable")
        counts = np.bincount(a, minlength=nlist)
        full = np.flatnonzero(counts)
        sums = np.add.reduceat(S[order].astype(np.float64), np.cumsum(counts)[full] - counts[full])
        C[full] = sums / counts[full, None]
        empty = np.flatnonzero(counts == 0)
        C[empty] = S[rng.choice(S.shape[0], size=empty.size, replace=False)]
        if metric == "cosine":
            C /= np.sqrt(_row_norms_sq(C)).astype(np.float32)[:, None]
    return C


def probes_for_recall(Pq: np.ndarray, lists: np.ndarray, C: np.ndarray,
                      q_norms: np.ndarray | None, c_norms: np.ndarray | None,
                      target: float, z: float = CONFIDENCE_Z) -> tuple[int, np.ndarray]:
    r"""The smallest ``nprobe`` whose estimated recall reaches ``target`` with one-sided
    confidence, and the estimated recall of every ``nprobe = 1..nlist`` (index ``p - 1``).

    ``lists[q]`` holds the lists of the exact neighbors of query ``q`` (rows ``Pq``).
    ``rank_q(l)`` counts the centroids with a smaller ``(score, list)`` than list ``l`` for query
    ``q`` (its position in a stable sort of the query's scores: an ``m x nlist`` array, whatever
    ``k``); a neighbor in list ``l`` is scanned iff ``rank_q(l) < nprobe``. With the recall
    :math:`r_q(p)` of each of the :math:`m` tuning queries, ``nprobe`` is the smallest :math:`p`
    with :math:`\bar r(p) - z\, s(p) / \sqrt{m} \ge` ``target`` (:math:`s`: the standard
    deviation of :math:`r_q(p)` over the queries; ``z = 1.645``: the target is met on the whole
    space with about 95 % confidence).
    """
    m, k = lists.shape
    nlist = C.shape[0]
    by_score = np.argsort(scores(Pq, C, q_norms, c_norms), axis=1, kind="stable")
    rank_of = np.empty_like(by_score)  # the inverse permutation: the rank of every list
    np.put_along_axis(rank_of, by_score, np.broadcast_to(np.arange(nlist), by_score.shape), axis=1)
    ranks = np.take_along_axis(rank_of, lists, axis=1)
    per_query = np.zeros((m, nlist))
    np.add.at(per_query, (np.repeat(np.arange(m), k), ranks.ravel()), 1.0 / k)
    per_query = per_query.cumsum(axis=1)  # r_q(p) at index p - 1
    found = per_query.mean(axis=0)
    lower = found - z * per_query.std(axis=0) / np.sqrt(m)
    hit = np.flatnonzero(lower >= target - 1e-12)
    return (int(hit[0]) + 1 if hit.size else nlist), found


def all_probes(P: np.ndarray, C: np.ndarray, nprobe: int, norms: np.ndarray | None,
               c_norms: np.ndarray | None, block_rows: int = 65536) -> np.ndarray:
    """The ``nprobe`` best lists of every row of ``P``, the best first (its list) and the others in
    no order, in the smallest unsigned integer type that holds a list id (``uint16`` up to 65,536
    lists)."""
    dt = np.uint16 if C.shape[0] <= 2**16 else np.uint32
    out = np.empty((P.shape[0], nprobe), dtype=dt)
    for s, e in query_blocks(P.shape[0], block_rows):
        out[s:e] = best_lists(P[s:e], C, nprobe, None if norms is None else norms[s:e], c_norms,
                              ordered=False)
    return out


def _feed_numpy(S: np.ndarray, rows: np.ndarray, col0: int, vals: np.ndarray,
                idx: np.ndarray) -> None:
    """Numpy twin of ``ps_feed_rows``: merge the scores ``S`` of columns ``col0..`` into the
    running ``(vals, idx)`` of the queries ``rows``, keeping the smallest ``(score, index)``."""
    cat_v = np.concatenate([vals[rows], S], axis=1)
    cat_i = np.concatenate([idx[rows], np.broadcast_to(col0 + np.arange(S.shape[1]), S.shape)],
                           axis=1)
    keep = _smallest_by_value_then_index(cat_v, cat_i, vals.shape[1])
    vals[rows] = np.take_along_axis(cat_v, keep, axis=1)
    idx[rows] = np.take_along_axis(cat_i, keep, axis=1)


def scan_lists(Xp: np.ndarray, norms: np.ndarray | None, bounds: np.ndarray,
               probes: np.ndarray, width: int, s: int, e: int) -> tuple[np.ndarray, np.ndarray]:
    """Candidates of the stored rows ``s:e`` (queries in list order; ``probes``: their lists): the
    ``width`` best ``(score, stored index)`` of each over the lists it probes.

    The ``(query, list)`` pairs are grouped by list (a stable radix sort of the probed list ids),
    so each list is scanned once, by one product with all of its queries.
    """
    Q = Xp[s:e]
    qn = None if norms is None else norms[s:e]
    nlist = bounds.size - 1
    flat = probes.ravel()
    by_list = np.argsort(flat, kind="stable") // probes.shape[1]
    starts = np.concatenate([[0], np.cumsum(np.bincount(flat, minlength=nlist))])
    lib = kernels.library()
    b = e - s
    if lib is not None:
        heaps = np.full((b, width), kernels.EMPTY_KEY, dtype=np.uint64)
    else:
        vals = np.full((b, width), np.inf, dtype=np.float32)
        idx = np.full((b, width), np.iinfo(np.int64).max, dtype=np.int64)
    buf = np.empty((b, Xp.shape[1]), dtype=np.float32)
    for lst in np.flatnonzero(np.diff(starts)):
        rows = by_list[starts[lst]: starts[lst + 1]]
        lo, hi = int(bounds[lst]), int(bounds[lst + 1])
        G = np.take(Q, rows, axis=0, out=buf[: rows.size])
        gn = None if qn is None else qn[rows]  # kept referenced while the kernel reads it
        cn = None if norms is None else norms[lo:hi]
        if lib is None:
            _feed_numpy(scores(G, Xp[lo:hi], gn, cn), rows, lo, vals, idx)
            continue
        P = G @ Xp[lo:hi].T
        lib.ps_feed_rows(kernels.ptr(P), rows.size, hi - lo, hi - lo, kernels.ptr(rows), lo, width,
                         kernels.ptr(heaps), kernels.ptr(gn), kernels.ptr(cn))
    if lib is not None:
        vals = np.empty((b, width), dtype=np.float32)
        idx = np.empty((b, width), dtype=np.int64)
        lib.ps_finish(b, width, kernels.ptr(heaps), kernels.ptr(vals), kernels.ptr(idx))
    idx[~np.isfinite(vals)] = -1
    return vals, idx


def _coarse_distances(vals: np.ndarray, metric: str) -> np.ndarray:
    """Distances from float32 selection scores (smaller is better)."""
    v = vals.astype(np.float64)
    if metric == "euclidean":
        return np.sqrt(np.maximum(v, 0.0))
    return 1.0 + v if metric == "cosine" else v


def scan_all(Xp: np.ndarray, norms: np.ndarray | None, bounds: np.ndarray, probes: np.ndarray,
             order: np.ndarray, width: int, n_threads: int | None, progress: bool | None,
             desc: str) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`scan_lists` of every chunk of :data:`CHUNK_ROWS` stored rows, one worker per core
    (each with a one-thread BLAS; chunks share no heap). Returns the candidates in input order,
    ``(labels, scores)`` of shape (n, width) (``-1``: none), and the number of scores computed."""
    n = Xp.shape[0]
    labels = np.empty((n, width), dtype=np.int64)
    coarse = np.empty((n, width), dtype=np.float32)
    chunks = list(query_blocks(n, CHUNK_ROWS))
    sizes = np.diff(bounds)

    def work(chunk: tuple[int, int]) -> int:
        s, e = chunk
        rows = order[s:e]
        pr = probes[rows]
        vals, idx = scan_lists(Xp, norms, bounds, pr, width, s, e)
        labels[rows] = np.where(idx >= 0, order[np.maximum(idx, 0)], -1)
        coarse[rows] = vals
        return int(sizes[pr].sum())

    workers = max(1, min(int(n_threads or os.cpu_count() or 1), len(chunks), 8))
    limits = kernels.blas_one_thread() if workers > 1 else None
    with ThreadPoolExecutor(workers, thread_name_prefix="pairspace-ivf") as pool, \
            (limits if limits is not None else contextlib.nullcontext()):
        scored = sum(progress_bar(pool.map(work, chunks), desc=desc, progress=progress,
                                  total=len(chunks), unit="chunk"))
    return labels, coarse, scored


def _finish(X0: np.ndarray, labels: np.ndarray, coarse: np.ndarray, k: int, metric: str,
            refine: bool, sq: np.ndarray, exact: ExactSearcher, block_rows: int
            ) -> tuple[np.ndarray, np.ndarray, int]:
    """The ``k`` neighbors of every row from its candidates (refined in float64, or ordered by
    the float32 scores), and the number of rows searched exactly instead, because their probed
    lists held fewer than ``k`` other items."""
    n = X0.shape[0]
    if not (X0.flags.c_contiguous or is_out_of_core(X0)):
        X0 = np.ascontiguousarray(X0)  # the C refinement reads in-place rows (else it gathers)
    found = (labels >= 0).sum(axis=1) - (labels == np.arange(n)[:, None]).any(axis=1)
    short = found < k
    indices = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k), dtype=np.float64)
    for s, e in query_blocks(n, block_rows):
        rows = np.arange(s, e)[~short[s:e]]
        dist = None if refine else _coarse_distances(coarse[rows], metric)
        indices[rows], distances[rows] = finish_labels(X0, rows, labels[rows], dist, k, metric,
                                                       refine, sq=sq)
    redo = np.flatnonzero(short)
    for s, e in query_blocks(redo.size, 1024):
        indices[redo[s:e]], distances[redo[s:e]] = exact.search(redo[s:e])
    return indices, distances, int(redo.size)


@BACKENDS.register("ivf", description="approximate search over k-means lists (measured recall)")
def knn_ivf(X: Any, k: int, *, metric: str = "cosine", dtype: Any = np.float32,
            refine: bool = True, memory_budget: int | None = None,
            block_size: int | None = None, progress: bool | None = None,
            nlist: int | None = None, nprobe: int | None = None, target_recall: float = 0.95,
            n_iter: int = 6, tune_sample: int = 1000, recall_sample: int = 1000,
            n_threads: int | None = None, seed: int = 0) -> KNNResult:
    """Approximate kNN over k-means lists, ``nprobe`` chosen for ``target_recall``, with recall
    measured against exact search.

    Parameters
    ----------
    X, k, metric, refine, memory_budget, block_size, progress
        As in :func:`pairspace.knn` (``block_size``: query rows per refinement block).
    dtype : numpy dtype
        Working dtype of the exact search that tunes and measures the recall; the lists are
        scanned in float32.
    nlist : int, optional
        Number of k-means lists (default :func:`default_nlist`, ``round(1.6 sqrt(n))``).
    nprobe : int, optional
        Lists scanned per query; default: the smallest with estimated recall at or above
        ``target_recall`` on ``tune_sample`` queries (see the module docstring).
    target_recall : float
        Recall@k that ``nprobe`` is chosen for.
    n_iter : int
        k-means iterations.
    tune_sample, recall_sample : int
        Queries whose exact neighbors choose ``nprobe`` and, disjoint from them, measure the
        returned recall (both are all rows when ``n`` is smaller than their sum).
    n_threads : int, optional
        Workers of the scan, each with a one-thread BLAS (default: all cores).
    seed : int
        Seed of the k-means sample and start, and of the two query samples.

    Returns
    -------
    KNNResult
        ``backend="ivf"``, ``recall`` in [0, 1]; ``info`` holds ``nlist``, ``nprobe``,
        ``estimated_recall`` (on the tuning sample), ``scanned`` (mean share of the rows scored
        per query), ``exact_rows`` (queries searched exactly because their probed lists held fewer
        than ``k`` other items) and the sample sizes.
    """
    X0, k, dtype = validate_input(X, k, dtype)
    n, d = X0.shape
    sq = check_nonzero_rows(X0) if metric == "cosine" else _row_norms_sq(X0)
    require_float32_range(sq, "ivf")
    if not 0.0 < target_recall <= 1.0:
        raise ValueError(f"target_recall must be in (0, 1]; got {target_recall}")
    nlist = default_nlist(n) if nlist is None else int(nlist)
    if not 1 <= nlist <= n:
        raise ValueError(f"nlist must be in [1, n = {n}]; got {nlist}")
    rng = np.random.default_rng(seed)
    P = prepared_rows(X0, 0, n, metric)
    C = train_centroids(P, nlist, metric, n_iter, rng)
    c_norms = _row_norms_sq(C).astype(np.float32) if metric == "euclidean" else None
    p_norms = sq.astype(np.float32) if metric == "euclidean" else None

    m1, m2 = int(tune_sample), int(recall_sample)
    both = np.arange(n) if m1 + m2 >= n else rng.choice(n, size=m1 + m2, replace=False)
    tune = both if m1 + m2 >= n else both[:m1]
    meas = both if m1 + m2 >= n else both[m1:]
    exact = ExactSearcher(X0, k, metric, dtype, symmetric=False,
                          memory_budget=resolve_memory_budget(memory_budget), few_queries=True)
    truth = np.concatenate([exact.search(both[s:e])[0] for s, e in query_blocks(both.size, 1024)])
    estimated = None
    if nprobe is None:
        t = truth[: tune.size]
        near, inv = np.unique(t, return_inverse=True)
        lists = best_lists(P[near], C, 1, None if p_norms is None else p_norms[near], c_norms)
        nprobe, found = probes_for_recall(
            P[tune], lists[:, 0][inv].reshape(t.shape), C,
            None if p_norms is None else p_norms[tune], c_norms, target_recall)
        estimated = float(found[nprobe - 1])
    nprobe = int(min(max(1, nprobe), nlist))
    probes = all_probes(P, C, nprobe, p_norms, c_norms)
    order = np.argsort(probes[:, 0], kind="stable")  # the rows stored list by list
    bounds = np.concatenate([[0], np.cumsum(np.bincount(probes[:, 0], minlength=nlist))])
    Xp = P[order]
    del P
    labels, coarse, scored = scan_all(
        Xp, None if p_norms is None else p_norms[order], bounds, probes, order,
        candidate_width(k, n, refine) + 1,  # the query itself is among its own candidates
        n_threads, progress, f"kNN search (ivf, {metric})")
    del Xp, probes
    indices, distances, short = _finish(X0, labels, coarse, k, metric, refine, sq, exact,
                                        block_size or 8192)
    recall = recall_at_k(indices[meas], truth[both.size - meas.size:])
    return KNNResult(indices, distances, metric, "ivf", recall,
                     {"dtype": "float32", "refine": refine, "nlist": nlist, "nprobe": nprobe,
                      "target_recall": target_recall, "estimated_recall": estimated,
                      "scanned": scored / (n * n), "tune_sample": int(tune.size),
                      "recall_sample": int(meas.size), "n_iter": n_iter,
                      "exact_rows": short})
