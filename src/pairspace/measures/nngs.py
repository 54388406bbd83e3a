r"""NNGS: Nearest-Neighbor Graph Similarity of two paired embedding spaces.

Tavares, Ayres & Smaragdis, "Measuring similarity between embedding spaces using induced
neighborhood graphs", arXiv 2411.08687.

For paired point clouds :math:`X` and :math:`Y` (row :math:`i` of both is the same item), let
:math:`N_k^X(i)` be the :math:`k` nearest other rows of item :math:`i` in :math:`X` (self excluded by
index, ties to the lower index). With :math:`c_i = |N_k^X(i) \cap N_k^Y(i)|`,

.. math::

    J_i(k) = \frac{|N_k^X(i) \cap N_k^Y(i)|}{|N_k^X(i) \cup N_k^Y(i)|} = \frac{c_i}{2k - c_i},
    \qquad \mathrm{NNGS}(X, Y, k) = \frac{1}{n} \sum_i J_i(k).

**The curve from one search.** Let :math:`r_X(i, j)` be the rank of :math:`j` in the neighbor list of
:math:`i` (0 for the nearest). Then :math:`j \in N_k^X(i) \cap N_k^Y(i)` iff
:math:`\max(r_X(i, j), r_Y(i, j)) < k`, so one top-:math:`K` search per space and one cumulative
histogram of :math:`\max(r_X, r_Y)` per item give :math:`c_i(k)` for every :math:`k \le K` in
:math:`O(nK)`.

**Chance level.** Two independent uniform :math:`k`-subsets of the :math:`n - 1` other items
intersect in :math:`x \sim \mathrm{Hypergeom}(n-1, k, k)` elements, so the exact expected Jaccard is
:math:`E[J] = \sum_x \frac{x}{2k - x} \mathrm{Hyp}(x; n-1, k, k)`. The published approximation plugs
in the mean :math:`m = k^2/(n-1)`: :math:`H(k) = m / (2k - m)`. The normalized score is
:math:`(\mathrm{NNGS} - E[J]) / (1 - E[J])`, undefined (NaN) at :math:`k = n - 1`.

The published runs used the euclidean metric; pairspace defaults to cosine, the usual geometry of
contrastive embeddings. Pass ``metric="euclidean"`` to reproduce the paper.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_metric, check_pair, resolve_k, rows_per_block
from ..neighbors import KNNResult, knn_pair
from ._display import CurveDisplay
from .overlap import overlap_counts

CHANCE_METHODS = ("exact", "approx")  # the chance-level methods of NNGS (see nngs_chance)
def checked_pair(X: Any, Y: Any, metric: str, metric_y: str | None = None,
                 chance: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Validate the metrics (and the chance method) of a kNN comparison, then the pair itself."""
    check_metric(metric)
    if metric_y is not None:
        check_metric(metric_y, "metric_y")
    if chance is not None and chance not in CHANCE_METHODS:
        raise ValueError(f"chance must be 'exact' or 'approx'; got {chance!r}")
    return check_pair(X, Y, dtype=None)


def jaccard_from_counts(counts: np.ndarray, ks: np.ndarray) -> np.ndarray:
    r"""Per-item Jaccard :math:`J_i(k) = c_i / (2k - c_i)` for the columns ``ks`` (1-based)."""
    ks = np.asarray(ks, dtype=np.int64)
    c = counts[:, ks - 1].astype(np.float64)
    return c / (2.0 * ks[None, :] - c)


def nngs_from_graphs(gx: KNNResult | np.ndarray, gy: KNNResult | np.ndarray,
                     ks: Sequence[int] | np.ndarray) -> np.ndarray:
    """NNGS for each ``k`` in ``ks`` from two precomputed neighbor searches (no new search)."""
    ix = gx.indices if isinstance(gx, KNNResult) else np.asarray(gx)
    iy = gy.indices if isinstance(gy, KNNResult) else np.asarray(gy)
    ks = np.asarray(ks, dtype=np.int64)
    counts = overlap_counts(ix, iy, int(ks.max()))
    return jaccard_from_counts(counts, ks).mean(axis=0)


