"""pairspace measures: list the similarity measures with range, direction, invariances and cost."""

from __future__ import annotations

import argparse
import json

from ._common import add_command
from ._render import table


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the measures subcommand."""
    p = add_command(sub, "measures", help="list the available similarity measures",
                    description=__doc__)
    p.add_argument("--json", action="store_true", help="print the registry as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the measure registry (a table, or JSON with --json)."""
    from ..measures.registry import MEASURES

    infos = [e.obj.to_dict() for e in MEASURES.entries()]
    if args.json:
        print(json.dumps(infos, indent=2))
        return 0
    print(table(["name", "kind", "range", "similar", "cost"],
                [(d["name"], d["kind"], f"[{d['range'][0]:g}, {d['range'][1]:g}]",
                  "higher" if d["higher_is_similar"] else "lower", d["cost"]) for d in infos]))
    print()
    for d in infos:
        print(f"{d['name']}: {d['description']}. Invariant to: {'; '.join(d['invariances'])}. "
              f"[{d['reference']}]")
    return 0
