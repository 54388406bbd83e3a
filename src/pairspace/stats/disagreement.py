r"""Per-item disagreement of two neighbor graphs: which items the two spaces disagree on most.

:func:`item_disagreement` ranks items by their Jaccard

.. math:: J_i(k) = \frac{|N_k^X(i) \cap N_k^Y(i)|}{|N_k^X(i) \cup N_k^Y(i)|}

(lowest first, ties by index); its mean is NNGS (Tavares, Ayres & Smaragdis, arXiv 2411.08687).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..measures.overlap import shared_counts
from ..neighbors import KNNResult
from ._graphs import graph_indices


@dataclass(frozen=True)
class ItemDisagreement:
    """Per-item agreement of the two ``k``-neighborhoods.

    Attributes
    ----------
    k : int
        Neighborhood size.
    jaccard : numpy.ndarray, shape (n,)
        :math:`J_i(k)` (its mean is NNGS).
    shared : numpy.ndarray of int, shape (n,)
        :math:`c_i = |N_k^X(i) \\cap N_k^Y(i)|`.
    ids : list of str
        Item ids (row numbers when none were given).
    neighbors_x, neighbors_y : numpy.ndarray of int, shape (n, k)
        The neighbor lists.
    """

    k: int
    jaccard: np.ndarray
    shared: np.ndarray
    ids: list[str]
    neighbors_x: np.ndarray
    neighbors_y: np.ndarray

    def order(self) -> np.ndarray:
        """Item indices from the most disagreeing (lowest Jaccard) up; ties by index."""
        return np.lexsort((np.arange(self.jaccard.size), self.jaccard))

    def top(self, m: int = 20, show_neighbors: int = 5) -> list[dict[str, Any]]:
        """The ``m`` most disagreeing items with their ids and first neighbors in each space."""
        rows = []
        for i in self.order()[:m]:
            rows.append({
                "id": self.ids[i], "index": int(i), "jaccard": float(self.jaccard[i]),
                "shared": int(self.shared[i]),
                "neighbors_x": [self.ids[j] for j in self.neighbors_x[i, :show_neighbors]],
                "neighbors_y": [self.ids[j] for j in self.neighbors_y[i, :show_neighbors]],
            })
        return rows

    def to_dict(self, m: int = 20) -> dict[str, Any]:
        """JSON-ready summary: the distribution of the Jaccard and the top ``m`` items."""
        q = np.quantile(self.jaccard, [0.1, 0.5, 0.9])
        return {"k": self.k, "n": int(self.jaccard.size), "mean_jaccard": float(self.jaccard.mean()),
                "jaccard_q10": float(q[0]), "jaccard_median": float(q[1]),
                "jaccard_q90": float(q[2]), "fraction_no_shared": float(np.mean(self.shared == 0)),
                "most_disagreeing": self.top(m)}


def item_disagreement(
    gx: KNNResult | np.ndarray,
    gy: KNNResult | np.ndarray,
    k: int,
    ids: Sequence[Any] | None = None,
) -> ItemDisagreement:
    r"""Per-item Jaccard of the ``k``-neighborhoods from two searches of width ``>= k``.

    .. math:: J_i(k) = \frac{c_i}{2k - c_i}, \qquad c_i = |N_k^X(i) \cap N_k^Y(i)|

    Parameters
    ----------
    gx, gy : KNNResult or numpy.ndarray
        Neighbor searches of X and Y (see :func:`pairspace.knn`).
    k : int
        Neighborhood size.
    ids : sequence, optional
        Item ids (default: the row numbers as strings).

    Returns
    -------
    ItemDisagreement
        ``jaccard``, ``shared``, ``top(m)`` with ids, ``to_dict()``.
    """
    ix, iy = graph_indices(gx), graph_indices(gy)
    n = ix.shape[0]
    if not 1 <= k <= min(ix.shape[1], iy.shape[1]):
        raise ValueError(f"k={k} must lie in [1, {min(ix.shape[1], iy.shape[1])}] for these graphs")
    id_list = [str(i) for i in range(n)] if ids is None else [str(i) for i in ids]
    if len(id_list) != n:
        raise ValueError(f"{len(id_list)} ids for {n} items")
    ix, iy = np.ascontiguousarray(ix[:, :k]), np.ascontiguousarray(iy[:, :k])
    c = shared_counts(ix, iy)
    return ItemDisagreement(k, c / (2.0 * k - c), c, id_list, ix, iy)


__all__ = ["ItemDisagreement", "item_disagreement"]
