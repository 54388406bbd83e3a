"""Shared argument types and output checks of the subcommands (stdlib only: imported at start-up).

Numeric options are validated by argparse itself (a clear ``error: argument --k: ...`` and exit
code 2), and output locations are checked before any expensive work.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

HelpFormatter = argparse.ArgumentDefaultsHelpFormatter


def _number(value: str, kind: type) -> int | float:
    try:
        return kind(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}; "
                                         f"got {value!r}") from None


def positive_int(value: str) -> int:
    """An integer >= 1."""
    v = int(_number(value, int))
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {value}")
    return v


def nonneg_int(value: str) -> int:
    """An integer >= 0."""
    v = int(_number(value, int))
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer; got {value}")
    return v


def unit_interval(value: str) -> float:
    """A float strictly between 0 and 1."""
    v = float(_number(value, float))
    if not 0.0 < v < 1.0:
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1; got {value}")
    return v


def _writable_parent(p: Path, what: str) -> None:
    parent = p.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{what} {p} cannot be created: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{what} {p} cannot be created: {parent} is not writable")


def check_out_dir(path: str | os.PathLike[str]) -> Path:
    """Check an output folder before any work: not an existing file, not under a file, writable."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ValueError(f"--out {p} is an existing file; give a folder")
    if p.is_dir():
        if not os.access(p, os.W_OK | os.X_OK):
            raise ValueError(f"--out {p} is not writable")
    else:
        _writable_parent(p, "--out folder")
    return p


def check_out_file(path: str | os.PathLike[str]) -> Path:
    """Check an output file before any work: not a folder, its folder creatable and writable."""
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"--out {p} is a folder; give a file name")
    if p.exists() and not os.access(p, os.W_OK):
        raise ValueError(f"--out {p} is not writable")
    _writable_parent(p, "--out file")
    return p
