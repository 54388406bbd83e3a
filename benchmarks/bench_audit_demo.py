"""Wall time of ``pairspace audit --demo``: a first run (trains every control for every seed) and a
cached re-run that reuses the run folders, the rendered benchmark and the embedding tables.
Target: the cached re-run under 5 minutes on 2 CPU cores.

Usage: ``python benchmarks/bench_audit_demo.py [--seeds 3] [--out DIR]`` (the dataset and embedding
cache is the usual one, ``$PAIRSPACE_CACHE`` or ``~/.cache/pairspace``; runs go to a temporary folder
unless ``--out`` is given).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(out: Path, seeds: int) -> float:
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "pairspace", "audit", "--demo", "--seeds", str(seeds), "--out", str(out)]
    subprocess.run(cmd, env={**os.environ, "HF_HUB_OFFLINE": "1"}, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out or tmp) / "audit-demo"
        walls = {"first run (trains the controls)": _run(out, args.seeds),
                 "cached re-run": _run(out, args.seeds)}
        doc = json.loads((out / "audit.json").read_text())
    print(f"cpu cores visible: {os.cpu_count()}, seeds: {args.seeds}")
    for label, wall in walls.items():
        print(f"{label:34s} wall {wall:7.1f} s")
    for name, s in doc["controls"]["controls"].items():
        print(f"  {name:10s} top-1 {s['mean']:.3f} (sd {s['std'] or 0:.3f}, "
              f"min {s['min']:.3f}, max {s['max']:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
