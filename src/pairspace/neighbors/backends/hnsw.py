"""``backend="hnsw"``: approximate search with an HNSW graph (hnswlib), with measured recall.

Malkov & Yashunin, "Efficient and robust approximate nearest neighbor search using Hierarchical
Navigable Small World graphs", IEEE TPAMI 2020.

The returned :class:`pairspace.KNNResult` always carries ``recall``: the fraction of the exact
``k`` nearest neighbors that the graph found, measured on ``recall_sample`` random queries by exact
search (:class:`pairspace.neighbors.ExactSearcher`),

.. math:: \\mathrm{recall@k} = \\frac{1}{m k} \\sum_{i \\in \\text{sample}} |A_i \\cap E_i|.

The found candidates are refined in float64, so the distances returned are exact for the
neighbors returned; only the neighbor sets are approximate.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..._deps import require
from ..._validation import resolve_memory_budget
from .._core import _row_norms_sq, check_nonzero_rows, require_float32_range
from ..api import BACKENDS, KNNResult, validate_input
from ..exact import ExactSearcher
from ..refine import candidate_width
from ._common import index_search, prepared_rows, recall_at_k

ADD_BATCH_ROWS = 65536
_SPACES = {"euclidean": "l2", "cosine": "ip", "inner": "ip"}


@BACKENDS.register("hnsw", description="approximate search with an HNSW graph (measured recall)")
def knn_hnsw(X: Any, k: int, *, metric: str = "cosine", dtype: Any = np.float32,
             refine: bool = True, memory_budget: int | None = None,
             block_size: int | None = None, progress: bool | None = None, M: int = 16,
             ef_construction: int = 200, ef: int | None = None, n_threads: int | None = None,
             recall_sample: int = 1000, seed: int = 0) -> KNNResult:
    """Approximate kNN through an hnswlib index, with recall measured against exact search.

    Parameters
    ----------
    X, k, metric, refine, memory_budget, block_size, progress
        As in :func:`pairspace.knn`.
    dtype : numpy dtype
        Working dtype of the exact search that measures the recall.
    M : int
        Graph degree (hnswlib ``M``).
    ef_construction : int
        Candidate list size while building.
    ef : int, optional
        Candidate list size while searching (default ``max(64, 2 (k + margin + 1))``); larger is
        slower and more accurate.
    n_threads : int, optional
        Threads for building and querying (default: all cores). Building with more than one thread
        is not deterministic; pass ``n_threads=1`` for a reproducible graph.
    recall_sample : int
        Queries whose exact neighbors are computed to measure the recall (all rows if fewer).
    seed : int
        Seed of the graph's level generator and of the recall sample.

    Returns
    -------
    KNNResult
        ``backend="hnsw"``, ``recall`` in [0, 1], ``info["recall_sample"]`` the sample size.
    """
    hnswlib = require("hnswlib", "scale")
    X0, k, dtype = validate_input(X, k, dtype)
    n, d = X0.shape
    sq = check_nonzero_rows(X0) if metric == "cosine" else _row_norms_sq(X0)
    require_float32_range(sq, "hnsw")
    kk = candidate_width(k, n, refine)
    threads = int(n_threads) if n_threads is not None else (os.cpu_count() or 1)
    index = hnswlib.Index(space=_SPACES[metric], dim=d)
    index.init_index(max_elements=n, ef_construction=ef_construction, M=M, random_seed=seed)
    for s in range(0, n, ADD_BATCH_ROWS):
        e = min(n, s + ADD_BATCH_ROWS)
        index.add_items(prepared_rows(X0, s, e, metric), np.arange(s, e), num_threads=threads)
    ef = int(ef) if ef is not None else max(64, 2 * (kk + 1))
    index.set_ef(max(ef, kk + 1))

    def query(rows: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
        labels, dist = index.knn_query(rows, k=m, num_threads=threads)
        dist = dist.astype(np.float64)
        if metric == "euclidean":  # hnswlib returns squared L2 and 1 - <x, y> for "ip"
            return labels, np.sqrt(np.maximum(dist, 0.0))
        if metric == "cosine":
            return labels, dist
        return labels, dist - 1.0

    if block_size is None:
        block_size = 8192
    indices, distances = index_search(query, X0, k, metric, refine, block_size, progress,
                                      f"kNN search (hnsw, {metric})")
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, size=min(int(recall_sample), n), replace=False))
    exact = ExactSearcher(X0, k, metric, dtype, symmetric=False,
                          memory_budget=resolve_memory_budget(memory_budget), few_queries=True)
    exact_idx = np.concatenate([exact.search(sample[s : s + 1024])[0]
                                for s in range(0, sample.size, 1024)])
    recall = recall_at_k(indices[sample], exact_idx)
    return KNNResult(indices, distances, metric, "hnsw", recall,
                     {"dtype": "float32", "refine": refine, "recall_sample": int(sample.size),
                      "M": M, "ef_construction": ef_construction, "ef": ef})
