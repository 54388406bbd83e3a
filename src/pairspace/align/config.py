"""The hyper-parameters of a head-training run (:class:`TrainConfig`).

Every field changes the result, so the whole configuration is written into the run folder and into
each checkpoint. Names of heads and losses come from :mod:`pairspace.align.registry`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .registry import HEADS, LOSSES

#: Model-selection rules (see :mod:`pairspace.align.trainer`). ``"auto"`` resolves to
#: ``"heldout_classes"`` when the first table has labels and to ``"val"`` otherwise.
SELECTIONS = ("auto", "heldout_classes", "val", "last", "oracle")
#: The rules that never see test labels (``pairspace train --selection`` offers only these).
BLIND_SELECTIONS = tuple(s for s in SELECTIONS if s != "oracle")
#: Where the soft loss takes its targets from.
SOFT_TARGETS = ("teacher", "backbone")
#: What one epoch counts when curated pairs are mixed in (:attr:`TrainConfig.epoch_over`).
EPOCH_OVER = ("all", "replay")
ORACLE_LABEL = "oracle (test-set selection; optimistic, for reproducing published protocols only)"


@dataclass
class TrainConfig:
    """Hyper-parameters of a head-training run (all of them change the result).

    Attributes
    ----------
    head : str
        Projection head used for both modalities (a name of :data:`~pairspace.align.registry.HEADS`:
        ``"clap"``, ``"mlp"``, ``"linear"``).
    dim : int
        Shared embedding dimension.
    dropout : float
        Dropout inside the heads.
    loss : str
        ``"infonce"`` (symmetric InfoNCE) or ``"soft"`` (the soft-labeled loss of Wang et al.,
        WASPAA 2023, arXiv 2305.01864), a name of :data:`~pairspace.align.registry.LOSSES`.
    beta : float
        Weight of the teacher similarities in the soft targets.
    teacher : str or None
        A trained run folder (or its ``model.safetensors``): the frozen teacher whose projected,
        L2-normalized embeddings give the soft targets, and the initial weights with
        ``init_from_teacher``.
    init_from_teacher : bool
        Start the student from the teacher's heads and logit scale (as in arXiv 2305.01864).
    soft_targets : {"teacher", "backbone"}
        ``"teacher"`` (the paper's protocol, needs ``teacher``) or ``"backbone"``: the raw frozen
        backbone embeddings of the batch, an explicitly named variant only.
    extra_prob : float
        With ``extra_pairs`` given to :func:`~pairspace.align.trainer.train`, the probability that a
        batch comes from them (curated pseudo-pairs); otherwise it comes from the original pairs.
    epoch_over : {"all", "replay"}
        With ``extra_pairs``, what one epoch's number of batches counts: ``"all"`` the full batches
        of the original and extra pairs together; ``"replay"`` those of the original (replay) pairs
        only, the curated batches replacing replay batches while the curated set cycles (the
        authors' loop of arXiv 2305.01864, which gives every student, and a student without
        curated pairs, the same number of steps).
    epochs, batch_size, lr, weight_decay : training schedule and AdamW settings.
    warmup : float
        Fraction of all steps spent in the linear warm-up.
    grad_clip : float
        Largest gradient norm (0 disables clipping).
    seed : int
        Seed of the initialization, the split and the shuffling.
    val_fraction : float
        Fraction of the training items (clips, or classes for ``"heldout_classes"``) held out for
        model selection.
    selection : {"auto", "heldout_classes", "val", "last", "oracle"}
        Model selection (see :mod:`pairspace.align.trainer`).
    """

    head: str = "clap"
    dim: int = 256
    dropout: float = 0.1
    loss: str = "infonce"
    beta: float = 0.3
    epochs: int = 30
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.05
    grad_clip: float = 1.0
    seed: int = 0
    val_fraction: float = 0.1
    selection: str = "auto"
    teacher: str | None = None
    init_from_teacher: bool = False
    soft_targets: str = "teacher"
    extra_prob: float = 0.5
    epoch_over: str = "all"

    def __post_init__(self) -> None:
        HEADS.entry(self.head)
        LOSSES.entry(self.loss)
        if self.selection not in SELECTIONS:
            raise ValueError(f"unknown selection {self.selection!r}; choose one of {', '.join(SELECTIONS)}")
        if self.epochs < 1 or self.batch_size < 2 or self.dim < 1:
            raise ValueError("epochs >= 1, batch_size >= 2 and dim >= 1 are required")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must lie in [0, 1); got {self.val_fraction}")
        if self.selection in ("val", "heldout_classes", "auto") and self.val_fraction == 0.0:
            raise ValueError(f"selection={self.selection!r} needs val_fraction > 0 (or use selection='last')")
        if not 0.0 <= self.warmup < 1.0:
            raise ValueError(f"warmup is a fraction of the steps in [0, 1); got {self.warmup}")
        if self.lr <= 0 or self.weight_decay < 0 or self.grad_clip < 0:
            raise ValueError("lr must be > 0, weight_decay and grad_clip >= 0")
        if not 0.0 <= self.beta <= 1.0:
            raise ValueError(f"beta must lie in [0, 1]; got {self.beta}")
        if not 0.0 <= self.extra_prob <= 1.0:
            raise ValueError(f"extra_prob must lie in [0, 1]; got {self.extra_prob}")
        if self.epoch_over not in EPOCH_OVER:
            raise ValueError(f"unknown epoch_over {self.epoch_over!r}; choose one of {', '.join(EPOCH_OVER)}")
        self._check_teacher()

    def _check_teacher(self) -> None:
        if self.soft_targets not in SOFT_TARGETS:
            raise ValueError(f"unknown soft_targets {self.soft_targets!r}; choose one of "
                             f"{', '.join(SOFT_TARGETS)}")
        uses_teacher = LOSSES.entry(self.loss).meta.get("teacher", False)
        if uses_teacher and self.soft_targets == "teacher" and not self.teacher:
            raise ValueError(f"loss={self.loss!r} takes its soft targets from a trained teacher: give "
                             "teacher=RUN (pairspace train --teacher RUN), or name the backbone "
                             "variant explicitly with soft_targets='backbone' (--soft-targets backbone)")
        if self.init_from_teacher and not self.teacher:
            raise ValueError("init_from_teacher needs teacher=RUN (pairspace train --teacher RUN)")
        if self.teacher and not self.init_from_teacher and not (
                uses_teacher and self.soft_targets == "teacher"):
            raise ValueError("a teacher is used only by the soft loss with soft_targets='teacher' or "
                             "with init_from_teacher=True; it would be ignored here")
        if self.teacher is not None:
            self.teacher = str(self.teacher)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary of every field."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """The inverse of :meth:`to_dict` (unknown keys are ignored)."""
        names = {f.name for f in fields(cls)}
        d = dict(d)
        if "soft_targets" not in d:  # written before the trained teacher existed: backbone targets
            d["soft_targets"] = "backbone"
        return cls(**{k: v for k, v in d.items() if k in names})
