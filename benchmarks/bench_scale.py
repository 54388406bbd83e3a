"""Scale benchmark of pairspace's kNN search, NNGS and permutation tests (issue 5).

Sections (each prints a table and adds to the JSON written with ``--out``):

``compare``  wall time and peak memory of NNGS at ``k`` and of the curve ``k = 1..kmax`` for
             pairspace exact, pairspace's own faiss backend (``backend="faiss"``: a faiss flat
             index asked for ``k + margin`` candidates, then pairspace's float64 refinement; NOT
             raw faiss, which ``bench_exact.py`` measures), the straightforward approach (scikit-learn
             ``NearestNeighbors`` + Python sets, as the published NNGS code does) and the dense
             approach (an ``n x n`` distance matrix and a full sort, like the Platonic-representation
             code), and pairspace hnsw (approximate, with its measured recall), on paired random
             spaces ``X`` and ``Y = X R + noise`` (euclidean metric, as in the paper). Every method
             runs in a fresh process; peak memory is the process's peak resident set (``VmHWM``,
             reset after loading the data) minus its resident set before.
``gflops``   achieved GFLOP/s of the exact search (``2 n^2 d`` flops) against the machine's matmul:
             each query block's search is followed by the plain product of the same shape
             (``torch.mm`` of ``b x d`` by ``d x n``), so both see the same machine load.
``stream``   NNGS at ``k`` with ``stream=True`` (no prepared copy of the data) and without, in one
             process after a warm-up: wall time and peak memory.
``perm``     1,000 permutations of a permutation test at ``n = 50,000, k = 10`` given the graphs:
             relabel ``Y``'s neighbor lists by the permutation and count overlaps.
``ooc``      out-of-core exact search of an ``n = 1,000,000 x d = 256`` float32 memmap (1 GB on
             disk), ``k = 10``: peak memory and time of the first query blocks, extrapolated.

Run ``python benchmarks/bench_scale.py --help``; the README next to this file quotes the results.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
METRIC = "euclidean"


# ------------------------------------------------------------------------------- memory accounting
def _status() -> dict[str, int]:
    """Resident-set fields of this process in bytes (Linux ``/proc/self/status``)."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, val = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[key] = int(val.split()[0]) * 1024
    return out


def _reset_peak() -> None:
    """Reset ``VmHWM`` to the current resident set (Linux >= 4.0)."""
    Path("/proc/self/clear_refs").write_text("5")


# --------------------------------------------------------------------------------------- data
def make_pair(n: int, d: int, folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """Paired spaces ``X`` (Gaussian) and ``Y = X R / sqrt(d) + 0.5 noise``, saved as .npy."""
    px, py = folder / f"x_{n}_{d}.npy", folder / f"y_{n}_{d}.npy"
    if not (px.exists() and py.exists()):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((n, d), dtype=np.float32)
        R = rng.standard_normal((d, d), dtype=np.float32) / np.sqrt(d, dtype=np.float32)
        Y = X @ R + 0.5 * rng.standard_normal((n, d), dtype=np.float32)
        np.save(px, X)
        np.save(py, Y)
    return px, py


# ------------------------------------------------------------------------------- the methods
RECALL: dict[str, float | None] = {}


def run_pairspace(X: np.ndarray, Y: np.ndarray, k: int, kmax: int, backend: str,
                  task: str) -> float | list[float]:
    """NNGS at ``k`` (two searches of width k) or the curve 1..kmax (two searches of width kmax).
    An approximate backend's recall goes to ``RECALL``."""
    import warnings

    import pairspace
    from pairspace.measures.nngs import nngs_from_graphs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pairspace.ApproximateSearchWarning)  # recorded below
        if task == "nngs":
            gx, gy = pairspace.knn_pair(X, Y, k, METRIC, backend=backend)
            RECALL.update(x=gx.recall, y=gy.recall)
            return float(nngs_from_graphs(gx, gy, [k])[0])
        curve = pairspace.nngs_curve(X, Y, kmax, metric=METRIC, backend=backend)
    RECALL.update(x=curve.recall_x, y=curve.recall_y)
    return curve.nngs.tolist()


