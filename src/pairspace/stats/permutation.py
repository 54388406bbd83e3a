r"""Permutation tests of paired-space measures against shuffled pairings.

Under the null hypothesis the pairing of X's rows with Y's rows carries no information, so the
measure of :math:`(X, Y_\pi)` for a uniformly random permutation :math:`\pi` is distributed like
the observed one. With :math:`P` permutations the p-value is

.. math:: p = \frac{1 + \#\{b : T_b \succeq T_{\mathrm{obs}}\}}{1 + P},

where :math:`\succeq` means ``>=`` for similarities and ``<=`` for distances (Phipson & Smyth 2010:
never 0, exact level under the null). For a kNN measure a permutation does not need a new neighbor
search: the neighbor lists of :math:`Y_\pi` are those of Y relabeled,
:math:`N^{Y_\pi}(i) = \pi^{-1}(N^{Y}(\pi(i)))` (:func:`relabel_graph`, one gather of :math:`nk`
integers), and the measure's scorer (:mod:`pairspace.measures.graph_scores`) rescores the items.
A global measure (CKA, GULP, Procrustes) is recomputed on the permuted rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._progress import progress_bar
from .._validation import check_metric, check_pair, resolve_k
from ..measures.graph_scores import score
from ..measures.nngs import jaccard_from_counts
from ..measures.overlap import overlap_counts
from ..measures.registry import get_measure
from ..neighbors import KNNResult
from ._graphs import graph_indices, knn_scorer, relabel_graph


@dataclass(frozen=True)
class PermutationResult:
    """Outcome of :func:`permutation_test`.

    Attributes
    ----------
    measure : str
        Registry name of the measure.
    observed : float
        The measure on the true pairing.
    null : numpy.ndarray
        The measure under each permutation of the pairing.
    p_value : float
        ``(1 + #{null at least as similar as observed}) / (1 + P)``.
    higher_is_similar : bool
        Direction used for "at least as similar".
    k : int or None
        Neighborhood size (kNN measures).
    seed : int or None
        Seed of the permutations.
    """

    measure: str
    observed: float
    null: np.ndarray
    p_value: float
    higher_is_similar: bool
    k: int | None = None
    seed: int | None = None

    @property
    def n_permutations(self) -> int:
        """Number of permutations."""
        return int(self.null.size)

    def null_quantiles(self, qs: Sequence[float] = (0.025, 0.5, 0.975)) -> list[float]:
        """Quantiles of the null distribution."""
        return [float(v) for v in np.quantile(self.null, qs)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the null distribution as quantiles, mean and standard deviation)."""
        q = self.null_quantiles()
        return {"measure": self.measure, "k": self.k, "observed": self.observed,
                "p_value": self.p_value, "n_permutations": self.n_permutations, "seed": self.seed,
                "higher_is_similar": self.higher_is_similar, "null_mean": float(self.null.mean()),
                "null_std": float(self.null.std()), "null_q025": q[0], "null_median": q[1],
                "null_q975": q[2]}


def p_value(observed: float, null: np.ndarray, higher_is_similar: bool = True) -> float:
    """Permutation p-value ``(1 + #{null as or more extreme}) / (1 + P)`` (Phipson & Smyth 2010)."""
    null = np.asarray(null, dtype=np.float64)
    hits = np.count_nonzero(null >= observed) if higher_is_similar else np.count_nonzero(
        null <= observed)
    return float((1 + hits) / (1 + null.size))


def permutation_test(
    X: Any,
    Y: Any,
    measure: str = "nngs",
    *,
    k: int | float = 10,
    n_permutations: int = 1000,
    seed: int | None = 0,
    metric: str = "cosine",
    metric_y: str | None = None,
    graphs: tuple[KNNResult, KNNResult] | None = None,
    progress: bool | None = None,
    **options: Any,
) -> PermutationResult:
    r"""Permutation test of a paired-space measure against shuffled pairings.

    .. math:: p = \frac{1 + \#\{b : T(X, Y_{\pi_b}) \succeq T(X, Y)\}}{1 + P}

    Parameters
    ----------
    X, Y : array-like, shapes (n, dx) and (n, dy)
        Paired point clouds.
    measure : str
        A registry name (:func:`pairspace.measures.registry.available_measures`).
    k : int or float
        Neighborhood size of kNN measures (ignored by global measures).
    n_permutations : int
        Number of random pairings :math:`P`.
    seed : int or None
        Seed of the permutations.
    metric, metric_y : str
        Distances of the neighbor searches (kNN measures).
    graphs : (KNNResult, KNNResult), optional
        Precomputed neighbor searches of X and Y of width ``>= k`` (skips the search). Not
        combinable with ``platonic=True`` (the graphs must then be those of the preprocessed data).
    progress : bool, optional
        Progress bar over the permutations (default: on an interactive terminal).
    **options
        Measure options: ``platonic`` (mutual_knn, cknna), ``lam`` (gulp), ``sigma``
        (rbf_cka), ...; the remaining ones go to :func:`pairspace.knn` for kNN measures.

    Returns
    -------
    PermutationResult
        ``observed``, ``null``, ``p_value`` and ``to_dict()``.

    References
    ----------
    Phipson & Smyth, "Permutation p-values should never be zero", Stat. Appl. Genet. Mol. Biol. 2010.
    """
    info = get_measure(measure)
    if isinstance(n_permutations, bool) or int(n_permutations) < 1:
        raise ValueError(f"n_permutations must be a positive int; got {n_permutations}")
    n_permutations = int(n_permutations)
    A, B = check_pair(X, Y, dtype=None)
    n = A.shape[0]
    info.check_limits(n, A.shape[1], B.shape[1])
    rng = np.random.default_rng(seed)
    null = np.empty(n_permutations)
    bar = progress_bar(range(n_permutations), desc=f"permutations ({measure})", progress=progress,
                       unit="perm")
    kout: int | None = None
    if info.kind == "knn":
        check_metric(metric)
        kout = resolve_k(k, n)
        scorer, iy = knn_scorer(info, A, B, kout, metric, metric_y, graphs, progress, **options)
        observed = score(scorer, iy)
        for b in bar:
            perm = rng.permutation(n)
            null[b] = score(scorer, relabel_graph(iy, perm), perm)
    else:
        fn: Callable[..., float] = info.func
        observed = float(fn(A, B, **options))
        Bd = np.asarray(B)
        for b in bar:
            null[b] = fn(A, Bd[rng.permutation(n)], **options)
    return PermutationResult(measure, float(observed), null,
                             p_value(observed, null, info.higher_is_similar),
                             info.higher_is_similar, kout, seed)


def null_curve(gx: KNNResult | np.ndarray, gy: KNNResult | np.ndarray, ks: Sequence[int] | np.ndarray,
               n_permutations: int = 100, seed: int | None = 0,
               progress: bool | None = None) -> np.ndarray:
    """NNGS at every ``k`` in ``ks`` under random pairings (relabeled graphs, no new search).

    Returns
    -------
    numpy.ndarray, shape (n_permutations, len(ks))
        One null NNGS curve per permutation (quantiles give the permutation-null band).
    """
    ks = np.asarray(ks, dtype=np.int64)
    K = int(ks.max())
    ix, iy = graph_indices(gx)[:, :K], graph_indices(gy)[:, :K]
    rng = np.random.default_rng(seed)
    out = np.empty((int(n_permutations), ks.size))
    for b in progress_bar(range(int(n_permutations)), desc="permutation-null curve",
                          progress=progress, unit="perm"):
        perm = rng.permutation(ix.shape[0])
        out[b] = jaccard_from_counts(overlap_counts(ix, relabel_graph(iy, perm), K), ks).mean(0)
    return out


__all__ = ["PermutationResult", "null_curve", "p_value", "permutation_test", "relabel_graph"]
