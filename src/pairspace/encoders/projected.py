"""ProjectedEncoder: a backbone encoder followed by a trained projection head.

A run of :func:`pairspace.align.train` holds two heads; wrapping a backbone with one of them gives
an encoder of the shared space, so every task that takes an encoder (zero-shot classifiers,
retrieval, embedding jobs, the measures) accepts a trained model:

>>> enc = ProjectedEncoder.from_run(get("minilm"), "run", side="text")   # doctest: +SKIP
>>> enc = get("projected", backbone="minilm", run="run", side="text")   # doctest: +SKIP
>>> W = build_classifier(enc, class_names, templates)                    # doctest: +SKIP

``encode`` returns :math:`h(f(x)) / \\|h(f(x))\\|`, the L2-normalized projection of the backbone
output :math:`f(x)` (float32, eval mode).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import ENCODERS, Provenance, get


class ProjectedEncoder:
    """A backbone encoder and one head of a trained :class:`~pairspace.align.model.AlignmentModel`.

    Parameters
    ----------
    backbone : Encoder
        The encoder the heads were trained on (its ``dim`` must match the head's input).
    model : AlignmentModel
        The trained model.
    side : str
        Which head: ``"a"``/``"b"`` or a modality name of the model (``"audio"``, ``"text"``).
    run : str, optional
        Where the model came from (recorded in the provenance).
    """

    def __init__(self, backbone: Any, model: Any, side: str = "b", run: str | None = None) -> None:
        from ..encoders.base import module_sha256

        self.backbone, self.model = backbone, model
        self.side = model.side(side)
        d_in = model.d_a if self.side == "a" else model.d_b
        if isinstance(getattr(backbone, "dim", None), int) and backbone.dim != d_in:
            raise ValueError(f"the {side!r} head takes {d_in}-d inputs; the backbone "
                             f"{backbone.name!r} gives {backbone.dim}-d embeddings")
        self.dim = int(model.dim)
        self.name = f"{backbone.name}+heads"
        prov = backbone.provenance
        self.provenance = Provenance(
            encoder=self.name, model_id=str(run) if run else prov.model_id, library=prov.library,
            weights_sha256=module_sha256(model),
            preprocessing={"backbone": prov.to_dict(), "head_side": self.side,
                           "modality": model.names["ab".index(self.side)]})

    @classmethod
    def from_run(cls, backbone: Any, run: str | os.PathLike[str], side: str = "b") -> ProjectedEncoder:
        """Load the trained model of a run folder (or checkpoint) and wrap ``backbone`` with it."""
        from ..align.checkpoints import load_model

        model, _, _ = load_model(run)
        return cls(backbone, model, side, run=str(run))

    def encode(self, items: Sequence[Any], batch_size: int = 32,
               progress: bool | None = None) -> np.ndarray:
        """Embed ``items`` with the backbone, then project and L2-normalize (n x dim, float32)."""
        X = np.asarray(self.backbone.encode(items, batch_size=batch_size, progress=progress))
        if X.ndim != 2 or X.shape[0] != len(items):
            raise ValueError(f"the backbone returned shape {X.shape} for {len(items)} items")
        return self.model.project(X, self.side)


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
    return ProjectedEncoder.from_run(backbone, run, side)


ENCODERS.register("projected", projected, modality="backbone",
                  description="A backbone encoder followed by a trained head of an align run "
                              "(options backbone, run, side).")
