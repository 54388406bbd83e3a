"""pairspace zeroshot: zero-shot classification with trained projection heads.

A shipped name (--classes cifar100_clip, --templates audio) always means the shipped list; give a
file as a path with a suffix or ./ (./my_classes). The summary records which source was used.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ._common import FORMATTER, check_out_file
from ._render import table


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("zeroshot", help="zero-shot accuracy of a trained run on a labeled table",
                       description=__doc__, formatter_class=FORMATTER)
    p.add_argument("--run", required=True, help="run folder written by pairspace train")
    p.add_argument("--eval", required=True, help="labeled audio embedding table (same backbone)")
    p.add_argument("--classes", required=True,
                   help="shipped class-name list, or a file path with a suffix or ./ (one name per line)")
    p.add_argument("--templates", required=True,
                   help="shipped template set, or a file path with a suffix or ./ (JSON or one per line)")
    p.add_argument("--text-encoder", default=None,
                   help="text encoder name (default: the one recorded with the run's text table)")
    p.add_argument("--out", default=None, help="JSON summary (default RUN/zeroshot.json)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = check_out_file(Path(args.out) if args.out else Path(args.run) / "zeroshot.json")
    from ..data.templates import load_class_names, load_templates

    classes = load_class_names(args.classes)  # names and files are resolved before any work
    templates = load_templates(args.templates)
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
    res = zeroshot_eval(model, table_.vectors, table_.labels, classes, prompts)
    summary = {"schema": "pairspace.zeroshot/1", "run": str(args.run), "eval": str(args.eval),
               "selection": meta.get("selection"), "text_encoder": enc_name,
               "templates": templates.name, "templates_source": templates.source,
               "classes_source": classes.source, "n_templates": len(templates),
               **{k: res[k] for k in ("top1", "top5", "balanced_accuracy", "chance", "n", "n_classes")},
               "per_class": res["per_class"]}
    write_json(out, summary)
    print(table(["top1", "top5", "balanced_accuracy", "chance", "n", "classes"],
                [(res["top1"], res["top5"], res["balanced_accuracy"], res["chance"], res["n"],
                  res["n_classes"])]))
    print(json.dumps({k: summary[k] for k in ("top1", "top5", "balanced_accuracy", "chance")}))
    print(f"wrote {out}")
    return 0
