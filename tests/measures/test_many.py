"""Matrices over many spaces against the pairwise measures, an oracle, and their properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import nngs_oracle

import pairspace
from pairspace.data.table import EmbeddingTable
from pairspace.measures import many


def _spaces(n: int = 150, seed: int = 0) -> list[np.ndarray]:
    """Four paired spaces: a cloud, a noisy linear map of it, a noisy copy, and an unrelated one."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 12))
    return [X, X @ rng.normal(size=(12, 7)) + 0.4 * rng.normal(size=(n, 7)),
            X + 0.6 * rng.normal(size=(n, 12)), rng.normal(size=(n, 5))]


def _pairwise(fn, sp, *args, **kw):
    M = len(sp)
    out = np.eye(M)
    for a in range(M):
        for b in range(M):
            if a != b:
                out[a, b] = fn(sp[a], sp[b], *args, **kw)
    return out


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_int_k_equals_pairwise_nngs(metric):
    sp = _spaces()
    got = pairspace.nngs_matrix(sp, 7, metric)
    assert got.shape == (4, 4)
    np.testing.assert_allclose(got, _pairwise(pairspace.nngs, sp, 7, metric), rtol=0, atol=1e-12)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_sequence_of_k_equals_pairwise_nngs(metric):
    sp = _spaces(seed=1)
    ks = [40, 1, 0.1, 12]  # given order is kept; 0.1 means floor(0.1 n) = 15
    got = pairspace.nngs_matrix(sp, ks, metric)
    assert got.shape == (4, 4, 4)
    for i, k in enumerate(ks):
        np.testing.assert_allclose(got[i], _pairwise(pairspace.nngs, sp, k, metric),
                                   rtol=0, atol=1e-12)


def test_against_the_set_oracle_in_float64():
    sp = _spaces(n=60, seed=2)
    got = pairspace.nngs_matrix(sp, [3, 9], "euclidean", dtype=np.float64)
    for i, k in enumerate([3, 9]):
        for a in range(4):
            for b in range(a + 1, 4):
                assert abs(got[i, a, b] - nngs_oracle(sp[a], sp[b], k, "euclidean")[0]) <= 1e-12


def test_mapping_input_of_tables_arrays_and_files_aligned_by_id(tmp_path):
    sp = _spaces(seed=3)
    n = sp[0].shape[0]
    ids = [f"item{i}" for i in range(n)]
    perm = np.random.default_rng(0).permutation(n)
    shuffled = EmbeddingTable([ids[p] for p in perm], sp[1][perm].astype(np.float32))
    path = tmp_path / "c.npy"
    np.save(path, sp[2])  # a .npy file has no ids: paired with arrays by position
    named = {"a": EmbeddingTable(ids, sp[0]), "b": shuffled,
             "c": EmbeddingTable(ids, sp[2]), "d": EmbeddingTable(ids, sp[3])}
    got = pairspace.nngs_matrix(named, 9)
    want = _pairwise(pairspace.nngs, [sp[0], sp[1].astype(np.float32), sp[2], sp[3]], 9)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    by_position = pairspace.nngs_matrix({"a": sp[0], "file": str(path), "d": sp[3]}, 9)
    np.testing.assert_allclose(by_position, want[np.ix_([0, 2, 3], [0, 2, 3])], rtol=0, atol=1e-12)


def test_matrix_properties_diagonal_symmetry_range():
    sp = _spaces(seed=4)
    res = pairspace.nngs_spectra(sp, 30)
    assert res.nngs.shape == (30, 4, 4)
    assert np.all(res.nngs[:, np.arange(4), np.arange(4)] == 1.0)
    np.testing.assert_array_equal(res.nngs, res.nngs.transpose(0, 2, 1))
    assert np.all((res.nngs >= 0) & (res.nngs <= 1))
    np.testing.assert_allclose(res.chance, pairspace.nngs_chance(res.n, np.arange(1, 31)))
    np.testing.assert_allclose(res.normalized,
                               (res.nngs - res.chance[:, None, None]) / (1 - res.chance[:, None, None]))
    # the copy with noise is closer to X than the unrelated space is, at every k
    assert np.all(res.normalized[:, 0, 2] > res.normalized[:, 0, 3])
    curve = pairspace.nngs_curve(sp[0], sp[2], 30)
    np.testing.assert_allclose(res.pair(0, 2)["nngs"], curve.nngs, rtol=0, atol=1e-12)
    doc = res.to_dict()
    assert doc["names"] == ["0", "1", "2", "3"] and len(doc["nngs"]) == 30


