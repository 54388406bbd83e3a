"""Held-out splits of the training pairs for model selection (seeded, whole items or whole classes).

* :func:`split_pairs` holds out whole first-modality items (a clip with all its captions), the
  ``"val"`` selection: it tracks how well held-out clips of the *training* classes are retrieved.
* :func:`split_pairs_by_class` holds out whole classes (every clip of the class with its captions),
  the ``"heldout_classes"`` selection: it tracks transfer to classes never trained on, which is what
  zero-shot accuracy measures.

This is pairspace's choice, not the paper's. The code of arXiv 2305.01864 (zhepeiw/clap_curation)
keeps the checkpoint with the lowest loss on a random 17% of the captioned rows (no class held
out), or, with its zero-shot loader on, the highest zero-shot accuracy on the downstream dataset
itself (a test-set selection). pairspace's improve experiment selects every teacher and student
epoch on the teacher's held-out *seen* classes and never on the target task.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def _check_train(train: list[int], val: list[int]) -> None:
    if len(train) < 2:
        raise ValueError(f"only {len(train)} training pairs remain after holding out {len(val)}")


def split_pairs(pairs: Sequence[tuple[str, str]], val_fraction: float,
                seed: int) -> tuple[list[int], list[int]]:
    """Indices of training and held-out pairs; whole items of the first modality go to one side.

    ``round(val_fraction * n_items)`` items are held out (at least 2 when ``val_fraction > 0``),
    chosen by a generator seeded with ``(seed, 7)``.
    """
    audio_ids = sorted({a for a, _ in pairs})
    rng = np.random.default_rng([seed, 7])
    n_val = int(round(val_fraction * len(audio_ids)))
    if val_fraction > 0 and n_val < 2:
        n_val = min(2, len(audio_ids) - 2)
    order = rng.permutation(len(audio_ids))
    val_audio = {audio_ids[i] for i in order[:max(n_val, 0)]}
    train = [i for i, (a, _) in enumerate(pairs) if a not in val_audio]
    val = [i for i, (a, _) in enumerate(pairs) if a in val_audio]
    _check_train(train, val)
    return train, val


def split_pairs_by_class(pairs: Sequence[tuple[str, str]], labels: Mapping[str, str],
                         val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices of training and held-out pairs; whole classes go to one side.

    Parameters
    ----------
    pairs : sequence of (a_id, b_id)
        The training pairs.
    labels : mapping a_id -> class
        The class of every first-modality item of ``pairs`` (the labels of its table).
    val_fraction : float
        ``round(val_fraction * n_classes)`` classes are held out, at least 2 (at least 1 when only
        3 classes exist), chosen by a generator seeded with ``(seed, 11)``.
    seed : int
        Seed of the choice.
    """
    missing = sorted({a for a, _ in pairs if a not in labels})
    if missing:
        raise ValueError(f"{len(missing)} items of the pairs have no label, e.g. {missing[:5]}; "
                         "selection='heldout_classes' needs a labeled table")
    classes = sorted({labels[a] for a, _ in pairs})
    if len(classes) < 3:
        raise ValueError(f"selection='heldout_classes' needs at least 3 classes in the training pairs; "
                         f"got {len(classes)} (use selection='val')")
    n_val = max(int(round(val_fraction * len(classes))), 2 if len(classes) >= 4 else 1)
    order = np.random.default_rng([seed, 11]).permutation(len(classes))
    held = {classes[i] for i in order[:n_val]}
    train = [i for i, (a, _) in enumerate(pairs) if labels[a] not in held]
    val = [i for i, (a, _) in enumerate(pairs) if labels[a] in held]
    _check_train(train, val)
    return train, val
