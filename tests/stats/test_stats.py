"""Permutation tests, intervals and per-item disagreement against brute-force recomputation."""

import numpy as np
import pytest
from scipy import stats as sps

from pairspace import knn, nngs, nngs_curve, nngs_per_item
from pairspace.measures.cka import linear_cka
from pairspace.measures.gulp import procrustes
from pairspace.measures.knn_measures import cknna, mutual_knn
from pairspace.measures.overlap import shared_counts
from pairspace.stats import (
    bootstrap_ci,
    item_disagreement,
    null_curve,
    p_value,
    permutation_test,
    relabel_graph,
)


def related(n=80, seed=0, noise=0.4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    return X, X @ rng.normal(size=(6, 5)) + noise * rng.normal(size=(n, 5))


def test_relabel_graph_equals_a_new_search():
    _, Y = related(120)
    perm = np.random.default_rng(1).permutation(120)
    g = knn(Y, 7, "euclidean", dtype=np.float64)
    g_perm = knn(Y[perm], 7, "euclidean", dtype=np.float64)
    np.testing.assert_array_equal(relabel_graph(g.indices, perm), g_perm.indices)


@pytest.mark.parametrize("k", [3, 40])  # broadcast path and overlap_counts path
def test_shared_counts_brute_force(k):
    rng = np.random.default_rng(k)
    ix = np.stack([rng.choice(100, k, replace=False) for _ in range(100)])
    iy = np.stack([rng.choice(100, k, replace=False) for _ in range(100)])
    ref = [len(set(a) & set(b)) for a, b in zip(ix, iy, strict=True)]
    np.testing.assert_array_equal(shared_counts(ix, iy), ref)


@pytest.mark.parametrize("measure,fn", [("nngs", nngs), ("mutual_knn", mutual_knn),
                                        ("cknna", cknna)])
def test_knn_null_equals_recomputation_on_permuted_rows(measure, fn):
    X, Y = related()
    res = permutation_test(X, Y, measure, k=5, n_permutations=6, seed=3, metric="euclidean",
                           dtype=np.float64)
    rng = np.random.default_rng(3)
    ref = [fn(X, Y[rng.permutation(len(X))], 5, metric="euclidean", dtype=np.float64)
           for _ in range(6)]
    np.testing.assert_allclose(res.null, ref, rtol=1e-10, atol=1e-12)
    assert res.observed == pytest.approx(fn(X, Y, 5, metric="euclidean", dtype=np.float64))
    assert res.p_value == pytest.approx(1 / 7)  # related spaces beat every shuffle


def test_global_measures_and_direction():
    X, Y = related()
    res = permutation_test(X, Y, "linear_cka", n_permutations=5, seed=4)
    rng = np.random.default_rng(4)
    np.testing.assert_allclose(res.null, [linear_cka(X, Y[rng.permutation(80)]) for _ in range(5)])
    dist = permutation_test(X, Y, "procrustes", n_permutations=20, seed=0)
    assert not dist.higher_is_similar
    assert dist.observed == pytest.approx(procrustes(X, Y))
    assert dist.p_value == pytest.approx(1 / 21)  # smaller distance than every shuffle
    assert p_value(0.5, np.array([0.1, 0.5, 0.9])) == pytest.approx(3 / 4)
    assert p_value(0.5, np.array([0.1, 0.5, 0.9]), higher_is_similar=False) == pytest.approx(3 / 4)
    assert set(res.to_dict()) >= {"observed", "p_value", "null_q025", "null_q975"}


def test_permutation_p_values_are_uniform_under_the_null():
    rng = np.random.default_rng(12345)
    ps = []
    for _ in range(300):
        X, Y = rng.normal(size=(40, 3)), rng.normal(size=(40, 3))
        ps.append(permutation_test(X, Y, "nngs", k=4, n_permutations=49,
                                   seed=int(rng.integers(2**31)), metric="euclidean").p_value)
    ps = np.asarray(ps)
    # p takes the values j/50; deciles of a discrete uniform are equally likely (5 values each)
    counts = np.histogram(ps, bins=np.linspace(0, 1, 11) + 1e-9)[0]
    assert sps.chisquare(counts).pvalue > 0.001
    assert 0.02 < np.mean(ps <= 0.1) < 0.2


def test_bad_arguments():
    X, Y = related()
    with pytest.raises(ValueError, match="n_permutations"):
        permutation_test(X, Y, n_permutations=0)
    with pytest.raises(ValueError, match="unknown measure"):
        permutation_test(X, Y, "nope")
    with pytest.raises(ValueError, match="subsample"):
        bootstrap_ci(X, Y, "nngs", scheme="subsample")
    with pytest.raises(ValueError, match="global"):
        bootstrap_ci(X, Y, "linear_cka", scheme="items")
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci(X, Y, level=1.5)


def test_item_bootstrap_replicates_by_hand():
    X, Y = related(60)
    res = bootstrap_ci(X, Y, "nngs", k=4, n_resamples=50, seed=9, metric="euclidean")
    J = nngs_per_item(X, Y, 4, metric="euclidean")
    rng = np.random.default_rng(9)
    ref = J[rng.integers(0, 60, size=(50, 60))].mean(1)
    np.testing.assert_allclose(res.replicates, ref)
    assert res.low <= res.estimate <= res.high
    assert res.estimate == pytest.approx(J.mean())
    c = bootstrap_ci(X, Y, "cknna", k=4, n_resamples=30, seed=1, metric="euclidean")
    assert c.estimate == pytest.approx(cknna(X, Y, 4, metric="euclidean"))
    assert c.low <= c.estimate <= c.high


def test_subsampling_interval_by_hand():
    X, Y = related(100)
    res = bootstrap_ci(X, Y, "linear_cka", n_resamples=40, seed=2)
    rng = np.random.default_rng(2)
    reps = []
    for _ in range(40):
        idx = np.sort(rng.choice(100, 50, replace=False))
        reps.append(linear_cka(X[idx], Y[idx]))
    est = linear_cka(X, Y)
    lo, hi = np.quantile(np.asarray(reps) - np.median(reps), [0.025, 0.975])
    assert res.low == pytest.approx(est - np.sqrt(0.5) * hi)
    assert res.high == pytest.approx(est - np.sqrt(0.5) * lo)
    assert res.subsample_size == 50
    assert res.low < est < res.high


def test_item_interval_narrows_with_more_items():
    small = bootstrap_ci(*related(100, seed=1), "nngs", k=5, n_resamples=300)
    large = bootstrap_ci(*related(1600, seed=1), "nngs", k=5, n_resamples=300)
    assert (large.high - large.low) < 0.5 * (small.high - small.low)


def test_item_disagreement_and_null_curve():
    X, Y = related(90)
    gx, gy = knn(X, 10, "euclidean"), knn(Y, 10, "euclidean")
    ids = [f"item{i}" for i in range(90)]
    d = item_disagreement(gx, gy, 6, ids)
    J = nngs_per_item(X, Y, 6, metric="euclidean")
    np.testing.assert_allclose(d.jaccard, J)
    top = d.top(5)
    assert [t["jaccard"] for t in top] == sorted(J)[:5]
    assert top[0]["id"] == ids[top[0]["index"]]
    assert top[0]["neighbors_x"][0] == ids[gx.indices[top[0]["index"], 0]]
    assert d.to_dict(3)["mean_jaccard"] == pytest.approx(J.mean())
    with pytest.raises(ValueError, match="ids"):
        item_disagreement(gx, gy, 6, ids[:-1])

    band = null_curve(gx, gy, [1, 3, 10], n_permutations=4, seed=5)
    rng = np.random.default_rng(5)
    for b in range(4):
        c = nngs_curve(X, Y[rng.permutation(90)], [1, 3, 10], metric="euclidean")
        np.testing.assert_allclose(band[b], c.nngs)


def test_platonic_option_in_the_permutation_test():
    X, Y = related(70)
    res = permutation_test(X, Y, "mutual_knn", k=4, n_permutations=3, seed=8, platonic=True)
    rng = np.random.default_rng(8)
    ref = [mutual_knn(X, Y[rng.permutation(70)], 4, platonic=True) for _ in range(3)]
    np.testing.assert_allclose(res.null, ref)
    assert res.observed == pytest.approx(mutual_knn(X, Y, 4, platonic=True))
    with pytest.raises(ValueError, match="platonic"):
        permutation_test(X, Y, "nngs", platonic=True)
