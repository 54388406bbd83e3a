"""NNGS curve k = 1..100 with pairspace against the straightforward approach for a single k.

The straightforward approach is what the published NNGS code does: scikit-learn
``NearestNeighbors`` per space for one k, then a Python loop of set intersections and unions.

Each approach runs in its own subprocess so that its peak resident memory (``ru_maxrss``) is its
own; the data (two n x d float32 matrices) is generated inside each process and its size is
reported beside the peak.

Usage::

    python benchmarks/bench_nngs.py [--n 20000] [--d 512] [--k-max 100] [--k 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time


def _data(n: int, d: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d), dtype=np.float32)
    Y = (X + 0.5 * rng.standard_normal((n, d), dtype=np.float32)).astype(np.float32)
    return X, Y


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def run_one(approach: str, n: int, d: int, k_max: int, k: int) -> dict:
    X, Y = _data(n, d)
    before = _rss_mb()
    t0 = time.perf_counter()
    if approach == "pairspace_curve":
        import pairspace

        curve = pairspace.nngs_curve(X, Y, k_max, metric="euclidean", progress=False)
        value = float(curve.at(k))
    elif approach == "pairspace_single_k":
        import pairspace

        value = float(pairspace.nngs(X, Y, k, metric="euclidean", progress=False))
    elif approach == "sklearn_sets_single_k":
        from sklearn.neighbors import NearestNeighbors

        # k + 1 neighbors, the first being the point itself (the published code's convention).
        nx = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X, return_distance=False)[:, 1:]
        ny = NearestNeighbors(n_neighbors=k + 1).fit(Y).kneighbors(Y, return_distance=False)[:, 1:]
        js = []
        for a, b in zip(nx, ny, strict=True):
            sa, sb = set(a.tolist()), set(b.tolist())
            js.append(len(sa & sb) / len(sa | sb))
        value = sum(js) / len(js)
    else:
        raise ValueError(approach)
    wall = time.perf_counter() - t0
    return {"approach": approach, "wall_s": wall, "peak_rss_mb": _rss_mb(),
            "rss_before_mb": before, "value_at_k": value}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=20000)
    p.add_argument("--d", type=int, default=512)
    p.add_argument("--k-max", type=int, default=100)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        print(json.dumps(run_one(a.child, a.n, a.d, a.k_max, a.k)))
        return
    approaches = ["pairspace_curve", "pairspace_single_k", "sklearn_sets_single_k"]
    results: dict[str, list[dict]] = {x: [] for x in approaches}
    for _ in range(a.repeats):  # interleaved, so machine noise hits every approach alike
        for x in approaches:
            out = subprocess.run(
                [sys.executable, __file__, "--child", x, "--n", str(a.n), "--d", str(a.d),
                 "--k-max", str(a.k_max), "--k", str(a.k)],
                check=True, capture_output=True, text=True,
            ).stdout
            results[x].append(json.loads(out.strip().splitlines()[-1]))
    data_mb = 2 * a.n * a.d * 4 / 2**20
    print(f"n={a.n} d={a.d} euclidean; data = 2 x {data_mb / 2:.0f} MB float32; "
          f"median of {a.repeats} interleaved runs")
    print(f"{'approach':<26}{'work':<22}{'wall s (median)':>16}{'peak RSS MB':>13}{'NNGS@k':>10}")
    work = {"pairspace_curve": f"curve k=1..{a.k_max}", "pairspace_single_k": f"k={a.k}",
            "sklearn_sets_single_k": f"k={a.k}"}
    med = {}
    for x in approaches:
        rs = results[x]
        med[x] = statistics.median(r["wall_s"] for r in rs)
        peak = max(r["peak_rss_mb"] for r in rs)
        print(f"{x:<26}{work[x]:<22}{med[x]:>16.2f}{peak:>13.0f}{rs[0]['value_at_k']:>10.4f}")
    print(f"whole curve / straightforward single k = "
          f"{med['pairspace_curve'] / med['sklearn_sets_single_k']:.2f}x the time")


if __name__ == "__main__":
    main()
