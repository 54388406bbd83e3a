"""pairspace embed: embed a folder or a CSV/JSONL manifest into an embedding table.

The table is reused when its metadata records the same encoder and inputs, and an interrupted job
resumes. --json prints the pairspace.embed/1 result document (inputs, encoder provenance and
settings, the table's path, size, SHA-256, rows and dimension, whether it was reused); it is not
written to a file beside the table, whose own metadata is the record the reuse check reads.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ._common import ListAction, add_command, emit, positive_int


def parse_options(pairs: list[str] | None) -> dict[str, Any]:
    """``KEY=VALUE`` strings to encoder options (values parsed as JSON when possible)."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise ValueError(f"encoder option {pair!r} must look like KEY=VALUE")
        k, v = pair.split("=", 1)
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ..data.datasets import DATASETS

    p = add_command(sub, "embed", help="embed a folder or manifest into a table (reuses and resumes)",
                    description=__doc__, produces_result=True)
    p.add_argument("--encoder", required=True, help="registered encoder name (see pairspace encoders)")
    p.add_argument("--input", required=True,
                   help="folder, .csv, .tsv or .jsonl manifest (or the dataset root with --dataset)")
    p.add_argument("--dataset", default=None, choices=DATASETS,
                   help="read --input as this dataset's own layout (labels, folds, class names)")
    p.add_argument("--classes", "--class-names", dest="class_names", default=None,
                   help="class-name override for --dataset (shipped list name or file)")
    p.add_argument("--out", required=True, help="output table (.parquet, .arrow or .npz)")
    p.add_argument("--option", action=ListAction, split_commas=False, metavar="KEY=VALUE", default=[],
                   help="encoder options, space-separated, e.g. model_id=openai/clip-vit-base-patch32")
    p.add_argument("--item-column", default=None, help="manifest column holding paths or texts")
    p.add_argument("--label-column", default="label", help="manifest column holding the labels")
    p.add_argument("--batch-size", type=positive_int, default=32, help="items per encoder call")
    p.add_argument("--chunk-size", type=positive_int, default=1024,
                   help="items per resumable checkpoint")
    p.add_argument("--force", action="store_true", help="re-embed even when the table is up to date")
    p.add_argument("--hash-content", action="store_true",
                   help="fingerprint input files by content instead of size and modification time")
    p.set_defaults(func=run, out_kind="file")


def render(res: Any) -> str:
    """What the job did: the table written (and how much was encoded or resumed), or reused."""
    r = res.results
    if r["reused"]:
        return (f"{r['path']} is up to date ({r['n']} items, encoder {res.settings['encoder_name']}); "
                "nothing to do")
    extra = f", {r['resumed_items']} resumed from a previous run" if r["resumed_items"] else ""
    return f"wrote {r['path']}: {r['n']} items x {r['d']} dims ({r['encoded_items']} encoded{extra})"


def run(args: argparse.Namespace) -> int:
    from ..studies.embedding import embed_job

    res = embed_job(args.encoder, args.input, args.out, options=parse_options(args.option),
                    dataset=args.dataset, class_names=args.class_names, item_column=args.item_column,
                    label_column=args.label_column, batch_size=args.batch_size,
                    chunk_size=args.chunk_size, force=args.force, hash_content=args.hash_content,
                    progress=args.progress)
    if res.results["failures"]:
        failures = res.results["failures"]
        print(f"{len(failures)} item(s) could not be read and were left out:", file=sys.stderr)
        for item, why in failures[:10]:
            print(f"  {item}: {why}", file=sys.stderr)
    return emit(args, res, render)
