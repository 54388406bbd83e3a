"""Shared pieces of every subcommand parser: the parser factory, the help formatter, the options
every command has (``-q/--quiet``, ``--progress``, ``--memory-budget``; ``--json`` where a result
is produced), numeric argument types, --out checks and :func:`emit`, the one way a command shows its
result.

This module imports only the standard library (and :mod:`pairspace._config`, which does too), so
that building every parser (``pairspace --help``) stays instant. Subcommand modules import it at
their top; heavy imports go inside their ``run``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .._config import DEFAULT_MEMORY_BUDGET, format_bytes, parse_bytes

__all__ = [
    "FORMATTER",
    "HelpFormatter",
    "ListAction",
    "add_command",
    "add_common_options",
    "byte_size",
    "emit",
    "check_out_dir",
    "check_out_file",
    "int_at_least",
    "nonneg_float",
    "nonneg_int",
    "open_unit_interval",
    "positive_float",
    "positive_int",
    "probability",
    "unit_interval",
]


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's default-showing formatter that shows each default once and truthfully.

    No ``(default: None)`` or ``(default: False)`` (an unset option says in its help what happens),
    no second default where the help already names one, and a list default the way it is typed
    (``(default: nngs mutual_knn)``).
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (default is None or default is False or default is argparse.SUPPRESS
                or "%(default)" in text or "default:" in text.lower()
                or action.option_strings == [] and action.nargs in (None, 1) and default is None):
            return text
        if isinstance(default, list | tuple):
            shown = " ".join(str(v) for v in default) or "(none)"
            return f"{text} (default: {shown.replace('%', '%%')})"
        return super()._get_help_string(action)


class ListAction(argparse.Action):
    """A space-separated list option (``--k 10 50``); repeating it adds to the list
    (``--k 10 --k 50``) and a comma-separated word is split (``--measures nngs,cka``, the older
    spelling). The first use replaces the default. ``item_type`` parses and checks each item."""

    def __init__(self, option_strings: list[str], dest: str, item_type: Callable[[str], Any] = str,
                 split_commas: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("nargs", "+")
        super().__init__(option_strings, dest, **kwargs)
        self.item_type, self.split_commas = item_type, split_commas

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        items = []
        for word in values if isinstance(values, list) else [values]:
            for part in str(word).split(",") if self.split_commas else [str(word)]:
                if part.strip():
                    try:
                        items.append(self.item_type(part.strip()))
                    except (argparse.ArgumentTypeError, ValueError) as exc:
                        raise argparse.ArgumentError(self, str(exc)) from None
        if not items:
            raise argparse.ArgumentError(self, "expected at least one value")
        seen = getattr(namespace, f"_{self.dest}_given", False)
        current = list(getattr(namespace, self.dest, None) or []) if seen else []
        setattr(namespace, self.dest, current + items)
        setattr(namespace, f"_{self.dest}_given", True)


MEMORY_BUDGET_HELP = (
    "scratch memory of one block of every blocked computation (kNN search, similarity scans, "
    "scores): bytes or a size such as 512MiB or 2GB; smaller blocks are slower, not less exact "
    f"(default: {format_bytes(DEFAULT_MEMORY_BUDGET)})")
"""Help of ``--memory-budget`` (also named in ``pairspace --help``)."""


def add_common_options(parser: argparse.ArgumentParser, produces_result: bool) -> None:
    """The options of every command: ``-q/--quiet``, ``--progress/--no-progress``,
    ``--memory-budget SIZE`` (the working-memory setting, :func:`pairspace.config_context`, for the
    whole command) and, for a command that produces a result, ``--json``. Adds none that the parser
    already has."""
    have = set(parser._option_string_actions)
    if "--quiet" not in have:
        parser.add_argument("-q", "--quiet", action="store_true",
                            help="print nothing but errors (no progress bars, no tables)")
    if "--progress" not in have:
        parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                            help="progress bars; unset: only when standard error is a terminal")
    if "--memory-budget" not in have:
        parser.add_argument("--memory-budget", type=byte_size, default=None, metavar="SIZE",
                            help=MEMORY_BUDGET_HELP)
    if produces_result and "--json" not in have:
        parser.add_argument("--json", action="store_true",
                            help="print the result document (the same JSON as the file) on "
                                 "standard output instead of the tables")


def emit(args: argparse.Namespace, result: Any, render: Callable[[Any], str],
         files: Mapping[str, Any] | None = None) -> int:
    """Show a command's result: the JSON document with ``--json``, else ``render(result)``; then
    the files written. ``-q`` keeps standard output empty but for ``--json``. Returns 0.

    The document is ``result.to_dict()`` (the study's own envelope; the CLI never edits it).
    """
    out = getattr(args, "stdout", None) or sys.stdout
    quiet = getattr(args, "quiet", False)
    if getattr(args, "json", False):
        from .._atomic import to_jsonable

        out.write(json.dumps(to_jsonable(result.to_dict()), indent=2, allow_nan=False) + "\n")
        out.flush()
    elif not quiet:
        print(render(result), file=out)
    paths = sorted({str(p) for p in (files or {}).values()})
    if paths and not quiet:
        print("wrote " + ", ".join(paths), file=sys.stderr if getattr(args, "json", False) else out)
    return 0


def add_command(subparsers: argparse._SubParsersAction, name: str, help: str,
                description: str | None = None, produces_result: bool = False,
                **kwargs) -> argparse.ArgumentParser:
    """Register one subcommand whose help lists every option's default.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The object returned by ``ArgumentParser.add_subparsers``.
    name : str
        The subcommand name (``pairspace NAME``).
    help : str
        One line shown in ``pairspace --help``.
    description : str, optional
        The text at the top of ``pairspace NAME --help``; defaults to ``help``.
    produces_result : bool
        Whether the command produces a result document (it then gets ``--json``).
    **kwargs
        Passed on to ``add_parser`` (for example ``epilog``).

    Returns
    -------
    argparse.ArgumentParser
        The new parser, with :class:`HelpFormatter` and the common options
        (:func:`add_common_options`).
    """
    kwargs.setdefault("formatter_class", HelpFormatter)
    parser = subparsers.add_parser(name, help=help, description=description or help, **kwargs)
    add_common_options(parser, produces_result)
    return parser


def _bounded(text: str, kind: type, ok: Callable[[float], bool], requirement: str) -> int | float:
    """Parse ``text`` as ``kind`` (int or a finite float) and check ``ok(value)``."""
    try:
        value = kind(text)
    except (TypeError, ValueError):
        what = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    if not ok(value):
        raise argparse.ArgumentTypeError(f"must be {requirement}, got {value:g}")
    return value


def byte_size(text: str) -> int:
    """A positive number of bytes, or a size such as ``512MiB`` (an argparse ``type``; see
    :func:`pairspace._config.parse_bytes`)."""
    try:
        return parse_bytes(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number of bytes or a size such as "
                                         f"512MiB or 2GB, got {text!r}") from None


def positive_int(text: str) -> int:
    """An integer >= 1 (an argparse ``type``)."""
    return _bounded(text, int, lambda v: v >= 1, "a positive integer (>= 1)")


def int_at_least(text: str, minimum: int, unit: str = "") -> int:
    """An integer >= ``minimum`` (for argparse types with a bound of their own)."""
    return _bounded(text, int, lambda v: v >= minimum, f"at least {minimum} {unit}".rstrip())


def nonneg_int(text: str) -> int:
    """An integer >= 0 (an argparse ``type``)."""
    return _bounded(text, int, lambda v: v >= 0, "a non-negative integer (>= 0)")


def positive_float(text: str) -> float:
    """A finite number > 0 (an argparse ``type``)."""
    return _bounded(text, float, lambda v: v > 0, "a positive number (> 0)")


def nonneg_float(text: str) -> float:
    """A finite number >= 0 (an argparse ``type``)."""
    return _bounded(text, float, lambda v: v >= 0, "a non-negative number (>= 0)")


def unit_interval(text: str) -> float:
    """A number in the closed interval [0, 1] (an argparse ``type``)."""
    return _bounded(text, float, lambda v: 0.0 <= v <= 1.0, "in [0, 1]")


def probability(text: str) -> float:
    """A probability in [0, 1] (an argparse ``type``; the same check as ``unit_interval``)."""
    return _bounded(text, float, lambda v: 0.0 <= v <= 1.0, "a probability in [0, 1]")


def check_out_dir(path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` can become (or already is) a writable output folder, creating nothing.

    Call it before any expensive work; the folder itself is created only when results are written.

    Parameters
    ----------
    path : str or os.PathLike
        The ``--out`` folder.

    Returns
    -------
    pathlib.Path
        The same path.

    Raises
    ------
    ValueError
        When the path is an existing file (or another non-folder), lies under a file, or its nearest
        existing ancestor is not a writable folder.
    """
    out = Path(path)
    if str(path) == "":
        raise ValueError("--out is empty: give an output folder")
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} exists and is not a folder")
    _check_creatable(out)
    return out


