"""Backends of pairspace.knn (exact chunked selection, faiss, hnsw, dask, torch device) and
out-of-core inputs (memmap, parquet), each checked against a brute-force oracle."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import distance_matrix

import pairspace
from pairspace import neighbors
from pairspace.data.table import EmbeddingTable
from pairspace.neighbors import ApproximateSearchWarning, ExactSearcher, _core, drop_self, knn
from pairspace.neighbors.backends import recall_at_k
from pairspace.neighbors.outofcore import open_matrix

# Ties are the point of these oracle tests (integer clouds, duplicate rows): the tie warning they
# trigger is expected, and tests/neighbors/test_knn_hardening.py checks the warning itself.
pytestmark = pytest.mark.filterwarnings("ignore::pairspace.TiedNeighborsWarning")

METRICS = ("euclidean", "cosine", "inner")


def dense_distances(X: np.ndarray, metric: str) -> np.ndarray:
    """The n x n float64 distance matrix, with ``inf`` on the diagonal (self excluded)."""
    D = distance_matrix(X, metric)
    np.fill_diagonal(D, np.inf)
    return D


def oracle(X: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Dense float64 distances, self excluded, sorted by (distance, index)."""
    A = np.asarray(X, dtype=np.float64)
    D = dense_distances(A, metric)
    idx = np.stack([np.lexsort((np.arange(len(A)), row))[:k] for row in D])
    return idx, np.take_along_axis(D, idx, axis=1)


@pytest.fixture(scope="module")
def cloud() -> np.ndarray:
    """Gaussian data without ties (float32)."""
    return np.random.default_rng(0).standard_normal((600, 12)).astype(np.float32)


# ---------------------------------------------------------------- exact, chunked threshold selection
@pytest.fixture(params=["torch", "numpy"])
def blas_path(request, monkeypatch) -> str:
    """Run a test through torch's products and topk, and through the numpy fallback."""
    if request.param == "torch":
        pytest.importorskip("torch")
    else:
        monkeypatch.setattr(_core, "_torch", lambda load=False: None)
    return request.param


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("chunk_rows", [16, 97, 8192])
def test_exact_chunked_equals_oracle(cloud: np.ndarray, metric: str, chunk_rows: int,
                                     blas_path: str) -> None:
    X = cloud.copy()
    X[7] = X[3]  # a duplicated row: the tie goes to the lower index
    X[8] = X[3]
    res = knn(X, 9, metric, chunk_rows=chunk_rows, block_size=101)
    idx, dist = oracle(X, 9, metric)
    np.testing.assert_array_equal(res.indices, idx)
    np.testing.assert_allclose(res.distances, dist, atol=1e-9)
    assert res.info["widened_rows"] == 0


@settings(max_examples=25, deadline=None)
@given(n=st.integers(5, 60), d=st.integers(1, 4), k=st.integers(1, 12),
       chunk=st.integers(1, 70), seed=st.integers(0, 10**6),
       metric=st.sampled_from(["euclidean", "inner"]))
def test_exact_with_many_ties_matches_oracle(n: int, d: int, k: int, chunk: int, seed: int,
                                            metric: str) -> None:
    """Small integer grids have many exact ties; every one must go to the lower index."""
    pytest.importorskip("torch")  # the topk path (the numpy path is covered below)
    k = min(k, n - 1)
    X = np.random.default_rng(seed).integers(0, 3, (n, d)).astype(np.float64)
    res = knn(X, k, metric, chunk_rows=chunk, block_size=7)
    np.testing.assert_array_equal(res.indices, oracle(X, k, metric)[0])


def test_exact_ties_numpy_path(blas_path: str) -> None:
    X = np.random.default_rng(5).integers(0, 3, (300, 2)).astype(np.float32)
    for chunk in (7, 40, 300):
        res = knn(X, 9, "euclidean", chunk_rows=chunk, block_size=50)
        np.testing.assert_array_equal(res.indices, oracle(X, 9, "euclidean")[0])