def nngs_per_item(X: Any, Y: Any, k: int | float, metric: str = "cosine",
                  metric_y: str | None = None, **knn_options: Any) -> np.ndarray:
    r"""The per-item Jaccard overlap of the two kNN graphs, whose mean is :func:`nngs`.

    .. math:: J_i(k) = \frac{|N_k^X(i) \cap N_k^Y(i)|}{|N_k^X(i) \cup N_k^Y(i)|}

    Parameters
    ----------
    X, Y, k, metric, metric_y, **knn_options
        As :func:`nngs`.

    Returns
    -------
    numpy.ndarray, shape (n,)
        ``J_i`` of every item, in ``[0, 1]``; ``J.mean()`` is NNGS.

    References
    ----------
    Tavares, Ayres & Smaragdis, arXiv 2411.08687.
    """
    A, B = checked_pair(X, Y, metric, metric_y)
    kk = resolve_k(k, A.shape[0])
    gx, gy = knn_pair(A, B, kk, metric, metric_y, **knn_options)
    return jaccard_from_counts(overlap_counts(gx.indices, gy.indices, kk), np.array([kk]))[:, 0]


def nngs(
    X: Any,
    Y: Any,
    k: int | float,
    metric: str = "cosine",
    metric_y: str | None = None,
    return_per_item: bool = False,
    **knn_options: Any,
) -> float | tuple[float, np.ndarray]:
    r"""Nearest-Neighbor Graph Similarity of two paired spaces at one neighborhood size.

    .. math:: \mathrm{NNGS}(X, Y, k) = \frac{1}{n} \sum_i
              \frac{|N_k^X(i) \cap N_k^Y(i)|}{|N_k^X(i) \cup N_k^Y(i)|}

    Parameters
    ----------
    X, Y : array-like, shapes (n, dx) and (n, dy)
        Paired point clouds; row ``i`` of both is the same item. ``dx`` may differ from ``dy``.
    k : int or float
        Neighborhood size in ``[1, n - 1]``, or a float ``c`` in ``(0, 1)`` meaning
        ``k = floor(c * n)`` (the published semantics).
    metric : {"cosine", "euclidean", "inner"}
        Distance of ``X`` (and of ``Y`` unless ``metric_y`` is given). The paper used "euclidean".
    metric_y : str, optional
        Distance of ``Y`` when it differs from ``X``'s.
    return_per_item : bool
        Deprecated (it changed the return type): use :func:`nngs_per_item` for the per-item
        Jaccard vector.
    **knn_options
        Passed to :func:`pairspace.knn` (``dtype``, ``backend``, ``memory_budget``, ``progress``).

    Returns
    -------
    float
        NNGS in ``[0, 1]`` (with the deprecated ``return_per_item``: ``(value, J)``).

    References
    ----------
    Tavares, Ayres & Smaragdis, arXiv 2411.08687.
    """
    J = nngs_per_item(X, Y, k, metric, metric_y, **knn_options)
    value = float(J.mean())
    if return_per_item:
        import warnings

        warnings.warn("nngs(return_per_item=True) is deprecated: use pairspace.nngs_per_item(X, Y, k)",
                      DeprecationWarning, stacklevel=2)
        return value, J
    return value