def check_out_file(path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` can become (or already is) a writable output file, creating nothing.

    Raises
    ------
    ValueError
        When the path is a folder, an unwritable file, lies under a file, or its nearest existing
        ancestor is not a writable folder.
    """
    out = Path(path)
    if str(path) == "":
        raise ValueError("--out is empty: give an output file")
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; give a file name")
    if out.exists():
        if not os.access(out, os.W_OK):
            raise ValueError(f"--out {out} is not writable")
        return out
    _check_creatable(out.parent, target=out)
    return out


def _check_creatable(out: Path, target: Path | None = None) -> None:
    """Raise unless ``out`` exists as a writable folder or can be created under one."""
    target = target or out
    probe = out
    while not probe.exists():
        parent = probe.parent
        if parent == probe:  # pragma: no cover - a root that does not exist
            break
        probe = parent
    if probe.exists() and not probe.is_dir():
        raise ValueError(f"--out {target} lies under {probe}, which is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        where = "is" if probe == target else f"lies under {probe}, which is"
        raise ValueError(f"--out {target} {where} not writable")


FORMATTER = HelpFormatter
"""The help formatter of every parser (each option's default is shown once and truthfully)."""


def open_unit_interval(text: str) -> float:
    """A number strictly between 0 and 1 (an argparse ``type``)."""
    return _bounded(text, float, lambda v: 0.0 < v < 1.0, "strictly between 0 and 1")
