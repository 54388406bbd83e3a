"""pairspace zeroshot: zero-shot classification with trained projection heads.

A shipped name (--classes cifar100_clip, --templates audio) always means the shipped list; give a
file as a path with a suffix or ./ (./my_classes). The document (schema pairspace.zeroshot/3) records
which source was used and the confusion matrix; beside it go a self-contained HTML report (same
name, .html) and its confusion-matrix figure (NAME-confusion.png).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._common import add_command, check_out_file, emit
from ._render import table


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ..tasks.protocols import PROTOCOL_NAMES

    p = add_command(sub, "zeroshot", help="zero-shot accuracy of a trained run on a labeled table",
                    description=__doc__, produces_result=True)
    p.add_argument("--run", required=True, help="run folder written by pairspace train")
    p.add_argument("--eval", required=True, help="labeled audio embedding table (same backbone)")
    p.add_argument("--classes", required=True,
                   help="shipped class-name list, or a file path with a suffix or ./ (one name per line)")
    p.add_argument("--templates", default=None,
                   help="shipped template set, or a file path with a suffix or ./ (JSON or one per line); "
                        "required by the ensemble protocol, fixed by msclap-p3 (a different set is an "
                        "error)")
    p.add_argument("--text-encoder", default=None,
                   help="text encoder name; unset: the one recorded with the run's text table")
    p.add_argument("--out", default=None,
                   help="JSON document; NAME.html (report) and NAME-confusion.png go beside it; "
                        "unset: RUN/zeroshot.json")
    p.add_argument("--protocol", choices=PROTOCOL_NAMES, default="ensemble",
                   help="ensemble: the given templates averaged, all items; msclap-p3: the one prompt "
                        "'this is a sound of ' + label, no ensembling, per-fold mean and std of a fold "
                        "column or the subset == evaluation rows (TUT2017)")
    p.set_defaults(func=run, out_kind="file")


def render(res: Any) -> str:
    """The sources, the split and the accuracy table as text."""
    doc = res.to_dict()
    inp, s, m = doc["inputs"], doc["settings"], doc["results"]
    split = m["split"]
    where = (f"folds {', '.join(split['folds'])}" if split["kind"] == "folds"
             else "subset evaluation" if split["kind"] == "subset" else "all items")
    lines = [f"classes: {inp['classes_source']} ({m['n_classes']}); templates: "
             f"{inp['templates_source']} ({s['n_templates']})",
             f"protocol {res.protocol}: {where} ({split['n']} items)",
             table(["top1", "top5", "balanced_accuracy", "chance", "n", "classes"],
                   [(m["top1"], m["top5"], m["balanced_accuracy"], m["chance"], m["n"],
                     m["n_classes"])])]
    if split["kind"] == "folds":
        lines.append(f"std over folds: top1 {m['std']['top1']:.4f}")
        lines.append(table(["fold", "top1", "top5", "balanced_accuracy", "n"],
                           [(f, v["top1"], v["top5"], v["balanced_accuracy"], v["n"])
                            for f, v in m["per_fold"].items()]))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    out = check_out_file(Path(args.out) if args.out else Path(args.run) / "zeroshot.json")
    from ..align.runfolder import check_not_run_file
    from ..report.zeroshot import report_paths, write_zeroshot

    for path in report_paths(out).values():  # never --out RUN/model.safetensors, nor RUN/report.html
        check_out_file(path)
        check_not_run_file(path, args.run)
    from ..studies.zeroshot import evaluate_run

    res = evaluate_run(args.run, args.eval, args.classes, args.templates, args.protocol,
                       args.text_encoder, progress=args.progress)
    return emit(args, res, render, write_zeroshot(res, out))
