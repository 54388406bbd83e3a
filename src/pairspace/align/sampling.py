"""Batches of an epoch: shuffled pairs, optionally mixed with a second (curated) pair set.

Every epoch draws its batches from a generator seeded by ``(seed, epoch)`` alone, so a run resumed
at an epoch boundary continues exactly as an uninterrupted one.
"""

from __future__ import annotations

import torch


def epoch_batches(n: int, batch_size: int, gen: torch.Generator | None) -> list[torch.Tensor]:
    """Index batches over ``n`` pairs: a permutation cut into full batches (ragged tail dropped).

    ``gen=None`` keeps the order and the tail (validation). With ``n <= batch_size`` the one batch is
    the whole (shuffled) set.
    """
    order = torch.randperm(n, generator=gen) if gen is not None else torch.arange(n)
    if n <= batch_size:
        return [order]
    out = [order[i:i + batch_size] for i in range(0, n, batch_size)]
    return out if gen is None or len(out[-1]) == batch_size else out[:-1]  # drop the ragged batch


def steps_per_epoch(n: int, n_extra: int, batch_size: int) -> int:
    """Steps of one epoch: the full batches of the ``n + n_extra`` pairs (at least one)."""
    return max(1, (n + n_extra) // batch_size)


def mixed_batches(n: int, n_extra: int, batch_size: int, p: float,
                  gen: torch.Generator, steps: int | None = None) -> list[tuple[int, torch.Tensor]]:
    """One epoch of batches drawn from two pair sets: ``(source, indices)`` with source 1 (the second,
    curated set) with probability ``p`` per batch and 0 (the original pairs, replay) otherwise.

    Each source yields its batches from successive seeded permutations (a set is reshuffled when
    used up), so every pair of a source is visited once before any is repeated. The epoch has
    ``steps`` batches (default :func:`steps_per_epoch`).
    """
    if n_extra < 1 or n < 1:
        raise ValueError(f"both pair sets must be non-empty; got {n} and {n_extra} pairs")
    steps = steps_per_epoch(n, n_extra, batch_size) if steps is None else int(steps)
    coins = torch.rand(steps, generator=gen) < p
    queues: list[list[torch.Tensor]] = [[], []]
    sizes = (n, n_extra)
    out = []
    for c in coins.tolist():
        src = int(c)
        if not queues[src]:
            queues[src] = epoch_batches(sizes[src], batch_size, gen)
        out.append((src, queues[src].pop(0)))
    return out
