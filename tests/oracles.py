"""Brute-force references: full distance matrix, stable argsort, Python sets."""

from __future__ import annotations

import numpy as np


def distance_matrix(X: np.ndarray, metric: str) -> np.ndarray:
    """Full n x n distance matrix in float64 (the oracle's definition of each metric)."""
    X = np.asarray(X, dtype=np.float64)
    if metric == "euclidean":
        diff = X[:, None, :] - X[None, :, :]
        return np.sqrt((diff * diff).sum(-1))
    if metric == "cosine":
        U = X / np.linalg.norm(X, axis=1, keepdims=True)
        return 1.0 - U @ U.T
    if metric == "inner":
        return -(X @ X.T)
    raise ValueError(metric)


def knn_oracle(X: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Neighbors by stable argsort of each row (ties to the lower index), self excluded by index."""
    D = distance_matrix(X, metric)
    n = D.shape[0]
    idx = np.empty((n, k), dtype=np.int64)
    for i in range(n):
        order = [j for j in np.argsort(D[i], kind="stable") if j != i]
        idx[i] = order[:k]
    return idx, np.take_along_axis(D, idx, axis=1)


def nngs_oracle(X: np.ndarray, Y: np.ndarray, k: int, metric: str,
                metric_y: str | None = None) -> tuple[float, np.ndarray]:
    """NNGS with Python sets, as the published implementation computes it."""
    ix, _ = knn_oracle(X, k, metric)
    iy, _ = knn_oracle(Y, k, metric_y or metric)
    J = np.array([len(set(a) & set(b)) / len(set(a) | set(b)) for a, b in zip(ix, iy, strict=True)])
    return float(J.mean()), J


class LetterCounts:
    """A deterministic toy text encoder: the letter counts (a-z) of each text, 26-d.

    Prompts that share letters get similar vectors, which is all the zero-shot wiring tests need.
    """

    name, dim = "letters", 26

    def encode(self, items, batch_size=32, progress=None):
        out = np.zeros((len(items), 26), dtype=np.float32)
        for i, s in enumerate(items):
            for ch in s.lower():
                if "a" <= ch <= "z":
                    out[i, ord(ch) - 97] += 1
        return out
