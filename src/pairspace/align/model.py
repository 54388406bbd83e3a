r"""The trained object: two projection heads and a learnable logit scale (:class:`AlignmentModel`).

The model aligns two generic modalities, ``a`` (the media side: audio, images, ...) and ``b`` (the
text side). Their display names (``names``, default ``("audio", "text")``) are stored with the
model and its checkpoints; nothing in the code depends on them. With heads :math:`h_a, h_b`,

.. math::

    L_{ij} = \min(e^{s}, 100)\, \frac{h_a(x_i)^\top h_b(y_j)}{\|h_a(x_i)\|\,\|h_b(y_j)\|}

are the logits of a batch (:func:`pairspace.align.losses.scaled_logits`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .losses import LogitScale, scaled_logits
from .registry import build_head


def as_tensor(vectors: Any) -> torch.Tensor:
    """A float32 tensor over ``vectors`` without a copy when they are float32 and contiguous (a
    read-only memory map or arrow view too: the tensor is only read)."""
    X = np.ascontiguousarray(vectors, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not writable.*")
        return torch.from_numpy(X)

#: Default display names of the two modalities.
DEFAULT_NAMES = ("audio", "text")


class AlignmentModel(nn.Module):
    """Two projection heads (``head_a``, ``head_b``) and a learnable logit scale.

    Parameters
    ----------
    d_a, d_b : int
        Backbone dimensions of modality ``a`` (rows of the logits) and ``b`` (columns).
    head : str
        Head name (:data:`pairspace.align.registry.HEADS`).
    dim : int
        Shared dimension.
    dropout : float
        Dropout inside the heads.
    names : pair of str
        Display names of the two modalities (metadata only).
    """

    def __init__(self, d_a: int, d_b: int, head: str = "clap", dim: int = 256,
                 dropout: float = 0.1, names: Sequence[str] = DEFAULT_NAMES) -> None:
        super().__init__()
        self.d_a, self.d_b, self.dim = int(d_a), int(d_b), int(dim)
        if len(names) != 2 or names[0] == names[1]:
            raise ValueError(f"names must be two distinct modality names; got {names!r}")
        self.names = (str(names[0]), str(names[1]))
        self.head_a = build_head(head, d_a, dim, dropout)
        self.head_b = build_head(head, d_b, dim, dropout)
        self.logit_scale = LogitScale()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Scaled, clamped logits (rows modality ``a``, columns modality ``b``)."""
        return scaled_logits(self.head_a(a), self.head_b(b), self.logit_scale())

    def side(self, which: str) -> str:
        """``"a"`` or ``"b"`` for a side given as ``"a"``/``"b"`` or by its display name."""
        if which in ("a", "b"):
            return which
        if which in self.names:
            return "ab"[self.names.index(which)]
        raise ValueError(f"unknown modality {which!r}; this model has 'a' ({self.names[0]}) "
                         f"and 'b' ({self.names[1]})")

    def project_a(self, x: Any, batch: int = 4096) -> np.ndarray:
        r"""L2-normalized projections of backbone embeddings of modality ``a`` (the media side;
        eval mode, float32), :math:`h_a(x) / \|h_a(x)\|`.

        Parameters
        ----------
        x : array-like, shape (n, d_a)
            Backbone embeddings.
        batch : int
            Rows projected at once.
        """
        return self._project(x, "a", batch)

    def project_b(self, x: Any, batch: int = 4096) -> np.ndarray:
        r"""L2-normalized projections of backbone embeddings of modality ``b`` (the text side),
        :math:`h_b(y) / \|h_b(y)\|`; see :meth:`project_a`."""
        return self._project(x, "b", batch)

    @torch.no_grad()
    def _project(self, x: Any, side: str, batch: int = 4096) -> np.ndarray:
        s = self.side(side)
        head, d = (self.head_a, self.d_a) if s == "a" else (self.head_b, self.d_b)
        X = np.asarray(x, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != d:
            raise ValueError(f"expected embeddings of shape (n, {d}); got {X.shape}")
        was = self.training
        self.eval()
        out = [nn.functional.normalize(head(as_tensor(X[i:i + batch])), dim=1).numpy()
               for i in range(0, X.shape[0], batch)]
        self.train(was)
        return np.concatenate(out) if out else np.zeros((0, 1), np.float32)

    # Deprecated names of the two projections (one name per side: project_a, project_b).
    def project(self, x: Any, side: str = "a", batch: int = 4096) -> np.ndarray:
        """Deprecated: :meth:`project_a` or :meth:`project_b` (``side`` may be a display name)."""
        _deprecated("project(x, side)", "project_a(x) / project_b(x)")
        return self._project(x, side, batch)

    def project_audio(self, x: Any) -> np.ndarray:
        """Deprecated: :meth:`project_a`."""
        _deprecated("project_audio", "project_a")
        return self._project(x, "a")

    def project_text(self, x: Any) -> np.ndarray:
        """Deprecated: :meth:`project_b`."""
        _deprecated("project_text", "project_b")
        return self._project(x, "b")


def _deprecated(old: str, new: str) -> None:
    import warnings

    warnings.warn(f"AlignmentModel.{old} is deprecated; use {new}", DeprecationWarning, stacklevel=3)


def upgrade_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename the keys of checkpoints written before the generic names (``audio_head.*`` ->
    ``head_a.*``, ``text_head.*`` -> ``head_b.*``)."""
    old = {"audio_head.": "head_a.", "text_head.": "head_b."}
    out = {}
    for k, v in state.items():
        for o, n in old.items():
            if k.startswith(o):
                k = n + k[len(o):]
        out[k] = v
    return out
