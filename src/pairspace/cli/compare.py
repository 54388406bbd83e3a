"""``pairspace compare X Y``: NNGS of two paired spaces, its curve and chance level."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..measures.nngs import nngs_curve
from ..report import plot_nngs_curve, write_json
from ._render import table


def load_matrix(path: str) -> np.ndarray:
    """Load a ``.npy`` matrix (memory-mapped) with a clear error for a missing or bad file."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"input file not found: {p}")
    if p.suffix.lower() != ".npy":
        raise ValueError(f"unsupported input format {p.suffix!r} for {p} (expected .npy)")
    try:
        return np.load(p, mmap_mode="r", allow_pickle=False)
    except Exception as exc:
        raise ValueError(f"could not read {p} as a numpy array: {exc}") from exc


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="NNGS of two paired spaces (curve, chance, plot)",
                       description=__doc__)
    p.add_argument("x", help="first space (.npy, n x dx)")
    p.add_argument("y", help="second space (.npy, n x dy), rows paired with X")
    p.add_argument("--metric", default="cosine", choices=["cosine", "euclidean", "inner"])
    p.add_argument("--metric-y", default=None, choices=["cosine", "euclidean", "inner"],
                   help="metric of Y when it differs from X's")
    p.add_argument("--k", action="append", type=int, default=None,
                   help="neighborhood size to report (repeatable; default 10)")
    p.add_argument("--k-max", type=int, default=None,
                   help="largest k of the curve (default: max(--k, 100) capped at n-1)")
    p.add_argument("--chance", default="exact", choices=["exact", "approx"])
    p.add_argument("--out", default=None, help="folder for results.json and curve.png")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    X, Y = load_matrix(args.x), load_matrix(args.y)
    n = X.shape[0] if X.ndim == 2 else 0
    ks = args.k or [10]
    k_max = args.k_max if args.k_max is not None else min(max(max(ks), 100), max(n - 1, 1))
    if k_max < max(ks):
        raise ValueError(f"--k-max={k_max} is smaller than the largest --k={max(ks)}")
    curve = nngs_curve(X, Y, k_max, metric=args.metric, metric_y=args.metric_y,
                       chance=args.chance, progress=True)
    rows = [(k, curve.nngs[k - 1], curve.chance[k - 1], curve.normalized[k - 1]) for k in ks]
    print(f"n = {curve.n}, metric = {curve.metric}/{curve.metric_y}, chance = {args.chance}")
    print(table(["k", "nngs", "chance", "normalized"], rows))
    if args.out:
        out = Path(args.out)
        results = {"schema": "pairspace.compare/1", "x": args.x, "y": args.y,
                   "n": curve.n, "dx": int(X.shape[1]), "dy": int(Y.shape[1]),
                   "nngs": {str(k): float(curve.nngs[k - 1]) for k in ks}, "curve": curve}
        write_json(out / "results.json", results)
        plot_nngs_curve({"NNGS": curve}, out / "curve.png", title=f"{Path(args.x).name} vs "
                        f"{Path(args.y).name}")
        print(f"wrote {out / 'results.json'} and {out / 'curve.png'}")
    return 0
