"""Shared pieces of every subcommand parser: the parser factory, numeric argument types, --out checks.

This module imports only the standard library, so that building every parser (``pairspace --help``)
stays instant. Subcommand modules import it at their top; heavy imports go inside their ``run``.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "FORMATTER",
    "add_command",
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


FORMATTER = argparse.ArgumentDefaultsHelpFormatter
"""The help formatter of every parser (each option's default is shown)."""


def open_unit_interval(text: str) -> float:
    """A number strictly between 0 and 1 (an argparse ``type``)."""
    return _bounded(text, float, lambda v: 0.0 < v < 1.0, "strictly between 0 and 1")
