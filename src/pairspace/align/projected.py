"""The ``projected`` encoder: a backbone encoder followed by one trained head of an align run.

Registered here, in :mod:`pairspace.align`, because it loads a run folder; the encoder registry
(:data:`pairspace.encoders.base.ENCODERS`) imports this module on first lookup, so
``pairspace.encoders.get("projected", backbone="minilm", run="run", side="text")`` works while
:mod:`pairspace.encoders` never imports :mod:`pairspace.align`.
"""

from __future__ import annotations

import os
from typing import Any

from ..encoders.base import ENCODERS, get
from ..encoders.projected import ProjectedEncoder

__all__ = ["projected", "projected_encoder"]


def projected_encoder(backbone: Any, run: str | os.PathLike[str], side: str = "b") -> ProjectedEncoder:
    """Load the trained model of a run folder (or checkpoint) and wrap ``backbone`` with its head."""
    from .checkpoints import load_model

    model, _, _ = load_model(run)
    return ProjectedEncoder(backbone, model, side, run=str(run))


def projected(backbone: str | Any, run: str | os.PathLike[str], side: str = "b",
              **backbone_options: Any) -> ProjectedEncoder:
    """A backbone encoder followed by one trained head of an align run (registered as ``projected``).

    Parameters
    ----------
    backbone : str or Encoder
        A registered encoder name (built with ``backbone_options``) or an encoder.
    run : str or os.PathLike
        The run folder or checkpoint written by :func:`pairspace.align.train`.
    side : str
        Which head: ``"a"``/``"b"`` or a modality name of the model.
    **backbone_options
        Options of the backbone encoder (only with a backbone name).
    """
    if isinstance(backbone, str):
        if backbone == "projected":
            raise ValueError("the backbone of a projected encoder cannot itself be 'projected'")
        backbone = get(backbone, **backbone_options)
    elif backbone_options:
        raise ValueError(f"backbone options {sorted(backbone_options)} need a backbone name, "
                         "not an encoder")
    return projected_encoder(backbone, run, side)


ENCODERS.register("projected", projected, modality="backbone",
                  description="A backbone encoder followed by a trained head of an align run "
                              "(options backbone, run, side).")
