"""Mutual kNN at n = 10,000, k = 10: pairspace against platonic-rep's dense algorithm (issue 15).

The peer, :func:`platonic_rep_dense_mutual_knn`, re-implements the algorithm of the evaluation code
of Huh, Cheung, Wang & Isola ("The Platonic Representation Hypothesis", ICML 2024;
github.com/minyoungg/platonic-rep, ``metrics.py``: ``compute_nearest_neighbors`` and
``mutual_knn``) step by step: the full ``n x n`` similarity ``A @ A.T`` of the L2-normalized
features, the diagonal set to -1e8, a descending argsort of every row cut to ``topk``, two dense
``n x n`` 0/1 masks filled from the neighbor lists, and the row sums of their product divided by
``topk``. pairspace runs ``pairspace.mutual_knn(X, Y, k, metric="cosine")`` on the raw features
(cosine neighbors = inner-product neighbors of the normalized rows), with its defaults.

Each measurement is a fresh process (so peak RSS belongs to one method): it loads the data (saved
once as .npy), imports its libraries (the peer torch; pairspace only what it imports itself, and it
makes a 20-row warm-up call),
records ``ru_maxrss``, times the call (wall and CPU seconds), and records ``ru_maxrss`` again. The
whole-process time runs from the start of the interpreter to its exit. The parent alternates the
two methods ``--repeats`` times and prints medians, ratios and ``/proc/loadavg``.

Usage: python benchmarks/bench_mutual_knn.py [--n 10000] [--d 512] [--k 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_data(folder: Path, n: int, d: int, seed: int = 0) -> None:
    """Two related float32 spaces saved as .npy (Y is a random linear map of X plus noise), so
    that the measured processes only load them (no generation temporaries in their peak RSS)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d), dtype=np.float32)
    M = rng.standard_normal((d, d), dtype=np.float32) / np.float32(np.sqrt(d))
    Y = X @ M + np.float32(0.8) * rng.standard_normal((n, d), dtype=np.float32)
    np.save(folder / "X.npy", X)
    np.save(folder / "Y.npy", Y)


