"""Wall time and result of ``pairspace improve`` (the offline curation experiment, 3 seeds).

The rendered set (16 clips per instrument) and its embedding tables are cached in the user's cache
folder (``$PAIRSPACE_CACHE``); the first run renders and embeds them (several minutes on 2 cores),
later runs reuse them. Target: a cached run under 10 minutes on 2 CPU cores.

Usage: ``python benchmarks/bench_improve.py [--seeds 0 1 2] [--out DIR]``.
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", nargs="+", default=["0", "1", "2"])
    ap.add_argument("--out", default=None, help="keep the outputs here (default: a temporary folder)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out or Path(tmp) / "improve")
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pairspace", "improve", "--seeds", *args.seeds,
                               "--out", str(out)], env=env, check=True, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        doc = json.loads((out / "improve.json").read_text())
        print(proc.stdout[proc.stdout.find("Target task"):])
    print(f"cpu cores visible: {os.cpu_count()}; wall {wall:.1f} s; stages {doc['timings']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
