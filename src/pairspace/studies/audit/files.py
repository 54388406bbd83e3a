"""The audit's inputs read from a user's files (``pairspace audit`` without ``--demo``)."""

from __future__ import annotations

import os
from typing import Any

from .study import AuditInputs


def inputs_from_files(audio: str | os.PathLike[str], text: str | os.PathLike[str],
                      pairs: str | os.PathLike[str], captions: str | os.PathLike[str],
                      classes: str | os.PathLike[str], templates: str, text_encoder: Any,
                      synonyms: str | os.PathLike[str] | None = None) -> AuditInputs:
    """Read and check the audit's inputs: the evaluation rows are the media rows whose label is
    one of ``classes``; the class prompts are ``templates`` applied to them, encoded by
    ``text_encoder``.

    Parameters
    ----------
    audio : path-like
        The media backbone table (audio or image), with labels; training and evaluation items.
    text : path-like
        The caption embedding table.
    pairs : path-like
        The (media_id, text_id) training pairs.
    captions : path-like
        The caption texts (id, text), searched for class names.
    classes : path-like
        The evaluation classes, one per line (UTF-8; blank and ``#`` lines skipped).
    templates : str
        A shipped template set or a template file.
    text_encoder : Encoder
        Encodes the class prompts (and, in the audit, the altered captions).
    synonyms : path-like, optional
        Extra names per class for the caption search.

    Returns
    -------
    AuditInputs
    """
    from ...align import load_pairs
    from ...data.datasets.captions import read_caption_table
    from ...data.table import EmbeddingTable
    from ...data.templates import load_templates
    from ...data.textfiles import text_lines
    from ...tasks.zeroshot import text_embeddings_for
    from .captions import load_synonyms

    media, text_t = EmbeddingTable.load(audio), EmbeddingTable.load(text)
    if media.labels is None:
        raise ValueError(f"{audio} has no labels; the evaluation clips are found by label")
    names = text_lines(classes, "class list")
    wanted = set(names)
    rows = [i for i, lab in enumerate(media.labels) if lab in wanted]
    if not rows:
        raise ValueError(f"no row of {audio} has a label listed in {classes}")
    prompts = text_embeddings_for(text_encoder, load_templates(templates).templates, names,
                                  progress=False)
    train_pairs = load_pairs(pairs)
    src = media.columns.get("source_id")  # the table's source ids serve both sides
    pos = {a: i for i, a in enumerate(media.ids)}
    train_rows = [pos[a] for a in dict.fromkeys(a for a, _ in train_pairs) if a in pos]
    return AuditInputs(
        audio=media, text=text_t, pairs=train_pairs, captions=read_caption_table(captions),
        eval_ids=[media.ids[i] for i in rows], eval_labels=[media.labels[i] for i in rows],
        classes=names, prompts=prompts, synonyms=load_synonyms(synonyms) if synonyms else {},
        eval_sources=[str(src[i]) for i in rows] if src else None,
        train_sources=[str(src[i]) for i in train_rows] if src else None)
