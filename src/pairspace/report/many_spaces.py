"""Files of the ``compare-many`` report: heatmaps, spectra, dendrogram, CSV, HTML and the docs tables.

Everything is drawn from the ``pairspace.compare_many/1`` document
(:class:`~pairspace.studies.many_spaces.ManySpacesResult.to_dict`); no computation happens here.
Space names are user strings: escaped in HTML and Markdown, formula-proofed in CSV.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

import numpy as np

from .compare import _csv_bytes
from .io import atomic_write_bytes, write_json

MATRIX_COLUMNS = ("measure", "k", "a", "b", "value", "normalized")
PAIR_COLUMNS = ("a", "b", "k", "nngs", "ci_low", "ci_high", "normalized", "normalized_low",
                "normalized_high", "k_peak", "normalized_peak")
LABELS = {"nngs": "NNGS", "mutual_knn": "mutual kNN", "cknna": "CKNNA", "linear_cka": "linear CKA"}


def _arr(v: Any) -> np.ndarray:
    return np.array([[np.nan if x is None else x for x in row] for row in v], dtype=np.float64)


def _label(m: dict[str, Any]) -> str:
    return LABELS.get(m["measure"], m["measure"]) + ("" if m["k"] is None else f" (k = {m['k']})")


def heatmap_panels(doc: dict[str, Any], k: int | None = None) -> list[tuple[str, np.ndarray]]:
    """``(title, matrix)`` panels at ``k`` (default: the first reported ``k``), in dendrogram
    order: normalized NNGS first, then every measure's values."""
    res = doc["results"]
    k = doc["settings"]["ks"][0] if k is None else k
    pos = [res["names"].index(v) for v in res["order"]]
    panels = []
    for m in res["matrices"]:
        if m["k"] not in (None, k):
            continue
        if m["normalized"] is not None:
            panels.append((f"normalized NNGS (k = {k})", _arr(m["normalized"])[np.ix_(pos, pos)]))
        panels.append((_label(m), _arr(m["values"])[np.ix_(pos, pos)]))
    return panels


def heatmaps_figure(doc: dict[str, Any], k: int | None = None) -> Any:
    """One annotated heatmap per panel of :func:`heatmap_panels` (rows and columns in dendrogram
    order)."""
    from .plots import plt

    panels = heatmap_panels(doc, k)
    order = doc["results"]["order"]
    M = len(order)
    size = 1.2 + 0.45 * M
    fig, axes = plt.subplots(1, len(panels), figsize=(size * len(panels), size), squeeze=False)
    for ax, (title, mat) in zip(axes[0], panels, strict=True):
        im = ax.imshow(mat, vmin=min(0.0, float(np.nanmin(mat))), vmax=1.0, cmap="viridis")
        ax.set_xticks(range(M), order, rotation=90, fontsize=8)
        ax.set_yticks(range(M), order, fontsize=8)
        ax.set_title(title, fontsize=9)
        if M <= 14:
            for i in range(M):
                for j in range(M):
                    v = mat[i, j]
                    ax.text(j, i, "" if np.isnan(v) else f"{v:.2f}", ha="center", va="center",
                            fontsize=6, color="w" if v < 0.6 else "k")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def spectra_figure(doc: dict[str, Any]) -> Any:
    """Every pair's NNGS with the chance level (left, log scale) and its normalized spectrum
    (right), against ``k`` on a log axis."""
    from .plots import k_axis, plt

    sp = doc["results"]["spectrum"]
    k = np.asarray(sp["k"])
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11.5, 4.4))
    pairs = sp["pairs"]
    cmap = plt.get_cmap("tab20" if len(pairs) > 10 else "tab10")
    for i, p in enumerate(pairs):
        lab = f"{p['a']} / {p['b']}"
        col = cmap(i % cmap.N)
        ax0.plot(k, [np.nan if v is None else v for v in p["nngs"]], lw=1.3, color=col, label=lab)
        ax1.plot(k, [np.nan if v is None else v for v in p["normalized"]], lw=1.3, color=col,
                 label=lab)
    ax0.plot(k, [np.nan if v is None else v for v in sp["chance"]], ls="--", color="0.3", lw=1,
             label=f"chance ({doc['settings']['chance']})")
    ax0.set_yscale("log")
    ax0.set_ylabel("NNGS (log scale)")
    ax1.axhline(0.0, ls="--", color="0.3", lw=1)
    ax1.set_ylabel("normalized NNGS (0 = chance, 1 = same graph)")
    for ax in (ax0, ax1):
        k_axis(ax, k)
    ax1.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def dendrogram_figure(doc: dict[str, Any]) -> Any:
    """The average-linkage dendrogram of the spaces (distance ``1 - max(0, normalized NNGS)``)."""
    from scipy.cluster.hierarchy import dendrogram

    from .plots import plt

    res = doc["results"]
    fig, ax = plt.subplots(figsize=(1.5 + 0.5 * len(res["names"]), 3.6))
    if len(res["names"]) >= 3:
        dendrogram(np.asarray(res["linkage"]), labels=res["names"], ax=ax, leaf_rotation=90,
                   color_threshold=0.0, above_threshold_color="C0")
    else:
        ax.text(0.5, 0.5, "two spaces: " + " / ".join(res["names"]), ha="center",
                transform=ax.transAxes)
    ax.set_ylabel("1 - normalized NNGS")
    ax.set_title(doc["settings"]["order_by"], fontsize=9)
    fig.tight_layout()
    return fig