@pytest.mark.parametrize("metric", METRICS)
def test_symmetric_products_equal_oracle_on_both_blas_paths(metric: str, blas_path: str) -> None:
    """Ties (a small integer grid), uneven blocks, and the adversarial order of the inner product
    on increasing values (every later block beats the thresholds: the many-hits path, also on
    the transposed side)."""
    X = np.random.default_rng(6).integers(0, 3, (250, 2)).astype(np.float32) + 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pairspace.TiedNeighborsWarning)
        for block in (13, 64, 251):
            res = knn(X, 9, metric, symmetric=True, block_size=block)
            if metric == "cosine":
                np.testing.assert_array_equal(res.indices, knn(X, 9, metric, symmetric=False).indices)
            else:
                np.testing.assert_array_equal(res.indices, oracle(X, 9, metric)[0])
    line = (np.arange(1, 401, dtype=np.float64) / 400.0)[:, None]
    res = knn(line, 5, "inner", symmetric=True, block_size=50)
    np.testing.assert_array_equal(res.indices, oracle(line, 5, "inner")[0])


def test_exact_adversarial_order_uses_the_chunk_fallback(blas_path: str) -> None:
    """With the inner product on increasing values, every later chunk beats the current
    threshold for every row (the many-hits path)."""
    X = (np.arange(1, 401, dtype=np.float64) / 400.0)[:, None]
    res = knn(X, 5, "inner", chunk_rows=100, dtype=np.float64)
    np.testing.assert_array_equal(res.indices, oracle(X, 5, "inner")[0])


@settings(max_examples=40, deadline=None)
@given(n=st.integers(5, 60), d=st.integers(1, 4), k=st.integers(1, 12), seed=st.integers(0, 10**6),
       metric=st.sampled_from(METRICS), as_input=st.sampled_from([np.float32, np.float64]),
       chunk=st.sampled_from([None, 7]))
def test_order_only_refinement_matches_oracle_with_ties(n: int, d: int, k: int, seed: int,
                                                       metric: str, as_input: type,
                                                       chunk: int | None) -> None:
    """``exact_distances=False`` refines only the candidates of uncertain order: the neighbors
    and their order stay those of the float64 oracle (ties to the lower index)."""
    k = min(k, n - 1)
    X = np.random.default_rng(seed).integers(-2, 3, (n, d)).astype(np.float64)
    if metric == "cosine":
        X[np.all(X == 0, axis=1)] = 1.0
    res = knn(X.astype(as_input), k, metric, exact_distances=False, chunk_rows=chunk, block_size=9)
    idx, dist = oracle(X, k, metric)
    if metric == "cosine":  # cosine distances of integer vectors are not exact in float64
        D = dense_distances(X, metric)
        np.testing.assert_allclose(np.take_along_axis(D, res.indices, axis=1), dist, atol=1e-12)
    else:
        np.testing.assert_array_equal(res.indices, idx)
    np.testing.assert_allclose(res.distances, dist, atol=1e-2)  # working-dtype rounding


@pytest.mark.parametrize("metric", METRICS)
def test_order_only_refinement_on_continuous_data(metric: str) -> None:
    """Data far from the origin: the float32 scores mix up many close neighbors (the expanded
    euclidean form cancels), so the result is the oracle's only if those are refined."""
    X = (30.0 + np.random.default_rng(4).standard_normal((700, 16))).astype(np.float32)
    res = knn(X, 40, metric, exact_distances=False)
    full = knn(X, 40, metric)
    idx, dist = oracle(X, 40, metric)
    np.testing.assert_array_equal(res.indices, idx)
    np.testing.assert_array_equal(full.indices, idx)
    np.testing.assert_allclose(full.distances, dist, atol=1e-12)
    # the distances left unrefined keep at most the coarse scores' error bound
    e = ExactSearcher(X, 40, metric).score_bound(np.arange(X.shape[0]))[:, None]
    sq = (lambda a: a * a) if metric == "euclidean" else (lambda a: a)
    assert np.all(np.abs(sq(res.distances) - sq(dist)) <= e)
    assert not np.array_equal(res.distances, full.distances)  # some were left unrefined


