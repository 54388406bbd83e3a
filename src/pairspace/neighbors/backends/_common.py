"""Shared steps of index-based backends: prepare rows, query in blocks, drop self, refine."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..._progress import progress_bar
from .._core import _row_norms_sq
from ..exact import query_blocks
from ..refine import candidate_width, drop_self, finish_candidates, self_mask


def prepared_rows(X0: np.ndarray, start: int, stop: int, metric: str) -> np.ndarray:
    """Rows ``start:stop`` as contiguous float32, unit-normalized for the cosine metric (so an
    inner-product index ranks by cosine)."""
    rows = np.ascontiguousarray(X0[start:stop], dtype=np.float32)
    if metric == "cosine":
        rows = rows / np.sqrt(_row_norms_sq(rows)).astype(np.float32)[:, None]
    return rows


def index_search(query: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]],
                 X0: np.ndarray, k: int, metric: str, refine: bool, block_rows: int,
                 progress: bool | None, desc: str) -> tuple[np.ndarray, np.ndarray]:
    """Query an index for every row in blocks and finish like exact search.

    Parameters
    ----------
    query : callable
        ``query(prepared_rows, m) -> (labels, distances)``: the ``m`` best index entries of each
        query row, with the index's own distances converted to pairspace's (smaller is closer).
    X0 : numpy.ndarray
        The input rows.
    k : int
        Neighbors per item.
    metric : str
        Distance.
    refine : bool
        Recompute ``k + margin`` candidates in float64 and sort by ``(distance, index)``;
        otherwise the index's distances decide (still sorted with ties to the lower index).
    block_rows : int
        Query rows per call.
    progress : bool or None
        Progress bar.
    desc : str
        Progress bar label.

    Returns
    -------
    (indices, distances) : numpy.ndarray of shape (n, k)
    """
    n = X0.shape[0]
    kk = candidate_width(k, n, refine)
    indices = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k), dtype=np.float64)
    for s, e in progress_bar(list(query_blocks(n, block_rows)), desc=desc, progress=progress,
                             unit="block"):
        labels, dist = query(prepared_rows(X0, s, e, metric), kk + 1)
        indices[s:e], distances[s:e] = finish_labels(X0, np.arange(s, e), labels,
                                                     None if refine else dist, k, metric, refine)
    return indices, distances


def finish_labels(X0: np.ndarray, rows: np.ndarray, labels: np.ndarray, dist: np.ndarray | None,
                  k: int, metric: str, refine: bool, sq: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` neighbors of the query ``rows`` from an index's ``kk + 1`` candidates per row
    (``labels``, with the query itself among them or not): the query is dropped, then the rest are
    refined in float64 (``refine``) or ordered by the index's distances ``dist``, ties to the lower
    index; ``sq``: the float64 squared row norms, for the faster refinement)."""
    labels = np.asarray(labels, dtype=np.int64)
    if refine:
        return finish_candidates(X0, rows, drop_self(labels, rows), k, metric, sq=sq)
    keep = self_mask(labels, rows)
    b, m = labels.shape
    cand = labels[keep].reshape(b, m - 1)
    d = np.asarray(dist, dtype=np.float64)[keep].reshape(b, m - 1)
    return finish_candidates(X0, rows, cand, k, metric, coarse=d)


def recall_at_k(approx: np.ndarray, exact: np.ndarray) -> float:
    r"""Recall of approximate neighbor lists: :math:`\frac{1}{m k} \sum_i |A_i \cap E_i|`."""
    approx = np.asarray(approx)
    exact = np.asarray(exact)
    if approx.shape != exact.shape:
        raise ValueError(f"recall needs lists of equal shape; got {approx.shape} and {exact.shape}")
    hits = (approx[:, :, None] == exact[:, None, :]).any(axis=2).sum()
    return float(hits) / approx.size
