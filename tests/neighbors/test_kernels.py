"""The C kernels of the exact search (``_kernels.c``) against their numpy twins and the oracle."""

from __future__ import annotations

import os
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from oracles import knn_oracle

import pairspace
from pairspace.neighbors import kernels, refine
from pairspace.neighbors.symmetric import symmetric_candidates, symmetric_operands


@contextmanager
def c_kernels(enabled: bool):
    """Run the block with the C kernels on or off (the numpy twins)."""
    old = kernels.ENABLED
    kernels.ENABLED = enabled
    try:
        yield
    finally:
        kernels.ENABLED = old


def test_the_c_kernels_are_built():
    """``make install`` builds them; a silent build failure would only show as slowness."""
    if os.environ.get("PAIRSPACE_C_KERNELS") == "0":
        pytest.skip("PAIRSPACE_C_KERNELS=0")
    assert kernels.library() is not None
    with c_kernels(False):
        assert kernels.library() is None


@st.composite
def clouds(draw):
    """Tie-heavy integer clouds with duplicate rows (exact scores), up to a few blocks."""
    n = draw(st.integers(3, 90))
    d = draw(st.integers(1, 4))
    return draw(arrays(np.float64, (n, d), elements=st.integers(-2, 2).map(float)))


@settings(max_examples=80, deadline=None)
@given(X=clouds(), data=st.data())
def test_heap_candidates_equal_the_numpy_selection(X, data):
    """The C heaps (diagonal blocks first, keys ordered by score then index) give the same
    ``kk`` candidates, scores and order as the numpy threshold selection, on exact-score data
    with ties everywhere (small integers: every product is exact whatever the BLAS), for blocks
    of uneven size."""
    n = X.shape[0]
    kk = data.draw(st.integers(1, n - 1))
    block = data.draw(st.integers(kk + 1, n + 5))
    metric = data.draw(st.sampled_from(["euclidean", "inner"]))
    sq = np.einsum("ij,ij->i", X, X)
    A, B = symmetric_operands(X.astype(np.float32), metric, np.dtype(np.float32), sq)
    with c_kernels(True):
        got = list(symmetric_candidates(A, B, kk, block))
    with c_kernels(False):
        want = list(symmetric_candidates(A, B, kk, block))
    assert [g[:2] for g in got] == [w[:2] for w in want]
    for (_, _, gv, gi), (_, _, wv, wi) in zip(got, want, strict=True):
        np.testing.assert_array_equal(gi, wi)
        np.testing.assert_array_equal(gv, wv)


@settings(max_examples=40, deadline=None)
@given(X=clouds(), data=st.data())
def test_search_with_and_without_c_kernels_equals_the_oracle(X, data):
    n = X.shape[0]
    k = data.draw(st.integers(1, n - 1))
    metric = data.draw(st.sampled_from(["euclidean", "inner"]))
    block = data.draw(st.integers(1, n + 3))
    exact_distances = data.draw(st.booleans())
    idx, dist = knn_oracle(X, k, metric)
    out = {}
    for enabled in (True, False):
        with c_kernels(enabled), warnings.catch_warnings():
            warnings.simplefilter("ignore", pairspace.TiedNeighborsWarning)
            out[enabled] = pairspace.knn(X.astype(np.float32), k, metric, symmetric=True,
                                         block_size=block, exact_distances=exact_distances)
        np.testing.assert_array_equal(out[enabled].indices, idx)
        np.testing.assert_allclose(out[enabled].distances, dist, atol=1e-5 if not exact_distances else 1e-9)
    assert out[True].info["tied_rows"] == out[False].info["tied_rows"]


@pytest.mark.filterwarnings("ignore::pairspace.TiedNeighborsWarning")  # ties on purpose
def test_keys_order_negative_zero_and_signed_scores_like_floats():
    """Scores of both signs (inner products), exact zeros of both signs and ties: the key order is
    the float order with ties to the lower index (``-0.0 == 0.0``)."""
    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, -1.0], [-1.0, 0.0], [1.0, 0.0], [0.0, 1.0],
                  [0.0, 0.0], [2.0, 0.0]], dtype=np.float32)
    for metric in ("inner", "euclidean"):
        with c_kernels(True):
            got = pairspace.knn(X, 4, metric, symmetric=True, block_size=5, exact_distances=False)
        np.testing.assert_array_equal(got.indices, knn_oracle(X.astype(np.float64), 4, metric)[0])


def test_refined_distances_match_the_numpy_kernel_and_memmaps_match_arrays(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 37)).astype(np.float32)
    sq = np.einsum("ij,ij->i", X.astype(np.float64), X.astype(np.float64))
    q = rng.integers(0, 300, 40)
    cand = rng.integers(0, 300, (40, 9))
    cand[3, 2] = -1  # a missing candidate is skipped
    mask = rng.random((40, 9)) < 0.5
    np.save(tmp_path / "x.npy", X)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    for metric in ("euclidean", "cosine", "inner"):
        for m in (None, mask):
            with c_kernels(True):
                got = refine.refined_distances(X, q, cand, metric, sq=sq, mask=m)
                streamed = refine.refined_distances(mm, q, cand, metric, sq=sq, mask=m)
            with c_kernels(False):
                want = refine.refined_distances(X, q, np.where(cand < 0, 0, cand), metric, sq=sq, mask=m)
            valid = cand >= 0 if m is None else (cand >= 0) & m
            np.testing.assert_allclose(got[valid], want[valid], rtol=1e-12, atol=1e-12)
            np.testing.assert_array_equal(streamed, got)  # bit for bit: the same sums
            assert np.isnan(got[~valid]).all()


