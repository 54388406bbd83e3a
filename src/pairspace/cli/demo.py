"""``pairspace demo``: the main job on an embedded default dataset (no downloads)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the main study on the embedded default data",
                       description=__doc__)
    p.add_argument("--out", default="pairspace-demo", help="output folder")
    p.add_argument("--audio", action="store_true",
                   help="run the offline audio-text alignment demo instead")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.audio:
        from ..studies.audio_demo import run as audio_demo

        return audio_demo(args)
    return run_default(args)


def run_default(args: argparse.Namespace) -> int:
    from .compare import run as compare

    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 32))
    Q, _ = np.linalg.qr(rng.normal(size=(32, 32)))
    Y = X @ Q + 0.3 * rng.normal(size=X.shape)
    out = Path(args.out)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "X.npy", X)
        np.save(Path(tmp) / "Y.npy", Y)
        print("Built-in example: 1000 points in 32-D (X) and a noisy rotation of them (Y).")
        ns = argparse.Namespace(x=str(Path(tmp) / "X.npy"), y=str(Path(tmp) / "Y.npy"),
                                metric="euclidean", metric_y=None, k=[3, 10, 100], k_max=200,
                                chance="exact", out=str(out))
        return compare(ns)
