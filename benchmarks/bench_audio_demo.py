"""Wall and CPU time of ``pairspace demo --audio`` as a user runs it (a fresh process each time, so
Python start-up and imports are included): a cold run (render + embed + train + evaluate) and a warm
run that reuses the cached dataset and embedding tables. Target: each under 5 minutes on 2 CPU cores.

It prints the machine's load average before and after each run (the machine is often shared, and the
times follow the load) and the zero-shot numbers, which must not change between the two runs.

Usage: ``python benchmarks/bench_audio_demo.py [--warm-only]`` (a temporary cache folder; with
``--warm-only`` the user's cache is used and only warm runs are timed).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed_demo(out: Path, env: dict[str, str]) -> tuple[float, float, tuple[float, float]]:
    """Wall seconds, CPU seconds (user + sys of the child) and the load average before/after."""
    load0 = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pairspace", "demo", "--audio", "--out", str(out)],
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, (load0, os.getloadavg()[0])


def main() -> int:
    warm_only = "--warm-only" in sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        if not warm_only:
            env["PAIRSPACE_CACHE"] = str(Path(tmp) / "cache")
        labels = ["warm (cached tables)"] * 2 if warm_only else ["cold (render + embed)",
                                                                 "warm (cached tables)"]
        rows = []
        for i, label in enumerate(labels):
            out = Path(tmp) / f"run{i}"
            wall, cpu, load = timed_demo(out, env)
            summary = json.loads((out / "audio_demo.json").read_text())
            z = summary["results"]["trained, infonce"]["zeroshot"]
            rows.append((label, wall, cpu, load, summary["timings_s"], z["top1"], z["top5"], z["chance"]))
    print(f"cpu cores visible: {os.cpu_count()}")
    for label, wall, cpu, load, t, top1, top5, chance in rows:
        print(f"{label:22s} wall {wall:6.1f} s  cpu {cpu:6.1f} s  load {load[0]:.1f}->{load[1]:.1f}  "
              f"stages {t}  unseen top-1 {top1:.3f} top-5 {top5:.3f} (chance {chance:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
