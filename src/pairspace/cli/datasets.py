"""pairspace datasets: build the offline datasets and cut tables by a column.

render-instruments renders (or reuses) the General MIDI instrument benchmark and writes, beside
its tables, the files of the command-line route: seen_pairs.csv, seen.txt, unseen.txt,
seen_clips.csv and unseen_clips.csv. render-emoji does the same for the OpenMoji image-text
benchmark (seen_images.csv / unseen_images.csv, and ATTRIBUTION.md: OpenMoji, CC BY-SA 4.0).
select keeps the rows of an embedding table whose column holds one of the given values (for
example the unseen clips of an embedded clips.csv).
"""

from __future__ import annotations

import argparse
import time

from ._common import FORMATTER, ListAction, open_unit_interval, positive_float, positive_int
from ._render import table


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("datasets", help="build offline datasets, select table rows",
                       description=__doc__, formatter_class=FORMATTER)
    dsub = p.add_subparsers(dest="dataset_command", metavar="COMMAND")
    r = dsub.add_parser("render-instruments", help="render the General MIDI instrument benchmark",
                        formatter_class=FORMATTER)
    r.add_argument("--root", default=None, help="parent folder (default: the user's cache folder)")
    r.add_argument("--clips-per-class", type=positive_int, default=8, help="clips per instrument")
    r.add_argument("--captions-per-clip", type=positive_int, default=2, help="captions per clip")
    r.add_argument("--duration", type=positive_float, default=2.0,
                   help="clip length in seconds (at least 0.5)")
    r.add_argument("--sample-rate", type=positive_int, default=16000,
                   help="sample rate of the FLAC files (at least 8000)")
    r.add_argument("--unseen-fraction", type=open_unit_interval, default=0.25,
                   help="share of the instruments of each family held out as unseen")
    r.add_argument("--seed", type=int, default=0, help="seed of the split and of every choice")
    r.add_argument("--force", action="store_true", help="render again even when cached")
    r.add_argument("--print-path", action="store_true",
                   help="print only the dataset folder (for scripts: D=$(pairspace datasets "
                        "render-instruments --print-path))")
    r.set_defaults(func=run_render)
    from ..data.datasets.emoji.classes import HOLDOUTS

    e = dsub.add_parser("render-emoji", help="render the OpenMoji emoji image-text benchmark",
                        formatter_class=FORMATTER)
    e.add_argument("--root", default=None, help="parent folder (default: the user's cache folder)")
    e.add_argument("--views-per-class", type=positive_int, default=3,
                   help="rendered views per emoji (view 0 is canonical)")
    e.add_argument("--captions-per-view", type=positive_int, default=2, help="captions per view")
    e.add_argument("--image-size", type=positive_int, default=128,
                   help="side of the square PNG images in pixels (at least 32)")
    e.add_argument("--unseen-fraction", type=open_unit_interval, default=0.25,
                   help="share of each group's classes held out as unseen")
    e.add_argument("--holdout", choices=HOLDOUTS, default=HOLDOUTS[0],
                   help="hold out a share of each group's classes, or whole subgroups")
    e.add_argument("--groups", nargs="+", default=None, metavar="GROUP",
                   help="Unicode emoji groups to include (default: all but Component and Flags)")
    e.add_argument("--seed", type=int, default=0, help="seed of the split and of every choice")
    e.add_argument("--force", action="store_true", help="render again even when cached")
    e.add_argument("--print-path", action="store_true",
                   help="print only the dataset folder (for scripts)")
    e.set_defaults(func=run_render_emoji)
    s = dsub.add_parser("select", help="keep the rows of a table whose column has given values",
                        formatter_class=FORMATTER)
    s.add_argument("table", help="input embedding table (.parquet, .arrow or .npz)")
    s.add_argument("--where", required=True, metavar="COLUMN=VALUE[,VALUE...]", action=ListAction,
                   split_commas=False,
                   help="keep rows whose COLUMN is one of the values, e.g. split=unseen; "
                        "space-separated conditions must all hold")
    s.add_argument("--out", required=True, help="output table (.parquet, .arrow or .npz)")
    s.set_defaults(func=run_select)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])


def run_render(args: argparse.Namespace) -> int:
    from ..data.datasets.instruments import render_instruments

    t0 = time.perf_counter()
    ds = render_instruments(args.root, args.clips_per_class, args.captions_per_clip, args.duration,
                            args.sample_rate, args.unseen_fraction, args.seed, force=args.force,
                            progress=not args.print_path)
    if args.print_path:
        print(ds.root)
        return 0
    dt = time.perf_counter() - t0
    seen, unseen = ds.class_names("seen"), ds.class_names("unseen")
    print(table(["clips", "captions", "classes", "seen", "unseen", "families", "seconds"],
                [(len(ds.clips), len(ds.captions), len(ds.classes), len(seen), len(unseen),
                  len({c["family"] for c in ds.classes}), round(dt, 2))]))
    print(f"dataset: {ds.root}")
    print(f"pair manifest (audio_id, text_id): {ds.root / 'captions.csv'}")
    print(f"seen training pairs: {ds.root / 'seen_pairs.csv'}; unseen classes: "
          f"{ds.root / 'unseen.txt'}; clips per split: seen_clips.csv, unseen_clips.csv")
    return 0


def run_render_emoji(args: argparse.Namespace) -> int:
    from ..data.datasets.emoji import render_emoji

    t0 = time.perf_counter()
    ds = render_emoji(args.root, args.views_per_class, args.captions_per_view, args.image_size,
                      args.unseen_fraction, args.holdout, args.seed, groups=args.groups,
                      force=args.force, progress=not args.print_path)
    if args.print_path:
        print(ds.root)
        return 0
    dt = time.perf_counter() - t0
    seen, unseen = ds.class_names("seen"), ds.class_names("unseen")
    print(table(["images", "captions", "classes", "seen", "unseen", "groups", "subgroups", "seconds"],
                [(len(ds.images), len(ds.captions), len(ds.classes), len(seen), len(unseen),
                  len({c["group"] for c in ds.classes}), len({c["subgroup"] for c in ds.classes}),
                  round(dt, 2))]))
    print(f"dataset: {ds.root}")
    print(f"pair manifest (image_id, text_id): {ds.root / 'captions.csv'}")
    print(f"seen training pairs: {ds.root / 'seen_pairs.csv'}; unseen classes: "
          f"{ds.root / 'unseen.txt'}; images per split: seen_images.csv, unseen_images.csv")
    print(f"images: OpenMoji, CC BY-SA 4.0 (see {ds.root / 'ATTRIBUTION.md'})")
    return 0


def run_select(args: argparse.Namespace) -> int:
    from ..data.embed import check_output_file
    from ..data.table import EmbeddingTable

    conditions = []
    for cond in args.where:
        column, sep, values = cond.partition("=")
        if not sep or not column or not values:
            raise ValueError(f"--where {cond!r} must look like COLUMN=VALUE[,VALUE...]")
        conditions.append((column, values.split(",")))
    check_output_file(args.out)
    t = EmbeddingTable.load(args.table)
    n = len(t)
    for column, values in conditions:
        t = t.where(column, values)
    t.save(args.out)
    print(f"wrote {args.out}: {len(t)} of {n} rows ({' and '.join(args.where)})")
    return 0
