"""The pairspace command: one subcommand per study. It parses, calls a study, and renders; no math.

Each subcommand lives in its own module with ``add_parser(subparsers)``, which registers the parser
(through ``cli._common.add_command``) and sets ``func(args) -> int``. Those modules import only the
standard library and ``cli._common``/``cli._render`` at their top, and everything heavy inside their
``run``, so that building every parser (``pairspace --help``) stays instant. Add a module to
``SUBCOMMANDS`` to expose it.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

# The command table, in the order of ``pairspace --help``: module -> the command(s) it registers.
# A module that is not (yet) part of the installed tree is skipped.
SUBCOMMANDS: tuple[str, ...] = (
    "pairspace.cli.demo",
    "pairspace.cli.compare",
    "pairspace.cli.measures",
    "pairspace.cli.analogy",
    "pairspace.cli.template_study",
    "pairspace.cli.zeroshot",
    "pairspace.cli.encoders",
    "pairspace.cli.embed",
    "pairspace.cli.datasets",
    "pairspace.cli.train",
    "pairspace.cli.audit",
    "pairspace.cli.curate",
    "pairspace.cli.improve",
)

#: Errors that come from the user's input or environment: a message and exit status 2, no traceback.
USER_ERRORS = (ValueError, FileNotFoundError, ImportError, OSError)


def command_modules() -> list[str]:
    """The subcommand modules that exist in this installation, in the table's order."""
    found = []
    for mod in SUBCOMMANDS:
        if importlib.util.find_spec(mod) is not None:
            found.append(mod)
    return found


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered subcommand."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="pairspace",
        description="Paired embedding spaces: NNGS, baselines, zero-shot audits, alignment.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pairspace {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in command_modules():
        importlib.import_module(mod).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script: parse, run the subcommand, turn user errors into messages.

    Returns
    -------
    int
        The exit status: the subcommand's own, 2 for a usage or input error, 130 on Ctrl-C.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except USER_ERRORS as exc:
        message = str(exc) or type(exc).__name__
        if isinstance(exc, FileNotFoundError) and exc.filename and str(exc.filename) not in message:
            message = f"{message}: {exc.filename}"
        print(f"pairspace {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"pairspace {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
