"""M = 6 paired spaces of n = 12,000: one NNGS matrix against the 6 single searches, the pairwise
loop, and platonic-rep's dense mutual-kNN code (issue 27).

Methods, timed in one process, interleaved ``--repeats`` times (the machine is shared: ratios of
neighbouring runs are steadier than absolute times):

``searches``
    The floor: ``pairspace.knn(X_s, k_max, exact_distances=False)`` for each of the M spaces (what
    :func:`pairspace.nngs_matrix` must do anyway).
``matrix``
    ``pairspace.nngs_matrix(spaces, [k...], metric="cosine")``: the M searches plus the
    M(M - 1)/2 pair merges. Target: at most 1.25x ``searches``.
``loop``
    The straightforward pairwise loop through the public API:
    ``pairspace.nngs_curve(X_a, X_b, [k...])`` for every pair a < b (two searches per pair).
``dense``
    platonic-rep's approach (Huh, Cheung, Wang & Isola, ICML 2024; github.com/minyoungg/platonic-rep,
    ``metrics.py``: ``compute_nearest_neighbors`` and ``mutual_knn``), re-implemented step by step
    in torch as in ``bench_mutual_knn.py``: per pair, L2-normalize both spaces, the full ``n x n``
    similarity, the diagonal set to -1e8, a descending argsort of every row cut to ``k``, two dense
    ``n x n`` 0/1 masks and the row sums of their product. Its measurement script calls this per
    pair, so every space is searched again for every pair. It is timed on ``--dense-pairs`` pairs
    (each pair is the same work) and scaled to all M(M - 1)/2 pairs; the printed line says so.

The values are checked: every matrix entry equals the loop's NNGS, and the mutual kNN of the timed
dense pairs equals ``pairspace.mutual_knn_matrix`` at ``k[0]``.

Usage: python benchmarks/bench_many.py [--m 6] [--n 12000] [--d 256] [--k 10 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time

import numpy as np
from _machine import cpu_model, loadavg
from bench_mutual_knn import platonic_rep_dense_mutual_knn


def make_spaces(m: int, n: int, d: int, seed: int = 0) -> list[np.ndarray]:
    """M related float32 spaces: random linear maps of one latent cloud plus growing noise."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, d), dtype=np.float32)
    out = []
    for s in range(m):
        W = rng.standard_normal((d, d), dtype=np.float32) / np.float32(np.sqrt(d))
        out.append(Z @ W + np.float32(0.3 + 0.2 * s) * rng.standard_normal((n, d), dtype=np.float32))
    return out


def matmul_rate(d: int = 2048) -> float:
    """float32 matmul GFLOP/s of numpy on this machine (best of 3)."""
    A = np.random.default_rng(1).standard_normal((d, d), dtype=np.float32)
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        A @ A
        best = min(best, time.perf_counter() - t)
    return 2 * d**3 / best / 1e9


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--m", type=int, default=6)
    p.add_argument("--n", type=int, default=12_000)
    p.add_argument("--d", type=int, default=256)
    p.add_argument("--k", type=int, nargs="+", default=[10, 100])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--dense-pairs", type=int, default=2,
                   help="pairs timed for the dense peer (0: skip it)")
    p.add_argument("--skip-loop", action="store_true", help="do not time the pairwise loop")
    args = p.parse_args()

    import pairspace

    spaces = make_spaces(args.m, args.n, args.d)
    K = max(args.k)
    pairs = list(itertools.combinations(range(args.m), 2))
    pairspace.nngs_matrix([s[:50] for s in spaces], [2, 5])  # warm-up (imports, kernels)
    print(f"CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; numpy float32 matmul "
          f"{matmul_rate():.0f} GFLOP/s; load average before: {loadavg()}")
    print(f"M = {args.m} spaces, n = {args.n}, d = {args.d}, k = {args.k} (search width {K}), "
          f"cosine, {len(pairs)} pairs")

    times: dict[str, list[float]] = {"searches": [], "matrix": [], "loop": []}
    mat = loop = None
    for r in range(args.repeats):
        t = time.perf_counter()
        for s in spaces:
            pairspace.knn(s, K, "cosine", exact_distances=False)
        times["searches"].append(time.perf_counter() - t)

        t = time.perf_counter()
        mat = pairspace.nngs_matrix(spaces, args.k, "cosine")
        times["matrix"].append(time.perf_counter() - t)

        if not args.skip_loop and (r == 0 or args.repeats <= 3):
            t = time.perf_counter()
            loop = np.zeros_like(mat)
            for a, b in pairs:
                c = pairspace.nngs_curve(spaces[a], spaces[b], args.k)
                for i, k in enumerate(args.k):
                    loop[i, a, b] = loop[i, b, a] = c.at(k)
            times["loop"].append(time.perf_counter() - t)
        print(f"  repeat {r + 1}: searches {times['searches'][-1]:.2f} s, matrix "
              f"{times['matrix'][-1]:.2f} s (x{times['matrix'][-1] / times['searches'][-1]:.2f})"
              + (f", loop {times['loop'][-1]:.2f} s" if len(times["loop"]) == r + 1 else "")
              + f"; load {loadavg()}", flush=True)

    med = {k: statistics.median(v) for k, v in times.items() if v}
    ratios = [m / s for m, s in zip(times["matrix"], times["searches"], strict=True)]
    print(f"\nmedian: {args.m} single searches {med['searches']:.2f} s | nngs_matrix {med['matrix']:.2f} s"
          f" = {statistics.median(ratios):.2f}x the searches (per-repeat ratios "
          f"{', '.join(f'{x:.2f}' for x in ratios)}; target <= 1.25x)")
    if loop is not None:
        off = ~np.eye(args.m, dtype=bool)
        err = float(np.max(np.abs(mat[:, off] - loop[:, off])))
        print(f"pairwise loop (nngs_curve per pair) {med['loop']:.2f} s = "
              f"{med['loop'] / med['matrix']:.1f}x nngs_matrix; max |matrix - loop| = {err:.1e}")

    if args.dense_pairs:
        import torch
        import torch.nn.functional as F

        torch.set_num_threads(os.cpu_count() or 1)
        mk = pairspace.mutual_knn_matrix(spaces, args.k[0], "cosine")
        timed = pairs[: args.dense_pairs]
        t = time.perf_counter()
        vals = []
        for a, b in timed:
            A = F.normalize(torch.from_numpy(spaces[a]), dim=-1)
            B = F.normalize(torch.from_numpy(spaces[b]), dim=-1)
            vals.append(platonic_rep_dense_mutual_knn(A, B, args.k[0]))
        dt = time.perf_counter() - t
        full = dt / len(timed) * len(pairs)
        err = max(abs(v - mk[a, b]) for v, (a, b) in zip(vals, timed, strict=True))
        print(f"platonic-rep dense mutual kNN at k = {args.k[0]}: {dt:.2f} s for {len(timed)} "
              f"pair(s), scaled to {len(pairs)} pairs {full:.1f} s = {full / med['matrix']:.1f}x "
              f"nngs_matrix (which also gives every k <= {K}); max |dense - mutual_knn_matrix| = "
              f"{err:.1e}")
    print(f"load average after: {loadavg()}")


if __name__ == "__main__":
    main()
