r"""Projection heads that map frozen backbone embeddings into a shared space.

* ``"linear"``: :math:`h(x) = W x + b`.
* ``"mlp"``: :math:`h(x) = W_2\,\mathrm{GELU}(W_1 x + b_1) + b_2` with dropout after the GELU.
* ``"clap"``: the projection of Microsoft CLAP (Elizalde et al., ICASSP 2023, arXiv 2206.04769),

  .. math::

      z = W_1 x,\quad h(x) = \mathrm{LayerNorm}\bigl(z + \mathrm{Dropout}(W_2\,\mathrm{GELU}(z))\bigr),

  with bias-free :math:`W_1 \in \mathbb R^{d\times d_{in}}`, :math:`W_2 \in \mathbb R^{d\times d}`.

Heads return unnormalized vectors; losses and evaluation normalize them.
"""

from __future__ import annotations

import torch
from torch import nn


class LinearHead(nn.Module):
    """A single affine map ``d_in -> d_out``."""

    def __init__(self, d_in: int, d_out: int) -> None:
        super().__init__()
        self.proj = nn.Linear(d_in, d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class MLPHead(nn.Module):
    """Two affine maps with GELU and dropout in between (hidden width ``hidden``, default ``d_out``)."""

    def __init__(self, d_in: int, d_out: int, hidden: int | None = None, dropout: float = 0.1) -> None:
        super().__init__()
        hidden = hidden or d_out
        self.net = nn.Sequential(nn.Linear(d_in, hidden), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, d_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ClapProjection(nn.Module):
    """Microsoft CLAP projection.

    Linear(no bias) -> GELU -> Linear(no bias) -> Dropout -> residual add -> LayerNorm.
    """

    def __init__(self, d_in: int, d_out: int, dropout: float = 0.5) -> None:
        super().__init__()
        self.linear1 = nn.Linear(d_in, d_out, bias=False)
        self.linear2 = nn.Linear(d_out, d_out, bias=False)
        self.drop = nn.Dropout(dropout)
        self.layer_norm = nn.LayerNorm(d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.linear1(x)
        return self.layer_norm(z + self.drop(self.linear2(nn.functional.gelu(z))))
