"""``pairspace datasets``: build the offline datasets (``render-instruments``)."""

from __future__ import annotations

import argparse
import time

from ._render import table


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("datasets", help="build offline datasets", description=__doc__)
    dsub = p.add_subparsers(dest="dataset_command", metavar="DATASET")
    r = dsub.add_parser("render-instruments", help="render the General MIDI instrument benchmark")
    r.add_argument("--root", default=None, help="parent folder (default: the user's cache folder)")
    r.add_argument("--clips-per-class", type=int, default=8)
    r.add_argument("--captions-per-clip", type=int, default=2)
    r.add_argument("--duration", type=float, default=2.0, help="clip length in seconds")
    r.add_argument("--sample-rate", type=int, default=16000)
    r.add_argument("--unseen-fraction", type=float, default=0.25)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--force", action="store_true", help="render again even when cached")
    r.set_defaults(func=run_render)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])


def run_render(args: argparse.Namespace) -> int:
    from ..data.datasets.instruments import render_instruments

    t0 = time.perf_counter()
    ds = render_instruments(
        args.root,
        args.clips_per_class,
        args.captions_per_clip,
        args.duration,
        args.sample_rate,
        args.unseen_fraction,
        args.seed,
        force=args.force,
        progress=True,
    )
    dt = time.perf_counter() - t0
    seen, unseen = ds.class_names("seen"), ds.class_names("unseen")
    print(
        table(
            ["clips", "captions", "classes", "seen", "unseen", "families", "seconds"],
            [
                (
                    len(ds.clips),
                    len(ds.captions),
                    len(ds.classes),
                    len(seen),
                    len(unseen),
                    len({c["family"] for c in ds.classes}),
                    round(dt, 2),
                )
            ],
        )
    )
    print(f"dataset: {ds.root}")
    print(f"pair manifest (audio_id, text_id): {ds.root / 'captions.csv'}")
    return 0
