"""Head training: time per epoch at 1 and 2 torch threads, and peak memory against a plain loop.

Issue 15 asks to choose the trainer's thread count by measurement and to avoid the extra copy of the
pair data. Each configuration runs in its own process (clean peak RSS): ``train`` is
:func:`pairspace.align.train` (one epoch, CLAP heads, InfoNCE, ``selection="last"``); ``plain`` is a
hand-written loop with the same model, optimizer and batches that gathers each batch's rows from the
two tables (the least memory a trainer can use). Memory is the peak RSS above the RSS after the
tables were built; time excludes imports (the first AdamW imports torch._dynamo, seconds). The
synthetic tables have ``n/2`` clips (2 captions each), ``n`` captions and
``n`` pairs, 384-d on both sides (Whisper tiny.en and MiniLM).

Usage: ``python benchmarks/bench_train.py [--n 100000 20000] [--threads 1 2] [--pythonpath SRC]``.
``--pythonpath`` runs another source tree (e.g. the trainer before this change) for comparison.
The machine is shared: quote the load average printed with the table, and compare ratios in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, resource, sys, time, tempfile
import numpy as np, torch
mode, n, threads, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), 384
from pairspace.data.table import EmbeddingTable
rng = np.random.default_rng(0)
audio = EmbeddingTable([f"a{i}" for i in range(n // 2)], rng.standard_normal((n // 2, d), dtype=np.float32))
text = EmbeddingTable([f"t{i}" for i in range(n)], rng.standard_normal((n, d), dtype=np.float32))
pairs = [(f"a{i // 2}", f"t{i}") for i in range(n)]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
import pairspace.align as al
cfg = al.TrainConfig(head="clap", dim=256, epochs=1, batch_size=128, selection="last", val_fraction=0.0)
torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))])  # its first call imports torch._dynamo (seconds)
import pairspace.align.trainer, safetensors.torch  # noqa: E401 - imports are not training time
t0 = time.perf_counter()
if mode == "train":
    with tempfile.TemporaryDirectory() as out:
        al.train(audio, text, pairs, out, cfg, progress=False, threads=threads)
        model = al.load_model(out)[0]
else:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = al.AlignmentModel(d, d, "clap", 256, 0.1)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    A, T = torch.from_numpy(np.asarray(audio.vectors)), torch.from_numpy(np.asarray(text.vectors))
    ra = torch.tensor([i // 2 for i in range(n)]); rt = torch.arange(n)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(0))
    for s in range(0, n - 127, 128):
        idx = order[s:s + 128]
        loss = al.contrastive_loss(model(A[ra[idx]], T[rt[idx]]))
        opt.zero_grad(); loss.backward(); opt.step()
wall = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
w = next(iter(model.state_dict().values())).double().sum().item()
print(json.dumps({"wall": wall, "extra_mib": (peak - base) / 1024, "weights_sum": w}))
"""


def run(mode: str, n: int, threads: int, pythonpath: str | None) -> dict:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(n), str(threads)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[100_000, 20_000], help="pairs")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--modes", nargs="+", default=["train", "plain"])
    ap.add_argument("--pythonpath", default=None, help="source tree to run instead of the installed one")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory():
        print(f"cpu: {os.cpu_count()} cores visible; load average {os.getloadavg()[0]:.2f} at start")
        print("| pairs | mode | threads | wall s (1 epoch) | peak MiB above the tables | weights checksum |")
        print("|---|---|---|---|---|---|")
        for n in args.n:
            for mode in args.modes:
                for t in args.threads:
                    t0 = time.perf_counter()
                    r = run(mode, n, t, args.pythonpath)
                    print(f"| {n:,} | {mode} | {t} | {r['wall']:.2f} | {r['extra_mib']:.0f} | "
                          f"{r['weights_sum']:.10g} |", flush=True)
                    del t0
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
