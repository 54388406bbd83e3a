"""The exact kNN engine against a brute-force oracle (full matrix + stable argsort)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from oracles import distance_matrix, knn_oracle

import pairspace
from pairspace.neighbors import select_smallest

# Ties are the point of these oracle tests (integer clouds, duplicate rows): the tie warning they
# trigger is expected, and tests/neighbors/test_knn_hardening.py checks the warning itself.
pytestmark = pytest.mark.filterwarnings("ignore::pairspace.TiedNeighborsWarning")

METRICS = ["euclidean", "cosine", "inner"]


@st.composite
def integer_clouds(draw, min_rows=4, max_rows=24, max_dim=4, lo=-3, hi=3):
    """Small integer-valued clouds: exact distances in float64, many ties and duplicate rows."""
    n = draw(st.integers(min_rows, max_rows))
    d = draw(st.integers(1, max_dim))
    return draw(arrays(np.float64, (n, d), elements=st.integers(lo, hi).map(float)))


@settings(max_examples=60, deadline=None)
@given(X=integer_clouds(), data=st.data())
def test_euclidean_and_inner_equal_oracle_with_ties(X, data):
    """float64 input (direct refinement) and float32 input (float64-accumulated dot products)."""
    n = X.shape[0]
    k = data.draw(st.integers(1, n - 1))
    block = data.draw(st.sampled_from([None, 1, 3]))
    as_input = data.draw(st.sampled_from([np.float64, np.float32]))
    for metric in ("euclidean", "inner"):
        res = pairspace.knn(X.astype(as_input), k, metric, block_size=block)
        idx, dist = knn_oracle(X, k, metric)
        np.testing.assert_array_equal(res.indices, idx)
        np.testing.assert_allclose(res.distances, dist, atol=1e-9)


def _check_tie_robust(res_idx, X, k, metric, tol=1e-9):
    """Neighbors equal the oracle's up to distances tied within ``tol``."""
    D = distance_matrix(X, metric)
    np.fill_diagonal(D, np.inf)
    for i in range(X.shape[0]):
        kth = np.sort(D[i])[k - 1]
        got = D[i, res_idx[i]]
        assert np.all(np.diff(got) >= -tol)  # ascending
        assert np.all(got <= kth + tol)
        must = np.flatnonzero(D[i] < kth - tol)
        assert set(must) <= set(res_idx[i].tolist())
        assert i not in res_idx[i]


@settings(max_examples=60, deadline=None)
@given(X=integer_clouds(lo=-3, hi=3), data=st.data())
def test_cosine_equal_oracle_up_to_ties(X, data):
    X = X[np.linalg.norm(X, axis=1) > 0]
    if X.shape[0] < 3:
        return
    k = data.draw(st.integers(1, X.shape[0] - 1))
    res = pairspace.knn(X, k, "cosine", dtype=np.float64)
    _check_tie_robust(res.indices, X, k, "cosine")
    res32 = pairspace.knn(X.astype(np.float32), k, "cosine")
    _check_tie_robust(res32.indices, X, k, "cosine", tol=1e-6)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_continuous_data_equals_oracle_exactly(metric, dtype):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(150, 12))
    res = pairspace.knn(X, 15, metric, dtype=dtype, block_size=37)
    idx, dist = knn_oracle(X, 15, metric)
    np.testing.assert_array_equal(res.indices, idx)
    np.testing.assert_allclose(res.distances, dist, atol=1e-10)


def test_points_on_a_line_break_ties_by_lower_index():
    res = pairspace.knn(np.arange(8.0)[:, None], 1, metric="euclidean")
    assert res.indices.ravel().tolist() == [1, 0, 1, 2, 3, 4, 5, 6]
    res2 = pairspace.knn(np.arange(8.0)[:, None], 2, metric="euclidean")
    assert res2.indices[3].tolist() == [2, 4]


def test_duplicate_rows_exclude_self_by_index():
    X = np.array([[1.0, 0], [1.0, 0], [1.0, 0], [0, 5.0], [1.0, 0]])
    res = pairspace.knn(X, 3, "euclidean")
    assert res.indices[0].tolist() == [1, 2, 4]
    assert res.indices[2].tolist() == [0, 1, 4]
    assert res.indices[4].tolist() == [0, 1, 2]
    np.testing.assert_array_equal(res.distances[:3], 0.0)


def test_select_smallest_ties_go_to_lower_index():
    S = np.array([[3.0, 1.0, 1.0, 1.0, 0.0, 1.0]])
    assert sorted(select_smallest(S, 3)[0].tolist()) == [1, 2, 4]
    rng = np.random.default_rng(0)
    S = rng.integers(0, 3, size=(50, 40)).astype(float)
    for kk in (1, 5, 39, 40):
        got = np.sort(select_smallest(S, kk), axis=1)
        want = np.sort(np.argsort(S, axis=1, kind="stable")[:, :kk], axis=1)
        np.testing.assert_array_equal(got, want)


def test_inputs_lists_memmaps_torch_agree(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 5)).astype(np.float32)
    ref = pairspace.knn(X, 7, "cosine")
    np.save(tmp_path / "x.npy", X)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    np.testing.assert_array_equal(pairspace.knn(mm, 7, "cosine").indices, ref.indices)
    np.testing.assert_array_equal(pairspace.knn(X.tolist(), 7, "cosine").indices, ref.indices)
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(pairspace.knn(torch.from_numpy(X), 7, "cosine").indices,
                                  ref.indices)


