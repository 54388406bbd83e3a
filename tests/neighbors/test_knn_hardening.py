"""Issue 14 defects of the kNN search: the parquet cache, magnitudes that overflow float32, and
neighborhoods decided by ties alone. Each test failed before its fix."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import distance_matrix, knn_oracle

import pairspace
from pairspace.data.table import EmbeddingTable
from pairspace.neighbors import TiedNeighborsWarning, knn
from pairspace.neighbors.outofcore import open_matrix

METRICS = ("euclidean", "cosine", "inner")


# ------------------------------------------------------------------------ open_matrix's parquet cache
def _pair(n: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 8)).astype(np.float32)
    Y = (X[:, :5] + 0.8 * rng.standard_normal((n, 5))).astype(np.float32)
    return X, Y


def test_same_stem_in_two_folders_gets_two_cache_files(tmp_path) -> None:
    """a/emb.parquet and b/emb.parquet used to share cache/emb.npy: the second overwrote the
    memory map of the first, and NNGS of the two spaces came out 1.0."""
    X, Y = _pair()
    for folder, M in (("a", X), ("b", Y)):
        (tmp_path / folder).mkdir()
        EmbeddingTable([f"i{j}" for j in range(len(M))], M).save(tmp_path / folder / "emb.parquet")
    cache = tmp_path / "cache"
    ma = open_matrix(tmp_path / "a" / "emb.parquet", cache_dir=cache)
    mb = open_matrix(tmp_path / "b" / "emb.parquet", cache_dir=cache)
    np.testing.assert_array_equal(np.asarray(ma), X)  # the first map is untouched
    np.testing.assert_array_equal(np.asarray(mb), Y)
    assert len(list(cache.glob("*.npy"))) == 2
    want = pairspace.nngs(X, Y, 10)
    assert want < 0.9
    assert pairspace.nngs(ma, mb, 10) == pytest.approx(want, abs=1e-12)


def test_cache_is_reused_and_follows_a_rewritten_file(tmp_path) -> None:
    X, Y = _pair(seed=1)
    path = tmp_path / "emb.parquet"
    EmbeddingTable([f"i{j}" for j in range(len(X))], X).save(path)
    cache = tmp_path / "cache"
    first = open_matrix(path, cache_dir=cache)
    again = open_matrix(path, cache_dir=cache)
    assert again.filename == first.filename  # same file, same identity: reused
    EmbeddingTable([f"i{j}" for j in range(len(Y))], Y).save(path)
    st_ = os.stat(path)
    os.utime(path, ns=(st_.st_atime_ns, st_.st_mtime_ns + 10**9))  # a new mtime, even on coarse clocks
    changed = open_matrix(path, cache_dir=cache)
    assert changed.filename != first.filename
    np.testing.assert_array_equal(np.asarray(changed), Y)
    np.testing.assert_array_equal(np.asarray(first), X)  # the old map still reads the old data


# ------------------------------------------------------------------- magnitudes that overflow float32
@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("as_input", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [1e19, 1e-22])
def test_neighbors_do_not_change_under_extreme_scaling(metric: str, as_input: type,
                                                       scale: float) -> None:
    """kNN neighborhoods are invariant under scaling; near 1e19 the float32 products overflowed
    (euclidean NNGS 0.0755 instead of 0.8129). Out-of-range magnitudes are searched in float64."""
    X = np.random.default_rng(2).standard_normal((150, 12))
    ref = knn(X, 10, metric)
    res = knn((X * scale).astype(as_input), 10, metric)
    np.testing.assert_array_equal(res.indices, ref.indices)
    assert res.info["dtype"] == "float64" and "float64" in res.info["upcast"]
    power = {"euclidean": 1, "cosine": 0, "inner": 2}[metric]
    np.testing.assert_allclose(res.distances, ref.distances * scale**power, rtol=1e-5)


def test_nngs_of_huge_values_equals_nngs_of_the_unscaled_spaces() -> None:
    X, Y = _pair(400, seed=3)
    want = pairspace.nngs(X, Y, 10, metric="euclidean")
    got = pairspace.nngs(X * np.float32(1e19), Y, 10, metric="euclidean")
    assert got == pytest.approx(want, abs=1e-12)


def test_magnitudes_beyond_float64_are_refused_clearly() -> None:
    X = np.random.default_rng(4).standard_normal((30, 3)) * 1e160
    with pytest.raises(ValueError, match="overflow"):
        knn(X, 3, "euclidean")


def test_faiss_refuses_magnitudes_beyond_float32() -> None:
    pytest.importorskip("faiss")
    X = np.random.default_rng(5).standard_normal((40, 4)).astype(np.float32) * np.float32(1e19)
    with pytest.raises(ValueError, match="float32"):
        knn(X, 3, "euclidean", backend="faiss")


# ---------------------------------------------------------------------------- duplicates and ties
def _boundary_ties_oracle(X: np.ndarray, k: int, metric: str) -> int:
    """Rows whose k-th and (k+1)-th float64 distances (self excluded) are equal."""
    D = distance_matrix(np.asarray(X, dtype=np.float64), metric)
    np.fill_diagonal(D, np.inf)
    S = np.sort(D, axis=1)
    return int(np.sum(S[:, k - 1] == S[:, k])) if k < X.shape[0] - 1 else 0


def test_identical_rows_warn_and_count_their_duplicates() -> None:
    """All-identical rows gave NNGS 0.0877 from tie-breaking alone, without a word."""
    X = np.ones((60, 4))
    Y = np.random.default_rng(6).standard_normal((60, 3))
    with pytest.warns(TiedNeighborsWarning, match="60 of 60"):
        res = knn(X, 5, "euclidean")
    assert res.info["duplicate_rows"] == 59 and res.info["tied_rows"] == 60
    with pytest.warns(TiedNeighborsWarning):
        pairspace.nngs(X, Y, 5, metric="euclidean")


def test_generic_data_does_not_warn_and_counts_duplicates() -> None:
    X = np.random.default_rng(7).standard_normal((200, 6))
    X[10] = X[3]
    X[11] = X[3]
    X[50] = X[40]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = knn(X, 8, "euclidean")
    assert res.info["duplicate_rows"] == 3
    assert res.info["tied_rows"] == _boundary_ties_oracle(X, 8, "euclidean")


@settings(max_examples=40, deadline=None)
@given(n=st.integers(4, 40), d=st.integers(1, 3), k=st.integers(1, 10), seed=st.integers(0, 10**6),
       metric=st.sampled_from(["euclidean", "inner"]),
       exact_distances=st.booleans(), as_input=st.sampled_from([np.float32, np.float64]))
def test_tie_and_duplicate_counts_equal_the_oracle(n: int, d: int, k: int, seed: int, metric: str,
                                                   exact_distances: bool, as_input: type) -> None:
    k = min(k, n - 1)
    X = np.random.default_rng(seed).integers(-2, 3, (n, d)).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TiedNeighborsWarning)
        res = knn(X.astype(as_input), k, metric, exact_distances=exact_distances, block_size=7)
    np.testing.assert_array_equal(res.indices, knn_oracle(X, k, metric)[0])
    assert res.info["duplicate_rows"] == n - np.unique(X, axis=0).shape[0]
    assert res.info["tied_rows"] == _boundary_ties_oracle(X, k, metric)
