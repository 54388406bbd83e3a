"""Choose the torch thread count of a training run by measuring a few steps (``threads="auto"``).

Head training runs small matrix products, where a second thread helps only when the batches are
large enough and the cores are free: on the 2-core development machine 2 threads were about 1.5x
faster than 1 at 100,000 pairs when it was quiet, and several times slower when other jobs kept both
cores busy (``benchmarks/bench_train.py``). So the choice is measured on the run itself: a scratch
copy of the model takes the same optimizer steps under each candidate count and the fastest wins.
The thread count changes the floating-point summation order, so the trained weights differ in their
last digits between counts; the default (``threads=1``) keeps runs reproducible across machines.
"""

from __future__ import annotations

import os
import time

import torch

from .config import TrainConfig
from .model import AlignmentModel
from .pairdata import TrainData


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def choose_threads(config: TrainConfig, data: TrainData, candidates: tuple[int, ...] | None = None,
                   steps: int = 5) -> tuple[int, dict[int, float]]:
    """The fastest thread count for this run and the measured seconds per step of each candidate.

    Each candidate runs one warm-up step and then ``steps`` timed steps (forward, backward, AdamW)
    of a scratch model on the run's first batches; the real run is not touched.
    """
    cands = candidates or tuple(sorted({1, min(2, available_cores())}))
    if len(cands) == 1:
        return cands[0], {}
    old = torch.get_num_threads()
    n = data.tr_a.shape[0]
    bs = min(config.batch_size, n)
    model = AlignmentModel(data.A.shape[1], data.B.shape[1], config.head, config.dim, config.dropout)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-6)
    timing: dict[int, float] = {}
    try:
        for t in cands:
            torch.set_num_threads(t)
            per = []
            for s in range(steps + 1):
                idx = torch.arange(s * bs, (s + 1) * bs) % n
                t0 = time.perf_counter()
                logits = model(data.A[data.tr_a[idx]], data.B[data.tr_b[idx]])
                loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(idx)))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                per.append(time.perf_counter() - t0)
            timing[t] = sorted(per[1:])[len(per[1:]) // 2]  # median after the warm-up step
    finally:
        torch.set_num_threads(old)
    return min(timing, key=timing.get), timing
