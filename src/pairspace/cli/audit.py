"""pairspace audit: the leakage audit of a zero-shot setup (Tavares et al., ICASSP 2025).

How much of the zero-shot accuracy the backbones and the training captions already carried:
caption leaks, source overlap, backbone label overlap, separability already in the spaces, control
runs over seeds (with --demo each seed draws its own unseen split) and an attribution with paired
intervals and a plain-language verdict. Writes audit.json (schema pairspace.audit/2), CSV tables,
figures and a self-contained report.html into --out.
With --demo it audits the offline rendered-instrument benchmark (pairspace demo --audio).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._common import add_command, check_out_dir, emit, nonneg_int, positive_int, unit_interval


def _names() -> tuple[tuple[str, ...], tuple[str, ...]]:
    from ..studies.audit.controls import CONTROLS, DEFAULT_CONTROLS

    return CONTROLS, DEFAULT_CONTROLS


def _audio_encoders() -> tuple[str, ...]:
    from ..studies.audit.instruments import AUDIO_ENCODERS

    return AUDIO_ENCODERS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "audit", help="leakage audit: what the backbones and captions already carried",
                    description=__doc__, produces_result=True)
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
    controls, default = _names()
    p.add_argument("--controls", nargs="*", choices=controls, default=None,
                   help="controls to train (none given: no control; default: "
                        f"{' '.join(default)}, plus logmel with --demo)")
    p.add_argument("--seeds", nargs="+", type=nonneg_int, default=[0, 1, 2],
                   help="seeds of the controls (with --demo each seed also draws its own split)")
    p.add_argument("--epochs", type=positive_int, default=None,
                   help="training epochs of the controls (default: the demo's or the trainer's)")
    p.add_argument("--synonyms", help="synonyms file (JSON or class<TAB>syn|syn); the demo ships its own")
    p.add_argument("--label-file", nargs="*", default=[],
                   help="backbones' supervised label sets (files: one label per line, or AudioSet's CSV)")
    p.add_argument("--threshold", type=unit_interval, default=0.6,
                   help="cosine threshold of the semantic caption detector")
    p.add_argument("--duplicate-threshold", type=unit_interval, default=0.98,
                   help="backbone cosine above which an evaluation clip is a near duplicate")
    p.add_argument("--leak-share", type=unit_interval, default=0.25,
                   help="share of each evaluation class's clips the leak control trains on")
    p.add_argument("--variant-share", type=unit_interval, default=0.1,
                   help="demo: share of seen captions rewritten to name unseen instruments (label noise)")
    p.add_argument("--no-variants", action="store_true", help="demo: skip the label-noise caption variant")
    p.add_argument("--leaky-backbone", action="store_true",
                   help="demo: also run the leaky-backbone experiment (class-supervised pre-training)")
    p.add_argument("--audio-encoder", choices=_audio_encoders(), default=None,
                   help="demo: audio backbone (default whisper, else logmel; musicnn needs its extra)")
    p.add_argument("--backbones", nargs="*", default=[], choices=_audio_encoders(),
                   help="demo: route-L1 comparison of these audio backbones on the instruments musicnn's "
                        "tags name against the others, the first against each other "
                        "(e.g. musicnn whisper logmel)")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed of the folds and the maps")
    p.set_defaults(func=run)


def _controls(args: argparse.Namespace) -> tuple[str, ...] | None:
    """The controls asked for (None: the default set)."""
    if args.controls is None:
        return None
    if len(set(args.seeds)) != len(args.seeds):
        raise ValueError(f"--seeds must be distinct; got {args.seeds}")
    return tuple(dict.fromkeys(args.controls))


def _run_user(args: argparse.Namespace, out: Path, labels: dict):  # noqa: ANN202
    from ..align import TrainConfig, load_model
    from ..encoders import get
    from ..studies.audit import ControlSettings, run
    from ..studies.audit.files import inputs_from_files

    missing = [o for o in ("audio", "text", "pairs", "captions", "classes") if not getattr(args, o)]
    if missing:
        raise ValueError("without --demo, give " + ", ".join(f"--{m}" for m in missing))
    enc = get(args.text_encoder)
    inp = inputs_from_files(args.audio, args.text, args.pairs, args.captions, args.classes,
                            args.templates, enc, args.synonyms)
    inp.label_sets = {**inp.label_sets, **labels}
    model, cfg = (load_model(args.model)[:2] if args.model else (None, TrainConfig()))
    if args.epochs:
        cfg = TrainConfig.from_dict({**cfg.to_dict(), "epochs": args.epochs})
    names = _controls(args)
    names = _names()[1] if names is None else names
    inp.text_encoder = lambda texts: enc.encode(list(texts), progress=False)
    st = (ControlSettings(cfg, tuple(args.seeds), names, out / "runs", leak_share=args.leak_share)
          if names else None)
    return run(inp, controls=st, model=model, threshold=args.threshold,
               duplicate_threshold=args.duplicate_threshold, seed=args.seed)


def run(args: argparse.Namespace) -> int:
    """Parse-checked arguments -> audit files in --out, the verdict and tables on stdout."""
    out = check_out_dir(args.out)
    _controls(args)
    if args.backbones and not args.demo:
        raise ValueError("--backbones runs on the demo benchmark only (add --demo)")
    from ..report.audit import write_audit_report
    from ..studies.audit.overlap import load_label_file

    labels = {Path(f).name: load_label_file(f) for f in args.label_file}
    if args.demo:
        import torch

        from ..studies.audit.demo import run_demo

        torch.set_num_threads(1)
        res = run_demo(out, seeds=tuple(args.seeds), audio_encoder=args.audio_encoder,
                       epochs=args.epochs, share=args.variant_share, variants=not args.no_variants,
                       leaky_backbone=args.leaky_backbone, controls=_controls(args),
                       leak_share=args.leak_share, backbones=tuple(args.backbones), label_sets=labels)
    else:
        res = _run_user(args, out, labels)
    from .._outputs import write_staged

    files = write_staged(out, lambda folder: write_audit_report(res.to_dict(), folder))  # all at once
    return emit(args, res, render, files)


def render(res: Any) -> str:
    """The verdict and the tables of an audit result as text."""
    from ..studies.audit.study import results_of
    from ._render import table

    doc = results_of(res.to_dict())
    lines = ["Verdict:", *(f"  - {v}" for v in doc["verdict"])]
    ctl = doc.get("controls", {}).get("controls", {})
    if ctl:
        rows = []
        for n, s in ctl.items():
            a, d = s["accuracy"], s.get("vs_full")
            diff = (d["estimate"], d["ci_low"], d["ci_high"], f"{d['p_value']:.1e}") if d else ("",) * 4
            rows.append((n, a["estimate"], a["ci_low"], a["ci_high"], *diff, s["n_pairs"]))
        lines.append(table(["control", "top-1", "95% CI low", "high", "vs full", "CI low", "high", "p",
                            "pairs"], rows, digits=3))
    dec = doc.get("attribution", {}).get("decomposition", {})
    if dec:
        lines += ["", "Paired differences (a - b, per clip and seed):",
                  table(["part", "a", "b", "estimate", "95% CI low", "high", "p"],
                        [(k, v["a"], v["b"], v["estimate"], v["ci_low"], v["ci_high"], f"{v['p_value']:.1e}")
                         for k, v in dec.items()], digits=3)]
    var = doc.get("caption_variants")
    if var:
        lx, z = var["lexical_name"], var["zeroshot"]
        lines += ["", f"Label-noise caption variant ({var['n_rewritten']} rewritten, {var['n_decoys']} "
                      f"decoys): lexical precision {lx['precision']:.3f}, recall {lx['recall']:.3f}; decoys "
                      f"flagged {var['decoys_flagged_by_name']}; clean variant lexical flags "
                      f"{var['clean_lexical_flags']}",
                  table(["captions", "mean top-1", "sd", "min", "max"],
                        [(k, v["mean"], v["std"], v["min"], v["max"]) for k, v in z.items()], digits=3)]
    l1 = doc.get("l1")
    if l1:
        rows = [(name, m, pb[m]["tagged"]["estimate"], pb[m]["untagged"]["estimate"],
                 pb[m]["gap"]["estimate"], pb[m]["gap"]["ci_low"], pb[m]["gap"]["ci_high"])
                for name, pb in l1["per_backbone"].items() for m in ("zeroshot", "knn", "probe")]
        lines += ["", "Route L1 (zero-shot and backbone separability on tagged vs untagged instruments):",
                  table(["backbone", "measure", "tagged", "untagged", "gap", "CI low", "high"], rows,
                        digits=3)]
    lb = doc.get("leaky_backbone")
    if lb:
        lines += ["", "Leaky backbone (supervised MLP on log-mel, pre-trained on a separate rendering):",
                  table(["pre-training", "classes", "probe", "1-NN", "zero-shot mean", "sd", "shuffled"],
                        [(k, v["n_pretrain_classes"], v["probe_accuracy"], v["knn_accuracy"],
                          v["zeroshot"]["mean"], v["zeroshot"]["std"], v["shuffled"]["mean"])
                         for k, v in lb.items() if k != "n_extra_clips"], digits=3)]
    return "\n".join(lines)
