"""The offline audit demonstration on the rendered-instrument benchmark (``pairspace audit --demo``).

1. The audit of the default demo run (CLAP heads on the seen captions; controls full, clean,
   shuffled, untrained and logmel over the seeds).
2. Caption variants with a known truth (:func:`~pairspace.studies.audit.instruments.leaky_captions`):
   the detector's precision and recall, the semantic detector's precision-recall curve, and the
   zero-shot top-1 of heads trained on the leaky captions against the clean control.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...data.table import EmbeddingTable
from .captions import LEXICAL, SWEEP, caption_class_cosines, caption_leaks
from .controls import ControlSettings, EvalSet, run_controls
from .instruments import NAME_KINDS, benchmark, inputs, leaky_captions, precision_recall
from .study import AuditResult, run


def _quiet(message: str) -> None:
    """The default ``log``: say nothing."""


def demo_config(epochs: int | None = None) -> Any:
    """The head configuration of ``pairspace demo --audio`` (optionally fewer epochs)."""
    from ..audio_demo import DEMO_CONFIG

    cfg = DEMO_CONFIG.to_dict()
    if epochs is not None:
        cfg["epochs"] = int(epochs)
    return type(DEMO_CONFIG).from_dict(cfg)


def _leaky_table(b: dict[str, Any], caps: dict[str, str], changed: set[str]) -> EmbeddingTable:
    """The caption table with the changed captions embedded again (same ids)."""
    ids = sorted(changed)
    vec = np.array(b["text"].vectors, dtype=np.float32)
    pos = {t: i for i, t in enumerate(b["text"].ids)}
    new = np.asarray(b["text_encoder"].encode([caps[t] for t in ids], progress=False), dtype=np.float32)
    vec[[pos[t] for t in ids]] = new
    return EmbeddingTable(b["text"].ids, vec, b["text"].labels, dict(b["text"].metadata))


def caption_variants(b: dict[str, Any], audited: AuditResult, st: ControlSettings, share: float,
                     seed: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Detector precision/recall on the leaky variant, its semantic PR curve, the zero-shot gap."""
    from ._api import classifier_weights

    inp = inputs(b, st.config.val_fraction, st.config.seed)
    caps, truth, decoys = leaky_captions(b["ds"], b["unseen"], inp.synonyms, share=share, seed=seed)
    table = _leaky_table(b, caps, truth | decoys)
    ids = list(caps)
    res = caption_leaks([caps[t] for t in ids], b["unseen"], ids, synonyms=inp.synonyms)
    named = {r["id"] for r in res.leaks if r["kind"] in NAME_KINDS}
    out: dict[str, Any] = {"share": share, "n_captions": len(ids), "n_rewritten": len(truth),
                           "n_decoys": len(decoys), "lexical_name": precision_recall(named, truth),
                           "decoys_flagged_by_name": len(named & decoys)}
    C = caption_class_cosines(table.select(ids).vectors, classifier_weights(b["prompts"])).max(axis=1)
    out["semantic_pr"] = [{"threshold": t, **precision_recall({i for i, c in zip(ids, C, strict=True)
                                                               if c >= t}, truth)} for t in SWEEP]
    removed = {r["id"] for r in audited.doc["caption_leaks"]["leaks"] if r["kind"] in LEXICAL}
    clean_caps = [inp.captions[t] for t in inp.text_ids() if t not in removed]
    out["clean_lexical_flags"] = len(caption_leaks(clean_caps, b["unseen"], synonyms=inp.synonyms)
                                     .flagged_ids(LEXICAL))
    ev = EvalSet(inp.audio.select(inp.eval_ids).vectors, inp.eval_labels, inp.classes, inp.prompts)
    leaky_st = ControlSettings(st.config, st.seeds, ("full",), Path(st.out).parent / "runs-leaky")
    ctl = run_controls(inp.audio, table, inp.pairs, ev, set(), leaky_st, log)["controls"]["full"]
    base = audited.doc["controls"]["controls"]
    out["zeroshot"] = {"leaky": _short(ctl), "default": _short(base["full"]), "clean": _short(base["clean"])}
    out["gap_leaky_minus_clean"] = [a - c for a, c in zip(ctl["top1"], base["clean"]["top1"], strict=True)]
    return out


def _short(s: dict[str, Any]) -> dict[str, Any]:
    return {k: s[k] for k in ("mean", "std", "min", "max", "top1", "n_pairs")}


def run_demo(out: str | Path, seeds: Sequence[int] = (0, 1, 2), audio_encoder: str | None = None,
             epochs: int | None = None, share: float = 0.1, variants: bool = True,
             log: Callable[[str], None] = _quiet) -> AuditResult:
    """The whole demonstration; run folders under ``out/runs*`` are reused when unchanged."""
    out = Path(out)
    b = benchmark(audio_encoder, log)
    cfg = demo_config(epochs)
    inp = inputs(b, cfg.val_fraction, cfg.seed)
    log(f"instrument benchmark: {len(inp.pairs)} seen captions, {len(inp.classes)} unseen instruments, "
        f"{len(inp.eval_ids)} clips; audio {b['audio_encoder']}, text minilm")
    controls = ("full", "clean", "matched", "shuffled", "untrained")
    if b["audio_encoder"] != "logmel":
        controls += ("logmel",)
    ev_logmel = b["logmel"].select(inp.eval_ids).vectors
    st = ControlSettings(cfg, tuple(seeds), controls, out / "runs", logmel_audio=b["logmel"],
                         logmel_eval=ev_logmel)
    extra = {"logmel features": ev_logmel} if b["audio_encoder"] != "logmel" else {}
    res = run(inp, controls=st, extra_spaces=extra, log=log)
    res.doc["demo"] = {"audio_encoder": b["audio_encoder"], "text_encoder": "minilm",
                       "train_config": cfg.to_dict(), "seeds": list(seeds), "dataset": str(b["ds"].root)}
    if variants:
        log("caption variants: leaky (rewritten + decoys) and clean")
        res.doc["caption_variants"] = caption_variants(b, res, st, share, int(seeds[0]), log)
    return res