def _sets_jaccard(nx: np.ndarray, ny: np.ndarray, k: int) -> float:
    """Mean Jaccard of the first ``k`` neighbors with Python sets (the published loop)."""
    total = 0.0
    for i in range(nx.shape[0]):
        sx = set(nx[i, :k].tolist())
        sy = set(ny[i, :k].tolist())
        total += len(sx & sy) / len(sx | sy)
    return total / nx.shape[0]


def run_sklearn_sets(X: np.ndarray, Y: np.ndarray, k: int, kmax: int,
                     task: str) -> float | list[float]:
    """scikit-learn NearestNeighbors (self excluded by ``kneighbors()``) + Python sets."""
    from sklearn.neighbors import NearestNeighbors

    width = k if task == "nngs" else kmax
    nx = NearestNeighbors(n_neighbors=width, n_jobs=-1).fit(X).kneighbors(return_distance=False)
    ny = NearestNeighbors(n_neighbors=width, n_jobs=-1).fit(Y).kneighbors(return_distance=False)
    if task == "nngs":
        return _sets_jaccard(nx, ny, k)
    return [_sets_jaccard(nx, ny, kk) for kk in range(1, kmax + 1)]


def _dense_order(A: np.ndarray, width: int) -> np.ndarray:
    """Full ``n x n`` squared distances and a full argsort of every row (self last)."""
    sq = np.einsum("ij,ij->i", A, A)
    D = A @ A.T
    D *= -2.0
    D += sq[:, None]
    D += sq[None, :]
    np.fill_diagonal(D, np.inf)
    order = np.argsort(D, axis=1, kind="stable")  # the full sort of every row
    return np.ascontiguousarray(order[:, :width])


def run_dense(X: np.ndarray, Y: np.ndarray, k: int, kmax: int, task: str) -> float | list[float]:
    """The dense approach: n x n matrices, full sort; Jaccard from dense n x n masks at ``k``."""
    from pairspace.measures.nngs import nngs_from_graphs

    if task == "nngs":
        n = X.shape[0]
        rows = np.arange(n)[:, None]
        ma = np.zeros((n, n), dtype=bool)
        ma[rows, _dense_order(X, k)] = True
        mb = np.zeros((n, n), dtype=bool)
        mb[rows, _dense_order(Y, k)] = True
        c = (ma & mb).sum(axis=1)
        return float(np.mean(c / (2.0 * k - c)))
    ox, oy = _dense_order(X, kmax), _dense_order(Y, kmax)
    return nngs_from_graphs(ox, oy, np.arange(1, kmax + 1)).tolist()


def worker(args: argparse.Namespace) -> None:
    """One method on one size in this (fresh) process; prints one JSON line."""
    import faiss  # noqa: F401  (every library is imported before the baseline is taken)
    import sklearn.neighbors  # noqa: F401
    import torch

    import pairspace  # noqa: F401
    import pairspace.neighbors.backends.faiss_flat  # noqa: F401
    import pairspace.neighbors.backends.hnsw  # noqa: F401

    torch.set_num_threads(os.cpu_count() or 1)
    X = np.load(args.x)
    Y = np.load(args.y)
    base = _status()["VmRSS"]
    _reset_peak()
    t0 = time.perf_counter()
    if args.method in ("exact", "faiss", "hnsw"):
        value = run_pairspace(X, Y, args.k, args.kmax, args.method, args.task)
    elif args.method == "sklearn":
        value = run_sklearn_sets(X, Y, args.k, args.kmax, args.task)
    else:
        value = run_dense(X, Y, args.k, args.kmax, args.task)
    wall = time.perf_counter() - t0
    st = _status()
    first = value if isinstance(value, float) else value[args.k - 1]
    print(json.dumps({"method": args.method, "task": args.task, "n": X.shape[0], "wall_s": wall,
                      "peak_extra_bytes": st["VmHWM"] - base, "peak_bytes": st["VmHWM"],
                      "nngs_at_k": first, "recall": RECALL or None}))


