"""The NNGS paper's RBF CKA width (0.8 x the median *squared* distance) against a brute-force
re-implementation of the reference code (``estimate_sigma``, ``get_rbf_kernel`` and ``cka``)."""

from __future__ import annotations

import numpy as np
import pytest

from pairspace.measures.cka import median_squared_distance, rbf_cka, rbf_cka_paper


def _reference(X: np.ndarray, Y: np.ndarray, alpha: float = 0.8) -> float:
    """Loops and full matrices, as the reference code computes it."""
    def sq(A: np.ndarray) -> np.ndarray:
        n = A.shape[0]
        D = np.empty((n, n))
        for i in range(n):
            for j in range(n):
                D[i, j] = float(np.sum((A[i] - A[j]) ** 2))
        return D

    def sigma(A: np.ndarray) -> float:  # median of the sorted squared distances, self column removed
        D = np.sort(sq(A), axis=1)[:, 1:]
        return alpha * float(np.median(D))

    def gram(A: np.ndarray) -> np.ndarray:
        s = sigma(A)
        return np.exp(-sq(A) / (2 * s * s))

    def center(K: np.ndarray) -> np.ndarray:
        n = K.shape[0]
        H = np.eye(n) - np.ones((n, n)) / n
        return H @ K @ H

    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    K, L = center(gram(Xc)), center(gram(Yc))
    return float(np.trace(K @ L) / np.sqrt(np.trace(K @ K) * np.trace(L @ L)))


@pytest.mark.parametrize(("scale", "seed"), [(1.0, 0), (0.05, 1), (7.0, 2), (1e-3, 3)])
def test_paper_width_matches_the_reference(scale: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = scale * rng.normal(size=(23, 5))
    Y = X @ rng.normal(size=(5, 4)) + 0.5 * scale * rng.normal(size=(23, 4))
    ref = _reference(X, Y)
    assert rbf_cka_paper(X, Y) == pytest.approx(ref, rel=1e-9, abs=1e-12)
    assert rbf_cka(X, Y, bandwidth="median_squared_distance") == pytest.approx(ref, rel=1e-9)


def test_paper_width_is_not_the_distance_rule_and_depends_on_units() -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 6))
    Y = np.tanh(X @ rng.normal(size=(6, 6))) + 0.3 * rng.normal(size=(40, 6))
    # the distance rule is scale-invariant; the squared-distance rule is not
    assert rbf_cka(X, Y) == pytest.approx(rbf_cka(10 * X, Y), rel=1e-12)
    assert rbf_cka_paper(X, Y) != pytest.approx(rbf_cka_paper(10 * X, Y), rel=1e-6)
    # the explicit width equals the rule's width
    sx, sy = 0.8 * median_squared_distance(X), 0.8 * median_squared_distance(Y)
    assert rbf_cka(X, Y, sigma=sx, sigma_y=sy) == pytest.approx(rbf_cka_paper(X, Y), rel=1e-12)
    with pytest.raises(ValueError, match="bandwidth"):
        rbf_cka(X, Y, bandwidth="median")


def test_median_squared_distance_is_the_median_over_pairs() -> None:
    X = np.array([[0.0], [1.0], [3.0], [7.0]])  # squared distances 1, 9, 49, 4, 36, 16
    assert median_squared_distance(X) == pytest.approx((9 + 16) / 2)