def matrix_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One CSV row per measure, ``k`` and ordered pair."""
    res = doc["results"]
    names = res["names"]
    rows = []
    for m in res["matrices"]:
        vals = m["values"]
        norm = m["normalized"]
        for a, na in enumerate(names):
            for b, nb in enumerate(names):
                rows.append({"measure": m["measure"], "k": m["k"], "a": na, "b": nb,
                             "value": vals[a][b], "normalized": None if norm is None else norm[a][b]})
    return rows


def pair_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per pair and reported ``k``: NNGS with its interval, normalized, and the peak."""
    return [{"a": p["a"], "b": p["b"], **at, "k_peak": p["k_peak"],
             "normalized_peak": p["normalized_peak"]}
            for p in doc["results"]["pairs"] for at in p["at"]]


def _fmt(v: Any, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def _interval(at: dict[str, Any], key: str = "normalized") -> str:
    lo_key, hi_key = ("normalized_low", "normalized_high") if key == "normalized" \
        else ("ci_low", "ci_high")
    lo, hi = at.get(lo_key), at.get(hi_key)
    if lo is None:
        return _fmt(at[key])
    return f"{_fmt(at[key])} [{_fmt(lo)}, {_fmt(hi)}]"


def verdicts(doc: dict[str, Any]) -> list[str]:
    """Plain sentences: the most and least aligned pairs at each reported ``k`` (with intervals),
    the pairs indistinguishable from chance, and the scale at which each pair peaks."""
    res, st = doc["results"], doc["settings"]
    level = int(round(100 * st["level"]))
    out = []
    for j, k in enumerate(st["ks"]):
        ats = [(p, p["at"][j]) for p in res["pairs"]]
        ats.sort(key=lambda t: -(t[1]["normalized"] if t[1]["normalized"] is not None else -1e9))
        best, worst = ats[0], ats[-1]
        out.append(f"At k = {k} the most aligned pair is {best[0]['a']} / {best[0]['b']} "
                   f"(normalized NNGS {_interval(best[1])}, {level}% item-bootstrap interval) and "
                   f"the least aligned is {worst[0]['a']} / {worst[0]['b']} "
                   f"({_interval(worst[1])}).")
        at_chance = [f"{p['a']} / {p['b']}" for p, at in ats
                     if at["normalized_low"] is not None and at["normalized_low"] <= 0.0]
        if at_chance:
            out.append(f"At k = {k} the interval of {', '.join(at_chance)} reaches chance (0).")
    peaks = sorted(res["pairs"], key=lambda p: p["k_peak"])
    out.append("Scale of strongest agreement beyond chance (k where the normalized spectrum "
               "peaks, k = 1.." + str(st["k_max"]) + "): "
               + "; ".join(f"{p['a']} / {p['b']} at k = {p['k_peak']} "
                           f"({_fmt(p['normalized_peak'])})" for p in peaks) + ".")
    return out


def _md(s: Any) -> str:
    return html.escape(str(s)).replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def docs_markdown(doc: dict[str, Any]) -> str:
    """The docs tables and verdicts of a ``pairspace.compare_many/1`` document (Markdown)."""
    res, st, inp = doc["results"], doc["settings"], doc["inputs"]
    lines = [f"*{len(res['names'])} spaces of n = {inp['n']} items; metrics "
             f"{', '.join(sorted(set(st['metrics'])))}; chance level {st['chance']}; intervals: "
             f"{int(round(100 * st['level']))}% percentile bootstrap over items "
             f"({st['bootstrap']} resamples, seed {st['seed']}); pairspace "
             f"{doc.get('pairspace_version')}, created {doc.get('created')}.*", ""]
    lines += ["| space | dimension |", "|---|---:|"]
    lines += [f"| {_md(nm)} | {d} |" for nm, d in zip(inp["names"], inp["dims"], strict=True)]
    lines.append("")
    for j, k in enumerate(st["ks"]):
        lines += [f"**Pairs at k = {k}** (NNGS and normalized NNGS with their intervals; the peak "
                  "of the normalized spectrum)", "",
                  "| pair | NNGS | normalized NNGS | peak k | normalized at peak |",
                  "|---|---:|---:|---:|---:|"]
        for p in sorted(res["pairs"], key=lambda p, j=j: -(p["at"][j]["normalized"] or -1e9)):
            at = p["at"][j]
            lines.append(f"| {_md(p['a'])} / {_md(p['b'])} | {_interval(at, 'nngs')} | "
                         f"{_interval(at)} | {p['k_peak']} | {_fmt(p['normalized_peak'])} |")
        lines.append("")
    for m in res["matrices"]:
        if m["measure"] == "nngs":
            continue
        names = res["order"]
        pos = [res["names"].index(v) for v in names]
        vals = _arr(m["values"])[np.ix_(pos, pos)]
        lines += [f"**{_label(m)}**", "", "| | " + " | ".join(_md(v) for v in names) + " |",
                  "|---|" + "---:|" * len(names)]
        lines += [f"| {_md(nm)} | " + " | ".join(_fmt(float(v), 2) for v in row) + " |"
                  for nm, row in zip(names, vals, strict=True)]
        lines.append("")
    lines += [f"Dendrogram order ({_md(st['order_by'])}): "
              + ", ".join(_md(v) for v in res["order"]) + ".", ""]
    lines += ["- " + _md(v) for v in verdicts(doc)]
    return "\n".join(lines) + "\n"


def many_report_html(doc: dict[str, Any], figures: dict[str, Path], title: str = "") -> str:
    """The self-contained report page (figures inlined as data URIs, every name escaped)."""
    from .html import html_page, html_table, png_data_uri

    res, st = doc["results"], doc["settings"]
    sections = [("Inputs and settings", html_table(
        ["field", "value"],
        [("spaces", ", ".join(res["names"])), ("n", doc["inputs"]["n"]),
         ("dimensions", ", ".join(str(d) for d in doc["inputs"]["dims"])),
         *[(f"setting: {k}", v if not isinstance(v, list) else ", ".join(map(str, v)))
           for k, v in st.items()], ("command", doc.get("command") or "")]))]
    sections.append(("Verdicts", "<ul>" + "".join(f"<li>{html.escape(v)}</li>"
                                                  for v in verdicts(doc)) + "</ul>"))
    for key, head in (("heatmaps", "Matrices (dendrogram order)"),
                      ("spectra", "Every pair's spectrum"), ("dendrogram", "Ordering")):
        if key in figures:
            sections.append((head, f'<img alt="{key}" src="{png_data_uri(figures[key])}">'))
    sections.append(("Pairs at the reported k", html_table(
        ["pair", "k", "NNGS", "CI low", "CI high", "normalized", "norm. low", "norm. high",
         "peak k", "normalized at peak"],
        [(f"{r['a']} / {r['b']}", r["k"], r["nngs"], r["ci_low"], r["ci_high"], r["normalized"],
          r["normalized_low"], r["normalized_high"], r["k_peak"], r["normalized_peak"])
         for r in pair_rows(doc)])))
    for m in res["matrices"]:
        sections.append((_label(m), html_table(
            ["", *res["names"]], [(nm, *row) for nm, row in zip(res["names"], m["values"],
                                                               strict=True)])))
    return html_page(f"pairspace compare-many: {title}" if title else "pairspace compare-many",
                     sections, note=f"schema {doc['schema']}, pairspace {doc.get('pairspace_version')}")


def write_many_report(out: str | os.PathLike[str], doc: dict[str, Any], title: str = ""
                      ) -> dict[str, Path]:
    """Write ``results.json``, ``matrices.csv``, ``pairs.csv``, ``heatmaps.png``, ``spectra.png``,
    ``dendrogram.png`` and ``report.html`` into ``out``."""
    from .html import write_html
    from .plots import save_figure

    out = Path(out)
    files = {"heatmaps": save_figure(heatmaps_figure(doc), out / "heatmaps.png"),
             "spectra": save_figure(spectra_figure(doc), out / "spectra.png"),
             "dendrogram": save_figure(dendrogram_figure(doc), out / "dendrogram.png")}
    files["json"] = write_json(out / "results.json", doc)
    files["matrices"] = atomic_write_bytes(out / "matrices.csv",
                                           _csv_bytes(MATRIX_COLUMNS, matrix_rows(doc)))
    files["pairs"] = atomic_write_bytes(out / "pairs.csv", _csv_bytes(PAIR_COLUMNS, pair_rows(doc)))
    files["html"] = write_html(out / "report.html", many_report_html(doc, files, title))
    return files
