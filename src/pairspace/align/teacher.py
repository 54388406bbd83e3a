r"""The frozen teacher of the soft-labeled loss and the student's initialization (arXiv 2305.01864).

Wang, Subakan, Subramani, Wu, Tavares, Ayres & Smaragdis ("Unsupervised Improvement of Audio-Text
Cross-Modal Representations", WASPAA 2023; code: zhepeiw/clap_curation) train a *student* from a
frozen copy of a trained model, the *teacher*: the student starts from the teacher's weights and its
soft targets are built from the teacher's projected, L2-normalized embeddings of the batch,

.. math::

    Y_a = \max\bigl(0, (1-\beta) I + \beta\, \hat P_a \hat P_a^\top\bigr), \qquad
    \hat P_a = \frac{h^{T}_a(X_a)}{\|h^{T}_a(X_a)\|}

(and the same for modality ``b``; :func:`pairspace.align.losses.soft_targets`). The teacher runs in
eval mode (no dropout) and never changes, so its projections are computed once per table.
"""

from __future__ import annotations

from typing import Any

import torch

from ..encoders.base import module_sha256
from .checkpoints import load_model, model_file
from .config import TrainConfig
from .model import AlignmentModel


def load_teacher(config: TrainConfig, d_a: int, d_b: int) -> tuple[AlignmentModel | None, dict[str, Any]]:
    """The frozen teacher named by ``config.teacher`` (None without one) and its description.

    Raises
    ------
    ValueError
        When the teacher's backbone dimensions differ from the tables', or when
        ``init_from_teacher`` is set and its head or shared dimension differs from ``config``.
    """
    if not config.teacher:
        return None, {}
    path = model_file(config.teacher)
    teacher, tcfg, _ = load_model(path)
    if (teacher.d_a, teacher.d_b) != (int(d_a), int(d_b)):
        raise ValueError(f"the teacher {config.teacher} was trained on {teacher.d_a}/{teacher.d_b}-d "
                         f"backbones; these tables are {d_a}/{d_b}-d")
    if config.init_from_teacher and (tcfg.head, tcfg.dim) != (config.head, config.dim):
        raise ValueError(f"init_from_teacher needs the teacher's head and dimension: the teacher has "
                         f"head={tcfg.head!r}, dim={tcfg.dim}; this run asks for head={config.head!r}, "
                         f"dim={config.dim}")
    for p in teacher.parameters():
        p.requires_grad_(False)
    teacher.eval()
    return teacher, {"path": str(path), "weights_sha256": module_sha256(teacher)[:16]}


def init_from(student: AlignmentModel, teacher: AlignmentModel) -> None:
    """Copy the teacher's heads and logit scale into the student (in place)."""
    student.load_state_dict(teacher.state_dict())


def teacher_projections(teacher: AlignmentModel, A: torch.Tensor,
                        B: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The teacher's L2-normalized projections of every row of the two backbone tables."""
    return (torch.from_numpy(teacher.project_a(A.numpy())),
            torch.from_numpy(teacher.project_b(B.numpy())))

