"""Speed of permutation tests on precomputed kNN graphs (relabeling, no new search).

Usage: python benchmarks/bench_permutation.py [--n 50000] [--k 10] [--permutations 1000]
       [--search]   (build the graphs with pairspace.knn instead of random neighbor lists)

Only the permutation loop is timed; the graphs are built once beforehand.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from pairspace import knn
from pairspace.stats import permutation_test


def random_graph(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """Uniformly random neighbor lists: ``k`` distinct indices other than the row itself."""
    idx = rng.integers(0, n - 1, size=(n, 3 * k))
    idx += idx >= np.arange(n)[:, None]  # skip the item itself
    out = np.empty((n, k), dtype=np.int64)
    for i in range(n):
        _, first = np.unique(idx[i], return_index=True)
        out[i] = idx[i, np.sort(first)[:k]]  # distinct values in their random order
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=50000)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--d", type=int, default=16)
    p.add_argument("--permutations", type=int, default=1000)
    p.add_argument("--search", action="store_true")
    a = p.parse_args()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(a.n, a.d)).astype(np.float32)
    Y = (X + 0.5 * rng.normal(size=X.shape)).astype(np.float32)
    t0 = time.perf_counter()
    if a.search:
        graphs = (knn(X, a.k, "euclidean"), knn(Y, a.k, "euclidean"))
    else:
        graphs = (random_graph(a.n, a.k, rng), random_graph(a.n, a.k, rng))
    print(f"graphs ({'search' if a.search else 'random lists'}): {time.perf_counter() - t0:.1f} s")
    for measure in ("nngs", "mutual_knn", "cknna"):
        t = time.perf_counter()
        r = permutation_test(X, Y, measure, k=a.k, n_permutations=a.permutations, graphs=graphs,
                             progress=False)
        dt = time.perf_counter() - t
        print(f"{measure:<11} n={a.n} k={a.k} P={a.permutations}: {dt:.2f} s "
              f"({1e3 * dt / a.permutations:.2f} ms/permutation), observed={r.observed:.4f}, "
              f"p={r.p_value:.4f}")


if __name__ == "__main__":
    main()
