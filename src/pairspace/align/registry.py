"""The head and loss registries of :mod:`pairspace.align` (names listed without importing torch).

Both are :class:`pairspace._registry.Registry` instances. Their factories import torch only when they
are called, so ``pairspace train --help`` can list the choices instantly.

* ``HEADS.build(name, d_in, d_out, dropout=...)`` returns a ``torch.nn.Module``
  (see :mod:`pairspace.align.heads` for the equations); :func:`build_head` checks the arguments
  first. The factories import :mod:`~pairspace.align.heads`, which never imports this module back.
* ``LOSSES.get(name)`` is ``loss(logits, teacher_a, teacher_b, beta) -> scalar tensor``; its entry's
  ``teacher`` metadata says whether the loss needs teacher embeddings (see
  :mod:`pairspace.align.losses`).
"""

from __future__ import annotations

from typing import Any

from .._registry import Registry

HEADS = Registry("head")
LOSSES = Registry("loss")


@HEADS.register("linear", description="one affine map W x + b")
def linear_head(d_in: int, d_out: int, dropout: float = 0.0) -> Any:
    """A :class:`~pairspace.align.heads.LinearHead` (``dropout`` is unused)."""
    from .heads import LinearHead

    return LinearHead(d_in, d_out)


@HEADS.register("mlp", description="two affine maps with GELU and dropout in between")
def mlp_head(d_in: int, d_out: int, dropout: float = 0.1) -> Any:
    """An :class:`~pairspace.align.heads.MLPHead` of hidden width ``d_out``."""
    from .heads import MLPHead

    return MLPHead(d_in, d_out, dropout=dropout)


@HEADS.register("clap", description="the Microsoft CLAP projection (residual GELU block, LayerNorm)")
def clap_head(d_in: int, d_out: int, dropout: float = 0.1) -> Any:
    """A :class:`~pairspace.align.heads.ClapProjection`."""
    from .heads import ClapProjection

    return ClapProjection(d_in, d_out, dropout=dropout)


@LOSSES.register("infonce", description="symmetric InfoNCE (CLIP, CLAP)", teacher=False)
def infonce_loss(logits: Any, teacher_a: Any = None, teacher_b: Any = None, beta: float = 0.0) -> Any:
    """:func:`~pairspace.align.losses.contrastive_loss` (the teacher arguments are ignored)."""
    from .losses import contrastive_loss

    return contrastive_loss(logits)


@LOSSES.register("soft", description="soft-labeled contrastive loss of arXiv 2305.01864 "
                 "(targets from a frozen teacher)", teacher=True)
def soft_loss(logits: Any, teacher_a: Any, teacher_b: Any, beta: float = 0.3) -> Any:
    """:func:`~pairspace.align.losses.soft_contrastive_loss`."""
    from .losses import soft_contrastive_loss

    return soft_contrastive_loss(logits, teacher_a, teacher_b, beta=beta)


def build_head(kind: str, d_in: int, d_out: int, dropout: float = 0.1) -> Any:
    """Build a head registered in :data:`pairspace.align.registry.HEADS` (``"linear"``, ``"mlp"``,
    ``"clap"``, or one a user registered), after checking the dimensions and the dropout."""
    HEADS.entry(kind)  # an unknown name is an error that lists the registered ones
    if d_in < 1 or d_out < 1:
        raise ValueError(f"head dimensions must be positive; got d_in={d_in}, d_out={d_out}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1); got {dropout}")
    return HEADS.build(kind, d_in, d_out, dropout=dropout)
