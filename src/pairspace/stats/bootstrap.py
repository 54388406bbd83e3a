r"""Confidence intervals of paired-space measures over items.

Resampling items *with replacement* creates duplicate rows, and a duplicate is its copy's nearest
neighbor in *both* spaces, which inflates every kNN measure (and biases the unbiased HSIC). Two
schemes avoid this:

* ``"items"`` (default for kNN measures): the neighbor graphs of the full sample are kept fixed and
  the **per-item scores** of the measure's scorer (:mod:`pairspace.measures.graph_scores`) are
  bootstrapped: the percentile interval of :math:`g(\bar u^*)` over resamples of the items (the
  mean for NNGS and mutual kNN, the ratio of sums for CKNNA). No duplicate row ever enters a
  neighbor search. The interval reflects which items were sampled, conditional on the
  neighborhoods of the full sample.
* ``"subsample"`` (default for global measures): ``m = floor(fraction * n)`` items drawn *without*
  replacement, the measure recomputed on each subsample, and the subsampling interval of Politis &
  Romano (1994) for root-n statistics,
  :math:`[\hat\theta - \sqrt{m/n}\,\delta_{1-\alpha/2},\; \hat\theta - \sqrt{m/n}\,\delta_{\alpha/2}]`
  with :math:`\delta_q` the quantiles of :math:`\theta^*_m - \mathrm{median}(\theta^*_m)`. The
  deviations are taken from the subsamples' own median rather than from :math:`\hat\theta`
  because plug-in estimators (CKA, GULP) carry an :math:`O(1/m)` finite-sample bias that differs
  between size ``m`` and size ``n`` and would otherwise shift the interval off the estimate; the
  interval thus describes sampling spread, not bias. It is not offered for kNN measures, whose
  value at a fixed ``k`` depends on ``n`` (a subsample estimates another quantity).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._progress import progress_bar
from .._validation import (
    check_metric,
    check_pair,
    resolve_k,
    resolve_memory_budget,
    rows_per_block,
)
from ..measures.registry import MeasureInfo, get_measure
from ..neighbors import KNNResult
from ._graphs import knn_scorer


@dataclass(frozen=True)
class IntervalResult:
    """A confidence interval (see the module docstring for the schemes)."""

    measure: str
    estimate: float
    low: float
    high: float
    level: float
    scheme: str
    n_resamples: int
    k: int | None = None
    subsample_size: int | None = None
    seed: int | None = None
    replicates: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the replicates)."""
        return {"measure": self.measure, "k": self.k, "estimate": self.estimate, "low": self.low,
                "high": self.high, "level": self.level, "scheme": self.scheme,
                "n_resamples": self.n_resamples, "subsample_size": self.subsample_size,
                "seed": self.seed}


def _resolve_scheme(info: MeasureInfo, scheme: str) -> str:
    if scheme == "auto":
        return "items" if info.kind == "knn" else "subsample"
    if scheme not in ("items", "subsample"):
        raise ValueError(f"scheme must be 'auto', 'items' or 'subsample'; got {scheme!r}")
    if scheme == "items" and info.kind != "knn":
        raise ValueError(f"the 'items' scheme needs per-item scores; {info.name} is a global "
                         "measure (use scheme='subsample')")
    if scheme == "subsample" and info.kind == "knn":
        raise ValueError(f"{info.name} at a fixed k depends on n, so subsamples estimate another "
                         "quantity; use scheme='items'")
    return scheme


