"""pairspace template-study: prompt-template similarity against zero-shot accuracy.

Per template: NNGS (and its curve with chance), linear CKA and mutual kNN between the class centroids
of the media embeddings and the text embeddings of the template applied to the class names; the
single-template zero-shot accuracy; then Pearson and Spearman correlations across templates, with
p-values and bootstrap intervals. A shipped name (--templates audio, --classes cifar100_clip)
always means the shipped set; give a file as a path with a suffix or ./ (./my_templates).
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from ._common import ListAction, add_command, check_out_dir, emit, nonneg_int, positive_int
from ._render import table


def load_measure(spec: str) -> tuple[str, Any]:
    """module:function -> (function name, callable f(X, Y) -> float)."""
    import inspect

    if ":" not in spec:
        raise ValueError(f"--measure {spec!r} must look like module:function "
                         "(e.g. pairspace.measures.cka:rbf_cka)")
    mod, fn = spec.split(":", 1)
    try:
        f = getattr(importlib.import_module(mod), fn)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"could not load the measure {spec!r}: {exc}") from exc
    if not callable(f):
        raise ValueError(f"--measure {spec!r} is not a function")
    try:  # checked before any work: a measure is called as f(X, Y) -> float
        inspect.signature(f).bind(None, None)
    except TypeError as exc:
        raise ValueError(f"--measure {spec!r} must accept two arguments f(X, Y) and return a "
                         f"number; its signature is {fn}{inspect.signature(f)} ({exc})") from None
    except ValueError:  # a builtin without a signature: left to the call
        pass
    return fn, f


def add_parser(sub: argparse._SubParsersAction) -> None:
    from .._validation import METRICS
    from ..measures.cka import RBF_BANDWIDTHS  # light: numpy only

    p = add_command(sub, "template-study", help="prompt-template similarity vs zero-shot accuracy",
                    description=__doc__, produces_result=True)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--media", help="embedding table of the media (with labels)")
    src.add_argument("--synthetic", action="store_true",
                     help="run on a synthetic aligned model (no model or data needed)")
    p.add_argument("--templates", default="cifar100_clip",
                   help="shipped template set (cifar100_clip, audio, a+b...) or a file path with a "
                        "suffix or ./ (.json or one template per line)")
    p.add_argument("--classes", "--class-names", dest="classes", default=None,
                   help="shipped class-name list or a file path with a suffix or ./; unset: the "
                        "table's labels, cleaned")
    txt = p.add_mutually_exclusive_group()
    txt.add_argument("--text-encoder", default=None, help="registered text encoder (e.g. clip-text)")
    txt.add_argument("--text-embeddings", default=None,
                     help=".npy array (templates x classes x dim) of precomputed text embeddings")
    p.add_argument("--text-option", action=ListAction, split_commas=False, metavar="KEY=VALUE",
                   default=[],
                   help="text encoder options, space-separated")
    p.add_argument("--k", type=positive_int, default=3, help="neighborhood size of NNGS and mutual kNN")
    p.add_argument("--k-max", type=positive_int, default=None,
                   help="largest k of the NNGS curves; unset: min(C - 1, 50)")
    p.add_argument("--metric", default="euclidean", choices=METRICS, help="distance of the kNN graphs")
    p.add_argument("--no-normalize", action="store_true", help="do not L2-normalize embeddings")
    p.add_argument("--measure", "--measures", dest="measure", action=ListAction, default=[],
                   metavar="MODULE:FUNCTION",
                   help="extra similarity measures f(X, Y) -> float to correlate, space-separated")
    p.add_argument("--rbf", default=None, choices=RBF_BANDWIDTHS,
                   help="also measure RBF CKA, width 0.8 x the median distance or 0.8 x the median "
                        "squared distance (the paper's); default: no RBF CKA")
    p.add_argument("--paper-exact", action="store_true",
                   help="the authors' settings (arXiv 2411.08687): unnormalized embeddings, "
                        "euclidean, k = 3, --rbf median_squared_distance (overrides --k, --metric, "
                        "--no-normalize and --rbf)")
    p.add_argument("--shuffled-control", action="store_true",
                   help="permute the class rows of each text space (a null control)")
    p.add_argument("--bootstrap", type=nonneg_int, default=2000,
                   help="bootstrap resamples of the templates for the correlation intervals")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed of the control and the bootstrap")
    p.add_argument("--out", default=None, help="folder for results.json, report.md, templates.csv "
                                               "and plots; unset: print only")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.out:
        check_out_dir(args.out)  # before any work
    from ..studies.template_runs import synthetic_template_study, template_study_files
    from ..studies.templates import PAPER_EXACT
    from .embed import parse_options

    common = dict(k=args.k, k_max=args.k_max, metric=args.metric, normalize=not args.no_normalize,
                  rbf=args.rbf, extra_measures=dict(load_measure(s) for s in args.measure),
                  shuffle_pairs=args.shuffled_control, n_boot=args.bootstrap, progress=args.progress)
    if args.paper_exact:
        common.update(PAPER_EXACT)
    if args.synthetic:
        res = synthetic_template_study(seed=args.seed, **common)
    else:
        if not args.text_embeddings and not args.text_encoder:
            raise ValueError("pass --text-encoder or --text-embeddings")
        res = template_study_files(args.media, args.templates, args.classes,
                                   text_encoder=args.text_encoder,
                                   text_options=parse_options(args.text_option),
                                   text_embeddings=args.text_embeddings, seed=args.seed, **common)
    files = {}
    if args.out:
        from .._outputs import write_staged
        from ..report.templates import write_template_report

        files = write_staged(args.out, lambda folder: write_template_report(res, folder))
    return emit(args, res, render, files)


def render(res: Any) -> str:
    """Settings, sources, the correlations (with intervals) and the per-template table as text."""
    from ..report.format import format_p

    s = res.settings
    lines = [f"templates: {s['templates_source']}; class names: {s['class_names_source']}",
             f"{s['n_templates']} templates, {s['n_classes']} classes, {s['n_items']} items; metric "
             f"{s['metric']}, k = {s['k']} (NNGS chance {s['chance_nngs']:.4f}); ensemble top-1 "
             f"{res.ensemble['top1']:.4f}" + ("; SHUFFLED CONTROL" if s["shuffle_pairs"] else "")
             + ("; paper-exact settings" if s.get("paper_exact") else "")]
    lines.append(table(["measure", "pearson", "p", "95% CI", "spearman", "p", "95% CI"],
                       [(m, c["pearson"], format_p(c["pearson_p"]), _ci(c, "pearson"), c["spearman"],
                         format_p(c["spearman_p"]), _ci(c, "spearman"))
                        for m, c in res.correlations.items()]))
    if res.comparisons:
        lines.append("")
        lines.append(table(["paired difference", "pearson", "95% CI", "spearman", "95% CI"],
                           [(name, c["pearson"], _pair(c["pearson_ci"]), c["spearman"],
                             _pair(c["spearman_ci"])) for name, c in res.comparisons.items()]))
    lines.append("")
    rbf = "rbf_cka" in res.correlations
    lines.append(table(["template", "group", "nngs", "cka", *(["rbf cka"] if rbf else []), "mknn", "top1"],
                       [(r["template"], r["group"], r["nngs"], r["linear_cka"],
                         *([r["rbf_cka"]] if rbf else []), r["mutual_knn"], r["accuracy"])
                        for r in res.per_template]))
    return "\n".join(lines)


def _ci(c: dict[str, float], method: str) -> str:
    lo, hi = c[f"{method}_ci_low"], c[f"{method}_ci_high"]
    return "-" if lo != lo else f"[{lo:.3f}, {hi:.3f}]"


def _pair(ci: Any) -> str:
    lo, hi = ci
    return "-" if lo is None or lo != lo else f"[{lo:.3f}, {hi:.3f}]"
