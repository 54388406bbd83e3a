"""Shared pieces of every subcommand parser: the parser factory, numeric argument types, --out checks.

This module imports only the standard library, so that building every parser (``pairspace --help``)
stays instant. Subcommand modules import it at their top; heavy imports go inside their ``run``.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

__all__ = [
    "add_command",
    "check_out_dir",
    "nonneg_float",
    "nonneg_int",
    "positive_float",
    "positive_int",
    "probability",
    "unit_interval",
]


def add_command(subparsers: argparse._SubParsersAction, name: str, help: str,
                description: str | None = None, **kwargs) -> argparse.ArgumentParser:
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
    **kwargs
        Passed on to ``add_parser`` (for example ``epilog``).

    Returns
    -------
    argparse.ArgumentParser
        The new parser, with ``formatter_class=argparse.ArgumentDefaultsHelpFormatter``.
    """
    kwargs.setdefault("formatter_class", argparse.ArgumentDefaultsHelpFormatter)
    return subparsers.add_parser(name, help=help, description=description or help, **kwargs)


def _number(text: str, kind: type) -> int | float:
    try:
        value = kind(text)
    except (TypeError, ValueError):
        what = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1 (an argparse ``type``)."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (>= 1), got {value}")
    return value


def nonneg_int(text: str) -> int:
    """An integer >= 0 (an argparse ``type``)."""
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer (>= 0), got {value}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0 (an argparse ``type``)."""
    value = _number(text, float)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number (> 0), got {value:g}")
    return value


def nonneg_float(text: str) -> float:
    """A finite number >= 0 (an argparse ``type``)."""
    value = _number(text, float)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative number (>= 0), got {value:g}")
    return value


def unit_interval(text: str) -> float:
    """A number in the closed interval [0, 1] (an argparse ``type``)."""
    value = _number(text, float)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must lie in [0, 1], got {value:g}")
    return value


def probability(text: str) -> float:
    """A probability in [0, 1] (an argparse ``type``; the same check as :func:`unit_interval`)."""
    value = _number(text, float)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a probability in [0, 1], got {value:g}")
    return value


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
    probe = out
    while not probe.exists():
        parent = probe.parent
        if parent == probe:  # pragma: no cover - a root that does not exist
            break
        probe = parent
    if probe.exists() and not probe.is_dir():
        raise ValueError(f"--out {out} lies under {probe}, which is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        where = "is" if probe == out else f"lies under {probe}, which is"
        raise ValueError(f"--out {out} {where} not writable")
    return out
