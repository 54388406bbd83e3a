"""Projection heads, contrastive losses and a trainer for aligning frozen backbones."""

from .evaluate import projected_prompts, retrieval_eval, zeroshot_eval
from .heads import ClapProjection, LinearHead, MLPHead, build_head
from .losses import LogitScale, contrastive_loss, scaled_logits, soft_contrastive_loss, soft_targets
from .trainer import AlignmentModel, TrainConfig, TrainResult, load_model, load_pairs, save_model, train

__all__ = [
    "AlignmentModel",
    "ClapProjection",
    "LinearHead",
    "LogitScale",
    "MLPHead",
    "TrainConfig",
    "TrainResult",
    "build_head",
    "contrastive_loss",
    "load_model",
    "load_pairs",
    "projected_prompts",
    "retrieval_eval",
    "save_model",
    "scaled_logits",
    "soft_contrastive_loss",
    "soft_targets",
    "train",
    "zeroshot_eval",
]
