"""Shared argument types and checks of the CLI (parser-boundary validation, output folders)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def _int_at_least(text: str, low: int, what: str) -> int:
    try:
        v = int(text)
    except ValueError:
        v = low - 1
    if v < low:
        raise argparse.ArgumentTypeError(f"expected {what}; got {text!r}")
    return v


def positive_int(text: str) -> int:
    """An integer >= 1."""
    return _int_at_least(text, 1, "a positive integer")


def nonneg_int(text: str) -> int:
    """An integer >= 0."""
    return _int_at_least(text, 0, "a non-negative integer")


def unit_interval(text: str) -> float:
    """A float in [0, 1]."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1]; got {text!r}") from None
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1]; got {text!r}")
    return v


def check_out_dir(path: str | os.PathLike[str]) -> Path:
    """An output folder that is not a file, not under a file, and writable (created if missing)."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ValueError(f"--out {p} is an existing file, not a folder")
    parent = p
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"--out {p} lies under the file {parent}")
    if not os.access(parent, os.W_OK):
        raise ValueError(f"--out {p}: {parent} is not writable")
    p.mkdir(parents=True, exist_ok=True)
    return p
