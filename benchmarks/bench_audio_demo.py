"""Wall time of ``pairspace demo --audio``: a cold run (render + embed + train + evaluate) and a warm
run that reuses the cached dataset and embedding tables. Target: each under 5 minutes on 2 CPU cores.

Usage: ``python benchmarks/bench_audio_demo.py [--keep]`` (uses a temporary cache folder).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PAIRSPACE_CACHE": str(Path(tmp) / "cache"), "HF_HUB_OFFLINE": "1"}
        rows = []
        for label in ("cold (render + embed)", "warm (cached tables)"):
            out = Path(tmp) / label.split()[0]
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "pairspace", "demo", "--audio", "--out", str(out)],
                           env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wall = time.perf_counter() - t0
            summary = json.loads((out / "audio_demo.json").read_text())
            z = summary["results"]["trained, infonce"]["zeroshot"]
            rows.append((label, wall, summary["timings_s"], z["top1"], z["chance"]))
    print(f"cpu cores visible: {os.cpu_count()}")
    for label, wall, t, top1, chance in rows:
        print(f"{label:24s} wall {wall:7.1f} s   stages {t}   unseen top-1 {top1:.3f} (chance {chance:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
