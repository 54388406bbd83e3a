"""The audit on the rendered-instrument benchmark (``pairspace audit --demo``), entirely offline.

Backbones and heads as in :mod:`pairspace.studies.audio_demo` (Whisper tiny.en, else the weight-free
``logmel`` features, or the MagnaTagATune-supervised ``musicnn``; MiniLM for text; CLAP heads
trained on the *seen* instruments' captions). The audit looks at the 38 *unseen* instruments and
finds by itself which of them the seen captions name. Every seed draws its own seen/unseen split
(:func:`split_inputs`: per General MIDI family, a quarter of the instruments, seeded; seed 0 is the
dataset's own split), so the seeds vary the classes as well as the training.

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

from ..._progress import log_info
from .captions import shipped_synonyms
from .overlap import shipped_labels
from .study import AuditInputs

AUDIO_ENCODERS = ("whisper", "logmel", "musicnn")
"""Audio backbones of the demo benchmark: Whisper tiny.en (speech-supervised), the weight-free log-mel
features and musicnn (MagnaTagATune-supervised; the ``musicnn`` extra). The command line reads its
choices from here."""



def _embed_time(info: dict[str, Any]) -> dict[str, Any]:
    """``{"reused", "seconds"}`` of one audio table (seconds of embedding, or of reading it back)."""
    return {"reused": bool(info.get("audio_reused")), "seconds": info.get("audio_seconds")}


def benchmark(audio_encoder: str | None = None, log: Callable[[str], None] = log_info) -> dict[str, Any]:
    """Render (or reuse) the benchmark and its embedding tables; returns the pieces the audit needs."""
    from ...data.datasets.instruments import render_instruments
    from ...data.templates import load_templates
    from ...encoders import get
    from ...tasks.zeroshot import text_embeddings_for
    from ..audio_demo import audio_encoder as pick_audio
    from ..audio_demo import embed_tables

    ds = render_instruments(progress=False)
    enc = pick_audio(audio_encoder)
    text_enc = get("minilm")
    audio, text, info = embed_tables(ds, enc, text_enc, progress=False)
    if enc.name == "logmel":
        logmel, lm_info = audio, info
    else:
        logmel, _, lm_info = embed_tables(ds, get("logmel"), text_enc, progress=False)
    templates = load_templates("audio").templates
    names = ds.class_names()
    seen, unseen = ds.class_names("seen"), ds.class_names("unseen")
    allp = text_embeddings_for(text_enc, templates, names, progress=False)
    col = {c: i for i, c in enumerate(names)}
    emb = {enc.name: _embed_time(info), "logmel": _embed_time(lm_info)}
    return {"ds": ds, "audio": audio, "text": text, "logmel": logmel, "text_encoder": text_enc,
            "embedding": emb, "audio_encoder": enc.name, "templates": templates, "seen": seen,
            "unseen": unseen, "classes": names, "all_prompts": allp,
            "prompts": allp[:, [col[c] for c in unseen]], "seen_prompts": allp[:, [col[c] for c in seen]]}


def unseen_classes(b: dict[str, Any], split_seed: int) -> list[str]:
    """The unseen instruments of one seed (seed 0: the dataset's own split), in the dataset's order."""
    from ...data.datasets.instruments import instrument_classes, seen_unseen_split

    if split_seed == 0:
        return list(b["unseen"])
    split = seen_unseen_split(instrument_classes(), 0.25, split_seed)
    return [c for c in b["classes"] if split.get(c) == "unseen"]


def split_inputs(b: dict[str, Any], split_seed: int, val_fraction: float, seed: int) -> AuditInputs:
    """AuditInputs of one seed's split: train on the seen instruments' captions, evaluate on the clips
    of the unseen ones (held-out seen clips of the training split serve the GZSL)."""
    from ...align.split import split_pairs

    ds = b["ds"]
    unseen = unseen_classes(b, split_seed)
    un = set(unseen)
    seen = [c for c in b["classes"] if c not in un]
    lab = {c["audio_id"]: c["instrument"] for c in ds.clips}
    pairs = [(c["audio_id"], c["text_id"]) for c in ds.captions if lab[c["audio_id"]] not in un]
    _, va = split_pairs(pairs, val_fraction, seed)
    held = list(dict.fromkeys(pairs[i][0] for i in va))
    clips = [c for c in ds.clips if c["instrument"] in un]
    ev_caps = [c for c in ds.captions if lab[c["audio_id"]] in un]
    col = {c: i for i, c in enumerate(b["classes"])}
    enc = b["text_encoder"]
    return AuditInputs(
        audio=b["audio"], text=b["text"], pairs=pairs,
        captions={c["text_id"]: c["text"] for c in ds.captions},
        eval_ids=[c["audio_id"] for c in clips], eval_labels=[c["instrument"] for c in clips],
        classes=unseen, prompts=b["all_prompts"][:, [col[c] for c in unseen]], seen_classes=seen,
        seen_prompts=b["all_prompts"][:, [col[c] for c in seen]],
        gzsl_ids=held, gzsl_labels=[lab[a] for a in held],
        label_sets={"magnatagatune_50": shipped_labels("magnatagatune_50")},
        synonyms=shipped_synonyms(), text_encoder=lambda texts: enc.encode(list(texts), progress=False),
        eval_text_ids=[c["text_id"] for c in ev_caps], eval_text_labels=[lab[c["audio_id"]] for c in ev_caps],
        split_seed=split_seed)


def inputs(b: dict[str, Any], val_fraction: float, seed: int) -> AuditInputs:
    """AuditInputs of the dataset's own split (seed 0's)."""
    return split_inputs(b, 0, val_fraction, seed)


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
