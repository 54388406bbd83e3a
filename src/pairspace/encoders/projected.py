"""ProjectedEncoder: a backbone encoder followed by a trained projection head.

A run of :func:`pairspace.align.train` holds two heads; wrapping a backbone with one of them gives
an encoder of the shared space, so every task that takes an encoder (zero-shot classifiers,
retrieval, embedding jobs, the measures) accepts a trained model:

>>> enc = ProjectedEncoder(get("minilm"), model, side="text")            # doctest: +SKIP
>>> enc = get("projected", backbone="minilm", run="run", side="text")   # doctest: +SKIP
>>> clf = build_zero_shot_classifier(enc, class_names, templates)       # doctest: +SKIP

The class takes an already loaded model, so this module never imports :mod:`pairspace.align`; the
``projected`` encoder, which loads a run folder, is registered from
:mod:`pairspace.align.projected` (the encoder registry imports it on first lookup).

``encode`` returns :math:`h(f(x)) / \\|h(f(x))\\|`, the L2-normalized projection of the backbone
output :math:`f(x)` (float32, eval mode).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import Provenance


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

    def encode(self, items: Sequence[Any], batch_size: int = 32,
               progress: bool | None = None) -> np.ndarray:
        """Embed ``items`` with the backbone, then project and L2-normalize (n x dim, float32)."""
        X = np.asarray(self.backbone.encode(items, batch_size=batch_size, progress=progress))
        if X.ndim != 2 or X.shape[0] != len(items):
            raise ValueError(f"the backbone returned shape {X.shape} for {len(items)} items")
        return getattr(self.model, f"project_{self.side}")(X)

