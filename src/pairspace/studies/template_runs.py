"""The two ways ``pairspace template-study`` runs the study: on files, and on the synthetic model.

:func:`template_study_files` reads a labeled media table and the text side (a registered text
encoder or a ``.npy`` of precomputed prompt embeddings), resolves the templates and class names, and
records the files' provenance in the result; :func:`synthetic_template_study` runs the study on
:func:`~pairspace.studies.templates.synthetic_zeroshot`. Both return a
:class:`~pairspace.studies.templates.TemplateStudyResult` that nobody edits afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..envelope import file_input
from .templates import TemplateStudyResult, synthetic_zeroshot, template_study

__all__ = ["synthetic_template_study", "template_study_files"]


def template_study_files(media: str | os.PathLike[str], templates: str = "cifar100_clip",
                         class_names: str | None = None, *, text_encoder: str | None = None,
                         text_options: Mapping[str, Any] | None = None,
                         text_embeddings: str | os.PathLike[str] | None = None,
                         **options: Any) -> TemplateStudyResult:
    """The template study of a labeled media table (see :func:`~pairspace.studies.templates.template_study`).

    Parameters
    ----------
    media : path-like
        Embedding table with labels (:meth:`pairspace.data.table.EmbeddingTable.load`).
    templates : str
        A shipped template set or a file (:func:`pairspace.data.templates.load_templates`).
    class_names : str, optional
        A shipped class-name list or a file; default: the table's labels with underscores as spaces.
    text_encoder : str, optional
        A registered text encoder (with ``text_options``); either this or ``text_embeddings``.
    text_embeddings : path-like, optional
        A ``.npy`` array (templates x classes x dim) of precomputed prompt embeddings.
    **options
        Passed to :func:`~pairspace.studies.templates.template_study` (k, metric, n_boot, ...).
    """
    from ..data.table import EmbeddingTable
    from ..data.templates import ClassNames, clean_class_name, load_class_names, load_templates

    if (text_encoder is None) == (text_embeddings is None):
        raise ValueError("give one text side: a text encoder or precomputed text embeddings")
    tmpl = load_templates(templates)  # a bad name fails before the table is read
    names = load_class_names(class_names) if class_names else None
    table = EmbeddingTable.load(media)
    if table.labels is None:
        raise ValueError(f"{media} has no labels; the template study needs labelled media")
    labels: Any = table.labels
    if names is None:
        raw = table.class_names()
        names = ClassNames(clean_class_name(c) for c in raw)
        names.source = f"the labels of {media} (underscores to spaces)"
        pos = {c: i for i, c in enumerate(raw)}
        labels = np.array([pos[v] for v in table.labels])
    inputs: dict[str, Any] = {"media": file_input(media)}
    if text_embeddings is not None:
        path = Path(text_embeddings)
        if not path.is_file():
            raise FileNotFoundError(f"text embeddings not found: {path}")
        E, enc = np.load(path, allow_pickle=False), None
        inputs["text_embeddings"] = file_input(path)
    else:
        from ..encoders import base as encoders

        E, enc = None, encoders.get(text_encoder, **dict(text_options or {}))
    return template_study(table, tmpl, names, labels, text_encoder=enc, text_embeddings=E,
                          inputs=inputs, **options)


def synthetic_template_study(seed: int = 0, **options: Any) -> TemplateStudyResult:
    """The template study on the synthetic aligned model (no model or data needed)."""
    d = synthetic_zeroshot(seed=seed)
    names = _Named(d["class_names"], "synthetic model")
    return template_study(d["media"], _Named(d["templates"], "synthetic model"), names, d["labels"],
                          text_embeddings=d["text_embeddings"], groups=d["groups"], seed=seed,
                          **options)


class _Named(list):
    """A list of strings with a ``source`` (how the study records where templates came from)."""

    def __init__(self, items: Any, source: str) -> None:
        super().__init__(items)
        self.source = source
