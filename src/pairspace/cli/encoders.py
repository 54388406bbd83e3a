"""pairspace encoders: list the registered encoders (name, modality, description)."""

from __future__ import annotations

import argparse
import json

from ._common import add_command
from ._render import table


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ..encoders.base import MODALITIES

    p = add_command(sub, "encoders", help="list the available encoders", description=__doc__)
    p.add_argument("--modality", default=None, choices=MODALITIES,
                   help="list only the encoders of this modality")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..encoders import available

    entries = [e for e in available() if args.modality is None or e["modality"] == args.modality]
    if args.json:
        print(json.dumps(entries, indent=2, default=str))
        return 0
    if not args.quiet:
        print(table(["name", "modality", "description"],
                    [(e["name"], e["modality"], e["description"]) for e in entries]))
    return 0
