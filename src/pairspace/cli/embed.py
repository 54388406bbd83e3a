"""pairspace embed: embed a folder or a CSV/JSONL manifest into an embedding table."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ._common import ListAction, add_command, positive_int


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
                    description=__doc__)
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
    p.set_defaults(func=run)


def _manifest(args: argparse.Namespace, modality: str) -> Any:
    from ..data import datasets
    from ..data.manifests import read_manifest

    if args.dataset:
        kw = {"class_names": args.class_names} if args.class_names else {}
        return datasets.LOADERS[args.dataset](args.input, **kw).to_manifest()
    return read_manifest(args.input, modality=modality, item_column=args.item_column,
                         label_column=args.label_column)


def run(args: argparse.Namespace) -> int:
    from ..data.embed import check_output_file, embed_manifest
    from ..encoders import get, modality_of

    check_output_file(args.out)  # before reading inputs or loading a model
    options = parse_options(args.option)
    modality = modality_of(args.encoder, **options)
    manifest = _manifest(args, modality)
    encoder = get(args.encoder, **options)
    res = embed_manifest(encoder, manifest, args.out, batch_size=args.batch_size,
                         chunk_size=args.chunk_size, force=args.force, progress=args.progress,
                         hash_content=args.hash_content)
    if res.reused:
        print(f"{res.path} is up to date ({len(res.table)} items, encoder {args.encoder}); nothing to do")
    else:
        extra = f", {res.resumed_items} resumed from a previous run" if res.resumed_items else ""
        print(f"wrote {res.path}: {len(res.table)} items x {res.table.dim} dims "
              f"({res.encoded_items} encoded{extra})")
    if res.failures:
        print(f"{len(res.failures)} item(s) could not be read and were left out:", file=sys.stderr)
        for item, why in res.failures[:10]:
            print(f"  {item}: {why}", file=sys.stderr)
    return 0
