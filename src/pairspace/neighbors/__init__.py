"""Exact k-nearest-neighbor search, blocked under a memory budget, near the machine's matmul speed.

One search of the ``K`` nearest neighbors serves every ``k <= K`` and every kNN measure.

Modules:

- :mod:`~pairspace.neighbors.api`: :func:`knn`, :func:`knn_pair`, :class:`KNNResult`, the
  backend registry (:data:`BACKENDS`, :func:`register_backend`);
- :mod:`~pairspace.neighbors.exact`: :class:`ExactSearcher`, the blocked exact search;
- :mod:`~pairspace.neighbors.selection`: the selection kernels (``kk`` smallest scores per row);
- :mod:`~pairspace.neighbors.refine`: the float64 refinement and the ``(distance, index)`` order;
- :mod:`~pairspace.neighbors.device`: products and ``topk`` on a torch device;
- :mod:`~pairspace.neighbors.outofcore`: ``.npy`` memory maps and parquet read in batches;
- :mod:`~pairspace.neighbors.backends`: faiss, hnsw and dask behind the same :func:`knn` call.
"""

from .._validation import DEFAULT_MEMORY_BUDGET
from ._core import _row_norms_sq, _torch, check_nonzero_rows, duplicate_rows, is_out_of_core
from .api import (
    BACKENDS,
    TIE_WARNING_SHARE,
    ApproximateSearchWarning,
    KNNResult,
    TiedNeighborsWarning,
    get_backend,
    knn,
    knn_exact,
    knn_pair,
    register_backend,
    search_all,
    validate_input,
)
from .exact import DEFAULT_CHUNK_ROWS, ExactSearcher, query_block_rows, query_blocks
from .outofcore import open_matrix
from .refine import (
    candidate_width,
    drop_self,
    finish_candidates,
    refined_distances,
    self_mask,
)
from .selection import _smallest_by_value_then_index, select_smallest, select_smallest_sorted

__all__ = [
    "BACKENDS",
    "DEFAULT_CHUNK_ROWS",
    "DEFAULT_MEMORY_BUDGET",
    "TIE_WARNING_SHARE",
    "ApproximateSearchWarning",
    "TiedNeighborsWarning",
    "ExactSearcher",
    "KNNResult",
    "_row_norms_sq",
    "_smallest_by_value_then_index",
    "_torch",
    "candidate_width",
    "check_nonzero_rows",
    "drop_self",
    "duplicate_rows",
    "finish_candidates",
    "get_backend",
    "is_out_of_core",
    "knn",
    "knn_exact",
    "knn_pair",
    "open_matrix",
    "query_block_rows",
    "query_blocks",
    "refined_distances",
    "register_backend",
    "search_all",
    "select_smallest",
    "select_smallest_sorted",
    "self_mask",
    "validate_input",
]
