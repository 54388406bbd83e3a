"""Zero-shot accuracy of a trained run on a labeled embedding table (``pairspace zeroshot``).

:func:`evaluate_run` loads the run's model, the labeled table and the text encoder, embeds and
projects every prompt through the one zero-shot path
(:func:`pairspace.tasks.zeroshot.build_zero_shot_classifier` with a
:class:`~pairspace.encoders.projected.ProjectedEncoder`) and scores the projected media under a
protocol of :mod:`pairspace.tasks.protocols` (``ensemble``: the given templates averaged, all items;
``msclap-p3``: one prompt, per fold or the evaluation subset). It returns a
:class:`ZeroShotResult`, whose ``to_dict()`` is the ``pairspace.zeroshot/3`` document.

Schema ``pairspace.zeroshot/3`` (version 1 was written by the command line, flat; version 2 had no
``classes`` and ``confusion``):

``inputs``
    ``run`` (the run folder), ``eval`` (the table: ``path``, ``size``, ``sha256``), ``text_encoder``
    (its provenance), ``classes_source``, ``templates_source``.
``settings``
    ``protocol`` (its fields), ``templates`` (the set's name), ``n_templates``, ``selection`` (how
    the run picked its epoch).
``results``
    ``top1``, ``top5``, ``balanced_accuracy`` (fold means under a fold split), ``chance``, ``n``,
    ``n_classes``, ``split``, ``prompts``, ``classes`` (the class names in matrix order) and
    ``confusion`` (C x C counts over every scored item, row = true class, column = predicted
    class); ``std`` and ``per_fold`` under a fold split, else ``per_class``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ..envelope import Envelope, encoder_input, file_input

__all__ = ["SCHEMA", "ZeroShotResult", "evaluate_run"]

SCHEMA = "pairspace.zeroshot/3"


@dataclass(frozen=True)
class ZeroShotResult:
    """The zero-shot accuracy of a run under a protocol.

    Attributes
    ----------
    settings : dict
        ``protocol`` (its fields), ``templates``, ``n_templates``, ``selection``.
    metrics : dict
        :func:`pairspace.tasks.protocols.evaluate_protocol` without its ``protocol`` entry.
    envelope : Envelope
        The inputs (run, table, text encoder, sources) and the stamp.
    """

    settings: dict[str, Any]
    metrics: dict[str, Any]
    envelope: Envelope = field(default_factory=lambda: Envelope.new(SCHEMA))

    @property
    def protocol(self) -> str:
        """The protocol's name."""
        return self.settings["protocol"]["name"]

    def to_dict(self) -> dict[str, Any]:
        """The ``pairspace.zeroshot/3`` document."""
        return self.envelope.document(self.settings, self.metrics)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> ZeroShotResult:
        """The result a ``pairspace.zeroshot/3`` document describes."""
        return cls(dict(doc["settings"]), dict(doc["results"]), Envelope.from_dict(doc, SCHEMA))


def evaluate_run(run: str | os.PathLike[str], table: str | os.PathLike[str], classes: str,
                 templates: str | None = None, protocol: str = "ensemble",
                 text_encoder: str | None = None, progress: bool | None = None) -> ZeroShotResult:
    """Zero-shot accuracy of the trained run ``run`` on the labeled table ``table``.

    Parameters
    ----------
    run : path-like
        A run folder written by :func:`pairspace.align.train`.
    table : path-like
        A labeled embedding table of the run's media backbone.
    classes : str
        A shipped class-name list or a file (:func:`pairspace.data.templates.load_class_names`).
    templates : str, optional
        A shipped template set or a file; required by ``ensemble``, fixed by ``msclap-p3``.
    protocol : str
        A name of :data:`pairspace.tasks.protocols.PROTOCOLS`.
    text_encoder : str, optional
        The text backbone (default: the one the run recorded with its text table).
    progress : bool, optional
        Progress bar of the prompt embedding.
    """
    from ..align.checkpoints import load_model
    from ..data.table import EmbeddingTable
    from ..data.templates import load_class_names
    from ..encoders import get
    from ..encoders.projected import ProjectedEncoder
    from ..tasks.protocols import evaluate_protocol, protocol_templates
    from ..tasks.zeroshot import build_zero_shot_classifier

    names = load_class_names(classes)  # names and files are resolved before any work
    tmpl = protocol_templates(protocol, templates)
    model, _, meta = load_model(run)
    t = EmbeddingTable.load(table)
    if t.labels is None:
        raise ValueError(f"{table} has no labels; zero-shot evaluation needs a labeled table")
    enc_name = text_encoder or meta.get("text_encoder")
    if not enc_name:
        raise ValueError("the run does not record its text encoder; pass --text-encoder NAME")
    backbone = get(enc_name)
    enc = ProjectedEncoder(backbone, model, side="b", run=str(run))
    clf = build_zero_shot_classifier(enc, names, tmpl.templates, progress=progress)
    res = evaluate_protocol(protocol, model.project_a(t.vectors), t.labels, clf.prompt_embeddings,
                            names, t.columns, tmpl.templates)
    p = res.pop("protocol")
    inputs = {"run": str(run), "eval": file_input(table), "text_encoder": encoder_input(backbone),
              "classes_source": names.source, "templates_source": tmpl.source}
    settings = {"protocol": p, "templates": tmpl.name,
                "n_templates": len(tmpl), "selection": meta.get("selection")}
    return ZeroShotResult(settings, res, Envelope.new(SCHEMA, inputs))
