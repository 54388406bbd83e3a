r"""Cross-modal retrieval metrics in both directions (text -> media and media -> text).

For a query :math:`q` the gallery is ranked by descending similarity (cosine by default), ties going to
the lower gallery index. With :math:`r_q` the 1-based rank of the first relevant gallery item and
:math:`R_q` the number of relevant items,

.. math::

    \mathrm{R@K} = \frac{1}{|Q|} \sum_q [r_q \le K], \qquad
    \mathrm{AP@K}(q) = \frac{1}{\min(R_q, K)} \sum_{j=1}^{K} P_q(j)\, \mathrm{rel}_q(j),

where :math:`P_q(j)` is the precision of the top :math:`j` and :math:`\mathrm{rel}_q(j)` is 1 when
the item at rank :math:`j` is relevant; mAP@K is the mean over queries. With one relevant item per
query (a caption and its clip, as in DCASE language-based audio retrieval) AP@10 is
:math:`1/r_q` when :math:`r_q \le 10` and 0 otherwise. The median rank is the median of :math:`r_q`.

The reverse direction ranks the queries for each gallery item with the transposed relevance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse

from .._validation import as_matrix, check_metric, resolve_memory_budget, rows_per_block, unit_rows


def relevance_matrix(relevance: Any, n_query: int, n_gallery: int) -> sparse.csr_matrix:
    """Relevance as a sparse boolean (n_query x n_gallery) matrix.

    ``relevance`` is one of: an integer array of length ``n_query`` giving the relevant gallery
    index of each query; a boolean or 0/1 matrix of exactly that shape (dense or scipy sparse); or
    a sequence of iterables of gallery indices per query.
    """
    if sparse.issparse(relevance):
        R = sparse.csr_matrix(relevance, dtype=bool)
    else:
        arr = None
        try:
            arr = np.asarray(relevance)
        except ValueError:
            arr = None
        if arr is not None and arr.ndim == 1 and arr.dtype.kind in "iu":
            if arr.shape[0] != n_query:
                raise ValueError(f"relevance lists {arr.shape[0]} gallery indices for {n_query} queries")
            if arr.size and (arr.min() < 0 or arr.max() >= n_gallery):
                raise ValueError(f"relevant gallery indices must lie in [0, {n_gallery - 1}]")
            R = sparse.csr_matrix((np.ones(n_query, dtype=bool), (np.arange(n_query), arr)),
                                  shape=(n_query, n_gallery))
        elif (arr is not None and arr.ndim == 2 and arr.shape == (n_query, n_gallery)
              and (arr.dtype.kind == "b" or np.isin(arr, (0, 1)).all())):
            R = sparse.csr_matrix(arr != 0)
        else:
            rows, cols = [], []
            if len(relevance) != n_query:
                raise ValueError(f"relevance has {len(relevance)} entries for {n_query} queries")
            for i, rel in enumerate(relevance):
                for j in rel:
                    if not 0 <= int(j) < n_gallery:
                        raise ValueError(f"query {i}: relevant index {j} outside [0, {n_gallery - 1}]")
                    rows.append(i)
                    cols.append(int(j))
            R = sparse.csr_matrix((np.ones(len(rows), dtype=bool), (rows, cols)),
                                  shape=(n_query, n_gallery))
    if R.shape != (n_query, n_gallery):
        raise ValueError(f"relevance has shape {R.shape}; expected ({n_query}, {n_gallery})")
    return R


def _check_nonempty(R: sparse.csr_matrix, what: str) -> None:
    empty = np.flatnonzero(np.diff(R.indptr) == 0)
    if empty.size:
        raise ValueError(f"{empty.size} {what} items have no relevant partner, e.g. {what} item "
                         f"{int(empty[0])}")


def relevant_ranks(S: np.ndarray, rel_idx: np.ndarray) -> np.ndarray:
    """1-based ranks of the listed gallery columns in each row of ``S`` (descending score, ties to
    the lower index); ``rel_idx`` is padded with -1, whose rank is returned as a huge number."""
    col = np.arange(S.shape[1])[None, :]
    ranks = np.full(rel_idx.shape, np.iinfo(np.int64).max, dtype=np.int64)
    rows = np.arange(S.shape[0])
    for t in range(rel_idx.shape[1]):
        j = rel_idx[:, t]
        ok = j >= 0
        s_j = S[rows, np.maximum(j, 0)][:, None]
        r = ((S > s_j) | ((S == s_j) & (col < j[:, None]))).sum(axis=1) + 1
        ranks[ok, t] = r[ok]
    return ranks


def _one_direction(Q: np.ndarray, G: np.ndarray, R: sparse.csr_matrix, ks: Sequence[int],
                   map_k: int, memory_budget: int) -> dict[str, Any]:
    nq, ng = Q.shape[0], G.shape[0]
    first = np.empty(nq, dtype=np.int64)
    ap = np.empty(nq, dtype=np.float64)
    n_rel = np.diff(R.indptr)
    m = int(n_rel.max())
    rows = rows_per_block(memory_budget, 8 * ng * 3)
    for s in range(0, nq, rows):
        e = min(nq, s + rows)
        rel_idx = np.full((e - s, m), -1, dtype=np.int64)
        for i in range(s, e):
            cols = R.indices[R.indptr[i]:R.indptr[i + 1]]
            rel_idx[i - s, : cols.size] = cols
        ranks = np.sort(relevant_ranks(Q[s:e] @ G.T, rel_idx), axis=1)
        first[s:e] = ranks[:, 0]
        # AP@K: the i-th relevant item found (1-based) at rank r contributes precision i / r
        pos = np.arange(1, m + 1)[None, :]
        contrib = np.where(ranks <= map_k, pos / np.minimum(ranks, np.iinfo(np.int32).max), 0.0)
        ap[s:e] = contrib.sum(axis=1) / np.minimum(n_rel[s:e], map_k)
    out: dict[str, Any] = {f"R@{k}": float(np.mean(first <= k)) for k in ks}
    out[f"mAP@{map_k}"] = float(ap.mean())
    out["median_rank"] = float(np.median(first))
    out["mean_rank"] = float(first.mean())
    out["n_queries"] = int(nq)
    out["n_gallery"] = int(ng)
    return out


def retrieval_metrics(query: Any, gallery: Any, relevance: Any, metric: str = "cosine",
                      ks: Sequence[int] = (1, 5, 10), map_k: int = 10,
                      names: tuple[str, str] = ("query_to_gallery", "gallery_to_query"),
                      memory_budget: int | None = None) -> dict[str, Any]:
    r"""Recall@K, mAP@K and median rank of retrieval in both directions.

    Parameters
    ----------
    query : array-like, shape (n_q, d)
        Query embeddings (e.g. captions).
    gallery : array-like, shape (n_g, d)
        Gallery embeddings (e.g. audio clips) in the same space.
    relevance : array-like
        Which gallery items are relevant to each query: an int array of length ``n_q`` (one
        relevant gallery index per query), an ``n_q x n_g`` boolean matrix (dense or sparse) or a
        list of index collections. Every query and every gallery item needs one relevant partner.
    metric : {"cosine", "inner"}
        Similarity used for ranking.
    ks : sequence of int
        Cut-offs of Recall@K.
    map_k : int
        Cut-off of mAP.
    names : (str, str)
        Keys of the two directions in the result.
    memory_budget : int or None
        Bytes of scratch memory per block of queries (None: the configured setting,
        :func:`pairspace.set_config`).

    Returns
    -------
    dict
        ``{names[0]: metrics, names[1]: metrics}``; each holds ``R@K`` for every K, ``mAP@{map_k}``,
        ``median_rank``, ``mean_rank`` (1-based), ``n_queries`` and ``n_gallery``.
    """
    check_metric(metric)
    memory_budget = resolve_memory_budget(memory_budget)
    if metric == "euclidean":
        raise ValueError("retrieval ranks by similarity: use metric='cosine' or 'inner'")
    Q = as_matrix(query, "query", dtype=np.float64)
    G = as_matrix(gallery, "gallery", dtype=np.float64)
    if Q.shape[1] != G.shape[1]:
        raise ValueError(f"query dimension {Q.shape[1]} differs from gallery dimension {G.shape[1]}")
    if int(map_k) < 1 or any(int(k) < 1 for k in ks):
        raise ValueError("ks and map_k must be positive")
    if metric == "cosine":
        Q = unit_rows(Q, "query embeddings")
        G = unit_rows(G, "gallery embeddings")
    R = relevance_matrix(relevance, Q.shape[0], G.shape[0])
    RT = R.T.tocsr()
    _check_nonempty(R, "query")
    _check_nonempty(RT, "gallery")
    return {names[0]: _one_direction(Q, G, R, ks, int(map_k), memory_budget),
            names[1]: _one_direction(G, Q, RT, ks, int(map_k), memory_budget)}
