r"""Contrastive losses for aligning two frozen backbones through projection heads.

Both losses take ``logits``, the scaled and clamped similarity matrix between a batch of ``N``
projected audio embeddings (rows) and their ``N`` paired text embeddings (columns):

.. math::

    L_{ij} = \min\bigl(e^{s}, 100\bigr)\, \hat a_i^\top \hat t_j,

where :math:`\hat a_i, \hat t_j` are L2-normalized projections and :math:`s` is the learnable
log logit scale (:class:`LogitScale`, initialized to :math:`\log(1/0.07)` as in CLIP, Radford et
al. 2021, and Microsoft CLAP, Elizalde et al. 2022).

* :func:`contrastive_loss` is the symmetric InfoNCE loss of CLIP/CLAP.
* :func:`soft_contrastive_loss` is the soft-labeled contrastive loss of Wang et al., "Unsupervised
  improvement of audio-text cross-modal representations", WASPAA 2023 (arXiv 2305.01864), whose
  targets mix the identity with the teacher's within-modality cosine similarities.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

#: Initial value of the log logit scale, ``log(1 / 0.07)`` (CLIP, CLAP).
LOGIT_SCALE_INIT = math.log(1.0 / 0.07)
#: Largest logit multiplier: ``exp(s)`` is clamped at 100 (CLIP).
LOGIT_SCALE_MAX = 100.0


def _check_logits(logits: torch.Tensor) -> None:
    if not isinstance(logits, torch.Tensor):
        raise ValueError(f"logits must be a torch.Tensor; got {type(logits).__name__}")
    if logits.ndim != 2 or logits.shape[0] != logits.shape[1] or logits.shape[0] < 1:
        raise ValueError(f"logits must be a square (N x N) matrix of paired items; got {tuple(logits.shape)}")
    if not torch.isfinite(logits).all():
        raise ValueError("logits contain NaN or inf values")


def contrastive_loss(logits: torch.Tensor) -> torch.Tensor:
    r"""Symmetric InfoNCE loss (CLIP / CLAP).

    .. math::

        \mathcal L = \tfrac12\Bigl(-\tfrac1N\sum_i \log\operatorname{softmax}(L_{i,:})_i
        \;-\; \tfrac1N\sum_j \log\operatorname{softmax}(L_{:,j})_j\Bigr)

    Parameters
    ----------
    logits : torch.Tensor, shape (N, N)
        Scaled similarities, rows audio and columns text; item ``i`` of each modality is a pair.

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    _check_logits(logits)
    target = torch.arange(logits.shape[0], device=logits.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))


def soft_targets(teacher: torch.Tensor, beta: float) -> torch.Tensor:
    r"""Soft contrastive targets :math:`Y = \max\bigl(0, (1-\beta) I + \beta\, \hat T \hat T^\top\bigr)`.

    ``teacher`` (N x d) is L2-normalized row-wise first, so :math:`\hat T \hat T^\top` is the
    teacher's cosine-similarity matrix; negative entries of the mixture are clamped to 0.
    """
    if teacher.ndim != 2:
        raise ValueError(f"teacher embeddings must be 2-D (N x d); got {tuple(teacher.shape)}")
    t = F.normalize(teacher, dim=1)
    eye = torch.eye(t.shape[0], dtype=t.dtype, device=t.device)
    return ((1.0 - beta) * eye + beta * (t @ t.t())).clamp_min(0.0)


def soft_contrastive_loss(logits: torch.Tensor, teacher_audio: torch.Tensor, teacher_text: torch.Tensor,
                          beta: float = 0.3) -> torch.Tensor:
    r"""Soft-labeled contrastive loss of Wang et al. (WASPAA 2023, arXiv 2305.01864).

    With :math:`Y_a = \max(0, (1-\beta) I + \beta\,\cos(T_a))` and
    :math:`Y_t = \max(0, (1-\beta) I + \beta\,\cos(T_t))` built by :func:`soft_targets` from the
    teacher audio and text embeddings of the batch,

    .. math::

        \mathcal L = \tfrac12\Bigl(\mathrm{KL}_{bm}\bigl(Y_a \,\|\, \log\operatorname{softmax}_{row}(L)\bigr)
        + \mathrm{KL}_{bm}\bigl(Y_t \,\|\, \log\operatorname{softmax}_{row}(L^\top)\bigr)\Bigr),

    where :math:`\mathrm{KL}_{bm}(Y\|P) = \tfrac1N \sum_{ij} Y_{ij}(\log Y_{ij} - P_{ij})` is
    ``torch.nn.functional.kl_div(P, Y, reduction="batchmean")`` (with :math:`0 \log 0 = 0`). With
    :math:`\beta = 0` the targets are the identity and the loss equals :func:`contrastive_loss`.

    Parameters
    ----------
    logits : torch.Tensor, shape (N, N)
        Scaled, clamped similarities (rows audio, columns text).
    teacher_audio, teacher_text : torch.Tensor, shape (N, d_a) and (N, d_t)
        Teacher embeddings of the batch's audio and text (normalized inside).
    beta : float
        Weight of the teacher similarities in the targets, in [0, 1] (default 0.3).

    Returns
    -------
    torch.Tensor
        A scalar.
    """
    _check_logits(logits)
    if not 0.0 <= float(beta) <= 1.0:
        raise ValueError(f"beta must lie in [0, 1]; got {beta}")
    n = logits.shape[0]
    for name, t in (("teacher_audio", teacher_audio), ("teacher_text", teacher_text)):
        if t.ndim != 2 or t.shape[0] != n:
            raise ValueError(f"{name} must have shape (N={n}, d); got {tuple(t.shape)}")
    y_a = soft_targets(teacher_audio.to(logits.dtype), beta).detach()
    y_t = soft_targets(teacher_text.to(logits.dtype), beta).detach()
    kl_a = F.kl_div(F.log_softmax(logits, dim=1), y_a, reduction="batchmean")
    kl_t = F.kl_div(F.log_softmax(logits.t(), dim=1), y_t, reduction="batchmean")
    return 0.5 * (kl_a + kl_t)


class LogitScale(nn.Module):
    r"""Learnable logit scale :math:`s` (init :math:`\log(1/0.07)`).

    ``forward()`` returns :math:`\min(e^s, 100)`.
    """

    def __init__(self, init: float = LOGIT_SCALE_INIT, max_scale: float = LOGIT_SCALE_MAX) -> None:
        super().__init__()
        self.log_scale = nn.Parameter(torch.tensor(float(init)))
        self.max_scale = float(max_scale)

    def forward(self) -> torch.Tensor:
        return self.log_scale.exp().clamp(max=self.max_scale)


def scaled_logits(audio: torch.Tensor, text: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    r"""``scale * normalize(audio) @ normalize(text).T``, then clamped to ``[-100, 100]``."""
    a = F.normalize(audio, dim=-1)
    t = F.normalize(text, dim=-1)
    return (scale * a @ t.t()).clamp(-LOGIT_SCALE_MAX, LOGIT_SCALE_MAX)