def test_one_search_per_space(monkeypatch):
    calls = []
    real = pairspace.neighbors.knn

    def counting(X, k, *a, **kw):
        calls.append(k)
        return real(X, k, *a, **kw)

    monkeypatch.setattr(pairspace.neighbors, "knn", counting)
    pairspace.nngs_matrix(_spaces(), [5, 20, 10])
    assert calls == [20, 20, 20, 20]


def test_spilled_lists_give_the_same_values(tmp_path):
    sp = _spaces(seed=5)
    with many.search_spaces(sp, 25, graph_budget=1, spill_dir=tmp_path) as g:
        assert g.spilled is not None and g.spilled.parent == tmp_path
        assert isinstance(g.sorted_ids, np.memmap)
        spilled = g.nngs([1, 25])
        for s in range(4):  # the rebuilt nearest-first lists are the search's
            np.testing.assert_array_equal(g.neighbors(s),
                                          pairspace.knn(sp[s], 25, exact_distances=False).indices)
        folder = g.spilled
    assert not folder.exists()
    np.testing.assert_array_equal(spilled, pairspace.nngs_matrix(sp, [1, 25]))


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_mutual_knn_and_cknna_matrices_equal_pairwise(metric):
    sp = _spaces(seed=6)
    np.testing.assert_allclose(pairspace.mutual_knn_matrix(sp, 8, metric),
                               _pairwise(pairspace.mutual_knn, sp, 8, metric), rtol=0, atol=1e-12)
    got = pairspace.cknna_matrix(sp, 8, metric)
    np.testing.assert_allclose(got, _pairwise(pairspace.cknna, sp, 8, metric), rtol=0, atol=1e-10)
    np.testing.assert_array_equal(got, got.T)


def test_cknna_at_a_k_below_the_kept_width():
    sp = _spaces(seed=7)
    with many.search_spaces(sp, 30) as g:
        got = g.cknna(6)
    np.testing.assert_allclose(got, _pairwise(pairspace.cknna, sp, 6), rtol=0, atol=1e-10)


@pytest.mark.parametrize("debiased", [False, True])
def test_linear_cka_matrix_equals_pairwise(debiased):
    sp = _spaces(seed=8)
    got = pairspace.linear_cka_matrix(sp, debiased=debiased)
    want = _pairwise(pairspace.linear_cka, sp, debiased=debiased)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)
    wide = [s[:10] for s in sp]  # fewer items than features
    np.testing.assert_allclose(pairspace.linear_cka_matrix(wide),
                               _pairwise(pairspace.linear_cka, wide), rtol=0, atol=1e-10)


@pytest.mark.filterwarnings("ignore::pairspace.TiedNeighborsWarning")
@settings(max_examples=25, deadline=None)
@given(st.integers(4, 30), st.integers(0, 10_000), st.sampled_from(["cosine", "euclidean"]))
def test_property_equals_pairwise_on_integer_clouds(n, seed, metric):
    rng = np.random.default_rng(seed)
    sp = [rng.integers(-3, 4, size=(n, d)).astype(np.float64) + (metric == "cosine") * 0.5
          for d in (1, 2, 3)]
    k = int(rng.integers(1, n))
    got = pairspace.nngs_matrix(sp, k, metric, dtype=np.float64)
    np.testing.assert_allclose(got, _pairwise(pairspace.nngs, sp, k, metric, dtype=np.float64),
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("spaces, k, match", [
    ([np.zeros((5, 2))], 1, "at least 2 spaces"),
    ([np.ones((5, 2)), np.ones((6, 2))], 1, "same rows"),
    ({"a": np.ones((5, 2))}, 1, "at least 2 spaces"),
    ([np.eye(5), np.eye(5)], 5, "out of range"),
    ([np.eye(5), np.eye(5)], [], "empty"),
])
def test_bad_input_is_named(spaces, k, match):
    with pytest.raises(ValueError, match=match):
        pairspace.nngs_matrix(spaces, k)


def test_k_above_the_kept_width_and_duplicate_names():
    sp = _spaces()
    with many.search_spaces(sp, 5) as g, pytest.raises(ValueError, match="k_max=5"):
        g.nngs(6)
    with pytest.raises(ValueError, match="unique"):
        pairspace.nngs_matrix(sp[:2], 3, names=["x", "x"])
    ids_a = [f"i{j}" for j in range(sp[0].shape[0])]
    with pytest.raises(ValueError, match="'b'"):
        pairspace.nngs_matrix({"a": EmbeddingTable(ids_a, sp[0]),
                               "b": EmbeddingTable([f"z{j}" for j in range(len(ids_a))], sp[1])}, 3)