@pytest.mark.parametrize("exact_distances", [True, False])
def test_rows_with_too_many_near_ties_are_searched_again(exact_distances: bool) -> None:
    """40 copies of one row: their windows hold far more than ``k + margin`` candidates, so those
    rows are searched again with more and still get the oracle's neighbors."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 8)).astype(np.float32)
    X[100:140] = X[5]
    res = knn(X, 3, "euclidean", exact_distances=exact_distances, block_size=64)
    assert res.info["widened_rows"] >= 40
    np.testing.assert_array_equal(res.indices, oracle(X, 3, "euclidean")[0])


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10**6), b=st.integers(1, 6), m=st.integers(1, 30), data=st.data())
def test_smallest_by_value_then_index_equals_lexsort(seed: int, b: int, m: int, data) -> None:
    rng = np.random.default_rng(seed)
    k = data.draw(st.integers(1, m))
    vals = rng.integers(0, 4, (b, m)).astype(np.float64)  # many ties, in no particular order
    vals[rng.random((b, m)) < 0.1] = np.inf
    idx = np.stack([rng.permutation(100)[:m] for _ in range(b)])
    order = neighbors._smallest_by_value_then_index(vals, idx, k)
    want = np.lexsort((idx, vals), axis=1)[:, :k]
    np.testing.assert_array_equal(np.take_along_axis(idx, order, 1), np.take_along_axis(idx, want, 1))


def test_select_smallest_sorted_orders_ties_by_index(blas_path: str) -> None:
    """``torch.topk`` returns equal values in no particular order; the selection must give the
    ``kk`` smallest ``(value, index)`` pairs in that order."""
    rng = np.random.default_rng(3)
    for S, kk in [(rng.integers(0, 3, (200, 500)), 7), (rng.integers(0, 2000, (200, 500)), 60)]:
        S = S.astype(np.float32)  # ties at the boundary, then mostly inside the selection
        vals, idx = neighbors.select_smallest_sorted(S, kk)
        want = np.lexsort((np.broadcast_to(np.arange(500), S.shape), S), axis=1)[:, :kk]
        np.testing.assert_array_equal(idx, want)
        np.testing.assert_array_equal(vals, np.take_along_axis(S, want, axis=1))


def test_masked_refinement_equals_dense_at_the_mask(cloud: np.ndarray) -> None:
    rng = np.random.default_rng(2)
    q = np.arange(50, 120)
    cand = rng.integers(0, cloud.shape[0], (q.size, 30))
    mask = rng.random(cand.shape) < 0.4
    mask[3] = False  # a row with nothing to refine
    sq = np.einsum("ij,ij->i", cloud.astype(np.float64), cloud.astype(np.float64))
    for metric in METRICS:
        dense = neighbors.refined_distances(cloud, q, cand, metric, sq=sq)
        part = neighbors.refined_distances(cloud, q, cand, metric, sq=sq, mask=mask)
        np.testing.assert_array_equal(part[mask], dense[mask])
        assert np.isnan(part[~mask]).all()


def test_whole_rows_are_scored_at_once_when_they_fit(cloud: np.ndarray) -> None:
    pytest.importorskip("torch")
    X = np.random.default_rng(0).standard_normal((3000, 4)).astype(np.float32)
    assert ExactSearcher(X, 40, "euclidean", chunk_rows=None).chunk_rows == 3000
    few = ExactSearcher(X, 5, "euclidean", chunk_rows=None)  # few candidates: chunked passes
    tight = ExactSearcher(X, 40, "euclidean", chunk_rows=None, memory_budget=100 * 3000)
    assert few.chunk_rows == tight.chunk_rows == neighbors.DEFAULT_CHUNK_ROWS
    for chunk in (None, 64):
        res = knn(cloud, 30, "cosine", chunk_rows=chunk)
        np.testing.assert_array_equal(res.indices, oracle(cloud, 30, "cosine")[0])


def test_refine_false_is_close_to_oracle(cloud: np.ndarray) -> None:
    res = knn(cloud, 5, "euclidean", refine=False)
    idx, dist = oracle(cloud, 5, "euclidean")
    np.testing.assert_array_equal(res.indices, idx)
    np.testing.assert_allclose(res.distances, dist, rtol=1e-4)


@pytest.mark.parametrize("metric", METRICS)
def test_torch_device_path_equals_exact(cloud: np.ndarray, metric: str) -> None:
    pytest.importorskip("torch")
    ref = knn(cloud, 7, metric)
    res = knn(cloud, 7, metric, device="cpu", block_size=128)
    np.testing.assert_array_equal(res.indices, ref.indices)
    np.testing.assert_allclose(res.distances, ref.distances, atol=1e-12)
    ties = np.random.default_rng(1).integers(0, 3, (200, 2)).astype(np.float32)
    np.testing.assert_array_equal(knn(ties, 6, "euclidean", device="cpu").indices,
                                  oracle(ties, 6, "euclidean")[0])
    copies = cloud[:300].copy()
    copies[100:140] = copies[5]  # windows wider than k + margin: searched again on the device
    res = knn(copies, 3, metric, device="cpu", exact_distances=False)
    assert res.info["widened_rows"] >= 40 and res.info["device"] == "cpu"
    np.testing.assert_array_equal(res.indices, oracle(copies, 3, metric)[0])


def test_cuda_device_without_cuda_is_a_clear_error(cloud: np.ndarray) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="CUDA is not available"):
        knn(cloud, 3, "cosine", device="cuda")


def test_cuda_device_equals_exact(cloud: np.ndarray) -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine")
    ref = knn(cloud, 7, "cosine")
    res = knn(cloud, 7, "cosine", device="cuda")
    np.testing.assert_array_equal(res.indices, ref.indices)


# ----------------------------------------------------------------------------------- faiss (exact)
@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("refine", [True, False])
def test_faiss_equals_exact(cloud: np.ndarray, metric: str, refine: bool) -> None:
    pytest.importorskip("faiss")
    ref = knn(cloud, 10, metric)
    res = knn(cloud, 10, metric, backend="faiss", refine=refine, block_size=256)
    assert res.backend == "faiss" and res.recall is None
    np.testing.assert_array_equal(res.indices, ref.indices)
    np.testing.assert_allclose(res.distances, ref.distances, atol=0 if refine else 1e-5)


# ------------------------------------------------------------------------ hnsw (approximate, recall)
def test_hnsw_recall_is_measured_and_high_on_easy_data(cloud: np.ndarray) -> None:
    pytest.importorskip("hnswlib")
    with pytest.warns(ApproximateSearchWarning, match="recall@10"):
        res = knn(cloud, 10, "euclidean", backend="hnsw", recall_sample=cloud.shape[0],
                  n_threads=1)
    ref = knn(cloud, 10, "euclidean")
    assert res.backend == "hnsw" and not res.exact
    # with the whole data set as sample, the reported recall is exactly the true recall
    assert res.recall == pytest.approx(recall_at_k(res.indices, ref.indices), abs=1e-12)
    assert res.recall > 0.9
    assert res.to_dict()["recall"] == res.recall and res.info["recall_sample"] == cloud.shape[0]
    # found neighbors carry exact float64 distances
    direct = np.linalg.norm(cloud[res.indices].astype(np.float64) - cloud[:, None].astype(np.float64),
                            axis=2)
    np.testing.assert_allclose(res.distances, direct, atol=1e-9)


def test_hnsw_low_recall_is_reported_honestly() -> None:
    pytest.importorskip("hnswlib")
    X = np.random.default_rng(3).standard_normal((1500, 64)).astype(np.float32)
    with pytest.warns(ApproximateSearchWarning):
        res = knn(X, 10, "cosine", backend="hnsw", M=2, ef_construction=10, ef=11,
                  recall_sample=1500, n_threads=1)
    true = recall_at_k(res.indices, knn(X, 10, "cosine").indices)
    assert res.recall == pytest.approx(true, abs=1e-12)
    assert res.recall < 0.95


def test_nngs_built_on_hnsw_carries_the_recall(cloud: np.ndarray) -> None:
    pytest.importorskip("hnswlib")
    Y = cloud + 0.05 * np.random.default_rng(1).standard_normal(cloud.shape).astype(np.float32)
    with pytest.warns(ApproximateSearchWarning):
        curve = pairspace.nngs_curve(cloud, Y, 10, backend="hnsw", recall_sample=200)
    assert curve.recall_x is not None and 0.9 < curve.recall_x <= 1.0
    assert curve.to_dict()["recall_y"] == curve.recall_y
    exact_curve = pairspace.nngs_curve(cloud, Y, 10)
    assert exact_curve.recall_x is None and exact_curve.to_dict()["recall_x"] is None
    with pytest.warns(ApproximateSearchWarning):
        pairspace.nngs(cloud, Y, 5, backend="hnsw")


# ------------------------------------------------------------------------------------------ dask
def test_dask_equals_exact_on_a_two_worker_cluster(cloud: np.ndarray, tmp_path) -> None:
    distributed = pytest.importorskip("dask.distributed")
    ref = knn(cloud, 8, "cosine")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        res = knn(cloud, 8, "cosine", backend="dask", client=client, block_size=90)
        np.testing.assert_array_equal(res.indices, ref.indices)
        np.testing.assert_array_equal(res.distances, ref.distances)
        assert res.backend == "dask" and res.info["n_tasks"] == 7
        # a memory-mapped file travels as its path; each worker maps it itself
        np.save(tmp_path / "x.npy", cloud)
        res_mm = knn(str(tmp_path / "x.npy"), 8, "cosine", backend="dask", client=client,
                     block_size=250)
        np.testing.assert_array_equal(res_mm.indices, ref.indices)


def test_dask_starts_its_own_local_cluster(cloud: np.ndarray) -> None:
    pytest.importorskip("dask.distributed")
    res = knn(cloud[:200], 4, "euclidean", backend="dask", n_workers=2, block_size=64)
    np.testing.assert_array_equal(res.indices, knn(cloud[:200], 4, "euclidean").indices)


# ----------------------------------------------------------------------------------- out of core
def test_memmap_equals_in_memory_and_is_streamed(cloud: np.ndarray, tmp_path) -> None:
    np.save(tmp_path / "x.npy", cloud)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    ref = knn(cloud, 6, "euclidean")
    for X in (mm, tmp_path / "x.npy"):
        res = knn(X, 6, "euclidean", chunk_rows=64)
        np.testing.assert_array_equal(res.indices, ref.indices)
        np.testing.assert_array_equal(res.distances, ref.distances)
    searcher = ExactSearcher(mm, 6, "euclidean")
    assert searcher.stream and searcher._base is None  # no in-memory copy of the data
    np.testing.assert_array_equal(knn(cloud, 6, "euclidean", stream=True).indices, ref.indices)


def test_parquet_read_in_batches_equals_in_memory(cloud: np.ndarray, tmp_path) -> None:
    path = tmp_path / "emb.parquet"
    EmbeddingTable([f"i{j}" for j in range(len(cloud))], cloud).save(path)
    mat = open_matrix(path, batch_rows=37)
    assert isinstance(mat, np.memmap) and mat.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(mat), cloud)
    res = knn(str(path), 5, "cosine")
    np.testing.assert_array_equal(res.indices, knn(cloud, 5, "cosine").indices)
    cached = open_matrix(path, batch_rows=50, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("emb-*.npy"))) == 1  # keyed by the file (issue 14)
    np.testing.assert_array_equal(np.asarray(cached), cloud)


def test_parquet_variable_lists_and_errors(tmp_path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.5]]
    pq.write_table(pa.table({"emb": pa.array(rows, type=pa.list_(pa.float64()))}),
                   tmp_path / "l.parquet")
    mat = open_matrix(tmp_path / "l.parquet", column="emb", batch_rows=2)
    np.testing.assert_array_equal(np.asarray(mat), np.array(rows))
    with pytest.raises(ValueError, match="no column 'vector'"):
        open_matrix(tmp_path / "l.parquet")
    pq.write_table(pa.table({"vector": pa.array([[1.0, 2.0], [3.0]])}), tmp_path / "r.parquet")
    with pytest.raises(ValueError, match="different lengths|changes width"):
        open_matrix(tmp_path / "r.parquet", batch_rows=1)
    with pytest.raises(FileNotFoundError, match="matrix file not found"):
        open_matrix(tmp_path / "missing.npy")
    (tmp_path / "x.txt").write_text("1,2\n")
    with pytest.raises(ValueError, match="unsupported input format"):
        open_matrix(tmp_path / "x.txt")
    # every other format of data.formats is read by read_matrix, with its rules
    (tmp_path / "x.csv").write_text("id,a,b\nu,1,2\nv,3,4.5\n")
    np.testing.assert_array_equal(np.asarray(open_matrix(tmp_path / "x.csv")), [[1, 2], [3, 4.5]])


# ------------------------------------------------------------------------------------ helpers, API
def test_recall_and_drop_self() -> None:
    assert recall_at_k(np.array([[1, 2], [0, 3]]), np.array([[2, 1], [0, 2]])) == 0.75
    labels = np.array([[0, 5, 6], [7, 8, 9], [4, -1, 2]])
    np.testing.assert_array_equal(drop_self(labels, np.array([0, 1, 2])),
                                  [[5, 6], [7, 8], [4, -1]])


def test_unknown_backend_and_options(cloud: np.ndarray) -> None:
    with pytest.raises(ValueError, match="unknown kNN backend 'annoy'"):
        knn(cloud, 3, backend="annoy")
    with pytest.raises(TypeError, match="unexpected options"):
        knn(cloud, 3, ef=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # exact search never warns
        knn(cloud, 3)
