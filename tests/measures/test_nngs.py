"""NNGS against a brute-force oracle, its published values, its properties and its chance level."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from oracles import nngs_oracle

import pairspace
from pairspace.cli import main as cli_main
from pairspace.measures.overlap import overlap_counts


def _paper_rotation():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 16))
    A = rng.normal(size=(16, 16))
    Q, R = np.linalg.qr(A)
    Q = Q * np.sign(np.diag(R))[None, :]
    E = rng.normal(size=(200, 16))
    return X, X @ Q + 0.1 * E


# ---------------------------------------------------------------- published reference values
@pytest.mark.parametrize("k, want", [(1, 0.75), (2, 1.0), (3, 1.0)])
def test_published_toy_line(k, want):
    X = [[0], [1], [3], [7]]
    Y = [[0], [2], [3], [10]]
    assert abs(pairspace.nngs(X, Y, k, metric="euclidean", dtype=np.float64) - want) <= 1e-12


@pytest.mark.parametrize(
    "metric, k, want",
    [("euclidean", 3, 0.7205), ("euclidean", 10, 0.7555194805194794),
     ("cosine", 5, 0.7691666666666666), ("cosine", 20, 0.8166871823828318)],
)
def test_published_noisy_rotation(metric, k, want):
    X, Y = _paper_rotation()
    assert abs(pairspace.nngs(X, Y, k, metric=metric, dtype=np.float64) - want) <= 1e-12
    curve = pairspace.nngs_curve(X, Y, 20, metric=metric, dtype=np.float64)
    assert abs(curve.at(k) - want) <= 1e-12


def test_published_chance_values():
    assert abs(pairspace.nngs_chance(200, 20, method="approx") - 0.05291005291005291) <= 1e-15
    assert abs(pairspace.nngs_chance(100, 1) - 1 / 99) <= 1e-15
    assert round(pairspace.nngs_chance(200, 10), 6) == 0.027061


# ---------------------------------------------------------------- oracle equality
@st.composite
def paired_integer_clouds(draw):
    n = draw(st.integers(3, 18))
    dx, dy = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    el = st.integers(-3, 3).map(float)
    return draw(arrays(np.float64, (n, dx), elements=el)), draw(arrays(np.float64, (n, dy), elements=el))


@pytest.mark.filterwarnings("ignore::pairspace.TiedNeighborsWarning")  # integer clouds: ties on purpose
@settings(max_examples=60, deadline=None)
@given(XY=paired_integer_clouds(), data=st.data())
def test_nngs_and_every_curve_point_equal_oracle(XY, data):
    """Integer data: exact distances, many ties and duplicate rows (euclidean and inner)."""
    X, Y = XY
    n = X.shape[0]
    mx = data.draw(st.sampled_from(["euclidean", "inner"]))
    my = data.draw(st.sampled_from(["euclidean", "inner"]))
    k = data.draw(st.integers(1, n - 1))
    value = pairspace.nngs(X, Y, k, metric=mx, metric_y=my, dtype=np.float64)
    J = pairspace.nngs_per_item(X, Y, k, metric=mx, metric_y=my, dtype=np.float64)
    want, Jw = nngs_oracle(X, Y, k, mx, my)
    assert value == pytest.approx(want, abs=1e-12)
    np.testing.assert_allclose(J, Jw, atol=1e-12)
    curve = pairspace.nngs_curve(X, Y, n - 1, metric=mx, metric_y=my, dtype=np.float64)
    for kk in range(1, n):
        assert curve.at(kk) == pytest.approx(nngs_oracle(X, Y, kk, mx, my)[0], abs=1e-12)


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "inner"])
def test_curve_equals_oracle_on_continuous_data(metric):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 5))
    Y = X[:, :3] + 0.5 * rng.normal(size=(60, 3))
    curve = pairspace.nngs_curve(X, Y, 59, metric=metric)
    for k in range(1, 60):
        assert curve.at(k) == pytest.approx(nngs_oracle(X, Y, k, metric)[0], abs=1e-12)


def test_curve_uses_one_search_per_space(monkeypatch):
    import pairspace.neighbors as nb

    calls = []
    real = nb.knn

    def counting(*a, **kw):
        calls.append(a[1])
        return real(*a, **kw)

    monkeypatch.setattr(nb, "knn", counting)
    X, Y = _paper_rotation()
    pairspace.nngs_curve(X, Y, 50)
    assert calls == [50, 50]


def test_overlap_counts_against_sets():
    rng = np.random.default_rng(1)
    n, K = 40, 9
    ix = np.array([rng.permutation(n)[:K] for _ in range(n)])
    iy = np.array([rng.permutation(n)[:K] for _ in range(n)])
    counts = overlap_counts(ix, iy, K, memory_budget=50 * 18)  # several blocks
    for i in range(n):
        for k in range(1, K + 1):
            assert counts[i, k - 1] == len(set(ix[i, :k]) & set(iy[i, :k]))


# ---------------------------------------------------------------- properties
def test_symmetry_range_and_full_k():
    X, Y = _paper_rotation()
    for k in (1, 7, 0.2):
        a, b = pairspace.nngs(X, Y, k), pairspace.nngs(Y, X, k)
        assert a == b and 0.0 <= a <= 1.0
    assert pairspace.nngs(X, np.random.default_rng(9).normal(size=(200, 3)), 199) == 1.0


def test_euclidean_invariances():
    X, Y = _paper_rotation()
    base = pairspace.nngs_curve(X, Y, 30, metric="euclidean", dtype=np.float64).nngs
    Q, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(16, 16)))
    moved = 3.7 * (Y @ Q) + 11.0
    np.testing.assert_array_equal(
        pairspace.nngs_curve(X, moved, 30, metric="euclidean", dtype=np.float64).nngs, base)


def test_cosine_per_row_positive_scaling_invariance():
    X, Y = _paper_rotation()
    s = np.random.default_rng(3).uniform(0.1, 10, size=(200, 1))
    a = pairspace.nngs_curve(X, Y, 25).nngs
    b = pairspace.nngs_curve(X * s, Y, 25).nngs
    np.testing.assert_array_equal(a, b)


def test_joint_permutation_invariance_and_per_item_follow():
    X, Y = _paper_rotation()
    p = np.random.default_rng(4).permutation(200)
    J, Jp = pairspace.nngs_per_item(X, Y, 8), pairspace.nngs_per_item(X[p], Y[p], 8)
    assert pairspace.nngs(X, Y, 8) == pytest.approx(pairspace.nngs(X[p], Y[p], 8), abs=1e-12)
    assert pairspace.nngs(X, Y, 8) == pytest.approx(J.mean(), abs=1e-15)
    np.testing.assert_allclose(Jp, J[p])


def test_return_per_item_is_deprecated_but_still_answers():
    X, Y = _paper_rotation()
    with pytest.warns(DeprecationWarning, match="nngs_per_item"):
        v, J = pairspace.nngs(X, Y, 8, return_per_item=True)
    assert v == pairspace.nngs(X, Y, 8)
    np.testing.assert_array_equal(J, pairspace.nngs_per_item(X, Y, 8))


def test_identical_spaces_score_one_and_metric_y():
    X, _ = _paper_rotation()
    assert pairspace.nngs(X, X.copy(), 10) == 1.0
    # Different metrics per space: inner on scaled rows differs from cosine.
    v = pairspace.nngs(X, X, 10, metric="cosine", metric_y="euclidean")
    assert v == pytest.approx(nngs_oracle(X, X, 10, "cosine", "euclidean")[0], abs=1e-12)


# ---------------------------------------------------------------- chance level
def test_chance_exact_equals_enumeration():
    n, k = 7, 2
    others = range(n - 1)
    subsets = list(itertools.combinations(others, k))
    mean = np.mean([len(set(a) & set(b)) / len(set(a) | set(b)) for a in subsets for b in subsets])
    assert pairspace.nngs_chance(n, k) == pytest.approx(mean, abs=1e-14)


@pytest.mark.parametrize("n", [3, 8, 101, 2000, 30001])
def test_chance_equals_the_hypergeometric_sum_of_scipy(n):
    """The vectorized ratio recurrence against scipy's hypergeometric pmf, k by k, including
    k > (n - 1) / 2 (where the support starts above 0) and k = n - 1."""
    from scipy import stats

    ks = np.unique(np.r_[1, 2, np.arange(1, n, max(1, n // 37)), n // 2, (n + 1) // 2, n - 2, n - 1])
    ks = ks[(ks >= 1) & (ks <= n - 1)]
    want = []
    for k in ks:
        x = np.arange(k + 1)
        want.append(np.sum(x / (2.0 * k - x) * stats.hypergeom.pmf(x, n - 1, k, k)))
    np.testing.assert_allclose(pairspace.nngs_chance(n, ks), want, rtol=1e-12, atol=1e-15)


def test_chance_matches_random_graphs_and_normalization():
    rng = np.random.default_rng(0)
    n, K = 300, 40
    ix = np.array([rng.permutation(n)[:K] for _ in range(n)])  # K of n 'other' items
    iy = np.array([rng.permutation(n)[:K] for _ in range(n)])
    from pairspace.measures.nngs import jaccard_from_counts

    sim = jaccard_from_counts(overlap_counts(ix, iy), np.arange(1, K + 1)).mean(0)
    exact = pairspace.nngs_chance(n + 1, np.arange(1, K + 1))
    np.testing.assert_allclose(sim, exact, atol=0.01)
    X, Y = _paper_rotation()
    c = pairspace.nngs_curve(X, Y, 199)
    assert np.isnan(c.normalized[-1]) and c.chance[-1] == pytest.approx(1.0)
    np.testing.assert_allclose(c.normalized[:-1], (c.nngs[:-1] - c.chance[:-1]) / (1 - c.chance[:-1]))
    assert c.to_dict()["normalized"][-1] is None


def test_chance_approx_vs_exact_for_large_n():
    k = np.array([5, 50])
    exact = pairspace.nngs_chance(10_000, k)
    approx = pairspace.nngs_chance(10_000, k, method="approx")
    assert np.all(np.abs(exact - approx) < 0.01)


# ---------------------------------------------------------------- errors
_R = np.random.default_rng(11)


@pytest.mark.parametrize(
    "X, Y, k, match",
    [
        (np.ones((5, 2)), np.ones((4, 2)), 1, "same number of rows"),
        (np.ones((2, 2)), np.ones((2, 2)), 1, "at least 3 rows"),
        (_R.random((10, 2)), _R.random((10, 2)), 0.05, "floors to 0"),
        (_R.random((10, 2)), _R.random((10, 2)), 10, "out of range"),
        (_R.random((10, 2)), _R.random((10, 2)), 0, "out of range"),
        (_R.random((10, 2)), _R.random((10, 2)), 1.5, r"\(0, 1\)"),
        (_R.random((10, 2)), _R.random((10, 2)), True, "bool"),
        (_R.random(10), _R.random((10, 2)), 1, "2-D"),
        (np.full((5, 2), np.nan), np.ones((5, 2)), 1, "NaN"),
        (np.vstack([np.zeros((1, 2)), _R.random((4, 2))]), _R.random((5, 2)), 1, "zero vector"),
    ],
)
def test_bad_input_errors(X, Y, k, match):
    with pytest.raises(ValueError, match=match):
        pairspace.nngs(X, Y, k)


def test_float_k_is_floor_fraction():
    X, Y = _paper_rotation()
    assert pairspace.nngs(X, Y, 0.2) == pairspace.nngs(X, Y, 40)
    assert pairspace.nngs_chance(23, 0.2) == pairspace.nngs_chance(23, 4)


# ---------------------------------------------------------------- CLI
def test_compare_cli_writes_json_and_plot(tmp_path, capsys):
    X, Y = _paper_rotation()
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", Y)
    out = tmp_path / "out"
    code = cli_main(["compare", str(tmp_path / "X.npy"), str(tmp_path / "Y.npy"), "--metric",
                     "cosine", "--k", "3", "10", "--k-max", "50", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "normalized" in printed
    res = json.loads((out / "results.json").read_text())
    assert res["schema"].startswith("pairspace.compare/")
    assert res["results"]["nngs"]["10"] == pytest.approx(pairspace.nngs(X, Y, 10), abs=1e-12)
    assert (out / "curve.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_cli_reports_missing_file(tmp_path, capsys):
    assert cli_main(["compare", str(tmp_path / "nope.npy"), str(tmp_path / "nope.npy")]) == 2
    assert "not found" in capsys.readouterr().err


def test_curve_repr_is_one_line_and_to_pandas_holds_the_arrays() -> None:
    pytest.importorskip("pandas")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 8))
    curve = pairspace.nngs_curve(X, X + 0.1 * rng.normal(size=X.shape), 50, metric="euclidean")
    text = repr(curve)
    assert "\n" not in text and "array" not in text and len(text) < 200
    assert f"nngs@50={curve.nngs[-1]:.4f}" in text and "k=1..50" in text
    df = curve.to_pandas()
    assert list(df.index) == list(curve.k)
    np.testing.assert_array_equal(df["nngs"].to_numpy(), curve.nngs)
    np.testing.assert_array_equal(df["normalized"].to_numpy(), curve.normalized)
    assert "<table>" in curve._repr_html_() and f"{curve.at(10):.4f}" in curve._repr_html_()
