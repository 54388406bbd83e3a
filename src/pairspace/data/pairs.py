"""Pair manifests: which item of one table goes with which item of another.

A manifest is a CSV file with a header or a JSONL file (one JSON object per line), with the columns
``audio_id`` and ``text_id`` (aliases ``audio``/``text``, ``image_id``/``media_id`` for other media,
or the generic ``a_id``/``b_id``). Every
row is checked; an error names the file, the line (as an editor counts it, blank lines included)
and the column.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .textfiles import csv_rows, jsonl_rows

#: Accepted names of the two columns, in order of preference.
A_COLUMNS = ("audio_id", "a_id", "audio", "image_id", "media_id")
B_COLUMNS = ("text_id", "b_id", "text")
JSON_SUFFIXES = (".jsonl", ".json", ".ndjson")


def _pick(row: dict[str, Any], names: Sequence[str]) -> tuple[str | None, Any]:
    for n in names:
        if n in row:
            return n, row[n]
    return None, None


def _pair(row: dict[str, Any], where: str) -> tuple[str, str]:
    out = []
    for names in (A_COLUMNS, B_COLUMNS):
        col, v = _pick(row, names)
        if col is None:
            raise ValueError(f"{where} lacks the {names[0]!r} column (or {', '.join(map(repr, names[1:]))})")
        if v is None or (isinstance(v, str) and not v.strip()):
            raise ValueError(f"{where}: column {col!r} is empty")
        if isinstance(v, list | dict | bool | float):
            raise ValueError(f"{where}: column {col!r} must be a string or an integer id; got {v!r}")
        out.append(str(v))
    return out[0], out[1]


def load_pairs(path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """Read a pair manifest (CSV with a header, or JSONL) into ``(a_id, b_id)`` tuples.

    Parameters
    ----------
    path : str or os.PathLike
        ``.jsonl``/``.json``/``.ndjson`` files are read as JSON lines, anything else as CSV.

    Returns
    -------
    list of (str, str)
        The pairs in file order.

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        On an empty manifest or any malformed row (naming the file, line and column).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"pair manifest not found: {path}")
    if path.is_dir():
        raise ValueError(f"pair manifest {path} is a folder, not a file")
    rows = (jsonl_rows(path, "pair manifest") if path.suffix.lower() in JSON_SUFFIXES
            else csv_rows(path, "pair manifest")[1])
    try:
        pairs = [_pair(r, f"{path} line {lineno}") for lineno, r in rows]
    except UnicodeDecodeError as exc:
        raise ValueError(f"pair manifest {path} is not UTF-8 text ({exc.reason})") from None
    if not pairs:
        raise ValueError(f"pair manifest {path} is empty")
    return pairs


def as_pairs(pairs: Sequence[tuple[Any, Any]] | str | os.PathLike[str],
             name: str = "pairs") -> list[tuple[str, str]]:
    """A list of ``(a_id, b_id)`` string tuples from a manifest path or a sequence of pairs."""
    if isinstance(pairs, str | os.PathLike):
        return load_pairs(pairs)
    out = []
    for i, p in enumerate(pairs):
        if isinstance(p, str) or len(p) != 2:
            raise ValueError(f"{name}[{i}] must be an (a_id, b_id) pair; got {p!r}")
        out.append((str(p[0]), str(p[1])))
    return out
