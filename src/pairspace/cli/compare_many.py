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

from ._common import add_command, check_out_dir, nonneg_int, open_unit_interval, positive_int
from ._render import table


def _names() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The measures (and defaults) of the study and the search metrics, from where they live."""
    from .._validation import METRICS
    from ..studies.many_spaces import DEFAULT_MEASURES, MEASURES

    return MEASURES, DEFAULT_MEASURES, METRICS


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the compare-many subcommand."""
    measures, default_measures, metrics = _names()
    p = add_command(sub, "compare-many", description=__doc__,
                    help="similarity matrices and spectra of many paired spaces (report)")
    p.add_argument("inputs", nargs="*", help="space files (at least two spaces in all)")
    p.add_argument("--names", nargs="+", default=None,
                   help="names of the input files, in order; unset: the file names")
    p.add_argument("--texts", default=None, help="text file, one item per line, for --encoders")
    p.add_argument("--encoders", nargs="+", default=[],
                   help="registered text encoders that embed --texts (see pairspace encoders), "
                        "each ENCODER or NAME=ENCODER (the space's name)")
    p.add_argument("--option", action="append", default=[], metavar="NAME:KEY=VALUE",
                   help="option of one encoder, e.g. minilm:layers=all (repeatable)")
    p.add_argument("--k", nargs="+", type=positive_int, default=[10],
                   help="neighborhood sizes of the matrices; the first orders the spaces")
    p.add_argument("--k-max", type=positive_int, default=100,
                   help="largest k of every pair's spectrum (capped at n-1)")
    p.add_argument("--metric", default="cosine", choices=metrics, help="distance of every search")
    p.add_argument("--chance", default="exact", choices=["exact", "approx"],
                   help="chance level of the normalized NNGS")
    p.add_argument("--measures", nargs="+", default=list(default_measures), choices=measures,
                   help="matrices to compute")
    p.add_argument("--bootstrap", type=nonneg_int, default=1000,
                   help="item-bootstrap resamples of each pair's NNGS (0: no intervals)")
    p.add_argument("--level", type=open_unit_interval, default=0.95, help="interval coverage")
    p.add_argument("--seeds", nargs="+", type=nonneg_int, default=[0],
                   help="seed of the resampling (the first is used)")
    p.add_argument("--batch-size", type=positive_int, default=64, help="encoder batch size")
    p.add_argument("--out", default=None, help="report folder; unset: print only")
    p.add_argument("--json", action="store_true", help="print the result document as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors (and --json)")
    p.set_defaults(func=run)


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


def _print(doc: dict) -> None:
    res, st = doc["results"], doc["settings"]
    print(f"{len(res['names'])} spaces, n = {doc['inputs']['n']}, metric = "
          f"{'/'.join(sorted(set(st['metrics'])))}, k_max = {st['k_max']}, chance = {st['chance']}")
    for m in res["matrices"]:
        label = m["measure"] + ("" if m["k"] is None else f" at k = {m['k']}")
        vals = m["normalized"] if m["normalized"] is not None else m["values"]
        head = ("normalized " if m["normalized"] is not None else "") + label
        print(f"\n{head}")
        print(table(["", *res["names"]], [(nm, *row) for nm, row in zip(res["names"], vals,
                                                                         strict=True)]))
    print(f"\norder ({st['order_by']}): {', '.join(res['order'])}")


def run(args: argparse.Namespace) -> int:
    """Load or embed the spaces, compare them, print and (with --out) write the report."""
    import json
    import shlex
    import sys
    from pathlib import Path

    from ..studies.many_spaces import compare_many, embed_texts, load_spaces

    out = check_out_dir(args.out) if args.out else None
    if args.encoders and not args.texts:
        raise ValueError("--encoders needs --texts (the items to embed)")
    if args.texts and not args.encoders:
        raise ValueError("--texts needs --encoders")
    options = _encoder_options(args.option, args.encoders)
    spaces = load_spaces(args.inputs, args.names)
    if args.encoders:
        texts = [t.rstrip("\n") for t in Path(args.texts).read_text(encoding="utf-8").splitlines()]
        texts = [t for t in texts if t.strip()]
        spaces.update(embed_texts(texts, args.encoders, options, batch_size=args.batch_size,
                                  progress=not args.quiet, existing=spaces))
    if len(spaces) < 2:
        raise ValueError(f"compare-many needs at least 2 spaces; got {len(spaces)}")
    res = compare_many(spaces, args.k, args.k_max, metric=args.metric, chance=args.chance,
                       measures=args.measures, bootstrap=args.bootstrap, level=args.level,
                       seed=args.seeds[0], progress=None if not args.quiet else False)
    res.command = "pairspace compare-many " + " ".join(shlex.quote(a) for a in sys.argv[2:]) \
        if sys.argv[1:2] == ["compare-many"] else "pairspace compare-many"
    doc = res.to_dict()
    if args.texts:
        doc["inputs"]["texts"] = str(args.texts)
    if not args.quiet:
        _print(doc)
    if out is not None:
        from ..report.many_spaces import write_many_report

        write_many_report(out, doc, ", ".join(res.names))
        if not args.quiet:
            print(f"\nwrote {out / 'results.json'}, matrices.csv, pairs.csv, heatmaps.png, "
                  "spectra.png, dendrogram.png and report.html")
    if args.json:
        print(json.dumps(doc, default=float))
    return 0
