"""``pairspace compare X Y``: NNGS beside the baseline measures, with p-values, intervals and the
items whose neighborhoods disagree most.

Inputs are .npy, .npz, .parquet or .csv (see :mod:`pairspace.data.io`); rows are aligned by id when
both inputs carry ids. With ``--out DIR`` it writes ``results.json`` (schema
``pairspace.compare/2``, documented in :mod:`pairspace.measures.compare`), ``results.csv``,
``curve.png`` and a self-contained ``report.html``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..measures.compare import DEFAULT_MEASURES, compare_spaces
from ..measures.registry import available_measures
from ._render import table


def _measure_list(text: str) -> list[str]:
    names = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in names if m not in available_measures()]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown measure(s) {unknown}; available: {', '.join(available_measures())}")
    return names


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="NNGS and baseline measures of two paired spaces (report)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("x", help="first space (.npy, .npz, .parquet or .csv)")
    p.add_argument("y", help="second space, paired with X by id or by row")
    p.add_argument("--metric", default="cosine", choices=["cosine", "euclidean", "inner"])
    p.add_argument("--metric-y", default=None, choices=["cosine", "euclidean", "inner"],
                   help="metric of Y when it differs from X's")
    p.add_argument("--k", action="append", type=int, default=None,
                   help="neighborhood size to report (repeatable; default 10)")
    p.add_argument("--k-max", type=int, default=None,
                   help="largest k of the curve (default: max(--k, 100) capped at n-1)")
    p.add_argument("--chance", default="exact", choices=["exact", "approx"])
    p.add_argument("--measures", type=_measure_list, default=list(DEFAULT_MEASURES),
                   help="comma-separated measures (see `pairspace measures`; default "
                        f"{','.join(DEFAULT_MEASURES)})")
    p.add_argument("--permutations", type=int, default=0,
                   help="permutations of the pairing for p-values and the null band (default 0)")
    p.add_argument("--band-permutations", type=int, default=100,
                   help="permutations used for the null band of the curve (default 100)")
    p.add_argument("--bootstrap", type=int, default=0,
                   help="resamples for confidence intervals (default 0: none)")
    p.add_argument("--level", type=float, default=0.95, help="interval coverage (default 0.95)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--top", type=int, default=20, help="most disagreeing items to report")
    p.add_argument("--id-column", default=None, help="id column of parquet/CSV inputs")
    p.add_argument("--vector-column", default=None, help="vector column of parquet inputs")
    p.add_argument("--out", default=None,
                   help="folder for results.json, results.csv, curve.png and report.html")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.io import load_pair
    from ..report import write_json
    from ..report.compare import plot_compare_curve, write_results_csv
    from ..report.html import compare_report_html, write_html

    pair = load_pair(args.x, args.y, getattr(args, "id_column", None),
                     getattr(args, "vector_column", None))
    res = compare_spaces(
        pair.X, pair.Y, measures=getattr(args, "measures", None) or list(DEFAULT_MEASURES),
        ks=args.k or [10], k_max=args.k_max, metric=args.metric, metric_y=args.metric_y,
        chance=args.chance, permutations=getattr(args, "permutations", 0),
        band_permutations=getattr(args, "band_permutations", 100),
        bootstrap=getattr(args, "bootstrap", 0), level=getattr(args, "level", 0.95),
        seed=getattr(args, "seed", 0), ids=pair.ids, top=getattr(args, "top", 20), progress=True)
    res.inputs.update(pair.to_dict())
    doc = res.to_dict()
    c = res.curve
    print(f"n = {c.n}, metric = {c.metric}/{c.metric_y}, chance = {args.chance}, "
          f"rows aligned by {pair.aligned_by}")
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
    if args.out:
        out = Path(args.out)
        title = f"{Path(args.x).name} vs {Path(args.y).name}"
        png = plot_compare_curve(c, out / "curve.png", res.null_band, title=title)
        write_json(out / "results.json", doc)
        write_results_csv(out / "results.csv", doc["results"])
        write_html(out / "report.html", compare_report_html(doc, png))
        print(f"wrote {out / 'results.json'}, results.csv, curve.png and report.html")
    return 0
