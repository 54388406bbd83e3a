"""The one number format of every report, table and docs page.

p-values are written in scientific notation with two significant digits (``p = 3.1e-04``) by
:func:`format_p` everywhere (the command line, ``report.html``, the docs); other numbers with a fixed
count of decimals; intervals as ``[low, high]``; stage timings as a table, never a raw dict.
Nothing here imports more than the standard library.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["csv_cell", "format_interval", "format_number", "format_p", "markdown_table", "p_text",
           "timings_rows"]

DASH = "\u2013"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PIPE = re.compile(r"(?<!\\)\|")


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def format_p(p: float | None) -> str:
    """A p-value in scientific notation with two significant digits: ``3.1e-04``.

    Parameters
    ----------
    p : float or None
        The p-value; None or NaN gives an en dash.

    Returns
    -------
    str
        For example ``format_p(0.00031)`` is ``'3.1e-04'`` and ``format_p(0.62)`` is ``'6.2e-01'``.
    """
    return DASH if _missing(p) else f"{float(p):.1e}"


def p_text(p: float | None) -> str:
    """``'p = 3.1e-04'``: :func:`format_p` with its label, for sentences and figure titles."""
    return f"p = {format_p(p)}"


def format_number(v: Any, digits: int = 3) -> str:
    """A table cell: floats with ``digits`` decimals, integers as they are, None/NaN as an en dash.

    Very small non-zero floats (below ``10**-digits``) are written in scientific notation so that
    they do not print as zero.
    """
    if _missing(v):
        return DASH
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        if v != 0 and abs(v) < 10.0 ** -digits:
            return f"{v:.1e}"
        return f"{v:.{digits}f}"
    return str(v)


def format_interval(low: float | None, high: float | None, digits: int = 3) -> str:
    """``'[0.788, 0.966]'``; an en dash when either end is missing."""
    if _missing(low) or _missing(high):
        return DASH
    return f"[{format_number(float(low), digits)}, {format_number(float(high), digits)}]"


def _md_cell(v: Any, digits: int) -> str:
    text = v if isinstance(v, str) else format_number(v, digits)
    return _PIPE.sub(r"\\|", " ".join(text.split()))  # a pipe not yet escaped would split the cell


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], digits: int = 3,
                   align: Sequence[str] | None = None) -> str:
    """A Markdown (GFM/MyST) pipe table; strings are kept, numbers formatted by :func:`format_number`.

    Parameters
    ----------
    headers : sequence of str
        Column titles.
    rows : sequence of sequences
        Cells; a ``str`` cell is written as given (pipes escaped), anything else formatted.
    digits : int, default 3
        Decimals of float cells.
    align : sequence of str, optional
        Per column ``"l"`` or ``"r"``; unset: numbers right-aligned, text left-aligned (by the first
        row).
    """
    if align is None:
        first = rows[0] if rows else ["" for _ in headers]
        align = ["r" if isinstance(v, int | float) and not isinstance(v, bool) else "l" for v in first]
    line = "| " + " | ".join(_md_cell(h, digits) for h in headers) + " |"
    rule = "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"
    body = ["| " + " | ".join(_md_cell(v, digits) for v in r) + " |" for r in rows]
    return "\n".join([line, rule, *body])


def timings_rows(timings: Mapping[str, float]) -> list[tuple[str, float]]:
    """Stage timings as ``(stage, seconds)`` rows (the total last), for a table."""
    rows = [(k, float(v)) for k, v in timings.items() if k != "total"]
    if "total" in timings:
        rows.append(("total", float(timings["total"])))
    return rows


def csv_cell(v: Any) -> Any:
    """The one CSV guard of every report: a cell that a spreadsheet shows as text.

    Strings starting with ``= + - @`` (or a tab or carriage return) get a leading apostrophe (the
    OWASP rule against formula injection); None becomes empty; numbers stay numbers.
    """
    if v is None:
        return ""
    if isinstance(v, str) and v.startswith(_FORMULA_START):
        return "'" + v
    return v