def nngs_chance(n: int, k: int | float | Sequence[int] | np.ndarray,
                method: str = "exact") -> float | np.ndarray:
    r"""Expected NNGS of two unrelated spaces: the Jaccard of two random ``k``-subsets of ``n - 1``.

    Parameters
    ----------
    n : int
        Number of items (each item chooses its neighbors among the other ``n - 1``).
    k : int, float or sequence of int
        Neighborhood size(s); a float in ``(0, 1)`` means ``floor(k * n)``.
    method : {"exact", "approx"}
        ``"exact"``: :math:`\sum_x \frac{x}{2k-x}\,\mathrm{Hyp}(x; n-1, k, k)`.
        ``"approx"``: the published :math:`H(k) = m / (2k - m)` with :math:`m = k^2 / (n - 1)`.

    Returns
    -------
    float or numpy.ndarray
        The chance level for each ``k``.
    """
    n = int(n)
    if n < 3:
        raise ValueError(f"the chance level needs n >= 3 items; got {n}")
    if method not in CHANCE_METHODS:
        raise ValueError(f"method must be 'exact' or 'approx'; got {method!r}")
    scalar = np.ndim(k) == 0
    ks = np.array([resolve_k(k, n)] if scalar else [resolve_k(int(v), n) for v in np.ravel(k)],
                  dtype=np.int64)
    if method == "approx":
        m = ks * ks / (n - 1)
        out = m / (2 * ks - m)
    else:
        out = np.empty(ks.size, dtype=np.float64)
        step = rows_per_block(2**25, 8 * (int(ks.max(initial=0)) + 1))  # 2**22 float64 terms
        for s in range(0, ks.size, step):
            out[s : s + step] = _expected_jaccard(n - 1, ks[s : s + step])
    return float(out[0]) if scalar else out


