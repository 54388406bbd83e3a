"""pairspace compare-many A B C ...: NNGS (with its normalized spectrum), mutual kNN, CKNNA and
linear CKA of every pair of many paired spaces, from one neighbor search per space.

Inputs are files (.npy, .npz, .parquet, .arrow or .csv; rows aligned by id when every input has
ids) and/or spaces embedded here from a text list: --texts FILE (one text per line) with
--encoders ENCODER ... or NAME=ENCODER ... (options per space as --option NAME:KEY=VALUE;
layers=all on the hf and minilm encoders gives one space per hidden layer, named NAME:layerL).
With --out DIR it writes results.json (schema pairspace.compare_many/1), matrices.csv, pairs.csv,
heatmaps.png, spectra.png, dendrogram.png and a self-contained report.html.
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


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the compare-many subcommand."""
    from .._validation import METRICS
    from ..measures.nngs import CHANCE_METHODS
    from ..studies.many_spaces import DEFAULT_MEASURES, MEASURES

    p = add_command(sub, "compare-many", description=__doc__, produces_result=True,
                    help="similarity matrices and spectra of many paired spaces (report)")
    p.add_argument("inputs", nargs="*", help="space files (at least two spaces in all)")
    p.add_argument("--names", action=ListAction, split_commas=False, default=None,
                   help="names of the input files, in order; unset: the file names")
    p.add_argument("--texts", default=None, help="text file, one item per line, for --encoders")
    p.add_argument("--encoders", action=ListAction, split_commas=False, default=None,
                   help="registered text encoders that embed --texts (see pairspace encoders), "
                        "each ENCODER or NAME=ENCODER (the space's name); unset: files only")
    p.add_argument("--option", action="append", default=None, metavar="NAME:KEY=VALUE",
                   help="option of one encoder, e.g. minilm:layers=all (repeatable); unset: "
                        "every encoder's defaults")
    p.add_argument("--k", action=ListAction, item_type=positive_int, default=[10],
                   help="neighborhood sizes of the matrices; the first orders the spaces")
    p.add_argument("--k-max", type=positive_int, default=100,
                   help="largest k of every pair's spectrum (capped at n-1)")
    p.add_argument("--metric", default="cosine", choices=METRICS, help="distance of every search")
    p.add_argument("--chance", default="exact", choices=CHANCE_METHODS,
                   help="chance level of the normalized NNGS")
    p.add_argument("--measures", action=ListAction, item_type=_one_of(MEASURES),
                   default=list(DEFAULT_MEASURES),
                   help=f"matrices to compute, space-separated (from: {' '.join(MEASURES)})")
    p.add_argument("--bootstrap", type=nonneg_int, default=1000,
                   help="item-bootstrap resamples of each pair's NNGS (0: no intervals)")
    p.add_argument("--level", type=open_unit_interval, default=0.95, help="interval coverage")
    p.add_argument("--seeds", action=ListAction, item_type=nonneg_int, default=[0],
                   help="seed of the resampling (one seed: the intervals are over items)")
    p.add_argument("--batch-size", type=positive_int, default=64, help="encoder batch size")
    p.add_argument("--out", default=None, help="report folder; unset: print only")
    p.set_defaults(func=run)


def _one_of(choices: tuple[str, ...]):  # noqa: ANN202 - an argparse type
    def check(text: str) -> str:
        if text not in choices:
            raise argparse.ArgumentTypeError(f"unknown {text!r}; choose from {', '.join(choices)}")
        return text

    return check


def _encoder_options(pairs: list[str], encoders: list[str]) -> dict[str, dict]:
    from .embed import parse_options

    out: dict[str, dict] = {e.partition("=")[0]: {} for e in encoders}
    for text in pairs:
        name, sep, rest = text.partition(":")
        if not sep or name not in out:
            raise ValueError(f"--option {text!r} must look like NAME:KEY=VALUE with NAME one of "
                             f"--encoders {sorted(out)}")
        out[name].update(parse_options([rest]))
    return out


def render(res) -> str:  # noqa: ANN001 - a ManySpacesResult
    """Every matrix (normalized NNGS where there is one) and the dendrogram order, as text."""
    doc = res.to_dict()
    r, st = doc["results"], doc["settings"]
    lines = [f"{len(r['names'])} spaces, n = {doc['inputs']['n']}, metric = "
             f"{'/'.join(sorted(set(st['metrics'])))}, k_max = {st['k_max']}, chance = {st['chance']}"]
    for m in r["matrices"]:
        label = m["measure"] + ("" if m["k"] is None else f" at k = {m['k']}")
        vals = m["normalized"] if m["normalized"] is not None else m["values"]
        lines += ["", ("normalized " if m["normalized"] is not None else "") + label,
                  table(["", *r["names"]], [(nm, *row) for nm, row in zip(r["names"], vals,
                                                                            strict=True)])]
    lines.append(f"\norder ({st['order_by']}): {', '.join(r['order'])}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Load or embed the spaces, compare them, print and (with --out) write the report."""
    from ..studies.many_spaces import compare_many, gather_spaces

    out = check_out_dir(args.out) if args.out else None
    if len(args.seeds) != 1:
        raise ValueError("compare-many takes one seed (its intervals are over items, not seeds); "
                         f"got --seeds {' '.join(map(str, args.seeds))}")
    encoders = args.encoders or []
    options = _encoder_options(args.option or [], encoders)
    progress = False if args.quiet else args.progress
    spaces, provenance = gather_spaces(args.inputs, args.names, texts=args.texts,
                                       encoders=encoders, options=options,
                                       batch_size=args.batch_size, progress=progress)
    if len(spaces) < 2:
        raise ValueError(f"compare-many needs at least 2 spaces; got {len(spaces)}")
    res = compare_many(spaces, args.k, args.k_max, metric=args.metric, chance=args.chance,
                       measures=args.measures, bootstrap=args.bootstrap, level=args.level,
                       seed=args.seeds[0], progress=progress, provenance=provenance)
    files = {}
    if out is not None:
        from ..report.many_spaces import write_many_report

        files = write_many_report(out, res.to_dict(), ", ".join(res.names))
    return emit(args, res, render, files)
