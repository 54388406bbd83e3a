"""The offline audio-text alignment demo (``pairspace demo --audio``).

1. Render (or reuse) the General MIDI instrument benchmark
   (:mod:`pairspace.data.datasets.instruments`) in the user's cache folder.
2. Embed the clips with Whisper tiny.en (CTranslate2; the weight-free ``logmel`` baseline when the
   Whisper package is missing) and the captions with MiniLM; both tables are cached beside the
   dataset and reused while the encoders and inputs are unchanged.
3. Train CLAP projection heads on the captions of the *seen* instruments only, with the symmetric
   InfoNCE loss and with the soft-labeled loss (beta = 0.3), model selection on held-out seen clips.
4. On the *unseen* instruments: zero-shot top-1/top-5/balanced accuracy against chance (prompts
   from the shipped ``audio`` template set, ensembled), caption<->clip retrieval R@1/R@10, and the
   template study (NNGS of class centroids vs per-template text embeddings, correlated with the
   per-template accuracy) on the trained model. Untrained heads give the floor.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..align.evaluate import projected_prompts, retrieval_eval, zeroshot_eval
from ..align.trainer import AlignmentModel, TrainConfig, load_model, train
from ..data.datasets.instruments import InstrumentSet, render_instruments
from ..data.table import EmbeddingTable
from ..report.io import write_json

DEMO_CONFIG = TrainConfig(
    head="clap",
    dim=256,
    dropout=0.1,
    epochs=40,
    batch_size=128,
    lr=1e-3,
    weight_decay=0.01,
    warmup=0.05,
    grad_clip=1.0,
    seed=0,
    val_fraction=0.1,
    selection="val",  # held-out seen clips: the published demo numbers
    soft_targets="backbone",  # the soft run's targets: the frozen backbone embeddings (named variant)
)


def _quiet(message: str) -> None:
    """The default ``log``: say nothing."""


def audio_encoder(name: str | None = None, log: Callable[[str], None] = _quiet) -> Any:
    """Whisper tiny.en (offline) or, when it cannot be loaded, the weight-free log-mel baseline."""
    from ..encoders import get

    if name:
        return get(name)
    try:
        return get("whisper")
    except ImportError as exc:
        log(f"whisper unavailable ({exc}); using the logmel baseline")
        return get("logmel")


def embed_tables(
    ds: InstrumentSet, audio_enc: Any, text_enc: Any, progress: bool | None = True
) -> tuple[EmbeddingTable, EmbeddingTable, dict[str, Any]]:
    """Embed (or reuse) the clips and the captions of ``ds``; tables live in ``ds.root/embeddings``."""
    from ..data.embed import embed_manifest
    from ..data.manifests import Manifest

    emb = ds.root / "embeddings"
    clips = Manifest(
        [c["audio_id"] for c in ds.clips],
        [str(ds.root / c["path"]) for c in ds.clips],
        "path",
        [c["instrument"] for c in ds.clips],
        source=str(ds.root / "clips.csv"),
    )
    caps = Manifest(
        [c["text_id"] for c in ds.captions],
        [c["text"] for c in ds.captions],
        "text",
        [c["label"] for c in ds.captions],
        source=str(ds.root / "captions.csv"),
    )
    t0 = time.perf_counter()
    a = embed_manifest(audio_enc, clips, emb / f"audio-{audio_enc.name}.parquet", progress=progress)
    t1 = time.perf_counter()
    t = embed_manifest(text_enc, caps, emb / f"captions-{text_enc.name}.parquet", progress=progress)
    t2 = time.perf_counter()
    info = {
        "audio_reused": a.reused,
        "text_reused": t.reused,
        "audio_seconds": round(t1 - t0, 2),
        "text_seconds": round(t2 - t1, 2),
        "audio_table": str(a.path),
        "text_table": str(t.path),
    }
    return a.table, t.table, info


def evaluate_unseen(
    model: AlignmentModel,
    ds: InstrumentSet,
    audio: EmbeddingTable,
    text: EmbeddingTable,
    prompts: np.ndarray,
    classes: list[str],
    family_prompts: np.ndarray | None = None,
) -> dict[str, Any]:
    """Zero-shot (instrument, and family when ``family_prompts`` is given) and retrieval on unseen clips."""
    clips = [c for c in ds.clips if c["split"] == "unseen"]
    caps = [c for c in ds.captions if c["split"] == "unseen"]
    A = audio.select([c["audio_id"] for c in clips])
    T = text.select([c["text_id"] for c in caps])
    row = {c["audio_id"]: i for i, c in enumerate(clips)}
    zs = zeroshot_eval(model, A.vectors, [c["instrument"] for c in clips], classes, prompts)
    rt = retrieval_eval(model, A.vectors, T.vectors, [row[c["audio_id"]] for c in caps])
    keys = ("top1", "top5", "balanced_accuracy", "chance", "n", "n_classes")
    out = {
        "zeroshot": {k: zs[k] for k in keys},
        "retrieval": {
            d: {k: rt[d][k] for k in ("R@1", "R@5", "R@10", "mAP@10", "median_rank")}
            for d in ("text_to_audio", "audio_to_text")
        },
    }
    if family_prompts is not None:
        fams = sorted({c["family"] for c in ds.classes})
        fz = zeroshot_eval(model, A.vectors, [c["family"] for c in clips], fams, family_prompts)
        out["zeroshot_family"] = {k: fz[k] for k in keys}
    return out


def run(args: argparse.Namespace, log: Callable[[str], None] = _quiet) -> int:
    """Run the demo; ``args.out`` is the output folder. Returns the exit status.

    Every stage's summary goes to ``log`` (the CLI passes ``print``); the study itself does not
    print. The full results are written to ``audio_demo.json`` and the template-study report.
    """
    import torch

    from ..cli._render import table
    from ..data.templates import load_templates
    from ..encoders import get
    from ..studies.template_study import template_study, write_template_report

    torch.set_num_threads(1)
    t_start = time.perf_counter()
    out = Path(args.out)
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    ds = render_instruments(progress=True)
    timings["dataset"] = round(time.perf_counter() - t0, 2)
    seen, unseen = ds.class_names("seen"), ds.class_names("unseen")
    log(
        f"Instrument benchmark: {len(ds.clips)} clips, {len(ds.captions)} captions, "
        f"{len(seen)} seen / {len(unseen)} unseen instruments ({ds.root})"
    )

    t0 = time.perf_counter()
    audio_enc = audio_encoder(getattr(args, "audio_encoder", None), log)
    text_enc = get("minilm")
    audio, text, emb_info = embed_tables(ds, audio_enc, text_enc)
    timings["embed"] = round(time.perf_counter() - t0, 2)
    log(
        f"Embeddings: audio {audio_enc.name} ({audio.dim}-d, "
        f"{'reused' if emb_info['audio_reused'] else 'computed'}), text {text_enc.name} ({text.dim}-d, "
        f"{'reused' if emb_info['text_reused'] else 'computed'})"
    )

    templates = load_templates("audio")
    results: dict[str, Any] = {}
    models: dict[str, AlignmentModel] = {}
    t0 = time.perf_counter()
    torch.manual_seed(DEMO_CONFIG.seed)
    models["untrained heads"] = AlignmentModel(audio.dim, text.dim, DEMO_CONFIG.head, DEMO_CONFIG.dim).eval()
    for loss in ("infonce", "soft"):
        cfg = TrainConfig.from_dict({**DEMO_CONFIG.to_dict(), "loss": loss})
        run_dir = out / f"run-{loss}"
        train(audio, text, ds.pairs("seen"), run_dir, cfg, resume=False, progress=True)
        models[f"trained, {loss}"] = load_model(run_dir)[0]
    timings["train"] = round(time.perf_counter() - t0, 2)

    t0 = time.perf_counter()
    rows = []
    families = sorted({c["family"] for c in ds.classes})
    prompt_cache: dict[str, np.ndarray] = {}
    for name, model in models.items():
        prompt_cache[name] = projected_prompts(model, text_enc, unseen, templates.templates, progress=False)
        fam_prompts = projected_prompts(model, text_enc, families, templates.templates, progress=False)
        res = evaluate_unseen(model, ds, audio, text, prompt_cache[name], unseen, fam_prompts)
        results[name] = res
        z, r, f = res["zeroshot"], res["retrieval"], res["zeroshot_family"]
        rows.append(
            (
                name,
                z["top1"],
                z["top5"],
                z["balanced_accuracy"],
                z["chance"],
                f["top1"],
                f["chance"],
                r["text_to_audio"]["R@1"],
                r["text_to_audio"]["R@10"],
                r["audio_to_text"]["R@1"],
                r["audio_to_text"]["R@10"],
            )
        )
    log(
        f"\nUnseen instruments ({len(unseen)} classes, {results['untrained heads']['zeroshot']['n']} clips; "
        f"{len(templates)} templates ensembled):"
    )
    log(
        table(
            [
                "model",
                "top1",
                "top5",
                "bal.acc",
                "chance",
                "family top1",
                "family chance",
                "t2a R@1",
                "t2a R@10",
                "a2t R@1",
                "a2t R@10",
            ],
            rows,
            digits=3,
        )
    )

    best = "trained, infonce"
    clips = [c for c in ds.clips if c["split"] == "unseen"]
    media = EmbeddingTable(
        [c["audio_id"] for c in clips],
        models[best].project_audio(audio.select([c["audio_id"] for c in clips]).vectors),
        [c["instrument"] for c in clips],
    )
    study = template_study(
        media,
        templates,
        class_names=unseen,
        text_embeddings=prompt_cache[best],
        k=3,
        metric="euclidean",
        progress=False,
    )
    timings["evaluate"] = round(time.perf_counter() - t0, 2)
    log(f"\nTemplate study on the trained model ({best}; unseen classes, k=3, euclidean):")
    trows = [(r["template"], r["nngs"], r["accuracy"]) for r in study.per_template]
    log(table(["template", "nngs@3", "top1"], trows, digits=3))
    corr = study.correlations
    log(
        table(
            ["measure", "pearson", "p", "spearman", "p"],
            [(m, c["pearson"], c["pearson_p"], c["spearman"], c["spearman_p"]) for m, c in corr.items()],
            digits=3,
        )
    )

    timings["total"] = round(time.perf_counter() - t_start, 2)
    summary = {
        "schema": "pairspace.audio_demo/1",
        "dataset": str(ds.root),
        "n_clips": len(ds.clips),
        "n_captions": len(ds.captions),
        "seen_classes": seen,
        "unseen_classes": unseen,
        "audio_encoder": audio_enc.provenance.to_dict(),
        "text_encoder": text_enc.provenance.to_dict(),
        "embeddings": emb_info,
        "train_config": DEMO_CONFIG.to_dict(),
        "results": results,
        "template_study": study.to_dict(),
        "timings_s": timings,
    }
    write_json(out / "audio_demo.json", summary)
    report = write_template_report(study, out / "template-study")
    log(f"\nTimings (s): {timings}")
    log(f"wrote {out / 'audio_demo.json'} and the template-study report "
          f"({', '.join(p.name for p in report.values())}) in {out / 'template-study'}")
    return 0
