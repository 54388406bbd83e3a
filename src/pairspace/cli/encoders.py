"""``pairspace encoders``: list the registered encoders and whether their libraries are installed."""

from __future__ import annotations

import argparse

from ._render import table


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("encoders", help="list the available encoders", description=__doc__)
    p.add_argument("--modality", default=None, choices=["text", "image", "audio"])
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..encoders import base as encoders

    rows = [(e["name"], e["modality"], e["description"]) for e in encoders.available()
            if args.modality is None or e["modality"] == args.modality]
    print(table(["name", "modality", "description"], rows))
    return 0
