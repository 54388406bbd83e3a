"""A self-contained HTML report (inline CSS, figures as data URIs): opens without a server."""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._atomic import atomic_write_bytes

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%}.note{color:#666;font-size:.85em}
"""


def fmt_cell(v: Any, digits: int = 4) -> str:
    """Format one cell: floats with ``digits`` significant decimals, None as an en dash."""
    if v is None:
        return "\u2013"
    if isinstance(v, float):
        return "\u2013" if v != v else f"{v:.{digits}g}" if abs(v) < 1e-3 and v != 0 else f"{v:.{digits}f}"
    if isinstance(v, list | tuple):
        return ", ".join(str(x) for x in v)
    return str(v)


def html_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """An escaped HTML table; numbers are right-aligned."""
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>"]
    for r in rows:
        cells = []
        for v in r:
            cls = ' class="num"' if isinstance(v, int | float) and not isinstance(v, bool) else ""
            cells.append(f"<td{cls}>{html.escape(fmt_cell(v))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "\n".join(out) + "</table>"


def png_data_uri(path: str | os.PathLike[str]) -> str:
    """A PNG file as a ``data:`` URI (so the page needs no other file)."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def html_page(title: str, sections: Sequence[tuple[str, str]], note: str = "") -> str:
    """A complete page from ``(heading, html)`` sections."""
    body = "\n".join(f"<h2>{html.escape(h)}</h2>\n{content}" for h, content in sections)
    foot = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(title)}</h1>\n{body}\n{foot}</body></html>\n")


def compare_report_html(doc: dict[str, Any], curve_png: str | os.PathLike[str] | None,
                        title: str = "") -> str:
    """The ``compare`` report page from a ``pairspace.compare/3`` document and its curve figure.

    Every string of the document (file names, ids, column names) is HTML-escaped.
    """
    inp, st, res = dict(doc["inputs"]), doc["settings"], doc["results"]
    for side in ("x", "y"):
        if isinstance(inp.get(side), dict):  # a file: path, size, sha256
            f = inp.pop(side)
            inp[side] = f["path"]
            inp[f"{side}: size (bytes), sha256"] = f"{f['size']}, {f['sha256'] or '-'}"
    for side, cols in (inp.pop("columns", None) or {}).items():
        inp[f"{side}: id column"] = cols.get("id")
        inp[f"{side}: feature columns"] = cols.get("features", [])
        inp[f"{side}: ignored columns"] = [c or "(unnamed index)" for c in cols.get("ignored", [])]
    sections: list[tuple[str, str]] = []
    sections.append(("Inputs and settings", html_table(
        ["field", "value"],
        [(k, v) for k, v in {**inp, **{f"setting: {k}": v for k, v in st.items()}}.items()])))
    res_rows = [(r["measure"], r["k"], r["value"], "higher" if r["higher_is_similar"] else "lower",
                 r["p_value"], r["null_q025"], r["null_q975"], r["ci_low"], r["ci_high"])
                for r in res["rows"]]
    sections.append(("Measures", html_table(
        ["measure", "k", "value", "more similar", "p-value", "null 2.5%", "null 97.5%",
         "CI low", "CI high"], res_rows)
        + '<p class="note">p = (1 + #null at least as similar) / (1 + permutations); intervals: '
          "item bootstrap on fixed graphs (kNN measures) or m-out-of-n subsampling (global).</p>"))
    if curve_png is not None:
        sections.append(("NNGS against k", f'<img alt="NNGS curve" src="{png_data_uri(curve_png)}">'))
    c = res["curve"]
    ks = [k for k in st["ks"] if k - 1 < len(c["k"])]
    sections.append(("NNGS at the reported k", html_table(
        ["k", "NNGS", "chance", "normalized"],
        [(k, c["nngs"][k - 1], c["chance"][k - 1], c["normalized"][k - 1]) for k in ks])))
    d = res["disagreement"]
    items = [(t["id"], t["jaccard"], t["shared"], t["neighbors_x"], t["neighbors_y"])
             for t in d["most_disagreeing"]]
    sections.append((f"Items whose neighborhoods disagree most (k = {d['k']})",
                     f"<p>mean Jaccard {fmt_cell(d['mean_jaccard'])}, median "
                     f"{fmt_cell(d['jaccard_median'])}, items sharing no neighbor "
                     f"{fmt_cell(100 * d['fraction_no_shared'], 1)}%</p>"
                     + html_table(["id", "Jaccard", "shared", "first neighbors in X",
                                   "first neighbors in Y"], items)))
    info = res.get("measures_info", {})
    sections.append(("About the measures", html_table(
        ["measure", "range", "more similar", "invariances", "cost", "reference"],
        [(m, f"[{v['range'][0]}, {v['range'][1]}]", "higher" if v["higher_is_similar"] else "lower",
          "; ".join(v["invariances"]), v["cost"], v["reference"]) for m, v in info.items()])))
    return html_page(f"pairspace compare: {title}" if title else "pairspace compare", sections,
                     note=f"schema {doc['schema']}, pairspace {doc['pairspace_version']}, created "
                          f"{doc['created']}")


def write_html(path: str | os.PathLike[str], text: str) -> Path:
    """Write an HTML page atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))
