"""Exact self-kNN: pairspace against raw faiss ``IndexFlatL2`` / ``IndexFlatIP`` (issue 15).

The peer is faiss itself, not pairspace's faiss backend: a flat index of the float32 rows,
``index.search(X, k + 1)``, the item itself dropped from each row (or the last entry when faiss
put a duplicate first). pairspace runs ``pairspace.knn(X, k, metric)`` with its defaults (exact,
float64 distances, ties to the lower index) and, as ``pairspace_order``, with
``exact_distances=False`` (what every kNN measure uses: the same neighbors in the same order,
float64 distances only where the float32 order is uncertain, so float32-rounded distances like
faiss's elsewhere).

Two timings per method, each in a fresh process so that no method inherits another's warm caches:

- **whole process**: the wall time of ``python -c 'load X.npy; import the library; search'`` as the
  parent sees it (interpreter start, imports, first allocations: what a researcher running one
  command pays). Loading the data is the same ``np.load`` for both;
- **warm**: in one process, after one untimed search, the median of ``--warm-repeats`` searches.

The warm child also times the machine's matmul rate on the same process and load: ``torch.mm`` of
``2048 x d`` by ``d x n`` blocks (``2 n^2 d`` flops in all), so that the effective rate of each
search, ``2 n^2 d / time``, can be set against it. Runs are interleaved (method after method,
repeat after repeat) so that machine noise hits every method alike; medians are reported with
the load average (``/proc/loadavg``) before and after.

Usage::

    python benchmarks/bench_exact.py [--n 20000] [--d 512] [--k 10 100] [--repeats 3]
        [--metric euclidean] [--warm-repeats 3] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import cpu_model, loadavg

METHODS = ("pairspace", "pairspace_order", "faiss")


def _table(rows: list[dict]) -> str:
    """The k / mode table: seconds, ratio to raw faiss, effective rate against the matmul rate."""
    head = ("k", "mode", "pairspace_order s", "faiss s", "ratio to faiss", "2n^2d/time GFLOP/s",
            "matmul GFLOP/s", "rate / matmul")
    lines = [" | ".join(head)]
    for r in rows:
        mm = r.get("matmul_gflops")
        eff = r["pairspace_order_gflops"]
        lines.append(" | ".join([str(r["k"]), r["mode"], f"{r['pairspace_order_s']:.2f}",
                                 f"{r['faiss_s']:.2f}", f"{r['pairspace_order_ratio_to_faiss']:.2f}",
                                 f"{eff:.0f}", f"{mm:.0f}" if mm else "-",
                                 f"{eff / mm:.2f}" if mm else "-"]))
    return "\n".join(lines)


def _search(method: str, X, k: int, metric: str):  # noqa: ANN001, ANN202 - benchmark glue
    """``(indices, distances)`` of the ``k`` nearest other rows of every row."""
    import numpy as np

    if method.startswith("pairspace"):
        import pairspace

        res = pairspace.knn(X, k, metric, progress=False,
                            exact_distances=method == "pairspace")
        return res.indices, res.distances
    import faiss

    Xs = X
    if metric == "cosine":
        Xs = X / np.linalg.norm(X, axis=1, keepdims=True)
    index = faiss.IndexFlatL2(X.shape[1]) if metric == "euclidean" else faiss.IndexFlatIP(X.shape[1])
    index.add(Xs)
    D, Ix = index.search(Xs, k + 1)
    own = Ix == np.arange(X.shape[0])[:, None]
    drop = np.where(own.any(axis=1), own.argmax(axis=1), k)  # the item itself, else the last
    keep = np.ones(Ix.shape, dtype=bool)
    keep[np.arange(X.shape[0]), drop] = False
    return Ix[keep].reshape(-1, k), D[keep].reshape(-1, k)


def _matmul_rate(X, reps: int = 2) -> float:  # noqa: ANN001 - benchmark glue
    """GFLOP/s of ``torch.mm`` over the whole ``X X^T`` in 2048-row blocks (best of ``reps``)."""
    import numpy as np
    import torch

    T = torch.from_numpy(np.ascontiguousarray(X))
    n, d = X.shape
    out = torch.empty((2048, n))
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        for s in range(0, n, 2048):
            e = min(n, s + 2048)
            torch.mm(T[s:e], T.T, out=out[: e - s])
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n * n * d / best / 1e9


def child(args: argparse.Namespace) -> None:
    """One measurement in this process; prints one JSON line."""
    import numpy as np

    X = np.load(args.data)
    if args.mode == "whole":
        ind, _ = _search(args.method, X, args.k, args.metric)
        np.save(args.result, ind)
        print(json.dumps({"ok": True}))
        return
    _search(args.method, X, args.k, args.metric)  # warm-up
    times = []
    for _ in range(args.warm_repeats):
        t0 = time.perf_counter()
        _search(args.method, X, args.k, args.metric)
        times.append(time.perf_counter() - t0)
    rate = _matmul_rate(X) if args.method == "faiss" else None
    print(json.dumps({"warm_s": statistics.median(times), "warm_all": times,
                      "matmul_gflops": rate}))


def _run(cmd: list[str]) -> tuple[float, dict]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - t0, json.loads(out.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=20000)
    p.add_argument("--d", type=int, default=512)
    p.add_argument("--k", type=int, nargs="+", default=[10, 100])
    p.add_argument("--metric", default="euclidean", choices=["euclidean", "cosine", "inner"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warm-repeats", type=int, default=3)
    p.add_argument("--sections", nargs="+", default=["whole", "warm"], choices=["whole", "warm"])
    p.add_argument("--out", default=None)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--method", default=None, help=argparse.SUPPRESS)
    p.add_argument("--mode", default=None, help=argparse.SUPPRESS)
    p.add_argument("--data", default=None, help=argparse.SUPPRESS)
    p.add_argument("--result", default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        a.k = a.k[0]
        child(a)
        return
    import numpy as np

    tmp = Path(tempfile.mkdtemp(prefix="bench-exact-"))
    X = np.random.default_rng(0).standard_normal((a.n, a.d), dtype=np.float32)
    np.save(tmp / "X.npy", X)
    flops = 2.0 * a.n * a.n * a.d
    import os

    report: dict = {"n": a.n, "d": a.d, "metric": a.metric, "cpu_model": cpu_model(),
                    "cpu_count": os.cpu_count(), "load_before": loadavg(), "rows": []}
    print(f"CPU: {report['cpu_model']} ({report['cpu_count']} logical CPUs); n={a.n} d={a.d} "
          f"{a.metric}; load before {report['load_before']}", flush=True)
    for k in a.k:
        got: dict[tuple[str, str], list[float]] = {}
        rates: list[float] = []
        for _ in range(a.repeats):
            for m in METHODS:
                base = [sys.executable, __file__, "--child", "--method", m, "--k", str(k),
                        "--metric", a.metric, "--data", str(tmp / "X.npy")]
                if "whole" in a.sections:
                    wall, _ = _run([*base, "--mode", "whole", "--result", str(tmp / f"{m}.npy")])
                    got.setdefault((m, "whole"), []).append(wall)
                if "warm" in a.sections:
                    _, res = _run([*base, "--mode", "warm", "--warm-repeats", str(a.warm_repeats)])
                    got.setdefault((m, "warm"), []).append(res["warm_s"])
                    if res["matmul_gflops"]:
                        rates.append(res["matmul_gflops"])
        same = None
        if "whole" in a.sections:
            ip, ifa = np.load(tmp / "pairspace.npy"), np.load(tmp / "faiss.npy")
            same = float(np.mean(np.all(np.sort(ip, axis=1) == np.sort(ifa, axis=1), axis=1)))
        for mode in a.sections:
            med = {m: statistics.median(got[(m, mode)]) for m in METHODS}
            row = {"k": k, "mode": mode, "same_neighbor_sets": same}
            for m in METHODS:
                row[f"{m}_s"] = med[m]
                row[f"{m}_all"] = got[(m, mode)]
                row[f"{m}_gflops"] = flops / med[m] / 1e9
                row[f"{m}_ratio_to_faiss"] = med[m] / med["faiss"]
            if rates:
                row["matmul_gflops"] = statistics.median(rates)
            report["rows"].append(row)
            print(json.dumps(row), flush=True)
    report["load_after"] = loadavg()
    print(_table(report["rows"]))
    print(f"load after {report['load_after']}")
    if a.out:
        Path(a.out).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
