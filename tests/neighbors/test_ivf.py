"""``backend="ivf"``: the list-major IVF scan against brute-force oracles, its C kernels against
their numpy twins, and the recall estimate that chooses ``nprobe``."""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import pairspace
from pairspace.neighbors import kernels
from pairspace.neighbors.backends import ivf
from pairspace.neighbors.backends._common import prepared_rows, recall_at_k

METRICS = ["cosine", "euclidean", "inner"]


@contextmanager
def c_kernels(enabled: bool):
    """Run the block with the C kernels on or off (the numpy twins)."""
    old = kernels.ENABLED
    kernels.ENABLED = enabled
    try:
        yield
    finally:
        kernels.ENABLED = old


def approx(X: np.ndarray, k: int, metric: str, **options) -> pairspace.KNNResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pairspace.ApproximateSearchWarning)
        return pairspace.knn(X, k, metric, backend="ivf", **options)


@pytest.fixture(scope="module")
def blobs() -> np.ndarray:
    """Clustered data without ties (continuous values)."""
    rng = np.random.default_rng(3)
    centers = rng.standard_normal((12, 16)) * 3.0
    return (centers[rng.integers(0, 12, 900)] + rng.standard_normal((900, 16))).astype(np.float32)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("c", [True, False], ids=["c", "numpy"])
def test_probing_every_list_is_exact_search(blobs, metric, c):
    """With ``nprobe = nlist`` every pair is scored, so the result is exact search's, neighbors,
    order and float64 distances, and the measured recall is 1."""
    if c and kernels.library() is None:
        pytest.skip("C kernels not built")
    exact = pairspace.knn(blobs, 7, metric)
    with c_kernels(c):
        res = approx(blobs, 7, metric, nlist=20, nprobe=20)
    np.testing.assert_array_equal(res.indices, exact.indices)
    np.testing.assert_allclose(res.distances, exact.distances, rtol=0, atol=1e-12)
    assert res.recall == 1.0 and res.backend == "ivf" and res.info["scanned"] == 1.0


@pytest.mark.parametrize("metric", METRICS)
def test_the_scan_finds_the_best_of_the_probed_lists(blobs, metric):
    """Oracle: for each query, the float64-best ``k`` items among the members of its ``nprobe``
    best lists (brute force over the probe sets) are among the scan's candidates, and the C scan
    and its numpy twin return the same candidates and scores."""
    k, nlist, nprobe = 5, 24, 3
    P = prepared_rows(blobs, 0, blobs.shape[0], metric)
    C = ivf.train_centroids(P, nlist, metric, 4, np.random.default_rng(0))
    norms = np.einsum("ij,ij->i", P, P) if metric == "euclidean" else None
    c_norms = np.einsum("ij,ij->i", C, C) if metric == "euclidean" else None
    probes = ivf.all_probes(P, C, nprobe, norms, c_norms)
    order = np.argsort(probes[:, 0], kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(probes[:, 0], minlength=nlist))])
    Xp, pn = P[order], None if norms is None else norms[order]
    runs = {}
    for c in ([True, False] if kernels.library() is not None else [False]):
        with c_kernels(c):
            runs[c] = ivf.scan_lists(Xp, pn, bounds, probes[order], k + 4, 0, P.shape[0])
    if len(runs) == 2:
        np.testing.assert_array_equal(runs[True][0], runs[False][0])
        np.testing.assert_array_equal(runs[True][1], runs[False][1])
    vals, idx = runs[False]
    X64 = blobs.astype(np.float64)
    for q in range(0, P.shape[0], 7):
        members = np.flatnonzero(np.isin(probes[:, 0], probes[q]))
        members = members[members != q]
        diff = X64[members] - X64[q]
        if metric == "euclidean":
            dist = np.einsum("ij,ij->i", diff, diff)
        elif metric == "cosine":
            dist = -(X64[members] @ X64[q]) / np.linalg.norm(X64[members], axis=1)
        else:
            dist = -(X64[members] @ X64[q])
        want = set(members[np.argsort(dist, kind="stable")[:k]].tolist())
        stored = np.flatnonzero(order == q)[0]
        got = set(order[idx[stored][idx[stored] >= 0]].tolist())
        assert want <= got, (q, want - got)


