r"""Per-item scores of the kNN measures, from two fixed neighbor graphs.

Every kNN measure of the registry is a statistic of per-item **components** computed from the
neighbor lists of X and Y (and, for CKNNA, the features):

.. math:: T(X, Y) = g\Big(\frac{1}{n}\sum_i u_i\Big), \qquad u_i \in \mathbb{R}^c,

with ``g`` the measure's :meth:`~GraphScorer.combine`. NNGS has :math:`u_i = J_i(k) = c_i / (2k -
c_i)` and mutual kNN :math:`u_i = c_i / k` (``c = 1``, ``g`` the identity); CKNNA has
:math:`u_i = (\sum_j \alpha_{ij} \bar K_{ij} \bar L_{ij}, \sum_{j} \bar K_{ij}^2, \sum_{j} \bar
L_{ij}^2)` and :math:`g(m) = m_0 / \sqrt{m_1 m_2}`. This one form serves the value itself, the
permutation test (the components under a relabeled Y graph, :math:`O(nk)` per permutation, no new
search) and the item bootstrap (``g`` of resampled means). The statistics modules therefore never
choose a measure's logic by its name: each :class:`~pairspace.measures.registry.MeasureInfo`
carries the factory of its scorer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from .knn_measures import cknna_per_item_from_terms, cknna_terms
from .overlap import overlap_counts


class GraphScorer(Protocol):
    """What a kNN measure provides to the statistics: per-item components and their combination."""

    def components(self, iy: np.ndarray, perm: np.ndarray | None = None) -> np.ndarray:
        """Per-item components, shape (n, c), with Y's neighbor lists ``iy`` (relabeled by
        ``perm`` when Y's rows were permuted)."""

    def combine(self, means: np.ndarray) -> np.ndarray:
        """The measure from the mean components (shape (..., c) -> (...))."""


def score(scorer: GraphScorer, iy: np.ndarray, perm: np.ndarray | None = None) -> float:
    """The measure under Y's lists ``iy``: ``combine(mean of the components)``."""
    return float(scorer.combine(scorer.components(iy, perm).mean(axis=0)))


class CountScorer:
    """Scores that depend only on the shared counts :math:`c_i` (NNGS, mutual kNN).

    Parameters
    ----------
    ix : numpy.ndarray of int, shape (n, k)
        X's neighbor lists.
    k : int
        Neighborhood size.
    per_item : callable
        ``per_item(c, k)`` maps the float counts to the per-item scores.
    """

    def __init__(self, ix: np.ndarray, k: int, per_item: Callable[[np.ndarray, int], np.ndarray]):
        self.ix, self.k, self.per_item = ix, int(k), per_item

    def components(self, iy: np.ndarray, perm: np.ndarray | None = None) -> np.ndarray:
        c = overlap_counts(self.ix, iy, cumulative=False).astype(np.float64)
        return self.per_item(c, self.k)[:, None]

    @staticmethod
    def combine(means: np.ndarray) -> np.ndarray:
        return np.asarray(means)[..., 0]


def jaccard_scores(c: np.ndarray, k: int) -> np.ndarray:
    r"""NNGS per item: :math:`J_i = c_i / (2k - c_i)`."""
    return c / (2.0 * k - c)


def fraction_scores(c: np.ndarray, k: int) -> np.ndarray:
    r"""Mutual kNN per item: :math:`c_i / k`."""
    return c / k


def nngs_scorer(A: Any, B: Any, ix: np.ndarray, iy: np.ndarray, k: int) -> CountScorer:
    """Scorer of NNGS (the features are not used)."""
    return CountScorer(ix, k, jaccard_scores)


def mutual_knn_scorer(A: Any, B: Any, ix: np.ndarray, iy: np.ndarray, k: int) -> CountScorer:
    """Scorer of mutual kNN (the features are not used)."""
    return CountScorer(ix, k, fraction_scores)


class CKNNAScorer:
    """CKNNA from the centered kernels on both graphs (see :mod:`pairspace.measures.knn_measures`)."""

    def __init__(self, A: Any, B: Any, ix: np.ndarray, iy: np.ndarray, k: int):
        self.ix = ix
        self.kx, self.ky, nx, ny = cknna_terms(A, B, ix, iy)
        if nx <= 0.0 or ny <= 0.0:
            raise ValueError("CKNNA is undefined: a space has zero centered kernel on its kNN graph")
        self.kx2 = np.sum(self.kx**2, axis=1)
        self.ky2 = np.sum(self.ky**2, axis=1)

    def components(self, iy: np.ndarray, perm: np.ndarray | None = None) -> np.ndarray:
        ky = self.ky if perm is None else self.ky[perm]
        ky2 = self.ky2 if perm is None else self.ky2[perm]
        num = cknna_per_item_from_terms(self.kx, ky, self.ix, iy)
        return np.column_stack([num, self.kx2, ky2])

    @staticmethod
    def combine(means: np.ndarray) -> np.ndarray:
        m = np.asarray(means)
        return m[..., 0] / np.sqrt(m[..., 1] * m[..., 2])


__all__ = ["CKNNAScorer", "CountScorer", "GraphScorer", "fraction_scores", "jaccard_scores",
           "mutual_knn_scorer", "nngs_scorer", "score"]
