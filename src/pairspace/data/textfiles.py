"""Reading the hand-written text files of the toolkit: one checked reader for every CSV, JSONL and list.

Manifests, pair files, class-name lists, template files and label files are written by people, in
editors and spreadsheet programs, so they arrive with a byte-order mark, in UTF-16 or latin-1, with a
short row, a repeated header or a huge cell. Every such problem is an error that names the file,
the line and what to do; nothing is silently read as something else:

- a UTF-8 byte-order mark (``EF BB BF``, written by spreadsheet programs) is dropped, so it never
  becomes part of the first column's name;
- UTF-16 or UTF-32 text (recognised by its byte-order mark) and any byte sequence that is not UTF-8
  are refused, naming the file, the line and the expected encoding;
- a CSV header that repeats a column, a row with more or fewer cells than the header, and a cell
  larger than :data:`MAX_CELL` are refused with the line number;
- a JSONL line that is not a JSON object is refused with the line number.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from pathlib import Path
from typing import Any

MAX_CELL = 128 * 1024
"""Largest CSV cell accepted (bytes; the standard library's csv limit)."""

Row = tuple[int, dict[str, Any]]

_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
              (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def read_text(path: str | os.PathLike[str], what: str = "file") -> str:
    """The text of a UTF-8 file (a leading byte-order mark dropped); any other encoding is an error.

    Parameters
    ----------
    path : path-like
        The file.
    what : str
        What the file is, for the messages (``"manifest"``, ``"class-name file"``...).

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When it is a folder, or not UTF-8 text (the message names the line and the encoding).
    """
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{what} {p} is a folder, not a file")
    if not p.exists():
        raise FileNotFoundError(f"{what} not found: {p}")
    data = p.read_bytes()
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            raise ValueError(f"{what} {p} is {name} text; pairspace reads UTF-8: save it as UTF-8 "
                             "(in a spreadsheet program: 'CSV UTF-8')")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        hint = " (it looks like UTF-16 without a byte-order mark)" if b"\x00" in data[:200] else ""
        raise ValueError(f"{what} {p} line {line}: byte 0x{data[exc.start]:02x} is not UTF-8"
                         f"{hint}; pairspace reads UTF-8: save the file as UTF-8 (latin-1 and "
                         "Windows-1252 files must be converted)") from None


def csv_rows(path: str | os.PathLike[str], what: str = "CSV file",
             delimiter: str | None = None) -> tuple[list[str], list[Row]]:
    """The header and every row of a CSV/TSV file with a header, each checked.

    Parameters
    ----------
    path : path-like
        The file (``.tsv`` files are tab-separated unless ``delimiter`` is given).
    what : str
        What the file is, for the messages.
    delimiter : str, optional
        The field separator (default: tab for ``.tsv``, else comma).

    Returns
    -------
    header : list of str
        The column names.
    rows : list of (int, dict)
        The line where each row starts (as an editor counts) and its cells by column.

    Raises
    ------
    ValueError
        On an encoding problem, a repeated column name, a row with more or fewer cells than the
        header, or a cell larger than :data:`MAX_CELL`, naming the file and the line.
    """
    p = Path(path)
    text = read_text(p, what)
    delim = delimiter or ("\t" if p.suffix.lower() == ".tsv" else ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    rows: list[Row] = []
    header: list[str] | None = None
    start = 1
    try:
        for cells in reader:
            ln, start = start, reader.line_num + 1
            if not cells or (len(cells) == 1 and not cells[0].strip() and header is not None):
                continue
            if header is None:
                header = [c.strip() for c in cells]
                dup = sorted({c for c in header if header.count(c) > 1})
                if dup:
                    raise ValueError(f"{p}:{ln}: the header repeats the column(s) "
                                     f"{dup}; every column needs its own name")
                continue
            if len(cells) != len(header):
                fewer = len(cells) < len(header)
                detail = (f"no value for column {header[len(cells)]!r}" if fewer
                          else "more cells than the header has columns")
                raise ValueError(f"{p}:{ln}: {len(cells)} cells for the "
                                 f"{len(header)} columns of the header ({detail})")
            rows.append((ln, dict(zip(header, cells, strict=True))))
    except csv.Error as exc:
        raise csv_error(exc, p, start) from None
    return header or [], rows


def jsonl_rows(path: str | os.PathLike[str], what: str = "JSONL file") -> list[Row]:
    """Every non-blank line of a JSON-lines file as ``(line, object)``; each must be a JSON object."""
    p = Path(path)
    rows: list[Row] = []
    for ln, line in enumerate(read_text(p, what).splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{what} {p} line {ln}: not valid JSON ({exc.msg} at column "
                             f"{exc.colno})") from None
        if not isinstance(row, dict):
            raise ValueError(f"{what} {p} line {ln}: expected a JSON object, got "
                             f"{type(row).__name__}")
        rows.append((ln, row))
    return rows


def text_lines(path: str | os.PathLike[str], what: str = "file") -> list[str]:
    """The stripped non-blank lines of a UTF-8 text file that do not start with ``#``."""
    return [ln.strip() for ln in read_text(path, what).splitlines()
            if ln.strip() and not ln.lstrip().startswith("#")]


def csv_error(exc: Exception, path: str | os.PathLike[str], line: int) -> ValueError:
    """The ``ValueError`` for a ``csv.Error`` raised while reading ``path`` at ``line``."""
    if "field larger than field limit" in str(exc):
        return ValueError(f"{path}:{line}: a cell is larger than {MAX_CELL // 1024} KiB (the CSV "
                          "reader's limit); is this really a CSV file with one item per row?")
    return ValueError(f"{path}:{line}: not valid CSV ({exc})")


def read_json_object(path: str | os.PathLike[str], what: str = "JSON file",
                     lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """A hand-editable JSON file that must hold an object, with some fields checked as lists.

    Parameters
    ----------
    path : path-like
        The file (UTF-8).
    what : str
        What the file is, for the messages.
    lists : tuple of str
        Fields that, when present, must be lists whose items are strings, integers or lists of
        those (e.g. id pairs).

    Raises
    ------
    ValueError
        On invalid JSON, a value that is not an object, or a listed field of the wrong type, naming
        the file and the field.
    """
    p = Path(path)
    try:
        doc = json.loads(read_text(p, what))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{what} {p} line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{what} {p} must hold a JSON object; got {type(doc).__name__}")
    scalar = (str, int)
    for key in lists:
        if key not in doc:
            continue
        v = doc[key]
        if not isinstance(v, list):
            raise ValueError(f"{what} {p}: the field {key!r} must be a list; got "
                             f"{type(v).__name__} {v!r:.60}")
        for i, item in enumerate(v):
            ok = (isinstance(item, scalar) and not isinstance(item, bool)) or (
                isinstance(item, list) and all(isinstance(x, scalar) and not isinstance(x, bool)
                                               for x in item))
            if not ok:
                raise ValueError(f"{what} {p}: item {i} of {key!r} must be a string or an id "
                                 f"pair; got {item!r:.60}")
    return doc