def test_probes_are_the_best_centroids_with_the_best_first():
    """Unordered probes hold the same set as the sorted selection, the best list first."""
    rng = np.random.default_rng(1)
    P = rng.standard_normal((500, 8)).astype(np.float32)
    C = rng.standard_normal((40, 8)).astype(np.float32)
    S = -(P @ C.T)
    want = np.argsort(S, axis=1, kind="stable")[:, :6]
    got = ivf.all_probes(P, C, 6, None, None)
    assert got.dtype == np.uint16
    np.testing.assert_array_equal(got[:, 0], want[:, 0])
    np.testing.assert_array_equal(np.sort(got, axis=1), np.sort(want, axis=1))


@pytest.mark.parametrize("ties", [False, True])
def test_the_recall_estimate_counts_the_neighbors_in_probed_lists(ties):
    """``found[p - 1]`` is the share of the tuning queries' exact neighbors whose list ranks
    below ``p`` among the query's centroids (brute force by sorting each query's scores, equal
    scores ranked by list id), and the chosen ``nprobe`` is the first whose lower confidence
    bound reaches the target. ``ties``: small integer rows, so many centroids tie."""
    rng = np.random.default_rng(2)
    if ties:
        Pq = rng.integers(-1, 2, size=(60, 6)).astype(np.float32)
        C = rng.integers(-1, 2, size=(30, 6)).astype(np.float32)
    else:
        Pq = rng.standard_normal((60, 6)).astype(np.float32)
        C = rng.standard_normal((30, 6)).astype(np.float32)
    lists = rng.integers(0, 30, size=(60, 4))
    nprobe, found = ivf.probes_for_recall(Pq, lists, C, None, None, 0.8)
    ranked = np.argsort(-(Pq @ C.T), axis=1, kind="stable")
    rank = np.array([[np.flatnonzero(ranked[q] == lst)[0] for lst in lists[q]]
                     for q in range(60)])
    for p in range(1, 31):
        assert found[p - 1] == pytest.approx(np.mean(rank < p))
    per_query = np.stack([(rank < p).mean(axis=1) for p in range(1, 31)], axis=1)
    lower = per_query.mean(0) - ivf.CONFIDENCE_Z * per_query.std(0) / np.sqrt(60)
    assert nprobe == np.flatnonzero(lower >= 0.8)[0] + 1
    assert found[-1] == 1.0


def test_recall_is_measured_on_all_rows_when_the_samples_cover_them(blobs):
    """With ``tune_sample + recall_sample >= n`` both samples are all rows, so ``recall`` is the
    recall of the whole result against exact search; the chosen ``nprobe`` reaches the target."""
    exact = pairspace.knn(blobs, 5, "euclidean")
    res = approx(blobs, 5, "euclidean", nlist=30, target_recall=0.9, tune_sample=600,
                 recall_sample=600)
    assert res.info["recall_sample"] == blobs.shape[0]
    assert res.recall == pytest.approx(recall_at_k(res.indices, exact.indices))
    assert res.recall >= 0.9 and res.info["estimated_recall"] >= 0.9
    assert 1 <= res.info["nprobe"] < 30


def test_fewer_probes_find_fewer_neighbors(blobs):
    """Recall grows with ``nprobe`` (the scanned sets are nested) and so does the scanned share."""
    runs = [approx(blobs, 5, "cosine", nlist=30, nprobe=p, tune_sample=450, recall_sample=450)
            for p in (1, 3, 30)]
    assert [r.recall for r in runs] == sorted(r.recall for r in runs) and runs[-1].recall == 1.0
    assert runs[0].info["scanned"] < runs[1].info["scanned"] < runs[2].info["scanned"] == 1.0


def test_queries_with_too_few_probed_items_are_searched_exactly(blobs):
    """Tiny lists and one probe leave some queries fewer than k items: those are searched
    exactly, and every row still gets k distinct neighbors other than itself."""
    exact = pairspace.knn(blobs, 10, "cosine")
    res = approx(blobs, 10, "cosine", nlist=300, nprobe=1)
    assert res.info["exact_rows"] > 0
    rows = np.arange(blobs.shape[0])[:, None]
    assert (res.indices != rows).all() and (res.indices >= 0).all()
    assert all(len(set(r)) == 10 for r in res.indices.tolist())
    same = (res.indices == exact.indices).all(axis=1)
    assert same.sum() >= res.info["exact_rows"]


def test_ivf_without_refinement_orders_by_float32_scores(blobs):
    """``refine=False`` keeps the scan's float32 scores as distances (squared scores become
    distances), close to the float64 ones."""
    exact = pairspace.knn(blobs, 5, "euclidean")
    res = approx(blobs, 5, "euclidean", nlist=20, nprobe=20, refine=False)
    np.testing.assert_array_equal(res.indices, exact.indices)
    np.testing.assert_allclose(res.distances, exact.distances, rtol=1e-4)


