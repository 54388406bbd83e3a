r"""Correlation of two paired samples with p-values and a percentile bootstrap interval.

The one ``correlate`` of the toolkit (the analogy study correlates similarity with accuracy across
categories, the template study across templates). Pearson's

.. math:: r = \frac{\sum_i (x_i - \bar x)(y_i - \bar y)}
                   {\sqrt{\sum_i (x_i - \bar x)^2 \sum_i (y_i - \bar y)^2}}

and Spearman's :math:`\rho` (Pearson's r of the ranks, ties averaged), with the two-sided p-values
of ``scipy.stats.pearsonr`` and ``scipy.stats.spearmanr``. The interval is the percentile bootstrap
(Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993): the ``m`` pairs are resampled with
replacement ``n_boot`` times; resamples in which a variable is constant (the coefficient is
undefined) are skipped and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Correlation:
    """A correlation with its p-value and bootstrap interval.

    Attributes
    ----------
    method : str
        ``"pearson"`` or ``"spearman"``.
    statistic, pvalue : float
        Coefficient and two-sided p-value (NaN when a variable is constant).
    ci_low, ci_high : float
        Percentile bootstrap interval (NaN without resamples).
    confidence : float
        Coverage of the interval.
    n, n_boot, n_boot_used : int
        Paired values, resamples drawn, resamples with a defined coefficient.
    """

    method: str
    statistic: float
    pvalue: float
    ci_low: float
    ci_high: float
    confidence: float
    n: int
    n_boot: int
    n_boot_used: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {"method": self.method, "statistic": self.statistic, "pvalue": self.pvalue,
                "ci": [self.ci_low, self.ci_high], "confidence": self.confidence, "n": self.n,
                "n_boot": self.n_boot, "n_boot_used": self.n_boot_used}


def _rowwise_pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    den = np.sqrt((xc * xc).sum(axis=1) * (yc * yc).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (xc * yc).sum(axis=1) / den, np.nan)


def correlate(x: Any, y: Any, n_boot: int = 2000, confidence: float = 0.95,
              seed: int = 0) -> tuple[Correlation, Correlation]:
    """Pearson and Spearman correlation of two paired samples, with bootstrap intervals.

    Parameters
    ----------
    x, y : array-like, shape (m,)
        Paired values (e.g. NNGS and accuracy per category), at least 3, finite.
    n_boot : int
        Bootstrap resamples of the ``m`` pairs (0: no interval).
    confidence : float
        Coverage of the percentile interval, in (0, 1).
    seed : int
        Seed of the resampling.

    Returns
    -------
    (Correlation, Correlation)
        Pearson and Spearman.
    """
    from scipy import stats

    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length; got {x.size} and {y.size}")
    if x.size < 3:
        raise ValueError(f"a correlation needs at least 3 paired values; got {x.size}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x and y must be finite (NaN or inf found)")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1); got {confidence}")
    if isinstance(n_boot, bool) or int(n_boot) != n_boot or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer; got {n_boot!r}")
    m = x.size
    idx = np.random.default_rng(seed).integers(0, m, size=(int(n_boot), m))
    out = []
    for method in ("pearson", "spearman"):
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            r, p = float("nan"), float("nan")
        else:
            res = stats.pearsonr(x, y) if method == "pearson" else stats.spearmanr(x, y)
            r, p = float(res.statistic), float(res.pvalue)
        lo = hi = float("nan")
        used = 0
        if n_boot > 0:
            bx, by = x[idx], y[idx]
            if method == "spearman":
                bx, by = stats.rankdata(bx, axis=1), stats.rankdata(by, axis=1)
            rb = _rowwise_pearson(bx, by)
            rb = rb[np.isfinite(rb)]
            used = int(rb.size)
            if used:
                a = (1 - confidence) / 2
                lo, hi = (float(v) for v in np.quantile(rb, [a, 1 - a]))
        out.append(Correlation(method, r, p, lo, hi, confidence, m, int(n_boot), used))
    return out[0], out[1]


@dataclass(frozen=True)
class CorrelationComparison:
    """The paired comparison of two measures' correlations with one shared variable.

    Attributes
    ----------
    pearson, spearman : float
        :math:`r(a, y) - r(b, y)` for Pearson and for Spearman.
    pearson_ci, spearman_ci : tuple of float
        Percentile intervals of the differences over the *same* bootstrap resamples of the items
        for both measures (a paired bootstrap); NaN without usable resamples.
    pearson_share_a, spearman_share_a : float
        Share of the resamples in which ``a`` correlates more strongly than ``b``.
    confidence : float
    n, n_boot, n_boot_used : int
    """

    pearson: float
    spearman: float
    pearson_ci: tuple[float, float]
    spearman_ci: tuple[float, float]
    pearson_share_a: float
    spearman_share_a: float
    confidence: float
    n: int
    n_boot: int
    n_boot_used: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {"pearson": self.pearson, "pearson_ci": list(self.pearson_ci),
                "pearson_share_a": self.pearson_share_a, "spearman": self.spearman,
                "spearman_ci": list(self.spearman_ci), "spearman_share_a": self.spearman_share_a,
                "confidence": self.confidence, "n": self.n, "n_boot": self.n_boot,
                "n_boot_used": self.n_boot_used}


def compare_correlations(a: Any, b: Any, y: Any, n_boot: int = 2000, confidence: float = 0.95,
                         seed: int = 0) -> CorrelationComparison:
    r"""Is ``a`` more correlated with ``y`` than ``b`` is? A paired bootstrap of the difference.

    The two correlations share ``y`` and the items, so they are dependent; the difference
    :math:`\Delta = r(a, y) - r(b, y)` is resampled by drawing the ``m`` items with replacement
    and recomputing *both* coefficients on the same draw (Efron & Tibshirani 1993; the paired
    design that Steiger's 1980 test handles analytically for Pearson). The interval is the
    percentile interval of :math:`\Delta^*`; resamples in which a coefficient is undefined are
    skipped (``n_boot_used`` counts the others, for Pearson and Spearman together).

    Parameters
    ----------
    a, b, y : array-like, shape (m,)
        Two measures and the variable they should explain (e.g. NNGS, CKA and accuracy per
        template), at least 3, finite.
    n_boot, confidence, seed : int, float, int
        Resamples, coverage and seed.

    Returns
    -------
    CorrelationComparison
    """
    from scipy import stats

    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if not a.shape == b.shape == y.shape:
        raise ValueError(f"a, b and y must have the same length; got {a.size}, {b.size}, {y.size}")
    if a.size < 3:
        raise ValueError(f"a correlation needs at least 3 paired values; got {a.size}")
    if not (np.isfinite(a).all() and np.isfinite(b).all() and np.isfinite(y).all()):
        raise ValueError("a, b and y must be finite (NaN or inf found)")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1); got {confidence}")
    if isinstance(n_boot, bool) or int(n_boot) != n_boot or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer; got {n_boot!r}")
    m = a.size
    ca, cb = correlate(a, y, n_boot=0), correlate(b, y, n_boot=0)
    diff = {c.method: c.statistic - d.statistic for c, d in zip(ca, cb, strict=True)}
    idx = np.random.default_rng(seed).integers(0, m, size=(int(n_boot), m))
    ci: dict[str, tuple[float, float]] = {}
    share: dict[str, float] = {}
    used = 0
    for method in ("pearson", "spearman"):
        ba, bb, by = a[idx], b[idx], y[idx]
        if method == "spearman":
            ba, bb, by = (stats.rankdata(v, axis=1) for v in (ba, bb, by))
        d = _rowwise_pearson(ba, by) - _rowwise_pearson(bb, by)
        d = d[np.isfinite(d)]
        used = int(d.size) if method == "pearson" else min(used, int(d.size))
        if d.size:
            q = (1 - confidence) / 2
            lo, hi = (float(v) for v in np.quantile(d, [q, 1 - q]))
            ci[method], share[method] = (lo, hi), float(np.mean(d > 0))
        else:
            ci[method], share[method] = (float("nan"), float("nan")), float("nan")
    return CorrelationComparison(diff["pearson"], diff["spearman"], ci["pearson"], ci["spearman"],
                                 share["pearson"], share["spearman"], confidence, m, int(n_boot),
                                 used)
