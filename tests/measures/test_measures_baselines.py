"""Baseline measures against naive n x n reference implementations and known values."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import orthogonal_procrustes
from scipy.stats import ortho_group

import pairspace
from pairspace.measures import available_measures, get_measure, platonic_preprocess
from pairspace.measures.cka import linear_cka, rbf_cka
from pairspace.measures.gulp import gulp, procrustes
from pairspace.measures.knn_measures import cknna, mutual_knn

SETTINGS = settings(max_examples=20, deadline=None)


def naive_knn(A, k):
    D = ((A[:, None, :] - A[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(D, np.inf)
    return np.argsort(D, axis=1, kind="stable")[:, :k]


def naive_mutual_knn(A, B, k):
    ia, ib = naive_knn(A, k), naive_knn(B, k)
    return np.mean([len(set(ia[i]) & set(ib[i])) / k for i in range(len(A))])


def naive_cknna(A, B, k):
    """Literal Eq. of Huh et al.: sum over mutual-kNN pairs of row-centered kernel products."""
    def align(P, Q, mask):
        Kp, Kq = P @ P.T, Q @ Q.T
        Kp = Kp - Kp.mean(1, keepdims=True)
        Kq = Kq - Kq.mean(1, keepdims=True)
        return float(np.sum(mask * Kp * Kq))

    n = len(A)
    ma, mb = np.zeros((n, n)), np.zeros((n, n))
    ia, ib = naive_knn(A, k), naive_knn(B, k)
    for i in range(n):
        ma[i, ia[i]] = 1
        mb[i, ib[i]] = 1
    return align(A, B, ma * mb) / np.sqrt(align(A, A, ma) * align(B, B, mb))


def u_centered_hsic(K, L):
    """Unbiased HSIC as the inner product of U-centered matrices (Szekely & Rizzo 2014)."""
    n = K.shape[0]

    def u_center(M):
        M = M.copy()
        np.fill_diagonal(M, 0.0)
        r = M.sum(1) / (n - 2)
        U = M - r[:, None] - r[None, :] + M.sum() / ((n - 1) * (n - 2))
        np.fill_diagonal(U, 0.0)
        return U

    return float(np.sum(u_center(K) * u_center(L)) / (n * (n - 3)))


def naive_cka(K, L, debiased=False):
    if debiased:
        return u_centered_hsic(K, L) / np.sqrt(u_centered_hsic(K, K) * u_centered_hsic(L, L))
    n = K.shape[0]
    H = np.eye(n) - 1.0 / n
    Kc, Lc = H @ K @ H, H @ L @ H
    return float(np.sum(Kc * Lc) / np.sqrt(np.sum(Kc * Kc) * np.sum(Lc * Lc)))


def pair(seed, n, dx, dy, noise=0.5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, dx)) * rng.uniform(0.1, 3.0, size=dx) + rng.normal(size=dx)
    Y = X @ rng.normal(size=(dx, dy)) + noise * rng.normal(size=(n, dy))
    return X, Y


@SETTINGS
@given(st.integers(0, 10**6), st.integers(8, 40), st.integers(1, 6), st.integers(1, 6),
       st.integers(1, 6))
def test_mutual_knn_matches_naive(seed, n, dx, dy, k):
    X, Y = pair(seed, n, dx, dy)
    assert mutual_knn(X, Y, k, metric="euclidean") == pytest.approx(naive_mutual_knn(X, Y, k))


@SETTINGS
@given(st.integers(0, 10**6), st.integers(8, 40), st.integers(1, 6), st.integers(1, 6),
       st.integers(1, 7))
def test_cknna_matches_naive(seed, n, dx, dy, k):
    X, Y = pair(seed, n, dx, dy)
    assert cknna(X, Y, k, metric="euclidean") == pytest.approx(naive_cknna(X, Y, k), abs=1e-9)


def test_cknna_small_k_and_few_items_do_not_crash():
    X, Y = pair(3, 5, 3, 2)
    for k in (1, 2, 4):
        v = cknna(X, Y, k, metric="euclidean")
        assert -1.0 <= v <= 1.0
        assert v == pytest.approx(naive_cknna(X, Y, k), abs=1e-9)


def test_platonic_preprocessing():
    rng = np.random.default_rng(0)
    X = rng.standard_t(2, size=(300, 16))
    P = platonic_preprocess(X)
    t = np.mean([np.quantile(np.abs(row), 0.95) for row in X])
    np.testing.assert_allclose(np.linalg.norm(P, axis=1), 1.0)
    # clamped entries are at most t before the row normalization
    clamped = np.clip(X, -t, t)
    np.testing.assert_allclose(P, clamped / np.linalg.norm(clamped, axis=1, keepdims=True))
    Y = X + 0.3 * rng.normal(size=X.shape)
    PY = platonic_preprocess(Y)
    assert mutual_knn(X, Y, 5, platonic=True) == pytest.approx(naive_mutual_knn(P, PY, 5))
    # cosine neighbors of unit rows = euclidean neighbors
    assert cknna(X, Y, 5, platonic=True) == pytest.approx(naive_cknna(P, PY, 5), abs=1e-9)
    with pytest.raises(ValueError, match="quantile"):
        platonic_preprocess(X, q=0.0)


@SETTINGS
@given(st.integers(0, 10**6), st.integers(5, 30), st.integers(1, 8), st.integers(1, 8),
       st.booleans())
def test_linear_cka_matches_gram_reference(seed, n, dx, dy, debiased):
    X, Y = pair(seed, n, dx, dy)
    ref = naive_cka(X @ X.T, Y @ Y.T, debiased)
    assert linear_cka(X, Y, debiased=debiased) == pytest.approx(ref, rel=1e-7, abs=1e-9)


def test_debiased_cka_near_zero_for_independent_wide_spaces():
    rng = np.random.default_rng(1)
    biased, debiased = [], []
    for _ in range(10):
        X, Y = rng.normal(size=(100, 500)), rng.normal(size=(100, 400))
        biased.append(linear_cka(X, Y))
        debiased.append(linear_cka(X, Y, debiased=True))
    assert min(biased) > 0.5  # the biased estimator is far from 0 when d >> n
    # unbiased: mean 0, spread about 0.017 per draw at n=100
    assert abs(np.mean(debiased)) < 0.02
    assert max(np.abs(debiased)) < 0.08


def test_cka_known_values_and_invariances():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 10))
    Q = ortho_group.rvs(10, random_state=3)
    for debiased in (False, True):
        assert linear_cka(X, X, debiased=debiased) == pytest.approx(1.0)
        assert linear_cka(X, 3.0 * X @ Q + 5.0, debiased=debiased) == pytest.approx(1.0)
    assert rbf_cka(X, X) == pytest.approx(1.0)
    assert rbf_cka(X, X @ Q + 1.0) == pytest.approx(1.0)
    assert pairspace.linear_cka(X, rng.normal(size=(200, 10))) < 0.15


@SETTINGS
@given(st.integers(0, 10**6), st.integers(6, 25), st.integers(1, 5), st.integers(1, 5),
       st.booleans())
def test_rbf_cka_matches_naive(seed, n, dx, dy, debiased):
    X, Y = pair(seed, n, dx, dy)
    sx, sy = 0.7, 1.3
    K = np.array([[np.exp(-np.sum((a - b) ** 2) / (2 * sx**2)) for b in X] for a in X])
    L = np.array([[np.exp(-np.sum((a - b) ** 2) / (2 * sy**2)) for b in Y] for a in Y])
    assert rbf_cka(X, Y, sigma=sx, sigma_y=sy, debiased=debiased) == pytest.approx(
        naive_cka(K, L, debiased), rel=1e-7, abs=1e-9)


def test_rbf_cka_default_sigma_and_limits():
    X, Y = pair(4, 60, 4, 3)
    d = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))[np.triu_indices(60, 1)]
    dy = np.sqrt(((Y[:, None] - Y[None]) ** 2).sum(-1))[np.triu_indices(60, 1)]
    assert rbf_cka(X, Y) == pytest.approx(rbf_cka(X, Y, sigma=0.8 * np.median(d),
                                                  sigma_y=0.8 * np.median(dy)))
    # a very wide kernel approaches linear CKA
    assert rbf_cka(X, Y, sigma=1e3, sigma_y=1e3) == pytest.approx(linear_cka(X, Y), abs=1e-4)
    with pytest.raises(ValueError, match="max_n"):
        rbf_cka(X, Y, max_n=50)


def naive_gulp(X, Y, lam):
    n = len(X)

    def hat(A):
        A = A - A.mean(0)
        A = A / np.sqrt(np.trace(A.T @ A) / n)  # unit total variance
        return A @ np.linalg.inv(A.T @ A + n * lam * np.eye(A.shape[1])) @ A.T

    return float(np.linalg.norm(hat(X) - hat(Y)))


@SETTINGS
@given(st.integers(0, 10**6), st.integers(8, 40), st.integers(1, 6), st.integers(1, 6),
       st.sampled_from([1e-3, 1e-2, 0.1, 1.0]))
def test_gulp_matches_hat_matrix_reference(seed, n, dx, dy, lam):
    X, Y = pair(seed, n, dx, dy)
    assert gulp(X, Y, lam) == pytest.approx(naive_gulp(X, Y, lam), rel=1e-6, abs=1e-7)


def test_gulp_known_values():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 6))
    Q = ortho_group.rvs(6, random_state=1)
    assert gulp(X, X) == pytest.approx(0.0, abs=1e-7)
    assert gulp(X, 4 * X @ Q + 2) == pytest.approx(0.0, abs=1e-6)
    # lam -> 0 gives invariance to any invertible linear map
    M = rng.normal(size=(6, 6))
    assert gulp(X, X @ M, lam=0.0) == pytest.approx(0.0, abs=1e-6)
    assert gulp(X, rng.normal(size=(300, 6))) > 0.5
    with pytest.raises(ValueError, match="lam"):
        gulp(X, X, lam=-1)


@SETTINGS
@given(st.integers(0, 10**6), st.integers(5, 40), st.integers(1, 6), st.integers(1, 6))
def test_procrustes_matches_scipy(seed, n, dx, dy):
    X, Y = pair(seed, n, dx, dy)
    d = max(dx, dy)

    def prep(A):
        A = A - A.mean(0)
        A = A / np.linalg.norm(A)
        return np.hstack([A, np.zeros((n, d - A.shape[1]))])

    A, B = prep(X), prep(Y)
    R, _ = orthogonal_procrustes(B, A)
    assert procrustes(X, Y) == pytest.approx(np.linalg.norm(A - B @ R), rel=1e-6, abs=1e-6)


def test_procrustes_known_values():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(100, 5))
    assert procrustes(X, 2 * X @ ortho_group.rvs(5, random_state=0) - 1) == pytest.approx(0.0, abs=1e-6)
    assert 0.0 < procrustes(X, rng.normal(size=(100, 5))) <= np.sqrt(2)


def test_registry_describes_every_measure():
    names = available_measures()
    assert {"nngs", "mutual_knn", "cknna", "linear_cka", "linear_cka_debiased", "rbf_cka", "gulp",
            "procrustes"} <= set(names)
    X, Y = pair(7, 50, 4, 4, noise=0.1)
    for name in names:
        info = get_measure(name)
        kw = {"k": 5} if info.kind == "knn" else {}
        v = info.func(X, Y, **kw)
        lo, hi = info.value_range
        assert lo - 1e-9 <= v <= hi + 1e-9, name
        d = info.to_dict()
        assert d["name"] == name and d["invariances"] and d["cost"]
    with pytest.raises(ValueError, match="available"):
        get_measure("nope")


def test_cka_reads_memmaps_in_blocks(tmp_path):
    from pairspace.measures.cka import _debiased_linear_cka

    X, Y = pair(8, 103, 5, 4)
    np.save(tmp_path / "x.npy", X.astype(np.float32))
    np.save(tmp_path / "y.npy", Y.astype(np.float32))
    mx = np.load(tmp_path / "x.npy", mmap_mode="r")
    my = np.load(tmp_path / "y.npy", mmap_mode="r")
    X32, Y32 = mx.astype(np.float64), my.astype(np.float64)
    assert _debiased_linear_cka(mx, my, block_rows=10) == pytest.approx(
        naive_cka(X32 @ X32.T, Y32 @ Y32.T, debiased=True), rel=1e-9)
    assert linear_cka(mx, my) == pytest.approx(naive_cka(X32 @ X32.T, Y32 @ Y32.T), rel=1e-9)
