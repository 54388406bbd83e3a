"""pairspace encoders: list the registered encoders (name, modality, description)."""

from __future__ import annotations

import argparse

from ._render import table


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("encoders", help="list the available encoders", description=__doc__,
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--modality", default=None, choices=["text", "image", "audio"],
                   help="list only the encoders of this modality")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..encoders import available

    rows = [(e["name"], e["modality"], e["description"]) for e in available()
            if args.modality is None or e["modality"] == args.modality]
    print(table(["name", "modality", "description"], rows))
    return 0
