"""Paired comparisons over items and seeds: oracles, exact McNemar, symmetry and coverage."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pairspace.stats.paired import mean_interval, paired_difference


def _exact_mcnemar(n_up: int, n_down: int) -> float:
    """Two-sided exact McNemar p-value: binomial(n, 1/2) on the discordant pairs."""
    n = n_up + n_down
    if n == 0:
        return 1.0
    obs = abs(n_up - n_down)
    return sum(comb(n, j) for j in range(n + 1) if abs(2 * j - n) >= obs) / 2 ** n


def test_estimate_is_the_mean_of_per_seed_means():
    a = [np.array([1, 0, 1, 1]), np.array([0, 1]), np.array([1, 1, 1])]
    b = [np.array([0, 0, 1, 0]), np.array([0, 0]), np.array([1, 0, 0])]
    r = paired_difference(a, b, n_resamples=100, n_permutations=100)
    assert r.per_seed == pytest.approx((0.5, 0.5, 2 / 3))
    assert r.estimate == pytest.approx(np.mean([0.5, 0.5, 2 / 3]))
    assert r.n_items == 9 and r.n_seeds == 3


def test_identical_conditions_give_zero_and_p_one():
    a = [np.array([1, 0, 1, 1, 0])] * 3
    r = paired_difference(a, a, n_resamples=200, n_permutations=200)
    assert r.estimate == 0 and r.ci_low == 0 and r.ci_high == 0 and r.p_value == 1.0


@pytest.mark.parametrize("n_up,n_down", [(9, 1), (7, 2), (5, 5), (12, 0)])
def test_one_seed_of_binary_outcomes_matches_exact_mcnemar(n_up, n_down):
    # n_up items right only in a, n_down right only in b, 6 concordant items.
    a = np.r_[np.ones(n_up), np.zeros(n_down), [1, 1, 1, 0, 0, 0]]
    b = np.r_[np.zeros(n_up), np.ones(n_down), [1, 1, 1, 0, 0, 0]]
    r = paired_difference(a, b, n_resamples=10, n_permutations=40_000, seed=3)
    # Monte Carlo standard error of a p near 0.5 with 40,000 draws is 0.0025.
    assert r.p_value == pytest.approx(_exact_mcnemar(n_up, n_down), abs=0.012)


def test_sign_flip_p_against_full_enumeration():
    d_a = [np.array([0.3, 0.0, 1.2, -0.4]), np.array([0.8, 0.5, 0.1])]
    zeros = [np.zeros(4), np.zeros(3)]
    obs = np.mean([v.mean() for v in d_a])
    flat = [(s, i) for s, v in enumerate(d_a) for i in range(v.size)]
    count = 0
    for signs in itertools.product([-1, 1], repeat=len(flat)):
        stat = np.zeros(2)
        for sg, (s, i) in zip(signs, flat, strict=True):
            stat[s] += sg * d_a[s][i] / d_a[s].size
        count += abs(stat.mean()) >= abs(obs) - 1e-12
    exact = count / 2 ** len(flat)
    r = paired_difference(d_a, zeros, n_resamples=10, n_permutations=40_000, seed=1)
    assert r.p_value == pytest.approx(exact, abs=0.012)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.integers(0, 1), min_size=2, max_size=12), min_size=1, max_size=4),
       st.integers(0, 2 ** 16))
def test_swapping_conditions_negates_the_difference(rows, seed):
    rng = np.random.default_rng(seed)
    a = [np.array(r) for r in rows]
    b = [rng.integers(0, 2, size=len(r)) for r in rows]
    ab = paired_difference(a, b, n_resamples=100, n_permutations=100, seed=seed)
    ba = paired_difference(b, a, n_resamples=100, n_permutations=100, seed=seed)
    assert ab.estimate == pytest.approx(-ba.estimate)
    assert ab.ci_low == pytest.approx(-ba.ci_high) and ab.ci_high == pytest.approx(-ba.ci_low)
    assert ab.p_value == pytest.approx(ba.p_value)
    assert ab.ci_low <= ab.estimate <= ab.ci_high


def test_a_large_planted_effect_is_found_and_no_effect_is_not():
    rng = np.random.default_rng(0)
    base = [rng.integers(0, 2, size=150) for _ in range(3)]
    better = [np.where(rng.random(v.size) < 0.3, 1, v) for v in base]
    r = paired_difference(better, base, n_resamples=500, n_permutations=2000)
    assert r.ci_low > 0 and r.p_value < 1e-3
    noise = [np.where(rng.random(v.size) < 0.1, 1 - v, v) for v in base]
    # Flipping 10 % of outcomes at random in both directions is no systematic effect.
    r0 = paired_difference(noise, base, n_resamples=500, n_permutations=2000)
    assert r0.ci_low <= 0 <= r0.ci_high


def test_interval_coverage_of_the_items_scheme():
    # One seed, true difference 0.2 of Bernoulli outcomes: the 90 % interval covers it about 90 %
    # of the time (binomial 95 % band for 200 trials: 0.85-0.94).
    rng = np.random.default_rng(7)
    hits = 0
    for t in range(200):
        b = (rng.random(120) < 0.4).astype(float)
        a = np.maximum(b, rng.random(120) < 1 / 3)  # P(a) = 0.6, P(a-b = 1) = 0.2
        r = paired_difference(a, b, level=0.9, n_resamples=300, n_permutations=0, scheme="items",
                              seed=t)
        hits += r.ci_low <= 0.2 <= r.ci_high
    assert 0.83 <= hits / 200 <= 0.96


def test_mean_interval_and_errors():
    m = mean_interval([np.ones(5), np.zeros(5)], n_resamples=300)
    assert m["estimate"] == 0.5 and m["per_seed"] == [1.0, 0.0]
    assert m["ci_low"] <= 0.5 <= m["ci_high"]
    # Seeds kept fixed: no item varies within a seed, so the interval is a point.
    s = mean_interval([np.ones(5), np.zeros(5)], n_resamples=300, scheme="items")
    assert s["ci_low"] == s["ci_high"] == 0.5
    with pytest.raises(ValueError, match="same items"):
        paired_difference([np.ones(3)], [np.ones(4)])
    with pytest.raises(ValueError, match="seeds"):
        paired_difference([np.ones(3)], [np.ones(3), np.ones(3)])
    with pytest.raises(ValueError, match="NaN"):
        paired_difference([np.array([1.0, np.nan])], [np.ones(2)])
    with pytest.raises(ValueError, match="scheme"):
        paired_difference([np.ones(2)], [np.ones(2)], scheme="clips")
