"""``pairspace template-study``: prompt-template similarity against zero-shot accuracy.

Per template: NNGS (and its curve with chance), linear CKA and mutual kNN between the class centroids
of the media embeddings and the text embeddings of the template applied to the class names; the
single-template zero-shot accuracy; then Pearson and Spearman correlations across templates.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any

from ._render import table
from .embed import parse_options


def load_measure(spec: str) -> tuple[str, Any]:
    """``module:function`` -> (function name, callable f(X, Y) -> float)."""
    if ":" not in spec:
        raise ValueError(f"--measure {spec!r} must look like module:function "
                         "(e.g. pairspace.measures.cka:rbf_cka)")
    mod, fn = spec.split(":", 1)
    try:
        f = getattr(importlib.import_module(mod), fn)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"could not load the measure {spec!r}: {exc}") from exc
    return fn, f


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("template-study", help="prompt-template similarity vs zero-shot accuracy",
                       description=__doc__)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--media", help="embedding table of the media (with labels)")
    src.add_argument("--synthetic", action="store_true",
                     help="run on a synthetic aligned model (no model or data needed)")
    p.add_argument("--templates", default="cifar100_clip",
                   help="shipped template set (cifar100_clip, audio, a+b...) or a .json/.txt file")
    p.add_argument("--class-names", default=None,
                   help="class-name list (shipped name or file); default: the table's labels, cleaned")
    txt = p.add_mutually_exclusive_group()
    txt.add_argument("--text-encoder", default=None, help="registered text encoder (e.g. clip-text)")
    txt.add_argument("--text-embeddings", default=None,
                     help=".npy array (templates x classes x dim) of precomputed text embeddings")
    p.add_argument("--text-option", action="append", metavar="KEY=VALUE", help="text encoder option")
    p.add_argument("--k", type=int, default=3)
    p.add_argument("--k-max", type=int, default=None)
    p.add_argument("--metric", default="euclidean", choices=["euclidean", "cosine", "inner"])
    p.add_argument("--no-normalize", action="store_true", help="do not L2-normalize embeddings")
    p.add_argument("--measure", action="append", default=None, metavar="MODULE:FUNCTION",
                   help="extra similarity measure f(X, Y) -> float to correlate (repeatable)")
    p.add_argument("--shuffled-control", action="store_true",
                   help="permute the class rows of each text space (a null control)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="folder for results.json, report.md and plots")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..data.table import EmbeddingTable
    from ..data.templates import clean_class_name, load_class_names, load_templates
    from ..encoders import base as encoders
    from ..studies.template_study import synthetic_zeroshot, template_study, write_template_report

    extra = dict(load_measure(s) for s in args.measure or [])
    common = dict(k=args.k, k_max=args.k_max, metric=args.metric, normalize=not args.no_normalize,
                  extra_measures=extra, shuffle_pairs=args.shuffled_control, seed=args.seed,
                  progress=True)
    if args.synthetic:
        d = synthetic_zeroshot(seed=args.seed)
        res = template_study(d["media"], d["templates"], d["class_names"], d["labels"],
                             text_embeddings=d["text_embeddings"], groups=d["groups"], **common)
    else:
        media = EmbeddingTable.load(args.media)
        if media.labels is None:
            raise ValueError(f"{args.media} has no labels; the template study needs labelled media")
        if args.class_names:
            names = load_class_names(args.class_names)
            labels: Any = media.labels
        else:
            raw = media.class_names()
            names = [clean_class_name(c) for c in raw]
            pos = {c: i for i, c in enumerate(raw)}
            labels = np.array([pos[v] for v in media.labels])
        templates = load_templates(args.templates)
        if args.text_embeddings:
            path = Path(args.text_embeddings)
            if not path.exists():
                raise FileNotFoundError(f"text embeddings not found: {path}")
            E, enc = np.load(path, allow_pickle=False), None
        elif args.text_encoder:
            E, enc = None, encoders.get(args.text_encoder, **parse_options(args.text_option))
        else:
            raise ValueError("pass --text-encoder or --text-embeddings")
        res = template_study(media, templates, names, labels, text_encoder=enc, text_embeddings=E,
                             **common)
    s = res.settings
    print(f"{s['n_templates']} templates, {s['n_classes']} classes, {s['n_items']} items; metric "
          f"{s['metric']}, k = {s['k']} (NNGS chance {s['chance_nngs']:.4f}); ensemble top-1 "
          f"{res.ensemble['top1']:.4f}" + ("; SHUFFLED CONTROL" if s["shuffle_pairs"] else ""))
    print(table(["measure", "pearson", "p", "spearman", "p"],
                [(m, c["pearson"], c["pearson_p"], c["spearman"], c["spearman_p"])
                 for m, c in res.correlations.items()]))
    print()
    print(table(["template", "group", "nngs", "cka", "mknn", "top1"],
                [(r["template"], r["group"], r["nngs"], r["linear_cka"], r["mutual_knn"], r["accuracy"])
                 for r in res.per_template]))
    if args.out:
        files = write_template_report(res, args.out)
        print("wrote " + ", ".join(str(f) for f in files.values()))
    return 0
