"""The measure registry: one entry is all a new measure needs (statistics and the suite follow)."""

import numpy as np
import pytest

from pairspace.measures import mutual_knn
from pairspace.measures.graph_scores import CountScorer
from pairspace.measures.registry import MEASURES, MeasureInfo, get_measure, register_measure
from pairspace.stats import bootstrap_ci, permutation_test
from pairspace.studies.compare import compare_spaces


def _shared(X, Y, k, metric="cosine", metric_y=None, **kw):
    return k * mutual_knn(X, Y, k, metric=metric, metric_y=metric_y, **kw)


@pytest.fixture
def toy_measure():
    """A kNN measure defined only here: the mean number of shared neighbors."""
    def limits(n, dx, dy):
        if n > 1000:
            raise ValueError(f"toy_shared refuses n={n}")

    info = register_measure(MeasureInfo(
        "toy_shared", _shared, (0.0, float("inf")), True, ("ranks",), "O(nk)",
        "mean number of shared neighbors", "this test",
        item_scorer=lambda A, B, ix, iy, k: CountScorer(ix, k, lambda c, k: c), limits=limits))
    yield info
    MEASURES._entries.pop("toy_shared")


def related(n=90, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    return X, X @ rng.normal(size=(5, 4)) + 0.5 * rng.normal(size=(n, 4))


def test_one_registration_serves_tests_intervals_and_the_suite(toy_measure):
    X, Y = related()
    assert get_measure("toy_shared").kind == "knn"
    res = permutation_test(X, Y, "toy_shared", k=6, n_permutations=5, seed=2, metric="euclidean")
    ref = permutation_test(X, Y, "mutual_knn", k=6, n_permutations=5, seed=2, metric="euclidean")
    np.testing.assert_allclose(res.null, 6 * ref.null, rtol=1e-12)
    assert res.observed == pytest.approx(_shared(X, Y, 6, metric="euclidean"))
    ci = bootstrap_ci(X, Y, "toy_shared", k=6, n_resamples=20, seed=1, metric="euclidean")
    ci_ref = bootstrap_ci(X, Y, "mutual_knn", k=6, n_resamples=20, seed=1, metric="euclidean")
    np.testing.assert_allclose(ci.replicates, 6 * ci_ref.replicates, rtol=1e-12)
    out = compare_spaces(X, Y, measures=["toy_shared", "nngs"], ks=[6], k_max=10,
                         metric="euclidean", permutations=3)
    assert out.row("toy_shared", 6).value == pytest.approx(_shared(X, Y, 6, metric="euclidean"))
    assert out.to_dict()["results"]["measures_info"]["toy_shared"]["reference"] == "this test"


def test_limits_are_checked_by_every_entry_point(toy_measure):
    X = np.random.default_rng(0).normal(size=(1001, 2))
    for call in (lambda: permutation_test(X, X, "toy_shared", n_permutations=2),
                 lambda: bootstrap_ci(X, X, "toy_shared"),
                 lambda: compare_spaces(X, X, measures=["toy_shared"])):
        with pytest.raises(ValueError, match="toy_shared refuses n=1001"):
            call()


def test_registry_rejects_duplicates_and_lists_names():
    with pytest.raises(ValueError, match="already registered"):
        register_measure(get_measure("nngs"))
    assert "nngs" in MEASURES and MEASURES.entry("gulp").meta["kind"] == "global"
