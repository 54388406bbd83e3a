"""Atomic writing of report files (never a half-written output); see :mod:`pairspace._atomic`."""

from .._atomic import atomic_write_bytes, write_json

__all__ = ["atomic_write_bytes", "write_json"]