def run_worker(method: str, task: str, px: Path, py: Path, k: int, kmax: int,
               timeout: float) -> dict[str, Any]:
    """Run :func:`worker` in a fresh interpreter."""
    cmd = [sys.executable, __file__, "--worker", "--method", method, "--task", task, "--x", str(px),
           "--y", str(py), "--k", str(k), "--kmax", str(kmax)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"method": method, "task": task, "error": f"timeout after {timeout:.0f} s"}
    except subprocess.CalledProcessError as exc:
        return {"method": method, "task": task, "error": exc.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------- sections
def section_compare(args: argparse.Namespace, folder: Path) -> list[dict[str, Any]]:
    rows = []
    for n in args.n:
        px, py = make_pair(n, args.d, folder)
        for task in ("nngs", "curve"):
            for method in args.methods:
                limit = {"sklearn": args.sklearn_max_n, "dense": args.dense_max_n}.get(method, 10**12)
                if n > limit:
                    rows.append({"method": method, "task": task, "n": n,
                                 "error": f"skipped (n > {limit}; see extrapolation)"})
                    continue
                r = run_worker(method, task, px, py, args.k, args.kmax, args.timeout)
                r["n"] = n
                rows.append(r)
                _print_row(r)
    return rows


def _print_row(r: dict[str, Any]) -> None:
    if "error" in r:
        print(f"{r['task']:5s} n={r['n']:>7} {r['method']:8s} {r['error']}", flush=True)
        return
    rec = r.get("recall") or {}
    extra = f"  recall {rec['x']:.3f}/{rec['y']:.3f}" if rec.get("x") is not None else ""
    print(f"{r['task']:5s} n={r['n']:>7} {r['method']:8s} {r['wall_s']:9.2f} s  "
          f"peak +{r['peak_extra_bytes'] / 2**20:8.1f} MiB  NNGS@k={r['nngs_at_k']:.4f}{extra}",
          flush=True)


def section_gflops(args: argparse.Namespace, folder: Path) -> list[dict[str, Any]]:
    import torch

    from pairspace.neighbors import ExactSearcher

    rows = []
    for n in args.n:
        X = np.load(make_pair(n, args.d, folder)[0])
        Xt = torch.from_numpy(X)
        for metric in ("euclidean", "cosine"):
            t0 = time.perf_counter()
            s = ExactSearcher(X, args.k, metric)
            t_prep = time.perf_counter() - t0
            b = s.query_block_rows(256 * 2**20)
            out = torch.empty((b, n))
            t_search = t_mm = 0.0
            for start in range(0, n, b):
                stop = min(n, start + b)
                t0 = time.perf_counter()
                s.search(np.arange(start, stop))
                t_search += time.perf_counter() - t0
                t0 = time.perf_counter()
                torch.mm(Xt[start:stop], Xt.T, out=out[: stop - start])
                t_mm += time.perf_counter() - t0
            flops = 2.0 * n * n * args.d
            r = {"n": n, "metric": metric, "search_s": t_prep + t_search, "matmul_s": t_mm,
                 "search_gflops": flops / (t_prep + t_search) / 1e9,
                 "matmul_gflops": flops / t_mm / 1e9, "ratio": t_mm / (t_prep + t_search)}
            rows.append(r)
            print(f"gflops n={n:>6} {metric:9s} search {r['search_gflops']:6.1f} GFLOP/s "
                  f"({r['search_s']:.2f} s), matmul {r['matmul_gflops']:6.1f} GFLOP/s "
                  f"({r['matmul_s']:.2f} s): {100 * r['ratio']:.0f}% of matmul", flush=True)
    return rows


def section_perm(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    import pairspace
    from pairspace.measures.overlap import overlap_counts

    n, k = args.perm_n, args.k
    px, py = make_pair(n, args.d, folder)
    gx, gy = pairspace.knn_pair(np.load(px), np.load(py), k, METRIC)
    ix, iy = gx.indices, gy.indices
    rng = np.random.default_rng(0)
    c_obs = overlap_counts(ix, iy, k)[:, -1]
    observed = float(np.mean(c_obs / (2.0 * k - c_obs)))
    out: dict[str, Any] = {"n": n, "k": k, "permutations": args.perm, "observed": observed}
    for variant in ("overlap_counts", "broadcast"):
        null = np.empty(args.perm)
        t0 = time.perf_counter()
        for p in range(args.perm):
            perm = rng.permutation(n)
            inv = np.empty(n, dtype=np.int64)
            inv[perm] = np.arange(n)
            iy_p = inv[iy[perm]]  # the graph of Y[perm], relabeled without a new search
            if variant == "overlap_counts":
                c = overlap_counts(ix, iy_p, k)[:, -1]
            else:
                c = (ix[:, :, None] == iy_p[:, None, :]).sum(axis=(1, 2))
            null[p] = np.mean(c / (2.0 * k - c))
        wall = time.perf_counter() - t0
        out[variant] = {"wall_s": wall, "null_mean": float(null.mean()),
                        "p_value": float((1 + np.sum(null >= observed)) / (1 + args.perm))}
        print(f"perm n={n} k={k} {args.perm} permutations ({variant}): {wall:.2f} s, null mean "
              f"{null.mean():.5f}, observed {observed:.4f}", flush=True)
    return out


def section_stream(args: argparse.Namespace, folder: Path) -> list[dict[str, Any]]:
    """NNGS at k with and without the prepared copy of the data (``stream=True``), in this process
    after a warm-up, at the largest ``--n``."""
    import torch  # noqa: F401  (imported before the measurement, as a large search would)

    import pairspace
    from pairspace.measures.nngs import nngs_from_graphs

    n = max(args.n)
    px, py = make_pair(n, args.d, folder)
    X, Y = np.load(px), np.load(py)
    pairspace.knn(X[:3000], args.k, METRIC)  # warm-up: thread pools, allocator
    rows = []
    for stream in (True, False):
        base = _status()["VmRSS"]
        _reset_peak()
        t0 = time.perf_counter()
        gx, gy = pairspace.knn_pair(X, Y, args.k, METRIC, stream=stream)
        wall = time.perf_counter() - t0
        r = {"n": n, "stream": stream, "wall_s": wall,
             "peak_extra_bytes": _status()["VmHWM"] - base,
             "nngs_at_k": float(nngs_from_graphs(gx, gy, [args.k])[0])}
        rows.append(r)
        del gx, gy
        print(f"stream={stream!s:5s} n={n}: {wall:.1f} s, peak +{r['peak_extra_bytes'] / 2**20:.0f} MiB, "
              f"NNGS@k={r['nngs_at_k']:.4f}", flush=True)
    return rows


def ooc_worker(args: argparse.Namespace) -> None:
    """Exact out-of-core search of the first query blocks of a big memmap (fresh process)."""
    from pairspace.neighbors import ExactSearcher

    _reset_peak()
    mm = np.load(args.x, mmap_mode="r")
    n = mm.shape[0]
    t0 = time.perf_counter()
    s = ExactSearcher(mm, args.k, METRIC)  # one streamed pass: row norms
    t_prep = time.perf_counter() - t0
    indices = np.zeros((n, args.k), dtype=np.int64)  # the full result, as knn() holds it
    distances = np.zeros((n, args.k), dtype=np.float64)
    b = s.query_block_rows(args.memory_budget)
    times = []
    for start in range(0, min(n, args.ooc_blocks * b), b):
        t0 = time.perf_counter()
        ind, dist = s.search(np.arange(start, min(n, start + b)))
        indices[start : start + ind.shape[0]] = ind
        distances[start : start + ind.shape[0]] = dist
        times.append(time.perf_counter() - t0)
    st = _status()
    blocks = -(-n // b)
    print(json.dumps({"n": n, "d": mm.shape[1], "k": args.k, "block_rows": b,
                      "blocks_run": len(times), "blocks_total": blocks, "prep_s": t_prep,
                      "block_s": times, "extrapolated_total_s": t_prep + float(np.mean(times)) * blocks,
                      "peak_bytes": st["VmHWM"], "rss_anon_bytes": st["RssAnon"],
                      "rss_file_bytes": st["RssFile"],
                      "gflops": 2.0 * b * len(times) * n * mm.shape[1] / sum(times) / 1e9}))


def section_ooc(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    path = folder / f"ooc_{args.ooc_n}_{args.ooc_d}.npy"
    if not path.exists():
        out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32,
                                        shape=(args.ooc_n, args.ooc_d))
        rng = np.random.default_rng(1)
        for s in range(0, args.ooc_n, 65536):
            e = min(args.ooc_n, s + 65536)
            out[s:e] = rng.standard_normal((e - s, args.ooc_d), dtype=np.float32)
        out.flush()
        del out
    cmd = [sys.executable, __file__, "--ooc-worker", "--x", str(path), "--k", str(args.k),
           "--ooc-blocks", str(args.ooc_blocks), "--memory-budget", str(args.memory_budget)]
    res = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True,
                                    timeout=args.timeout).stdout.strip().splitlines()[-1])
    print(f"ooc n={res['n']} d={res['d']} k={res['k']}: peak RSS {res['peak_bytes'] / 2**30:.2f} GiB "
          f"(anon {res['rss_anon_bytes'] / 2**30:.2f}, file-backed {res['rss_file_bytes'] / 2**30:.2f}); "
          f"{res['blocks_run']} of {res['blocks_total']} blocks of {res['block_rows']} rows in "
          f"{sum(res['block_s']):.1f} s ({res['gflops']:.0f} GFLOP/s) -> full search "
          f"~{res['extrapolated_total_s'] / 60:.0f} min", flush=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sections", nargs="+", default=["gflops", "compare", "stream", "perm", "ooc"],
                    choices=["gflops", "compare", "stream", "perm", "ooc"])
    ap.add_argument("--n", nargs="+", type=int, default=[5000, 20000, 50000])
    ap.add_argument("--d", type=int, default=512)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--kmax", type=int, default=100)
    ap.add_argument("--methods", nargs="+", default=["exact", "faiss", "hnsw", "sklearn", "dense"],
                    choices=["exact", "faiss", "hnsw", "sklearn", "dense"])
    ap.add_argument("--sklearn-max-n", type=int, default=50000)
    ap.add_argument("--dense-max-n", type=int, default=20000,
                    help="larger n needs n^2 (float32 + int64) bytes: 30 GB at n = 50,000")
    ap.add_argument("--perm", type=int, default=1000)
    ap.add_argument("--perm-n", type=int, default=50000)
    ap.add_argument("--ooc-n", type=int, default=1_000_000)
    ap.add_argument("--ooc-d", type=int, default=256)
    ap.add_argument("--ooc-blocks", type=int, default=2)
    ap.add_argument("--memory-budget", type=int, default=256 * 2**20)
    ap.add_argument("--timeout", type=float, default=3600.0)
    ap.add_argument("--data", type=Path, default=Path("/tmp/pairspace_bench"))
    ap.add_argument("--out", type=Path, default=None, help="write all results as JSON")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--ooc-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--method", help=argparse.SUPPRESS)
    ap.add_argument("--task", help=argparse.SUPPRESS)
    ap.add_argument("--x", help=argparse.SUPPRESS)
    ap.add_argument("--y", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    if args.ooc_worker:
        return ooc_worker(args)
    args.data.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"cpu_count": os.cpu_count(), "d": args.d, "k": args.k,
                               "kmax": args.kmax}
    for section in args.sections:
        fn = {"gflops": section_gflops, "compare": section_compare, "stream": section_stream,
              "perm": section_perm, "ooc": section_ooc}[section]
        results[section] = fn(args, args.data)
        if args.out is not None:
            args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
