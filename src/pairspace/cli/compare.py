"""pairspace compare X Y: NNGS beside the baseline measures, with p-values, intervals and the
items whose neighborhoods disagree most.

Inputs are .npy, .npz, .parquet or .csv; rows are aligned by id when both inputs carry ids. A
pandas index column (unnamed first column, or integers 0..n-1) is ignored; the columns used as
features are printed. With --out DIR it writes results.json (schema pairspace.compare/2, documented
in pairspace.studies.compare), results.csv, disagreement.csv, curve.png and a self-contained report.html.
"""

from __future__ import annotations

import argparse

from ._common import add_command, check_out_dir, nonneg_int, open_unit_interval, positive_int
from ._render import table

DEFAULT_MEASURES = "nngs,mutual_knn,linear_cka"
METRICS = ["cosine", "euclidean", "inner"]


def _measure_list(text: str) -> list[str]:
    from ..measures.registry import available_measures

    names = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in names if m not in available_measures()]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown measure(s) {unknown}; available: {', '.join(available_measures())}")
    return names


def _column_list(text: str) -> list[str]:
    names = [c.strip() for c in text.split(",") if c.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected comma-separated column names")
    return names


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the compare subcommand."""
    p = add_command(sub, "compare", help="NNGS and baseline measures of two paired spaces (report)",
                    description=__doc__)
    p.add_argument("x", help="first space (.npy, .npz, .parquet or .csv)")
    p.add_argument("y", help="second space, paired with X by id or by row")
    p.add_argument("--metric", default="cosine", choices=METRICS, help="distance of the searches")
    p.add_argument("--metric-y", default=None, choices=METRICS,
                   help="metric of Y when it differs from X's; unset: the same as --metric")
    p.add_argument("--k", action="append", type=positive_int, default=None,
                   help="neighborhood size to report (repeatable); unset: 10")
    p.add_argument("--k-max", type=positive_int, default=None,
                   help="largest k of the curve; unset: max(--k, 100) capped at n-1")
    p.add_argument("--chance", default="exact", choices=["exact", "approx"],
                   help="chance level: the exact hypergeometric expectation or the published "
                        "approximation")
    p.add_argument("--measures", type=_measure_list, default=DEFAULT_MEASURES,
                   help="comma-separated measures (see pairspace measures)")
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
    p.add_argument("--columns", type=_column_list, default=None,
                   help="comma-separated feature columns of parquet/CSV inputs; unset: every "
                        "numeric column but the id and a pandas index")
    p.add_argument("--vector-column", default=None,
                   help="list column of vectors in parquet inputs; unset: detected")
    p.add_argument("--out", default=None,
                   help="folder for results.json, results.csv, disagreement.csv, curve.png and "
                        "report.html; unset: print only")
    p.set_defaults(func=run)


def _describe_columns(pair) -> list[str]:  # noqa: ANN001 - a PairedSpaces
    lines = []
    for side, info in pair.columns.items():
        feats = info.get("features", [])
        shown = ", ".join(feats[:8]) + (f", ... ({len(feats)} in all)" if len(feats) > 8 else "")
        ignored = [c if c else "(unnamed index column)" for c in info.get("ignored", [])]
        extra = f"; ignored: {', '.join(ignored)}" if ignored else ""
        lines.append(f"{side.upper()} features: {shown} (id column: {info.get('id')}){extra}")
    return lines


def _print_result(res, pair, chance: str) -> None:  # noqa: ANN001 - ComparisonResult, PairedSpaces
    doc = res.to_dict()
    c = res.curve
    print(f"n = {c.n}, metric = {c.metric}/{c.metric_y}, chance = {chance}, "
          f"rows aligned by {pair.aligned_by}")
    for line in _describe_columns(pair):
        print(line)
    print(table(["k", "nngs", "chance", "normalized"],
                [(k, c.nngs[k - 1], c.chance[k - 1], c.normalized[k - 1]) for k in res.ks]))
    print()
    print(table(["measure", "k", "value", "p", "ci_low", "ci_high"],
                [(r["measure"], r["k"], r["value"], r["p_value"], r["ci_low"], r["ci_high"])
                 for r in doc["results"]]))
    worst = doc["disagreement"]["most_disagreeing"][:5]
    if worst:
        print(f"\nmost disagreeing items at k={res.disagreement.k}: "
              + ", ".join(f"{t['id']} ({t['jaccard']:.2f})" for t in worst))


def run(args: argparse.Namespace) -> int:
    """Load, check, compare, print and (with --out) write the report."""
    from pathlib import Path

    from .._outputs import write_staged
    from ..data.io import load_pair
    from ..measures.registry import check_measures
    from ..report.compare import write_compare_report
    from ..studies.compare import compare_spaces

    out = check_out_dir(args.out) if args.out else None
    measures = getattr(args, "measures", None) or DEFAULT_MEASURES
    measures = _measure_list(measures) if isinstance(measures, str) else measures
    pair = load_pair(args.x, args.y, getattr(args, "id_column", None),
                     getattr(args, "vector_column", None), getattr(args, "columns", None))
    check_measures(measures, *pair.X.shape, pair.Y.shape[1])
    res = compare_spaces(
        pair.X, pair.Y, measures=measures, ks=args.k or [10], k_max=args.k_max,
        metric=args.metric, metric_y=args.metric_y, chance=args.chance,
        permutations=getattr(args, "permutations", 0),
        band_permutations=getattr(args, "band_permutations", 100),
        bootstrap=getattr(args, "bootstrap", 0), level=getattr(args, "level", 0.95),
        seed=getattr(args, "seed", 0), ids=pair.ids, top=getattr(args, "top", 20), progress=True)
    res.inputs.update(pair.to_dict())
    _print_result(res, pair, args.chance)
    if out is not None:
        title = f"{Path(args.x).name} vs {Path(args.y).name}"
        write_staged(out, lambda folder: write_compare_report(folder, res, title))  # all at once
        print(f"wrote {out / 'results.json'}, results.csv, disagreement.csv, curve.png and "
              "report.html")
    return 0
