"""The paired comparison of two correlations with a shared variable (bootstrap of the difference)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pairspace.stats.correlation import compare_correlations


def test_difference_is_the_difference_of_the_coefficients() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=40)
    a = y + 0.3 * rng.normal(size=40)
    b = y + 2.0 * rng.normal(size=40)
    c = compare_correlations(a, b, y, n_boot=500, seed=1)
    assert c.pearson == pytest.approx(stats.pearsonr(a, y)[0] - stats.pearsonr(b, y)[0])
    assert c.spearman == pytest.approx(stats.spearmanr(a, y)[0] - stats.spearmanr(b, y)[0])
    assert c.pearson_ci[0] > 0 and c.spearman_ci[0] > 0  # a is clearly the better measure
    assert c.pearson_share_a > 0.95 and c.n == 40 and c.n_boot_used == 500


def test_paired_resamples_cancel_a_shared_measure() -> None:
    """a and b identical: every paired resample gives exactly 0, an interval [0, 0]."""
    rng = np.random.default_rng(2)
    y, a = rng.normal(size=25), rng.normal(size=25)
    c = compare_correlations(a, a.copy(), y, n_boot=200)
    assert c.pearson == 0.0 and c.pearson_ci == (0.0, 0.0) and c.spearman_ci == (0.0, 0.0)


def test_interval_covers_zero_for_equally_good_measures() -> None:
    """Exchangeable measures: the interval covers 0 in most draws (a calibration check)."""
    covered = 0
    for s in range(40):
        rng = np.random.default_rng(100 + s)
        y = rng.normal(size=30)
        a, b = y + rng.normal(size=30), y + rng.normal(size=30)
        lo, hi = compare_correlations(a, b, y, n_boot=400, seed=s).pearson_ci
        covered += lo <= 0 <= hi
    assert covered >= 34  # nominal 95%: 38 of 40 expected


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="same length"):
        compare_correlations([1, 2, 3], [1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="finite"):
        compare_correlations([1, 2, np.nan], [1, 2, 3], [1, 2, 3])