def bootstrap_ci(
    X: Any,
    Y: Any,
    measure: str = "nngs",
    *,
    k: int | float = 10,
    n_resamples: int = 1000,
    level: float = 0.95,
    scheme: str = "auto",
    subsample_fraction: float = 0.5,
    seed: int | None = 0,
    metric: str = "cosine",
    metric_y: str | None = None,
    graphs: tuple[KNNResult, KNNResult] | None = None,
    progress: bool | None = None,
    **options: Any,
) -> IntervalResult:
    r"""Confidence interval of a measure over items.

    Parameters
    ----------
    X, Y : array-like
        Paired point clouds.
    measure : str
        A registry name.
    k : int or float
        Neighborhood size of kNN measures.
    n_resamples : int
        Bootstrap replicates or subsamples.
    level : float
        Coverage, in (0, 1).
    scheme : {"auto", "items", "subsample"}
        ``"items"``: percentile bootstrap of the per-item scores on the fixed full-sample graphs
        (kNN measures only); ``"subsample"``: ``m``-out-of-``n`` subsampling without replacement
        with the Politis-Romano interval (global measures only). ``"auto"`` picks ``"items"`` for
        kNN measures and ``"subsample"`` for global ones. See the module docstring for why
        resampling with replacement is avoided.
    subsample_fraction : float
        ``m / n`` of the subsampling scheme.
    seed : int or None
        Seed of the resampling.
    metric, metric_y, graphs, progress, **options
        As in :func:`pairspace.stats.permutation_test`.

    Returns
    -------
    IntervalResult
        ``estimate``, ``low``, ``high`` and ``to_dict()``.

    References
    ----------
    Efron & Tibshirani, An Introduction to the Bootstrap, 1993; Politis & Romano, "Large sample
    confidence regions based on subsamples under minimal assumptions", Ann. Statist. 1994.
    """
    info = get_measure(measure)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1); got {level}")
    if isinstance(n_resamples, bool) or int(n_resamples) < 2:
        raise ValueError(f"n_resamples must be at least 2; got {n_resamples}")
    scheme = _resolve_scheme(info, scheme)
    A, B = check_pair(X, Y, dtype=None)
    info.check_limits(A.shape[0], A.shape[1], B.shape[1])
    rng = np.random.default_rng(seed)
    if scheme == "items":
        check_metric(metric)
        kk = resolve_k(k, A.shape[0])
        scorer, iy = knn_scorer(info, A, B, kk, metric, metric_y, graphs, progress, **options)
        est, reps = _item_bootstrap(scorer.components(iy), scorer.combine, int(n_resamples), rng,
                                    measure, progress)
        alpha = 1.0 - level
        low, high = np.quantile(reps, [alpha / 2, 1 - alpha / 2])
        return IntervalResult(measure, est, float(low), float(high), level, "items",
                              int(n_resamples), kk, None, seed, reps)
    return _subsampling_interval(info, A, B, int(n_resamples), level, subsample_fraction, rng,
                                 seed, progress, options)


def _item_bootstrap(comp: np.ndarray, combine: Any, n_resamples: int, rng: np.random.Generator,
                    measure: str, progress: bool | None) -> tuple[float, np.ndarray]:
    """Estimate and replicates ``combine(mean of comp over resampled items)``."""
    n = comp.shape[0]
    estimate = float(combine(comp.mean(axis=0)))
    reps = np.empty(n_resamples)
    # one resample: n int64 indices and their float64 components
    chunk = rows_per_block(resolve_memory_budget(None), 8 * n * (1 + int(np.prod(comp.shape[1:]))))
    for s in progress_bar(range(0, n_resamples, chunk), desc=f"bootstrap ({measure})",
                          progress=progress, unit="chunk"):
        e = min(n_resamples, s + chunk)
        reps[s:e] = combine(comp[rng.integers(0, n, size=(e - s, n))].mean(axis=1))
    return estimate, reps


def _subsampling_interval(info: MeasureInfo, A: np.ndarray, B: np.ndarray, n_resamples: int,
                          level: float, fraction: float, rng: np.random.Generator,
                          seed: int | None, progress: bool | None,
                          options: dict[str, Any]) -> IntervalResult:
    """The m-out-of-n subsampling interval of Politis & Romano (global measures)."""
    n = A.shape[0]
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"subsample_fraction must lie in (0, 1); got {fraction}")
    m = int(np.floor(fraction * n))
    if m < 4:
        raise ValueError(f"a subsample of {m} items is too small (n={n}); raise subsample_fraction")
    estimate = float(info.func(A, B, **options))
    Ad, Bd = np.asarray(A), np.asarray(B)
    reps = np.empty(n_resamples)
    for b in progress_bar(range(n_resamples), desc=f"subsampling ({info.name})", progress=progress,
                          unit="sub"):
        idx = np.sort(rng.choice(n, m, replace=False))
        reps[b] = info.func(Ad[idx], Bd[idx], **options)
    alpha = 1.0 - level
    d_lo, d_hi = np.quantile(reps - np.median(reps), [alpha / 2, 1 - alpha / 2])
    f = np.sqrt(m / n)
    return IntervalResult(info.name, estimate, float(estimate - f * d_hi),
                          float(estimate - f * d_lo), level, "subsample", n_resamples, None, m,
                          seed, reps)


__all__ = ["IntervalResult", "bootstrap_ci"]