def test_more_rows_than_the_keys_hold_fall_back_to_numpy(monkeypatch):
    X = np.random.default_rng(4).standard_normal((120, 5)).astype(np.float32)
    ref = pairspace.knn(X, 6, "euclidean", symmetric=False)
    monkeypatch.setattr(kernels, "MAX_INDEX", 50)
    res = pairspace.knn(X, 6, "euclidean", symmetric=True, block_size=30)
    np.testing.assert_array_equal(res.indices, ref.indices)


@pytest.mark.filterwarnings("ignore::pairspace.TiedNeighborsWarning")
@pytest.mark.parametrize("kk", [3, 18, 112])
def test_batch_seeding_of_large_blocks(kk):
    """Blocks wide enough for the sampled seed threshold (and its fallback when ties or clusters
    make the sample guess low): the same candidates as the numpy selection."""
    rng = np.random.default_rng(kk)
    X = np.concatenate([rng.integers(-2, 3, (1500, 3)), rng.standard_normal((1500, 3)) * 0.01])
    X = X.astype(np.float32)
    sq = np.einsum("ij,ij->i", X.astype(np.float64), X.astype(np.float64))
    A, B = symmetric_operands(X, "euclidean", np.dtype(np.float32), sq)
    with c_kernels(True):
        got = np.concatenate([g[3] for g in symmetric_candidates(A, B, kk, 1024)])
    with c_kernels(False):
        want = np.concatenate([w[3] for w in symmetric_candidates(A, B, kk, 1024)])
    np.testing.assert_array_equal(got, want)


@pytest.mark.filterwarnings("ignore::pairspace.TiedNeighborsWarning")
def test_parallel_block_workers_equal_one_worker_and_numpy(monkeypatch):
    """Several threads multiply and select disjoint block pairs: the same neighbors as one worker
    and as the numpy selection, on tie-heavy data over nine blocks."""
    from pairspace.neighbors import symmetric

    X = np.random.default_rng(1).integers(-2, 3, (9000, 4)).astype(np.float32)
    out = {}
    for workers in (1, 3):
        monkeypatch.setattr(symmetric, "BLOCK_WORKERS", workers)
        out[workers] = pairspace.knn(X, 15, "euclidean", symmetric=True, block_size=1000)
    with c_kernels(False):
        ref = pairspace.knn(X, 15, "euclidean", symmetric=True, block_size=1000)
    np.testing.assert_array_equal(out[3].indices, out[1].indices)
    np.testing.assert_array_equal(out[3].indices, ref.indices)
    np.testing.assert_array_equal(out[3].distances, ref.distances)


def test_pair_queue_seeds_first_and_never_hands_out_two_pairs_sharing_a_block():
    from pairspace.neighbors.symmetric import _PairQueue

    q = _PairQueue(4)
    seeds = [q.take() for _ in range(4)]
    assert seeds == [(0, 0), (1, 1), (2, 2), (3, 3)]
    for pair in seeds[:3]:
        q.done(pair)
    assert q.seeding == 1  # (0, 1) must wait for the last seed: no pair is free until then
    q.done(seeds[3])
    first, second = q.take(), q.take()
    assert (first, second) == ((0, 1), (2, 3))  # (0, 2), (0, 3), (1, 2) share a block with (0, 1)
    q.done(first)
    q.done(second)
    assert q.left == [2, 2, 2, 2]
    assert q.take() == (0, 2)


def test_a_worker_error_reaches_the_caller(monkeypatch):
    from pairspace.neighbors import symmetric

    if kernels.library() is None:
        pytest.skip("the block workers run with the C kernels only")

    X = np.random.default_rng(2).standard_normal((400, 3)).astype(np.float32)

    def broken(*args, **kwargs):
        raise RuntimeError("worker failed")

    monkeypatch.setattr(symmetric.np, "matmul", broken)
    with pytest.raises(RuntimeError, match="worker failed"):
        pairspace.knn(X, 3, "euclidean", symmetric=True, block_size=50)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), d=st.integers(1, 700), offset=st.sampled_from([0.0, 3.0, 300.0]),
       scale=st.sampled_from([1e-3, 1.0, 1e4]))
def test_symmetric_scores_stay_within_their_error_bound(seed, d, offset, scale):
    """The float32 scores ``fl(fl(n_i + n_j) - 2 p_ij)`` of the symmetric search differ from the
    float64 squared distances by at most the bound the certified window uses."""
    from pairspace.neighbors import ExactSearcher
    from pairspace.neighbors.symmetric import block_scores

    rng = np.random.default_rng(seed)
    X = ((offset + rng.standard_normal((60, d))) * scale).astype(np.float32)
    searcher = ExactSearcher(X, 3, "euclidean", symmetric=True)
    A, norms = searcher._operands
    S = block_scores(A @ A.T, norms, norms).astype(np.float64)
    X64 = X.astype(np.float64)
    exact = ((X64[:, None, :] - X64[None, :, :]) ** 2).sum(axis=2)
    bound = searcher.score_bound(np.arange(60), symmetric=True)
    assert (np.abs(S - exact) <= bound[:, None]).all()