def _expected_jaccard(N: int, ks: np.ndarray) -> np.ndarray:
    r""":math:`\sum_x \frac{x}{2k-x}\,\mathrm{Hyp}(x; N, k, k)` for every ``k`` in ``ks`` at once.

    The hypergeometric weights come from the ratio of consecutive terms,
    :math:`\frac{p(x+1)}{p(x)} = \frac{(k-x)^2}{(x+1)(N-2k+x+1)}`, summed in log space from the
    bottom of the support :math:`x_0 = \max(0, 2k-N)` and normalized to sum to 1. This is
    vectorized over ``k`` and accurate to about ``k`` units of roundoff (no log-gamma of ``N``,
    whose rounding error would grow with ``N``).
    """
    kc = ks[:, None].astype(np.float64)
    x = np.arange(int(ks.max()) + 1, dtype=np.float64)[None, :]
    lo = np.maximum(0.0, 2.0 * kc - N)
    support = (x >= lo) & (x <= kc)
    step = (x >= lo) & (x < kc)  # ratio p(x+1)/p(x) defined
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = 2.0 * np.log(kc - x) - np.log(x + 1.0) - np.log(N - 2.0 * kc + x + 1.0)
    logp = np.zeros_like(ratio)
    np.cumsum(np.where(step, ratio, 0.0)[:, :-1], axis=1, out=logp[:, 1:])
    logp = np.where(support, logp, -np.inf)
    p = np.exp(logp - logp.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    weight = np.where(support, x, 0.0) / np.maximum(2.0 * kc - x, 1.0)  # x / (2k - x)
    return np.sum(weight * p, axis=1)


@dataclass(frozen=True, repr=False)
class NNGSCurve(CurveDisplay):
    """NNGS against the neighborhood size, with its chance level.

    Attributes
    ----------
    k, nngs, chance, normalized : numpy.ndarray
        Neighborhood sizes, NNGS, chance level and ``(nngs - chance) / (1 - chance)`` (NaN where
        the chance level is 1, at ``k = n - 1``).
    n : int
        Number of items.
    metric, metric_y : str
        Distances of the two spaces.
    chance_method : {"exact", "approx"}
    recall_x, recall_y : float or None
        Measured recall of an approximate neighbor search of each space (``None``: exact search).
    """

    k: np.ndarray
    nngs: np.ndarray
    chance: np.ndarray
    normalized: np.ndarray
    n: int
    metric: str
    metric_y: str
    chance_method: str
    recall_x: float | None = None
    recall_y: float | None = None

    def at(self, k: int) -> float:
        """NNGS at one ``k`` of the curve."""
        hit = np.flatnonzero(self.k == k)
        if hit.size == 0:
            raise ValueError(f"k={k} is not on this curve (k from {self.k.min()} to {self.k.max()})")
        return float(self.nngs[hit[0]])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN becomes None); :meth:`from_dict` inverts it."""
        arrays = {c: [None if not np.isfinite(v) else float(v) for v in getattr(self, c)]
                  for c in ("nngs", "chance", "normalized")}
        return {"n": self.n, "metric": self.metric, "metric_y": self.metric_y,
                "chance_method": self.chance_method, "k": [int(v) for v in self.k], **arrays,
                "recall_x": self.recall_x, "recall_y": self.recall_y}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NNGSCurve:
        """The inverse of :meth:`to_dict` (None becomes NaN)."""
        a = {c: np.array(d[c], dtype=np.float64) for c in ("nngs", "chance", "normalized")}  # None->nan
        fields = ("n", "metric", "metric_y", "chance_method", "recall_x", "recall_y")
        return cls(np.asarray(d["k"], dtype=np.int64), **a, **{f: d.get(f) for f in fields})


def normalize(value: np.ndarray | float, chance: np.ndarray | float) -> np.ndarray:
    """``(value - chance) / (1 - chance)``, NaN where ``chance == 1``."""
    value = np.asarray(value, dtype=np.float64)
    chance = np.asarray(chance, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(chance < 1.0, (value - chance) / (1.0 - chance), np.nan)


def resolve_ks(ks: int | float | Sequence[int | float] | np.ndarray, n: int) -> np.ndarray:
    """An int ``K`` (or fraction) means ``1..K``; a sequence lists the sizes (sorted, unique)."""
    if np.ndim(ks) == 0:
        return np.arange(1, resolve_k(ks, n, "ks") + 1)
    vals = sorted({resolve_k(v.item() if isinstance(v, np.generic) else v, n, "ks")
                   for v in np.ravel(np.asarray(ks, dtype=object))})
    if not vals:
        raise ValueError("ks is empty")
    return np.asarray(vals, dtype=np.int64)


def curve_from_graphs(gx: KNNResult, gy: KNNResult, ks: np.ndarray,
                      chance: str = "exact") -> NNGSCurve:
    """The NNGS curve from two precomputed searches of width ``>= max(ks)``."""
    values = nngs_from_graphs(gx, gy, ks)
    ch = nngs_chance(gx.n, ks, method=chance)
    return NNGSCurve(np.asarray(ks), values, ch, normalize(values, ch), gx.n, gx.metric,
                     gy.metric, chance, gx.recall, gy.recall)


def nngs_curve(
    X: Any,
    Y: Any,
    ks: int | float | Sequence[int] | np.ndarray,
    metric: str = "cosine",
    metric_y: str | None = None,
    chance: str = "exact",
    **knn_options: Any,
) -> NNGSCurve:
    """NNGS for many neighborhood sizes from ONE top-K neighbor search per space.

    Parameters
    ----------
    X, Y : array-like
        Paired point clouds (see :func:`nngs`).
    ks : int, float or sequence of int
        An int ``K`` means every ``k`` in ``1..K``; a sequence lists the sizes.
    metric, metric_y : str
        Distances (see :func:`nngs`).
    chance : {"exact", "approx"}
        Chance level (see :func:`nngs_chance`).
    **knn_options
        Passed to :func:`pairspace.knn`.

    Returns
    -------
    NNGSCurve
        Arrays ``k``, ``nngs``, ``chance``, ``normalized`` and ``to_dict()``.
    """
    A, B = checked_pair(X, Y, metric, metric_y, chance)
    kvals = resolve_ks(ks, A.shape[0])
    gx, gy = knn_pair(A, B, int(kvals.max()), metric, metric_y, **knn_options)
    return curve_from_graphs(gx, gy, kvals, chance)
