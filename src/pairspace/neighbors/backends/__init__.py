"""kNN backends reached through :func:`pairspace.knn` (``backend="faiss"``, ``"hnsw"``, ``"ivf"``,
``"dask"``).

Each module is imported on first use, so faiss, hnswlib and dask stay optional
(``pip install 'pairspace[scale]'``). Every backend returns the same :class:`pairspace.KNNResult`
as exact search: neighbors by ``(float64 distance, index)``, the item itself excluded. The
approximate ``"hnsw"`` and ``"ivf"`` backends also measure their recall against exact search
(``"ivf"`` is pairspace's own, with no extra dependency; it chooses its probes for a target recall).
"""

from __future__ import annotations

from ._common import index_search, prepared_rows, recall_at_k

__all__ = ["index_search", "prepared_rows", "recall_at_k"]