def load_data(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """The two spaces, read into memory."""
    return np.load(folder / "X.npy"), np.load(folder / "Y.npy")


def platonic_rep_dense_mutual_knn(feats_a, feats_b, topk: int) -> float:  # noqa: ANN001 - tensors
    """The dense mutual-kNN algorithm of platonic-rep (see the module docstring), in torch."""
    import torch

    def neighbors(feats):  # noqa: ANN001, ANN202
        sim = feats @ feats.T  # full n x n similarity
        sim.fill_diagonal_(-1e8)
        return sim.argsort(dim=1, descending=True)[:, :topk]

    knn_a, knn_b = neighbors(feats_a), neighbors(feats_b)
    n = knn_a.shape[0]
    rows = torch.arange(n).unsqueeze(1)
    mask_a = torch.zeros(n, n)
    mask_b = torch.zeros(n, n)
    mask_a[rows, knn_a] = 1.0
    mask_b[rows, knn_b] = 1.0
    return float(((mask_a * mask_b).sum(dim=1) / topk).mean().item())


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def worker(method: str, folder: Path, k: int, memory_budget: int | None) -> dict[str, float]:
    """One measurement in this process (see the module docstring)."""
    t_start = time.perf_counter()
    if method == "peer":
        import torch
        import torch.nn.functional as F

        X, Y = load_data(folder)
        A = F.normalize(torch.from_numpy(X), dim=-1)
        B = F.normalize(torch.from_numpy(Y), dim=-1)
        base = _rss_mib()
        t0 = time.perf_counter()
        c0 = _cpu_s()
        value = platonic_rep_dense_mutual_knn(A, B, k)
        t1 = time.perf_counter()
        return {"value": value, "call_s": t1 - t0, "call_cpu_s": _cpu_s() - c0,
                "in_process_s": t1 - t_start, "rss_base_mib": base, "rss_peak_mib": _rss_mib()}
    else:
        import pairspace

        X, Y = load_data(folder)
        opts = {} if memory_budget is None else {"memory_budget": memory_budget}
        # warm-up: a 20-row call (the self-search's symmetric path does not import torch), so
        # that both calls below are timed warm (the cold start is in the whole-process figure)
        pairspace.mutual_knn(X[:20], Y[:20], 2, metric="cosine")
        base = _rss_mib()
        t0 = time.perf_counter()
        c0 = _cpu_s()
        value = pairspace.mutual_knn(X, Y, k, metric="cosine", **opts)
    t1 = time.perf_counter()
    return {"value": value, "call_s": t1 - t0, "call_cpu_s": _cpu_s() - c0,
            "in_process_s": t1 - t_start, "rss_base_mib": base, "rss_peak_mib": _rss_mib()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--d", type=int, default=512)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--memory-budget", type=int, default=None,
                   help="pairspace's scratch memory in bytes (default: its default, 256 MiB)")
    p.add_argument("--worker", choices=["pairspace", "peer"], default=None)
    p.add_argument("--data", default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        print(json.dumps(worker(a.worker, Path(a.data), a.k, a.memory_budget)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        make_data(Path(tmp), a.n, a.d)
        run_all(a, Path(tmp))


def run_all(a: argparse.Namespace, folder: Path) -> None:
    """Alternate the two methods, each in a fresh process, and print the table."""
    extra = [] if a.memory_budget is None else ["--memory-budget", str(a.memory_budget)]
    load_before = Path("/proc/loadavg").read_text().strip()
    runs: dict[str, list[dict[str, float]]] = {"pairspace": [], "peer": []}
    for _ in range(a.repeats):
        for method in runs:
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, __file__, "--worker", method, "--data",
                                  str(folder), "--k", str(a.k), *extra], check=True,
                                 capture_output=True, text=True).stdout
            res = json.loads(out.strip().splitlines()[-1])
            res["process_s"] = time.perf_counter() - t0
            runs[method].append(res)
    load_after = Path("/proc/loadavg").read_text().strip()
    med = {m: {key: statistics.median(r[key] for r in rs) for key in rs[0]} for m, rs in runs.items()}
    budget = "default" if a.memory_budget is None else f"{a.memory_budget / 2**20:g} MiB"
    print(f"n={a.n} d={a.d} k={a.k}, pairspace memory_budget {budget}, {a.repeats} runs each "
          "(alternating, fresh processes), medians")
    print(f"loadavg before: {load_before}\nloadavg after:  {load_after}")
    print("| figure | pairspace | platonic-rep dense (peer) | peer / pairspace |")
    print("|---|---|---|---|")
    rows = [("call, warm (s)", "call_s", "{:.2f}"), ("call, CPU time (s)", "call_cpu_s", "{:.2f}"),
            ("whole process (s)", "process_s", "{:.2f}"),
            ("peak RSS, whole process (MiB)", "rss_peak_mib", "{:.0f}"),
            ("peak RSS above data + libraries (MiB)", None, "{:.0f}")]
    for label, key, f in rows:
        if key is None:
            ours = med["pairspace"]["rss_peak_mib"] - med["pairspace"]["rss_base_mib"]
            peer = med["peer"]["rss_peak_mib"] - med["peer"]["rss_base_mib"]
        else:
            ours, peer = med["pairspace"][key], med["peer"][key]
        print(f"| {label} | {f.format(ours)} | {f.format(peer)} | {peer / max(ours, 1e-9):.1f}x |")
    vals = {m: [r["value"] for r in rs] for m, rs in runs.items()}
    print(f"mutual kNN: pairspace {vals['pairspace'][0]:.6f}, peer {vals['peer'][0]:.6f} "
          f"(difference {abs(vals['pairspace'][0] - vals['peer'][0]):.2e})")
    print("raw:", json.dumps(runs))


if __name__ == "__main__":
    main()
