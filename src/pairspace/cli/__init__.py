"""The pairspace command: one subcommand per study. It parses, calls a study, and renders; no math.

Each subcommand lives in its own module with ``add_parser(subparsers)``, which registers the parser
(through ``cli._common.add_command``) and sets ``func(args) -> int``. Every command gets
``-q/--quiet``, ``--progress/--no-progress`` and ``--memory-budget SIZE`` (the working-memory
setting of :func:`pairspace.config_context` for the whole command) here, in one place (and
``--json`` where ``add_command(..., produces_result=True)`` says it produces a result): ``-q``
silences standard output and the log (errors still reach standard error, with exit status 2),
progress bars show only on a terminal unless ``--progress`` asks, and messages that are not results
go through :mod:`logging`.
Those modules import only the standard library and ``cli._common``/``cli._render`` at their top,
and everything heavy inside their ``run``, so that ``pairspace <command> --help`` stays instant.
``pairspace --help`` lists the commands from the ``COMMANDS`` table without importing their modules.
Add an entry there to expose a command.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import os
import sys

from .._outputs import guard_command

# The command table, in the order of ``pairspace --help``: name -> (module, one-line help). Only the
# module of the command being run is imported; ``pairspace --help`` imports none of them. A module
# that is not part of this installation is left out.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("pairspace.cli.demo", "run the main study on the embedded default data"),
    "compare": ("pairspace.cli.compare", "NNGS and baseline measures of two paired spaces (report)"),
    "compare-many": ("pairspace.cli.compare_many",
                     "similarity matrices and spectra of many paired spaces (report)"),
    "measures": ("pairspace.cli.measures", "list the available similarity measures"),
    "analogy": ("pairspace.cli.analogy", "word-analogy study: NNGS per category against accuracy"),
    "template-study": ("pairspace.cli.template_study",
                       "prompt-template similarity vs zero-shot accuracy"),
    "zeroshot": ("pairspace.cli.zeroshot", "zero-shot accuracy of a trained run on a labeled table"),
    "encoders": ("pairspace.cli.encoders", "list the available encoders"),
    "embed": ("pairspace.cli.embed", "embed a folder or manifest into a table (reuses and resumes)"),
    "datasets": ("pairspace.cli.datasets", "build offline datasets"),
    "train": ("pairspace.cli.train", "train audio/text projection heads on frozen embeddings"),
    "audit": ("pairspace.cli.audit", "leakage audit: zero-shot accuracy the backbones and captions "
              "already carried"),
    "curate": ("pairspace.cli.curate", "curate pseudo-pairs from unpaired audio and text with a teacher"),
    "improve": ("pairspace.cli.improve", "teacher and curated students (DU, DS, ADS) over seeds"),
}

#: Errors that come from the user's input or environment: a message and exit status 2, no traceback.
USER_ERRORS = (ValueError, FileNotFoundError, ImportError, OSError)


def available_commands() -> dict[str, tuple[str, str]]:
    """The entries of ``COMMANDS`` whose module exists in this installation."""
    return {name: entry for name, entry in COMMANDS.items()
            if importlib.util.find_spec(entry[0]) is not None}


def _command_in(argv: list[str], names: dict[str, tuple[str, str]]) -> str | None:
    """The subcommand named in ``argv`` (the first word that is not an option), if any."""
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word if word in names else None
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser; ``command``'s module adds its full parser, the others a one-line stub.

    Parameters
    ----------
    command : str, optional
        The subcommand about to run. None builds every subcommand's full parser (slower: it imports
        every command module; used by tests and documentation).
    """
    from .. import __version__
    from ._common import FORMATTER, MEMORY_BUDGET_HELP, add_common_options

    parser = argparse.ArgumentParser(
        prog="pairspace",
        description="Paired embedding spaces: NNGS, baselines, zero-shot audits, alignment.",
        epilog="every command takes -q/--quiet, --progress/--no-progress and --memory-budget SIZE: "
               + MEMORY_BUDGET_HELP.replace("%", "%%"),
        formatter_class=FORMATTER,
    )
    parser.add_argument("--version", action="version", version=f"pairspace {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_line) in available_commands().items():
        if command is None or name == command:
            importlib.import_module(module).add_parser(sub)
            for leaf in _leaf_parsers(sub.choices[name]):
                add_common_options(leaf, produces_result=False)
        else:
            sub.add_parser(name, help=help_line, add_help=False)
    return parser


def _leaf_parsers(parser: argparse.ArgumentParser):
    """``parser`` and, recursively, the parsers of its subcommands."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _leaf_parsers(child)


@contextlib.contextmanager
def _command_context(args: argparse.Namespace, argv: list[str]):
    """What every command runs inside: the recorded command line (``created``/``command`` of the
    result envelope), the progress choice, the log on standard error and, with ``-q``, a silent
    standard output (``args.stdout`` keeps the real one for ``--json``)."""
    import logging

    from .. import _progress
    from .._config import config_context
    from ..envelope import invocation

    quiet = bool(getattr(args, "quiet", False))
    args.stdout = sys.stdout
    log = logging.getLogger("pairspace")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    old_level = log.level
    log.addHandler(handler)
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    progress = False if quiet else getattr(args, "progress", None)
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(invocation(argv))
            stack.enter_context(_progress.shown(progress))
            stack.enter_context(config_context(memory_budget=getattr(args, "memory_budget", None)))
            if quiet:
                devnull = stack.enter_context(open(os.devnull, "w", encoding="utf-8"))
                stack.enter_context(contextlib.redirect_stdout(devnull))
            yield
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script: parse, run the subcommand, turn user errors into messages.

    Returns
    -------
    int
        The exit status: the subcommand's own, 2 for a usage or input error, 130 on Ctrl-C.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_in(argv, available_commands()) or "")
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        with _command_context(args, argv), guard_command(args):  # guard: pairspace._outputs
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
