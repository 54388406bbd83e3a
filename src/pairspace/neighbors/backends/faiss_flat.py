"""``backend="faiss"``: exact search with a faiss flat index (faiss-cpu).

The index holds the rows in float32 (unit-normalized for cosine); each block of queries asks it for
``k + margin + 1`` entries, the query itself is dropped, and the candidates are refined in float64
and sorted by ``(distance, index)`` exactly as in :func:`pairspace.knn`, so on data without ties the
result equals exact search. Johnson, Douze & Jégou, "Billion-scale similarity search with GPUs",
IEEE Trans. Big Data 2019.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._deps import require
from ..._validation import resolve_memory_budget, rows_per_block
from .._core import _row_norms_sq, check_nonzero_rows, require_float32_range
from ..api import BACKENDS, KNNResult, validate_input
from ..refine import candidate_width
from ._common import index_search, prepared_rows

ADD_BATCH_ROWS = 65536


@BACKENDS.register("faiss", description="exact search with a faiss flat index")
def knn_faiss(X: Any, k: int, *, metric: str = "cosine", dtype: Any = np.float32,
              refine: bool = True, memory_budget: int | None = None,
              block_size: int | None = None, progress: bool | None = None,
              n_threads: int | None = None) -> KNNResult:
    """Exact kNN through ``faiss.IndexFlatL2`` / ``faiss.IndexFlatIP``.

    Parameters
    ----------
    X, k, metric, refine, memory_budget, block_size, progress
        As in :func:`pairspace.knn`. faiss works in float32 whatever ``dtype`` says; the float64
        refinement gives the returned distances.
    dtype : numpy dtype
        Accepted for a uniform call; faiss always computes in float32.
    n_threads : int, optional
        OpenMP threads of faiss (default: faiss's own default, all cores).

    Returns
    -------
    KNNResult
        ``backend="faiss"``, ``recall=None`` (the search is exact).
    """
    faiss = require("faiss", "scale")
    X0, k, _ = validate_input(X, k, dtype)
    n, d = X0.shape
    if n_threads is not None:
        faiss.omp_set_num_threads(int(n_threads))
    sq = check_nonzero_rows(X0) if metric == "cosine" else _row_norms_sq(X0)
    require_float32_range(sq, "faiss")
    index = faiss.IndexFlatL2(d) if metric == "euclidean" else faiss.IndexFlatIP(d)
    for s in range(0, n, ADD_BATCH_ROWS):
        index.add(prepared_rows(X0, s, min(n, s + ADD_BATCH_ROWS), metric))

    def query(rows: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
        dist, labels = index.search(rows, m)
        if metric == "euclidean":
            return labels, np.sqrt(np.maximum(dist, 0.0))
        if metric == "cosine":
            return labels, 1.0 - dist
        return labels, -dist

    kk = candidate_width(k, n, refine)
    if block_size is None:  # faiss's scratch: a b x n float32 block of scores, plus the gathers
        block_size = rows_per_block(resolve_memory_budget(memory_budget),
                                    4 * n + 2 * (kk + 1) * d * 8, n_rows=n, cap=4096)
    indices, distances = index_search(query, X0, k, metric, refine, block_size, progress,
                                      f"kNN search (faiss, {metric})")
    return KNNResult(indices, distances, metric, "faiss", None,
                     {"dtype": "float32", "refine": refine})