@pytest.mark.parametrize("opts, match", [({"nlist": 0}, "nlist"), ({"nlist": 10**6}, "nlist"),
                                         ({"target_recall": 1.5}, "target_recall")])
def test_bad_options_are_refused(blobs, opts, match):
    with pytest.raises(ValueError, match=match):
        approx(blobs, 5, "cosine", **opts)


def test_knn_warns_with_the_measured_recall(blobs):
    with pytest.warns(pairspace.ApproximateSearchWarning, match="ivf"):
        pairspace.knn(blobs, 5, "cosine", backend="ivf", nprobe=2)


@settings(max_examples=60, deadline=None)
@given(S=arrays(np.float32, st.tuples(st.integers(1, 12), st.integers(1, 40)),
                elements=st.integers(-3, 3).map(float)), data=st.data())
def test_feed_rows_equals_its_numpy_twin(S, data):
    """``ps_feed_rows`` keeps the smallest ``(score, index)`` keys of gathered heaps exactly as
    the numpy merge does, on tie-heavy scores, with and without norms, fed in two column blocks."""
    lib = kernels.library()
    if lib is None:
        pytest.skip("C kernels not built")
    h, w = S.shape
    kk = data.draw(st.integers(1, 6))
    heaps_of = data.draw(st.integers(h, h + 4))
    rows = np.sort(np.asarray(data.draw(st.permutations(range(heaps_of))))[:h]).astype(np.int64)
    norms = data.draw(st.booleans())
    nr = np.abs(S[:, 0]).copy() if norms else None
    nc = np.abs(S[0]).copy() if norms else None
    heaps = np.full((heaps_of, kk), kernels.EMPTY_KEY, dtype=np.uint64)
    vals = np.full((heaps_of, kk), np.inf, dtype=np.float32)
    idx = np.full((heaps_of, kk), np.iinfo(np.int64).max, dtype=np.int64)
    cut = data.draw(st.integers(0, w))
    for lo, hi in ((0, cut), (cut, w)):
        block = np.ascontiguousarray(S[:, lo:hi])
        if hi == lo:
            continue
        lib.ps_feed_rows(kernels.ptr(block), h, hi - lo, hi - lo, kernels.ptr(rows), lo, kk,
                         kernels.ptr(heaps), kernels.ptr(nr),
                         None if nc is None else kernels.ptr(np.ascontiguousarray(nc[lo:hi])))
        twin = -block if nr is None else (nr[:, None] + nc[None, lo:hi]) - (block + block)
        ivf._feed_numpy(twin.astype(np.float32), rows, lo, vals, idx)
    got_v = np.empty_like(vals)
    got_i = np.empty_like(idx)
    lib.ps_finish(heaps_of, kk, kernels.ptr(heaps), kernels.ptr(got_v), kernels.ptr(got_i))
    filled = np.isfinite(vals)
    np.testing.assert_array_equal(got_v, vals)
    np.testing.assert_array_equal(got_i[filled], idx[filled])


@settings(max_examples=60, deadline=None)
@given(Q=arrays(np.float32, st.tuples(st.integers(1, 20), st.just(3)),
                elements=st.integers(-2, 2).map(float)), data=st.data())
def test_smallest_scores_selects_whole_rows_like_the_heaps(Q, data):
    """The batch selection of whole rows (few columns) and the heap feed (many columns) give the
    sorted ``kk`` smallest ``(score, index)`` pairs of a brute-force sort, ties to the lower index."""
    if kernels.library() is None:
        pytest.skip("C kernels not built")
    R = data.draw(st.integers(1, 300))
    W = np.asarray(data.draw(arrays(np.float32, (R, 3), elements=st.integers(-2, 2).map(float))))
    kk = data.draw(st.integers(1, R))
    want = np.lexsort((np.broadcast_to(np.arange(R), (Q.shape[0], R)), -(Q @ W.T)), axis=1)[:, :kk]
    old = kernels.SELECT_MAX_COLUMNS
    try:
        for limit in (R, R - 1):  # R columns selected whole, then fed to heaps in 2 x 2 blocks
            kernels.SELECT_MAX_COLUMNS = limit
            vals, idx = kernels.smallest_scores(Q, W, kk, block_rows=2)
            np.testing.assert_array_equal(idx, want)
            np.testing.assert_array_equal(vals, np.take_along_axis(-(Q @ W.T), want, axis=1))
    finally:
        kernels.SELECT_MAX_COLUMNS = old
