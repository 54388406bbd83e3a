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
