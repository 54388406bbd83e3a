"""Projection heads, contrastive losses and a trainer for aligning frozen backbones.

Modules: :mod:`~pairspace.align.registry` (head and loss names), :mod:`~pairspace.align.heads`,
:mod:`~pairspace.align.losses`, :mod:`~pairspace.align.config` (:class:`TrainConfig`),
:mod:`~pairspace.align.model` (:class:`AlignmentModel`), :mod:`~pairspace.align.checkpoints`,
:mod:`~pairspace.align.schedule`, :mod:`~pairspace.align.split`, :mod:`~pairspace.align.sampling`,
:mod:`~pairspace.align.teacher`, :mod:`~pairspace.align.threads`, :mod:`~pairspace.align.runfolder`,
:mod:`~pairspace.align.pairdata`, :mod:`~pairspace.align.trainer`,
:mod:`~pairspace.align.summary` (:class:`TrainResult`, the ``pairspace.train/1`` document) and
:mod:`~pairspace.align.evaluate`. Names are imported lazily: ``import pairspace.align`` does not
import torch until a model, a loss or the trainer is used.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "AlignmentModel": ".model",
    "ClapProjection": ".heads",
    "HEADS": ".registry",
    "LOSSES": ".registry",
    "LinearHead": ".heads",
    "LogitScale": ".losses",
    "MLPHead": ".heads",
    "TrainConfig": ".config",
    "TrainResult": ".summary",
    "TrainingDiverged": ".trainer",
    "build_head": ".registry",
    "contrastive_loss": ".losses",
    "load_model": ".checkpoints",
    "load_pairs": ".trainer",
    "projected_prompts": ".evaluate",
    "retrieval_eval": ".evaluate",
    "save_model": ".checkpoints",
    "scaled_logits": ".losses",
    "soft_contrastive_loss": ".losses",
    "soft_targets": ".losses",
    "train": ".trainer",
    "zeroshot_eval": ".evaluate",
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
