"""pairspace audit: the leakage audit of a zero-shot setup (Tavares et al., ICASSP 2025).

How much of the zero-shot accuracy the backbones and the training captions already carried:
caption leaks, source overlap, backbone label overlap, separability already in the spaces, control
runs over seeds and an attribution with a plain-language verdict. Writes audit.json (schema
pairspace.audit/1), CSV tables, figures and a self-contained report.html into --out.
With --demo it audits the offline rendered-instrument benchmark (pairspace demo --audio).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import add_command, check_out_dir, nonneg_int, positive_int, unit_interval

CONTROL_NAMES = ("full", "clean", "matched", "shuffled", "untrained")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "audit", help="leakage audit: what the backbones and captions already carried",
                    description=__doc__)
    p.add_argument("--out", default="pairspace-audit", help="output folder")
    p.add_argument("--demo", action="store_true", help="audit the offline rendered-instrument benchmark")
    p.add_argument("--media", "--audio", dest="audio",
                   help="media backbone table, audio or image (training and evaluation items, with labels)")
    p.add_argument("--text", help="text backbone table of the training captions")
    p.add_argument("--pairs", help="pair manifest (CSV/JSONL: audio_id, text_id, optional source_id)")
    p.add_argument("--captions", help="caption CSV with text_id (or id) and text (or caption) columns")
    p.add_argument("--classes", help="evaluation classes, one per line (rows of --audio with these labels)")
    p.add_argument("--templates", default="audio", help="prompt template set (shipped name or file)")
    p.add_argument("--text-encoder", default="minilm", help="text encoder of the class prompts")
    p.add_argument("--model", help="a trained run folder to audit (default: the full control)")
    p.add_argument("--controls", default=",".join(CONTROL_NAMES),
                   help="comma-separated controls to train (empty: none)")
    p.add_argument("--seeds", type=positive_int, default=3, help="seeds of every control")
    p.add_argument("--epochs", type=positive_int, default=None,
                   help="training epochs of the controls (default: the demo's or the trainer's)")
    p.add_argument("--synonyms", help="synonyms file (JSON or class<TAB>syn|syn); the demo ships its own")
    p.add_argument("--label-file", action="append", default=[],
                   help="a backbone's supervised label set (one per line, or AudioSet's CSV); repeatable")
    p.add_argument("--threshold", type=unit_interval, default=0.6,
                   help="cosine threshold of the semantic caption detector")
    p.add_argument("--duplicate-threshold", type=unit_interval, default=0.98,
                   help="backbone cosine above which an evaluation clip is a near duplicate")
    p.add_argument("--leak-share", type=unit_interval, default=0.1,
                   help="demo: share of seen captions rewritten to name unseen instruments")
    p.add_argument("--no-variants", action="store_true", help="demo: skip the leaky caption variant")
    p.add_argument("--leaky-backbone", action="store_true",
                   help="demo: also run the leaky-backbone experiment (class-supervised pre-training)")
    p.add_argument("--audio-encoder", help="demo: audio backbone (whisper, else logmel)")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed of the folds and the maps")
    p.set_defaults(func=run)


def _controls(text: str) -> tuple[str, ...]:
    names = tuple(c.strip() for c in text.split(",") if c.strip())
    bad = [c for c in names if c not in CONTROL_NAMES]
    if bad:
        raise ValueError(f"unknown controls {bad}; choose from {', '.join(CONTROL_NAMES)}")
    return names


def _user_inputs(args: argparse.Namespace):  # noqa: ANN202 - AuditInputs, imported lazily
    from ..align import load_pairs
    from ..data.datasets.captions import read_caption_table
    from ..data.table import EmbeddingTable
    from ..data.templates import load_templates
    from ..encoders import get
    from ..studies.audit import AuditInputs, load_synonyms
    from ..tasks.zeroshot import text_embeddings_for

    missing = [o for o in ("audio", "text", "pairs", "captions", "classes") if not getattr(args, o)]
    if missing:
        raise ValueError("without --demo, give " + ", ".join(f"--{m}" for m in missing))
    audio, text = EmbeddingTable.load(args.audio), EmbeddingTable.load(args.text)
    if audio.labels is None:
        raise ValueError(f"{args.audio} has no labels; the evaluation clips are found by label")
    classes = [ln.strip() for ln in Path(args.classes).read_text(encoding="utf-8").splitlines() if ln.strip()]
    cls = set(classes)
    rows = [i for i, lab in enumerate(audio.labels) if lab in cls]
    if not rows:
        raise ValueError(f"no row of {args.audio} has a label listed in {args.classes}")
    enc = get(args.text_encoder)
    prompts = text_embeddings_for(enc, load_templates(args.templates).templates, classes, progress=False)
    pairs = load_pairs(args.pairs)
    src = audio.columns.get("source_id")  # the table's source ids serve both sides
    pos = {a: i for i, a in enumerate(audio.ids)}
    train_rows = [pos[a] for a in dict.fromkeys(a for a, _ in pairs) if a in pos]
    return AuditInputs(
        audio=audio, text=text, pairs=pairs, captions=read_caption_table(args.captions),
        eval_ids=[audio.ids[i] for i in rows], eval_labels=[audio.labels[i] for i in rows],
        classes=classes, prompts=prompts, synonyms=load_synonyms(args.synonyms) if args.synonyms else {},
        eval_sources=[str(src[i]) for i in rows] if src else None,
        train_sources=[str(src[i]) for i in train_rows] if src else None)


def _run_user(args: argparse.Namespace, out: Path):  # noqa: ANN202
    from ..align import TrainConfig, load_model
    from ..studies.audit import ControlSettings, run

    inp = _user_inputs(args)
    model, cfg = (load_model(args.model)[:2] if args.model else (None, TrainConfig()))
    if args.epochs:
        cfg = TrainConfig.from_dict({**cfg.to_dict(), "epochs": args.epochs})
    names = _controls(args.controls)
    st = ControlSettings(cfg, tuple(range(args.seeds)), names, out / "runs") if names else None
    return run(inp, controls=st, model=model, threshold=args.threshold,
               duplicate_threshold=args.duplicate_threshold, seed=args.seed, log=print)


def run(args: argparse.Namespace) -> int:
    """Parse-checked arguments -> audit files in --out, a summary on stdout."""
    out = check_out_dir(args.out)
    _controls(args.controls)
    from ..report.audit import write_audit_report
    from ..studies.audit.overlap import load_label_file

    labels = {Path(f).name: load_label_file(f) for f in args.label_file}
    if args.demo:
        import torch

        from ..studies.audit.demo import run_demo

        torch.set_num_threads(1)
        res = run_demo(out, seeds=tuple(range(args.seeds)), audio_encoder=args.audio_encoder,
                       epochs=args.epochs, share=args.leak_share, variants=not args.no_variants,
                       leaky_backbone=args.leaky_backbone, log=print)
    else:
        res = _run_user(args, out)
    if labels:
        from ..studies.audit.overlap import label_overlap

        for name, values in labels.items():
            res.doc["label_overlap"][name] = label_overlap(res.doc["classes"], values, name)
    files = write_audit_report(res.to_dict(), out)
    _summary(res.to_dict())
    print(f"wrote {len(files)} files into {out} (report.html, audit.json, CSV tables, figures)")
    return 0


def _summary(doc: dict) -> None:
    from ._render import table

    print("\nVerdict:")
    for s in doc["verdict"]:
        print(f"  - {s}")
    ctl = doc.get("controls", {}).get("controls", {})
    if ctl:
        print(table(["control", "mean top-1", "sd", "min", "max", "pairs"],
                    [(n, s["mean"], s["std"], s["min"], s["max"], s["n_pairs"]) for n, s in ctl.items()],
                    digits=3))
    var = doc.get("caption_variants")
    if var:
        lx, z = var["lexical_name"], var["zeroshot"]
        print(f"\nLeaky caption variant ({var['n_rewritten']} rewritten, {var['n_decoys']} decoys): lexical "
              f"precision {lx['precision']:.3f}, recall {lx['recall']:.3f}; decoys flagged "
              f"{var['decoys_flagged_by_name']}; clean variant lexical flags {var['clean_lexical_flags']}")
        print(table(["captions", "mean top-1", "sd", "min", "max"],
                    [(k, v["mean"], v["std"], v["min"], v["max"]) for k, v in z.items()], digits=3))
    lb = doc.get("leaky_backbone")
    if lb:
        print("\nLeaky backbone (supervised MLP on log-mel, pre-trained on a separate rendering):")
        print(table(["pre-training", "classes", "probe", "1-NN", "zero-shot mean", "sd", "shuffled"],
                    [(k, v["n_pretrain_classes"], v["probe_accuracy"], v["knn_accuracy"],
                      v["zeroshot"]["mean"], v["zeroshot"]["std"], v["shuffled"]["mean"])
                     for k, v in lb.items() if k != "n_extra_clips"], digits=3))
