"""pairspace demo: the main study on embedded default data (no downloads)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._common import add_command, check_out_dir, emit, nonneg_int
from ._render import table


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "demo", help="run the main study on the embedded default data",
                    description="The word-analogy study on the embedded GloVe 6B 50d vectors and "
                    "the Google analogy set, or (--audio) the offline audio-text alignment demo, or "
                    "(--image) the offline image-text alignment demo. "
                    "Nothing is downloaded.", produces_result=True)
    p.add_argument("--out", default="pairspace-demo", help="output folder")
    p.add_argument("--audio", action="store_true",
                   help="run the offline audio-text alignment demo instead")
    p.add_argument("--image", action="store_true",
                   help="run the offline image-text demo instead (OpenMoji emoji, EfficientNet-Lite0 "
                        "and MiniLM, CLIP-style heads, the 53-template study, ImageNet overlap)")
    p.add_argument("--audio-encoder", default=None,
                   help="audio backbone of --audio in place of Whisper (e.g. logmel)")
    p.add_argument("--threads", type=nonneg_int, default=1,
                   help="CPU threads of the --audio and --image demos' backbones and training (0: the "
                        "libraries' defaults, which follow the core count and can change the last "
                        "digits)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_out_dir(args.out)
    if args.audio and args.image:
        raise ValueError("choose one of --audio and --image")
    if args.audio:
        return run_audio(args)
    if args.image:
        return run_image(args)
    return run_default(args)


def run_default(args: argparse.Namespace) -> int:
    """The word-analogy study on the embedded GloVe 6B 50d vectors and the Google analogy set."""
    from .analogy import add_study_arguments, run_study

    defaults = argparse.ArgumentParser(add_help=False)
    add_study_arguments(defaults)
    ns = defaults.parse_args([], namespace=argparse.Namespace(**vars(args)))
    return run_study(ns, Path(args.out))


def render_audio_demo(result: Any) -> str:
    """The demo's tables as printed."""
    from ..report.audio_demo import ZEROSHOT_HEADERS, zeroshot_rows
    from ..report.format import format_p, timings_rows
    from ..studies.audio_demo import BEST

    first = next(iter(result.results.values()))["zeroshot"]
    lines = [f"\nUnseen instruments ({len(result.dataset['unseen_classes'])} classes, {first['n']} clips; "
             f"{result.n_templates} templates ensembled):",
             table(ZEROSHOT_HEADERS, zeroshot_rows(result.results), digits=3),
             f"\nTemplate study on the trained model ({BEST}; unseen classes, k=3, euclidean):"]
    study = result.template_study
    lines.append(table(["template", "nngs@3", "top1"],
                       [(r["template"], r["nngs"], r["accuracy"]) for r in study.per_template], digits=3))
    lines.append(table(["measure", "pearson", "p", "spearman", "p"],
                       [(m, c["pearson"], format_p(c["pearson_p"]), c["spearman"], format_p(c["spearman_p"]))
                        for m, c in study.correlations.items()], digits=3))
    lines.append("\nRun time:")
    lines.append(table(["stage", "seconds"], [(k, f"{v:.1f}") for k, v in timings_rows(result.timings_s)]))
    return "\n".join(lines)


def run_audio(args: argparse.Namespace) -> int:
    """The offline audio-text alignment demo: run the study, write its files, print its tables."""
    from ..report.audio_demo import write_audio_demo
    from ..studies.audio_demo import run as audio_demo

    result = audio_demo(args.out, audio_encoder_name=args.audio_encoder, threads=args.threads or None,
                        progress=args.progress)
    return emit(args, result, render_audio_demo, write_audio_demo(result, args.out))


def render_image_demo(result: Any) -> str:
    """The image demo's tables as printed."""
    doc = result.to_dict()
    res = doc["results"]
    z = res["zeroshot"]
    rows = []
    for name, m in res["models"].items():
        zz, r = m["zeroshot"], m["retrieval"]
        rows.append((name, zz["top1"], _ci(zz["top1_ci"]), zz["top5"], zz["chance"],
                     r["text_to_image"]["R@1"], r["text_to_image"]["R@10"], r["image_to_text"]["R@1"],
                     r["image_to_text"]["R@10"]))
    lines = [f"\nUnseen classes ({res['n_unseen_classes']} of {res['n_classes']}, {z['n']} images; "
             f"{doc['settings']['zeroshot_templates']} templates ensembled; 95% class-bootstrap CI):",
             table(["model", "top1", "95% CI", "top5", "chance", "t2i R@1", "t2i R@10", "i2t R@1",
                    "i2t R@10"], rows, digits=4)]
    for key, title in (("template_study", "default: normalized, euclidean, k = 3, RBF at 0.8 x median "
                                          "distance"),
                       ("template_study_paper", "paper-exact: unnormalized, euclidean, k = 3, RBF at "
                                                "0.8 x median squared distance")):
        st = res[key]
        lines.append(f"\nTemplate study, {len(st['templates'])} templates ({title}):")
        lines.append(table(["measure", "pearson", "95% CI", "p", "spearman", "95% CI", "p"],
                           [(m, c["pearson"], _ci([c["pearson_ci_low"], c["pearson_ci_high"]]),
                             _sci(c["pearson_p"]), c["spearman"],
                             _ci([c["spearman_ci_low"], c["spearman_ci_high"]]), _sci(c["spearman_p"]))
                            for m, c in st["correlations"].items()], digits=3))
        lines.append(table(["paired difference", "pearson", "95% CI", "spearman", "95% CI"],
                           [(n, c["pearson"], _ci(c["pearson_ci"]), c["spearman"], _ci(c["spearman_ci"]))
                            for n, c in st["comparisons"].items()], digits=3))
    ov = res["imagenet_overlap"]
    lines.append(f"\nImageNet overlap: {ov['n_imagenet_named']} of {ov['n_unseen_classes']} unseen classes "
                 "carry an ImageNet-1k class name:")
    lines.append(table(["quantity", "imagenet-named", "95% CI", "others", "95% CI", "difference", "95% CI"],
                       [(n, r["imagenet_named"], _ci(r["imagenet_named_ci"]), r["others"],
                         _ci(r["others_ci"]), r["difference"], _ci(r["difference_ci"]))
                        for n, r in ov["rows"].items()],
                       digits=3))
    lines.append(f"\nTimings (s): {res['timings_s']}")
    return "\n".join(lines)


def _ci(ci: Any) -> str:
    lo, hi = ci
    return "-" if lo is None or lo != lo else f"[{lo:.3f}, {hi:.3f}]"


def _sci(p: Any) -> str:
    return "-" if p is None or p != p else f"{p:.1e}"


def run_image(args: argparse.Namespace) -> int:
    """The offline image-text alignment demo: run the study, write its files, print its tables."""
    from ..report.image_demo import write_image_demo
    from ..studies.image_demo import run as image_demo

    result = image_demo(args.out, threads=args.threads or None, progress=args.progress)
    return emit(args, result, render_image_demo, write_image_demo(result, args.out))
