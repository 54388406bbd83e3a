"""Shared helpers of the subcommand parsers: argument types that validate at the boundary."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

FORMATTER = argparse.ArgumentDefaultsHelpFormatter


def _number(text: str, kind: Callable[[str], float], ok: Callable[[float], bool], rule: str) -> float:
    try:
        v = kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not ok(v):
        raise argparse.ArgumentTypeError(f"must be {rule}, got {text}")
    return v


def positive_int(text: str) -> int:
    """An integer >= 1 (argparse type)."""
    return int(_number(text, int, lambda v: v >= 1, ">= 1"))


def nonneg_int(text: str) -> int:
    """An integer >= 0 (argparse type)."""
    return int(_number(text, int, lambda v: v >= 0, ">= 0"))


def positive_float(text: str) -> float:
    """A finite number > 0 (argparse type)."""
    return _number(text, float, lambda v: v > 0 and math.isfinite(v), "a finite number > 0")


def open_unit_interval(text: str) -> float:
    """A number strictly between 0 and 1 (argparse type)."""
    return _number(text, float, lambda v: 0.0 < v < 1.0, "strictly between 0 and 1")
