"""The ``pairspace`` command: one subcommand per study. It parses, calls, and renders; no math.

Each subcommand lives in its own module with ``add_parser(subparsers)``, which registers the parser
and sets ``func(args) -> int``. Add a module to ``SUBCOMMANDS`` to expose it.
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = [
    "pairspace.cli.analogy",
    "pairspace.cli.audit",
    "pairspace.cli.compare",
    "pairspace.cli.demo",
    "pairspace.cli.measures",
    "pairspace.cli.embed",
    "pairspace.cli.encoders",
    "pairspace.cli.template_study",
    "pairspace.cli.datasets",
    "pairspace.cli.train",
    "pairspace.cli.zeroshot",
]


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered subcommand."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="pairspace",
        description="Paired embedding spaces: NNGS, baselines, zero-shot audits, alignment.",
    )
    parser.add_argument("--version", action="version", version=f"pairspace {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in SUBCOMMANDS:
        importlib.import_module(mod).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, ImportError) as exc:
        print(f"pairspace {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