def test_refine_off_and_float32_match_on_generic_data():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 8))
    a = pairspace.knn(X, 10, "euclidean", dtype=np.float64)
    b = pairspace.knn(X, 10, "euclidean", refine=False)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_allclose(a.distances, b.distances, rtol=1e-4)


def test_truncate_equals_smaller_search():
    X = np.random.default_rng(4).normal(size=(80, 6))
    big = pairspace.knn(X, 20, "euclidean")
    small = pairspace.knn(X, 5, "euclidean")
    np.testing.assert_array_equal(big.truncate(5).indices, small.indices)
    with pytest.raises(ValueError, match="truncate"):
        big.truncate(21)


def test_memory_budget_blocks_give_same_result():
    X = np.random.default_rng(5).normal(size=(300, 10))
    a = pairspace.knn(X, 9, "cosine")
    b = pairspace.knn(X, 9, "cosine", memory_budget=20_000)  # forces many small blocks
    np.testing.assert_array_equal(a.indices, b.indices)


@pytest.mark.parametrize(
    "X, k, metric, match",
    [
        (np.zeros((5, 2)) + [[1.0, 2.0]], 0, "euclidean", "out of range"),
        (np.ones((5, 2)), 5, "euclidean", "out of range"),
        (np.ones((5, 2)), 2.5, "euclidean", "out of range"),
        (np.ones(5), 1, "euclidean", "2-D"),
        (np.array([[1.0, np.nan], [1, 2], [3, 4]]), 1, "euclidean", "NaN"),
        (np.array([[1.0, np.inf], [1, 2], [3, 4]]), 1, "euclidean", "inf"),
        (np.array([[0.0, 0.0], [1, 2], [3, 4]]), 1, "cosine", "zero vector"),
        (np.ones((5, 2)), 1, "manhattan", "unknown metric"),
        ([[1, 2], [3]], 1, "euclidean", "numeric matrix"),
    ],
)
def test_bad_input_errors(X, k, metric, match):
    with pytest.raises(ValueError, match=match):
        pairspace.knn(X, k, metric)


# ----------------------------------------------------------- symmetric products (issue 15)
@settings(max_examples=60, deadline=None)
@given(X=integer_clouds(min_rows=3, max_rows=60, max_dim=3, lo=-2, hi=2), data=st.data())
def test_symmetric_path_equals_oracle_and_one_sided_path(X, data):
    """Tie-heavy integer clouds with duplicate rows, uneven blocks (n below and above one
    block): the symmetric products give the oracle's neighbors, and the same neighbors, order
    and distances as the one-sided path."""
    n = X.shape[0]
    k = data.draw(st.integers(1, n - 1))
    block = data.draw(st.integers(1, n + 3))
    metric = data.draw(st.sampled_from(["euclidean", "inner", "cosine"]))
    as_input = data.draw(st.sampled_from([np.float64, np.float32]))
    exact_distances = data.draw(st.booleans())
    if metric == "cosine":
        X = X.copy()
        X[np.all(X == 0, axis=1)] = 1.0
    A = X.astype(as_input)
    opts = dict(block_size=block, exact_distances=exact_distances)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pairspace.TiedNeighborsWarning)
        sym = pairspace.knn(A, k, metric, symmetric=True, **opts)
        one = pairspace.knn(A, k, metric, symmetric=False, **opts)
    assert sym.info["symmetric"] and not one.info["symmetric"]
    np.testing.assert_array_equal(sym.indices, one.indices)
    if exact_distances:
        np.testing.assert_array_equal(sym.distances, one.distances)
    else:  # distances of certain order keep the (path-dependent) working-dtype rounding
        np.testing.assert_allclose(sym.distances, one.distances, rtol=1e-5, atol=1e-5)
    assert sym.info["tied_rows"] == one.info["tied_rows"]
    if metric == "cosine":  # cosine distances of integer vectors are not exact in float64
        _check_tie_robust(sym.indices, X, k, metric)
    else:
        np.testing.assert_array_equal(sym.indices, knn_oracle(X, k, metric)[0])


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_symmetric_path_on_continuous_data_far_from_the_origin(metric, dtype):
    """Many blocks of uneven size; data far from the origin (the expanded euclidean form
    cancels), duplicated rows, and the default (automatic) choice above one block."""
    rng = np.random.default_rng(8)
    X = (20.0 + rng.standard_normal((700, 16))).astype(dtype)
    X[650:660] = X[3]
    idx, dist = knn_oracle(X, 12, metric)
    res = pairspace.knn(X, 12, metric, dtype=dtype, block_size=97, symmetric=True)
    np.testing.assert_array_equal(res.indices, idx)
    np.testing.assert_allclose(res.distances, dist, atol=1e-9)
    auto = pairspace.knn(X, 12, metric, dtype=dtype, memory_budget=5 * 150**2)
    assert auto.info["symmetric"]  # a 150-row block fits the budget: five blocks
    np.testing.assert_array_equal(auto.indices, idx)


def test_symmetric_needs_in_memory_cpu_data(tmp_path):
    X = np.random.default_rng(9).standard_normal((50, 4)).astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    with pytest.raises(ValueError, match="symmetric=True needs in-memory"):
        pairspace.knn(np.load(tmp_path / "x.npy", mmap_mode="r"), 3, symmetric=True)
    res = pairspace.knn(np.load(tmp_path / "x.npy", mmap_mode="r"), 3, memory_budget=5 * 20**2)
    assert not res.info["symmetric"]  # a memmap is streamed one-sided
