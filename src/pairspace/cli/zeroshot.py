"""pairspace zeroshot: zero-shot classification with trained projection heads.

A shipped name (--classes cifar100_clip, --templates audio) always means the shipped list; give a
file as a path with a suffix or ./ (./my_classes). The summary records which source was used.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ._common import FORMATTER, check_out_file
from ._render import table

PROTOCOL_NAMES = ("ensemble", "msclap-p3")  # pairspace.tasks.protocols.PROTOCOLS (kept import-free)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("zeroshot", help="zero-shot accuracy of a trained run on a labeled table",
                       description=__doc__, formatter_class=FORMATTER)
    p.add_argument("--run", required=True, help="run folder written by pairspace train")
    p.add_argument("--eval", required=True, help="labeled audio embedding table (same backbone)")
    p.add_argument("--classes", required=True,
                   help="shipped class-name list, or a file path with a suffix or ./ (one name per line)")
    p.add_argument("--templates", default=None,
                   help="shipped template set, or a file path with a suffix or ./ (JSON or one per line); "
                        "required by the ensemble protocol, fixed by msclap-p3 (a different set is an "
                        "error)")
    p.add_argument("--text-encoder", default=None,
                   help="text encoder name (default: the one recorded with the run's text table)")
    p.add_argument("--out", default=None, help="JSON summary (default RUN/zeroshot.json)")
    p.add_argument("--protocol", choices=PROTOCOL_NAMES, default="ensemble",
                   help="ensemble: the given templates averaged, all items; msclap-p3: the one prompt "
                        "'this is a sound of ' + label, no ensembling, per-fold mean and std of a fold "
                        "column or the subset == evaluation rows (TUT2017)")
    p.set_defaults(func=run, out_kind="file")


def run(args: argparse.Namespace) -> int:
    out = check_out_file(Path(args.out) if args.out else Path(args.run) / "zeroshot.json")
    from ..align.runfolder import check_not_run_file

    check_not_run_file(out, args.run)  # never --out RUN/model.safetensors
    from ..data.templates import load_class_names
    from ..tasks.protocols import protocol_templates

    classes = load_class_names(args.classes)  # names and files are resolved before any work
    templates = protocol_templates(args.protocol, args.templates)
    from .._atomic import write_json
    from ..align.evaluate import projected_prompts, zeroshot_eval
    from ..align.trainer import load_model
    from ..data.table import EmbeddingTable
    from ..encoders import get

    model, cfg, meta = load_model(args.run)
    table_ = EmbeddingTable.load(args.eval)
    if table_.labels is None:
        raise ValueError(f"{args.eval} has no labels; zero-shot evaluation needs a labeled table")
    enc_name = args.text_encoder or meta.get("text_encoder")
    if not enc_name:
        raise ValueError("the run does not record its text encoder; pass --text-encoder NAME")
    print(f"classes: {classes.source} ({len(classes)}); templates: {templates.source} "
          f"({len(templates)})")
    prompts = projected_prompts(model, get(enc_name), classes, templates.templates, progress=True)
    if args.protocol != "ensemble":
        return _run_protocol(args, out, model, table_, classes, templates, prompts, meta, enc_name)
    res = zeroshot_eval(model, table_.vectors, table_.labels, classes, prompts)
    summary = {"schema": "pairspace.zeroshot/1", "run": str(args.run), "eval": str(args.eval),
               "selection": meta.get("selection"), "text_encoder": enc_name,
               "templates": templates.name, "templates_source": templates.source,
               "classes_source": classes.source, "n_templates": len(templates),
               **{k: res[k] for k in ("top1", "top5", "balanced_accuracy", "chance", "n", "n_classes")},
               "per_class": res["per_class"]}
    summary["protocol"] = "ensemble"
    write_json(out, summary)
    print(table(["top1", "top5", "balanced_accuracy", "chance", "n", "classes"],
                [(res["top1"], res["top5"], res["balanced_accuracy"], res["chance"], res["n"],
                  res["n_classes"])]))
    print(json.dumps({k: summary[k] for k in ("top1", "top5", "balanced_accuracy", "chance")}))
    print(f"wrote {out}")
    return 0


def _run_protocol(args: argparse.Namespace, out: Path, model: Any, table_: Any, classes: Any,
                  templates: Any, prompts: Any, meta: dict, enc_name: str) -> int:
    """Evaluate under a non-default protocol (folds or the evaluation subset) and write the summary."""
    from .._atomic import write_json
    from ..tasks.protocols import evaluate_protocol

    res = evaluate_protocol(args.protocol, model.project_a(table_.vectors), table_.labels, prompts,
                            classes, table_.columns, templates.templates)
    summary = {"schema": "pairspace.zeroshot/1", "run": str(args.run), "eval": str(args.eval),
               "selection": meta.get("selection"), "text_encoder": enc_name,
               "templates": templates.name, "templates_source": templates.source,
               "classes_source": classes.source, "n_templates": len(templates), **res,
               "protocol": args.protocol, "protocol_details": res["protocol"]}
    write_json(out, summary)
    split = res["split"]
    where = (f"folds {', '.join(split['folds'])}" if split["kind"] == "folds"
             else "subset evaluation" if split["kind"] == "subset" else "all items")
    print(f"protocol {args.protocol}: prompt {templates.templates[0]!r}; {where} ({split['n']} items)")
    if split["kind"] == "folds":
        print(table(["fold", "top1", "top5", "balanced_accuracy", "n"],
                    [(f, m["top1"], m["top5"], m["balanced_accuracy"], m["n"])
                     for f, m in res["per_fold"].items()]))
    print(json.dumps({k: summary[k] for k in ("top1", "top5", "balanced_accuracy", "chance")}
                     | ({"top1_std": res["std"]["top1"]} if "std" in res else {})))
    print(f"wrote {out}")
    return 0
