"""The audit on the rendered-instrument benchmark (``pairspace audit --demo``), entirely offline.

Backbones and heads as in :mod:`pairspace.studies.audio_demo` (Whisper tiny.en, else the weight-free
``logmel`` features, and MiniLM; CLAP heads trained on the *seen* instruments' captions). The audit
looks at the 38 *unseen* instruments and finds by itself which of them the seen captions name.

Caption variants with a known truth test the detector and measure what a leak is worth:

* **leaky**: a share of the seen captions rewritten so that they name an unseen instrument (its
  name or a synonym replaces the caption's own instrument noun), plus decoy captions with near-miss
  words (``violinist``, ``kotoette``: a word of an unseen name with a suffix) that must not match;
* **clean**: every seen caption that shares a content word with an unseen name removed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .captions import shipped_synonyms
from .overlap import shipped_labels
from .study import AuditInputs

NAME_KINDS = ("exact", "normalized", "synonym")


def _quiet(message: str) -> None:
    """The default ``log``: say nothing."""


def benchmark(audio_encoder: str | None = None, log: Callable[[str], None] = _quiet) -> dict[str, Any]:
    """Render (or reuse) the benchmark and its embedding tables; returns the pieces the audit needs."""
    from ...data.datasets.instruments import render_instruments
    from ...data.templates import load_templates
    from ...encoders import get
    from ...tasks.zeroshot import text_embeddings_for
    from ..audio_demo import audio_encoder as pick_audio
    from ..audio_demo import embed_tables

    ds = render_instruments(progress=False)
    enc = pick_audio(audio_encoder, log)
    text_enc = get("minilm")
    audio, text, _ = embed_tables(ds, enc, text_enc, progress=False)
    logmel = audio if enc.name == "logmel" else embed_tables(ds, get("logmel"), text_enc, progress=False)[0]
    templates = load_templates("audio").templates
    seen, unseen = ds.class_names("seen"), ds.class_names("unseen")
    return {"ds": ds, "audio": audio, "text": text, "logmel": logmel, "text_encoder": text_enc,
            "audio_encoder": enc.name, "templates": templates, "seen": seen, "unseen": unseen,
            "prompts": text_embeddings_for(text_enc, templates, unseen, progress=False),
            "seen_prompts": text_embeddings_for(text_enc, templates, seen, progress=False)}


def inputs(b: dict[str, Any], val_fraction: float, seed: int) -> AuditInputs:
    """AuditInputs of the default demo run (held-out seen clips of the split serve the GZSL)."""
    from ._api import split_pairs

    ds = b["ds"]
    pairs = ds.pairs("seen")
    _, va = split_pairs(pairs, val_fraction, seed)
    held = list(dict.fromkeys(pairs[i][0] for i in va))
    lab = {c["audio_id"]: c["instrument"] for c in ds.clips}
    clips = [c for c in ds.clips if c["split"] == "unseen"]
    return AuditInputs(
        audio=b["audio"], text=b["text"], pairs=pairs,
        captions={c["text_id"]: c["text"] for c in ds.captions},
        eval_ids=[c["audio_id"] for c in clips], eval_labels=[c["instrument"] for c in clips],
        classes=b["unseen"], prompts=b["prompts"], seen_classes=b["seen"], seen_prompts=b["seen_prompts"],
        gzsl_ids=held, gzsl_labels=[lab[a] for a in held],
        label_sets={"magnatagatune_50 (illustration: not a label set of these backbones)":
                    shipped_labels("magnatagatune_50")},
        synonyms=shipped_synonyms())


def _near_misses(name: str) -> list[str]:
    from .text import content_words

    return [f"{w}ist" for w in content_words(name)] + [f"{w}ette" for w in content_words(name)]


def leaky_captions(ds: Any, unseen: Sequence[str], synonyms: dict[str, list[str]], share: float = 0.1,
                   decoys: float = 0.05, seed: int = 0) -> tuple[dict[str, str], set[str], set[str]]:
    """Rewrite a ``share`` of the seen captions to name an unseen instrument, add near-miss decoys.

    Returns ``(captions, truth, decoy_ids)``: every seen caption id -> text (rewritten ones changed),
    the ids that now name an unseen instrument, and the ids of the decoys (which do not).
    """
    from ...data.datasets.instruments import instrument_classes

    syn_of = {c.name: (c.name, *c.synonyms) for c in instrument_classes()}
    rng = np.random.default_rng([seed, 23])
    caps = {c["text_id"]: c["text"] for c in ds.captions if c["split"] == "seen"}
    own = {c["text_id"]: c["label"] for c in ds.captions if c["split"] == "seen"}
    ids = sorted(caps)
    order = rng.permutation(len(ids))
    n_leak, n_decoy = int(round(share * len(ids))), int(round(decoys * len(ids)))
    truth, decoy_ids = set(), set()
    for j in order[:n_leak]:
        tid = ids[j]
        target = unseen[int(rng.integers(len(unseen)))]
        noun = str(rng.choice([target, *synonyms.get(target, [])]))
        text = caps[tid]
        hit = next((n for n in sorted(syn_of[own[tid]], key=len, reverse=True) if n in text.lower()), None)
        caps[tid] = text.lower().replace(hit, noun, 1) if hit else f"{text}, like a {noun}"
        truth.add(tid)
    for j in order[n_leak:n_leak + n_decoy]:
        tid = ids[j]
        miss = rng.choice(_near_misses(unseen[int(rng.integers(len(unseen)))]))
        caps[tid] = f"{caps[tid]}, the {miss} nods"
        decoy_ids.add(tid)
    return caps, truth, decoy_ids


def precision_recall(flagged: set[str], truth: set[str]) -> dict[str, float | int]:
    """Precision and recall of a set of flagged ids against the true ids."""
    tp = len(flagged & truth)
    return {"tp": tp, "fp": len(flagged - truth), "fn": len(truth - flagged),
            "precision": tp / len(flagged) if flagged else 1.0, "recall": tp / len(truth) if truth else 1.0}
