"""Files of the ``compare`` report: the curve figure, the CSV tables and the whole folder.

No computation happens here: everything comes from a
:class:`~pairspace.studies.compare.ComparisonResult` or its ``pairspace.compare/3`` document, which
is written as the study made it.
Every user string (ids, file names) is escaped: HTML through :mod:`html`, CSV cells through
:func:`~pairspace.report.format.csv_cell` (a cell starting with ``=``, ``+``, ``-`` or ``@`` is
never a spreadsheet formula).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write_bytes, write_json
from ..measures.nngs import normalize
from .format import csv_cell
from .plots import k_axis, plt, save_figure

CSV_COLUMNS = ("measure", "k", "value", "higher_is_similar", "p_value", "n_permutations",
               "null_mean", "null_q025", "null_q975", "ci_low", "ci_high", "ci_level", "ci_scheme")
ITEM_COLUMNS = ("rank", "id", "jaccard", "shared", "neighbors_x", "neighbors_y")


def _csv_bytes(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({c: csv_cell(r.get(c)) for c in columns})
    return buf.getvalue().encode()


def write_results_csv(path: str | os.PathLike[str], rows: list[dict[str, Any]]) -> Path:
    """One CSV line per measure and ``k`` (the ``results.rows`` of ``results.json``)."""
    return atomic_write_bytes(path, _csv_bytes(CSV_COLUMNS, rows))


def write_items_csv(path: str | os.PathLike[str], items: list[dict[str, Any]]) -> Path:
    """The most disagreeing items (``results.disagreement.most_disagreeing``), neighbors joined
    by ``;``."""
    rows = [{**t, "rank": i + 1, "neighbors_x": ";".join(t["neighbors_x"]),
             "neighbors_y": ";".join(t["neighbors_y"])} for i, t in enumerate(items)]
    return atomic_write_bytes(path, _csv_bytes(ITEM_COLUMNS, rows))


def _draw_band(ax: Any, k: np.ndarray, lo: np.ndarray, hi: np.ndarray, label: str) -> None:
    """The band as a filled region with solid edges, above the grid (visible even when thin)."""
    ax.fill_between(k, lo, hi, color="C2", alpha=0.35, lw=0, zorder=2, label=label)
    ax.plot(k, lo, color="C2", lw=1.0, zorder=3)
    ax.plot(k, hi, color="C2", lw=1.0, zorder=3)


def plot_compare_curve(curve: Any, path: str | os.PathLike[str], null_band: dict[str, Any] | None = None,
                       title: str = "") -> Path:
    """Write :func:`compare_curve_figure` as a PNG."""
    return save_figure(compare_curve_figure(curve, null_band, title), path)


def compare_curve_figure(curve: Any, null_band: dict[str, Any] | None = None,
                         title: str = "") -> Any:
    """Two panels against ``k`` (always a log axis): NNGS with its chance level and the
    permutation-null band on a log scale (the band lies near chance, where a linear axis would
    flatten it), and normalized NNGS ``(NNGS - chance) / (1 - chance)`` with the band normalized
    the same way. Returns the matplotlib figure."""
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10.5, 4.0))
    k = np.asarray(curve.k)
    ch = np.asarray(curve.chance, dtype=np.float64)
    ax0.plot(k, curve.nngs, lw=1.8, color="C0", label="NNGS", zorder=4)
    ax0.plot(k, ch, ls="--", lw=1, color="0.3", label=f"chance ({curve.chance_method})", zorder=4)
    ax1.plot(k, curve.normalized, lw=1.8, color="C1", label="normalized NNGS", zorder=4)
    ax1.axhline(0.0, ls="--", lw=1, color="0.3", label="chance", zorder=4)
    positive = [np.asarray(curve.nngs, dtype=np.float64), ch]
    if null_band is not None:
        lab = f"permutation null 95% ({null_band['n_permutations']} perms)"
        bk = np.asarray(null_band["k"])
        lo, hi = np.asarray(null_band["low"]), np.asarray(null_band["high"])
        _draw_band(ax0, bk, lo, hi, lab)
        _draw_band(ax1, bk, normalize(lo, ch[bk - 1]), normalize(hi, ch[bk - 1]), lab)
        positive.append(lo)
    vals = np.concatenate(positive)
    vals = vals[np.isfinite(vals) & (vals > 0)]
    ax0.set_yscale("log")
    ax0.set_ylim(max(0.5 * vals.min(), 1e-6) if vals.size else 1e-3, 1.5)
    ax0.set_ylabel("NNGS (log scale)")
    ax1.set_ylabel("normalized NNGS")
    for ax in (ax0, ax1):
        k_axis(ax, k)
        ax.legend(fontsize=8, loc="best")
    if title:
        fig.suptitle(title)
    return fig


def write_compare_report(out: str | os.PathLike[str], result: Any, title: str) -> dict[str, Path]:
    """Write ``results.json``, ``results.csv``, ``disagreement.csv``, ``curve.png`` and
    ``report.html`` for a :class:`~pairspace.studies.compare.ComparisonResult` into ``out``."""
    from .html import compare_report_html, write_html

    out = Path(out)
    doc = result.to_dict()
    files = {"curve": plot_compare_curve(result.curve, out / "curve.png", result.null_band,
                                         title=title)}
    files["json"] = write_json(out / "results.json", doc)
    files["csv"] = write_results_csv(out / "results.csv", doc["results"]["rows"])
    files["items"] = write_items_csv(out / "disagreement.csv",
                                     doc["results"]["disagreement"]["most_disagreeing"])
    files["html"] = write_html(out / "report.html", compare_report_html(doc, files["curve"], title))
    return files


def docs_markdown(doc: dict[str, Any]) -> str:
    """The documentation's result section from a ``pairspace.compare/3`` document (MyST Markdown).

    Every number comes from ``doc``; the figure is the ``curve.png`` written beside it in
    ``docs/results/compare/``.
    """
    from .format import format_interval, format_number, format_p, markdown_table

    inp, st = doc["inputs"], doc["settings"]
    def source(v: Any) -> str:
        return v.get("path", "?") if isinstance(v, dict) else str(v)

    lines = [f"Inputs `{source(inp['x'])}` and `{source(inp['y'])}`: n = {inp['n']:,} paired items, "
             f"{inp['dx']}-D and {inp['dy']}-D, rows aligned by {inp['aligned_by']}; metric "
             f"{st['metric']}/{st['metric_y']}, chance level `{st['chance']}`; "
             f"{st['permutations']} permutations of the pairing, {st['bootstrap']} resamples for "
             f"{round(100 * st['level'])}% intervals (seed {st['seed']}).", ""]
    rows = [[r["measure"], "\u2013" if r["k"] is None else r["k"], r["value"],
             "higher" if r["higher_is_similar"] else "lower", format_p(r["p_value"]),
             format_interval(r["null_q025"], r["null_q975"]), format_interval(r["ci_low"], r["ci_high"])]
            for r in doc["results"]["rows"]]
    lines += ["**Measures**", "",
              markdown_table(["measure", "k", "value", "more similar", "p", "null 2.5-97.5%",
                              f"{round(100 * st['level'])}% interval"], rows,
                             align=["l", "r", "r", "l", "r", "l", "l"]), "",
              "p = (1 + number of permutations at least as similar) / (1 + permutations), so "
              f"{st['permutations']} permutations cannot give less than "
              f"{format_p(1 / (1 + st['permutations']))}.", ""]
    c = doc["results"]["curve"]
    ks = [k for k in st["ks"] if k - 1 < len(c["k"])]
    lines += ["**NNGS at the reported k**", "",
              markdown_table(["k", "NNGS", "chance", "normalized"],
                             [[k, c["nngs"][k - 1], c["chance"][k - 1], c["normalized"][k - 1]]
                              for k in ks], digits=4), ""]
    d = doc["results"]["disagreement"]
    lines += [f"At k = {d['k']}, the mean Jaccard of the two neighborhoods of an item is "
              f"{format_number(d['mean_jaccard'])} (median {format_number(d['jaccard_median'])}); "
              f"{format_number(100 * d['fraction_no_shared'], 1)}% of the items share no neighbor. "
              f"The {len(d['most_disagreeing'])} most disagreeing items are listed in `report.html`.",
              "", "```{figure} ../results/compare/curve.png", ":alt: NNGS against k", "",
              "NNGS (log scale) and normalized NNGS against k, with the chance level and the "
              "permutation-null band.", "```"]
    return "\n".join(lines) + "\n"
