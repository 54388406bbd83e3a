"""pairspace compare X Y: NNGS beside the baseline measures, with p-values, intervals and the
items whose neighborhoods disagree most.

Inputs are .npy, .npz, .parquet or .csv; rows are aligned by id when both inputs carry ids. A
pandas index column (unnamed first column, or integers 0..n-1) is ignored; the columns used as
features are printed. With --out DIR it writes results.json (schema pairspace.compare/3, documented
in pairspace.studies.compare), results.csv, disagreement.csv, curve.png and a self-contained report.html.
"""

from __future__ import annotations

import argparse

from ._common import (
    ListAction,
    add_command,
    check_out_dir,
    emit,
    nonneg_int,
    open_unit_interval,
    positive_int,
)
from ._render import table


def _measure(text: str) -> str:
    from ..measures.registry import available_measures

    if text not in available_measures():
        raise argparse.ArgumentTypeError(
            f"unknown measure {text!r}; available: {', '.join(available_measures())}")
    return text


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the compare subcommand."""
    from .._validation import METRICS
    from ..measures.nngs import CHANCE_METHODS
    from ..studies.compare import DEFAULT_MEASURES

    p = add_command(sub, "compare", help="NNGS and baseline measures of two paired spaces (report)",
                    description=__doc__, produces_result=True)
    p.add_argument("x", help="first space (.npy, .npz, .parquet or .csv)")
    p.add_argument("y", help="second space, paired with X by id or by row")
    p.add_argument("--metric", default="cosine", choices=METRICS, help="distance of the searches")
    p.add_argument("--metric-y", default=None, choices=METRICS,
                   help="metric of Y when it differs from X's; unset: the same as --metric")
    p.add_argument("--k", action=ListAction, item_type=positive_int, default=[10],
                   help="neighborhood sizes to report (space-separated)")
    p.add_argument("--k-max", type=positive_int, default=None,
                   help="largest k of the curve; unset: max(--k, 100) capped at n-1")
    p.add_argument("--chance", default="exact", choices=CHANCE_METHODS,
                   help="chance level: the exact hypergeometric expectation or the published "
                        "approximation")
    p.add_argument("--measures", action=ListAction, item_type=_measure, default=list(DEFAULT_MEASURES),
                   help="measures, space-separated (see pairspace measures)")
    p.add_argument("--permutations", type=nonneg_int, default=0,
                   help="permutations of the pairing for p-values and the null band")
    p.add_argument("--band-permutations", type=nonneg_int, default=100,
                   help="permutations used for the null band of the curve (at most --permutations)")
    p.add_argument("--bootstrap", type=nonneg_int, default=0,
                   help="resamples for confidence intervals (0: none; else at least 2)")
    p.add_argument("--level", type=open_unit_interval, default=0.95, help="interval coverage")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed of permutations and resamples")
    p.add_argument("--top", type=nonneg_int, default=20, help="most disagreeing items to report")
    p.add_argument("--id-column", default=None,
                   help="id column of parquet/CSV inputs; unset: id, else the first text column")
    p.add_argument("--columns", action=ListAction, default=None,
                   help="feature columns of parquet/CSV inputs, space-separated; unset: every "
                        "numeric column but the id and a pandas index")
    p.add_argument("--vector-column", default=None,
                   help="list column of vectors in parquet inputs; unset: detected")
    p.add_argument("--out", default=None,
                   help="folder for results.json, results.csv, disagreement.csv, curve.png and "
                        "report.html; unset: print only")
    p.set_defaults(func=run)


def _describe_columns(columns: dict) -> list[str]:
    lines = []
    for side, info in columns.items():
        feats = info.get("features", [])
        shown = ", ".join(feats[:8]) + (f", ... ({len(feats)} in all)" if len(feats) > 8 else "")
        ignored = [c if c else "(unnamed index column)" for c in info.get("ignored", [])]
        extra = f"; ignored: {', '.join(ignored)}" if ignored else ""
        lines.append(f"{side.upper()} features: {shown} (id column: {info.get('id')}){extra}")
    return lines


def render(res) -> str:  # noqa: ANN001 - a ComparisonResult
    """The curve at the requested k, the measure table and the most disagreeing items as text."""
    doc = res.to_dict()
    c, inputs = res.curve, doc["inputs"]
    lines = [f"n = {c.n}, metric = {c.metric}/{c.metric_y}, chance = {res.settings['chance']}, "
             f"rows aligned by {inputs.get('aligned_by', 'position')}",
             *_describe_columns(inputs.get("columns", {})),
             table(["k", "nngs", "chance", "normalized"],
                   [(k, c.nngs[k - 1], c.chance[k - 1], c.normalized[k - 1]) for k in res.ks]),
             "",
             table(["measure", "k", "value", "p", "ci_low", "ci_high"],
                   [(r["measure"], r["k"], r["value"], r["p_value"], r["ci_low"], r["ci_high"])
                    for r in doc["results"]["rows"]])]
    worst = doc["results"]["disagreement"]["most_disagreeing"][:5]
    if worst:
        lines.append(f"\nmost disagreeing items at k={res.disagreement.k}: "
                     + ", ".join(f"{t['id']} ({t['jaccard']:.2f})" for t in worst))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Compare the two files, print the result and (with --out) write the report."""
    from pathlib import Path

    from ..report.compare import write_compare_report
    from ..studies.compare import compare_files

    out = check_out_dir(args.out) if args.out else None
    res = compare_files(
        args.x, args.y, id_column=args.id_column, vector_column=args.vector_column,
        columns=args.columns, measures=args.measures, ks=args.k, k_max=args.k_max,
        metric=args.metric, metric_y=args.metric_y, chance=args.chance,
        permutations=args.permutations, band_permutations=args.band_permutations,
        bootstrap=args.bootstrap, level=args.level, seed=args.seed, top=args.top,
        progress=args.progress)
    files = write_compare_report(out, res, f"{Path(args.x).name} vs {Path(args.y).name}") if out else {}
    return emit(args, res, render, files)
