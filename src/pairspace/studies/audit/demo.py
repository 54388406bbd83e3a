"""The offline audit demonstration on the rendered-instrument benchmark (``pairspace audit --demo``).

1. The audit of the default demo run (CLAP heads on the seen captions; every control of
   :data:`~pairspace.studies.audit.controls.CONTROLS` over the seeds, each seed with its own
   seen/unseen split and training seed).
2. Caption variants with a known truth (:func:`~pairspace.studies.audit.instruments.leaky_captions`):
   the detector's precision and recall, the semantic detector's precision-recall curve, and the
   zero-shot top-1 of heads trained on the leaky captions against the clean control.
3. Optionally the leaky-backbone experiment (:mod:`pairspace.studies.audit.backbone`) and the
   supervised-backbone comparison of route L1 (:mod:`pairspace.studies.audit.l1`: musicnn, Whisper
   and log-mel on the instruments musicnn's tags name against the others).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..._progress import log_info
from ...data.table import EmbeddingTable
from .captions import LEXICAL, NAME_KINDS, SWEEP, caption_class_cosines, caption_leaks
from .controls import CONTROLS, ControlSettings, EvalSet, SeedData, run_controls
from .instruments import benchmark, inputs, leaky_captions, precision_recall, split_inputs
from .study import AuditResult, run


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
    from ...tasks.zeroshot import classifier_weights

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
    sds = [SeedData(s, inp.audio, table, list(inp.pairs), caps, ev, list(inp.eval_ids), set())
           for s in st.seeds]
    ctl = run_controls(sds, leaky_st, log)["controls"]["full"]
    out["zeroshot"] = {"label_noise": _short(ctl)}
    out["note"] = ("the dataset's own split for every seed (only the training seed varies); the names are "
                   "written over clips of other instruments: label noise, not a leak (see the leak control)")
    return out


def _short(s: dict[str, Any]) -> dict[str, Any]:
    return {k: s[k] for k in ("mean", "std", "min", "max", "top1", "n_pairs", "accuracy")}


def reused_runs(out: Path) -> int:
    """Finished control runs (``model.safetensors``) under ``out`` (a run is reused when its key matches)."""
    return sum(1 for _ in Path(out).glob("runs*/**/model.safetensors"))


def run_demo(out: str | Path, seeds: Sequence[int] = (0, 1, 2), audio_encoder: str | None = None,
             epochs: int | None = None, share: float = 0.1, variants: bool = True,
             leaky_backbone: bool = False, controls: Sequence[str] | None = None, leak_share: float = 0.25,
             backbones: Sequence[str] = (), label_sets: Mapping[str, Sequence[str]] | None = None,
             log: Callable[[str], None] = log_info) -> AuditResult:
    """The whole demonstration; run folders under ``out/runs*`` are reused when unchanged.

    Every seed draws its own split (:func:`~pairspace.studies.audit.instruments.split_inputs`) and
    trains with its own seed. ``backbones`` (e.g. ``("musicnn", "whisper", "logmel")``) adds the
    route-L1 comparison (:func:`pairspace.studies.audit.l1.l1_comparison`). ``label_sets`` (name ->
    labels of a backbone's supervised label set) are matched against the evaluation classes.
    """
    out = Path(out)
    t_start = time.perf_counter()
    before = reused_runs(out)
    b = benchmark(audio_encoder, log)
    t_bench = round(time.perf_counter() - t_start, 2)
    cfg = demo_config(epochs)
    seeds = tuple(int(s) for s in seeds)
    splits = {s: split_inputs(b, s, cfg.val_fraction, s) for s in seeds}
    inp = splits[seeds[0]]
    inp.label_sets = {**inp.label_sets, **(label_sets or {})}
    log(f"instrument benchmark: {len(inp.pairs)} seen captions, {len(inp.classes)} unseen instruments, "
        f"{len(inp.eval_ids)} clips (first split); audio {b['audio_encoder']}, text minilm")
    if controls is None:
        controls = tuple(c for c in CONTROLS if c != "logmel" or b["audio_encoder"] != "logmel")
    st = ControlSettings(cfg, seeds, tuple(controls), out / "runs", logmel_audio=b["logmel"],
                         leak_share=leak_share)
    extra = ({"logmel features": b["logmel"].select(inp.eval_ids).vectors}
             if b["audio_encoder"] != "logmel" else {})
    res = run(inp, controls=st, splits=splits, extra_spaces=extra, log=log)
    res.doc["demo"] = {"audio_encoder": b["audio_encoder"], "text_encoder": "minilm",
                       "train_config": cfg.to_dict(), "seeds": list(seeds), "dataset": str(b["ds"].root)}
    res.inputs.update(dataset=str(b["ds"].root), audio_encoder=b["audio_encoder"], text_encoder="minilm",
                      n_clips=len(b["ds"].clips), n_captions=len(b["ds"].captions),
                      n_instruments=len(b["classes"]))
    timings = {"benchmark": t_bench, "audit": res.doc["seconds"]}
    if variants and st.out is not None:
        log("caption variants: label noise (names written over other instruments' clips)")
        t0 = time.perf_counter()
        res.doc["caption_variants"] = caption_variants(b, res, st, share, int(seeds[0]), log)
        timings["caption_variants"] = round(time.perf_counter() - t0, 2)
    if leaky_backbone:
        from .backbone import leaky_backbone as experiment

        log("leaky backbone: supervised MLP pre-trained on a separate rendering (all classes / seen only)")
        t0 = time.perf_counter()
        res.doc["leaky_backbone"] = experiment(b, st, out, log)
        timings["leaky_backbone"] = round(time.perf_counter() - t0, 2)
    if backbones:
        from .l1 import l1_comparison

        log(f"route L1: {', '.join(backbones)} on the instruments musicnn's tags name against the others")
        t0 = time.perf_counter()
        res.doc["l1"] = l1_comparison(b, backbones, seeds, cfg, out / "runs-l1", log, main_runs=out / "runs")
        timings["l1"] = round(time.perf_counter() - t0, 2)
    timings["total"] = round(time.perf_counter() - t_start, 2)
    res.doc["timings"] = {"seconds": timings, "embedding": b["embedding"],
                          "reused_runs": before,
                          "note": "wall-clock seconds; a finished control run is reused when its key is "
                                  "unchanged (reused_runs counts those found before this run)"}
    return res
