"""Evaluate trained heads: zero-shot classification and cross-modal retrieval in the shared space.

Both compose the task functions of :mod:`pairspace.tasks` with an
:class:`~pairspace.align.model.AlignmentModel`: media and text backbone embeddings are projected by
their heads (L2-normalized), then scored exactly as for a pretrained CLIP/CLAP model, through the
one zero-shot path (:func:`pairspace.tasks.zeroshot.build_zero_shot_classifier` and
:class:`~pairspace.tasks.zeroshot.ZeroShotClassifier`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..encoders.projected import ProjectedEncoder
from ..tasks.retrieval import retrieval_metrics
from ..tasks.zeroshot import ZeroShotClassifier, build_zero_shot_classifier
from .model import AlignmentModel


def projected_prompts(model: AlignmentModel, text_encoder: Any, class_names: Sequence[str],
                      templates: Sequence[str], batch_size: int = 64,
                      progress: bool | None = None) -> np.ndarray:
    """Every (template, class) prompt embedded by ``text_encoder`` and projected by the model's
    ``b`` head: shape (T, C, d_shared), L2-normalized rows.

    The prompts go through the zero-shot task's one builder
    (:func:`pairspace.tasks.zeroshot.build_zero_shot_classifier`) with the backbone wrapped in a
    :class:`~pairspace.encoders.projected.ProjectedEncoder`; :func:`zeroshot_eval` ensembles them.
    """
    return build_zero_shot_classifier(ProjectedEncoder(text_encoder, model, side="b"), class_names,
                                      templates, batch_size, progress).prompt_embeddings


def zeroshot_eval(model: AlignmentModel, audio: Any, labels: Sequence[str], class_names: Sequence[str],
                  prompt_embeddings: np.ndarray) -> dict[str, Any]:
    """Zero-shot metrics of projected media against template-ensembled, projected prompts.

    Parameters
    ----------
    model : AlignmentModel
        Trained heads.
    audio : array-like, shape (n, d_audio)
        Backbone embeddings of the evaluation clips.
    labels : sequence of str
        Class name of each clip (every one must be in ``class_names``).
    class_names : sequence of str
        The candidate classes.
    prompt_embeddings : numpy.ndarray, shape (T, C, d_shared)
        Output of :func:`projected_prompts`.

    Returns
    -------
    dict
        :func:`pairspace.tasks.zeroshot.zeroshot_metrics` (``top1``, ``top5``,
        ``balanced_accuracy``, ``chance``, ...).
    """
    clf = ZeroShotClassifier.from_prompt_embeddings(prompt_embeddings, class_names)
    return clf.evaluate(model.project_a(audio), list(labels))


def retrieval_eval(model: AlignmentModel, audio: Any, text: Any, text_to_audio: Sequence[int],
                   ks: Sequence[int] = (1, 5, 10)) -> dict[str, Any]:
    """Text-to-audio and audio-to-text retrieval (R@K, mAP@10, median rank) in the shared space.

    ``text_to_audio[j]`` is the row of ``audio`` that caption ``j`` describes (several captions may
    describe one clip; every clip needs at least one caption).
    """
    return retrieval_metrics(model.project_b(text), model.project_a(audio),
                             np.asarray(text_to_audio, dtype=np.int64), metric="cosine", ks=ks,
                             names=("text_to_audio", "audio_to_text"))
