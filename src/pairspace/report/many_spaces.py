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

from .._atomic import atomic_write_bytes, write_json
from .compare import _csv_bytes
from .many_spaces_plots import _arr, _label, dendrogram_figure, heatmaps_figure, spectra_figure

MATRIX_COLUMNS = ("measure", "k", "a", "b", "value", "normalized")
PAIR_COLUMNS = ("a", "b", "k", "nngs", "ci_low", "ci_high", "normalized", "normalized_low",
                "normalized_high", "k_peak", "normalized_peak", "k_trough", "normalized_trough",
                "change_k_from", "change_k_to", "change", "change_low", "change_high")


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
    """One row per pair and reported ``k``: NNGS with its interval, normalized, the peak and
    trough of the spectrum, and the pair's change of scale (repeated on each of its rows)."""
    rows = []
    for p in doc["results"]["pairs"]:
        sc = p.get("scale_change") or {}
        change = {"change_k_from": sc.get("k_from"), "change_k_to": sc.get("k_to"),
                  **{key: sc.get(key) for key in ("change", "change_low", "change_high")}}
        rows += [{"a": p["a"], "b": p["b"], **at, "k_peak": p["k_peak"],
                  "normalized_peak": p["normalized_peak"], "k_trough": p.get("k_trough"),
                  "normalized_trough": p.get("normalized_trough"), **change} for at in p["at"]]
    return rows


def _fmt(v: Any, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def _interval(at: dict[str, Any], key: str = "normalized") -> str:
    lo_key, hi_key = {"normalized": ("normalized_low", "normalized_high"),
                      "change": ("change_low", "change_high")}.get(key, ("ci_low", "ci_high"))
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
    peaks: dict[int, list[str]] = {}
    for p in res["pairs"]:
        peaks.setdefault(p["k_peak"], []).append(f"{p['a']} / {p['b']}")
    out.append("Scale of strongest agreement beyond chance (k where the normalized spectrum "
               f"peaks, k = 1..{st['k_max']}): "
               + "; ".join(f"k = {k}: " + (", ".join(v) if len(v) <= 6 else f"{len(v)} of "
                                           f"{len(res['pairs'])} pairs")
                           for k, v in sorted(peaks.items())) + ".")
    changes = [p for p in res["pairs"] if p.get("scale_change")]
    if changes and changes[0]["scale_change"]["change_low"] is not None:
        sc = changes[0]["scale_change"]

        def named(ps: list[dict[str, Any]]) -> str:
            if not ps:
                return ""
            return " (" + ", ".join(f"{p['a']} / {p['b']}" for p in ps) + ")" if len(ps) <= 6 else ""

        falls = [p for p in changes if p["scale_change"]["change_high"] < 0.0]
        rises = [p for p in changes if p["scale_change"]["change_low"] > 0.0]
        flat = [p for p in changes if p not in falls and p not in rises]
        out.append(f"From k = {sc['k_from']} to k = {sc['k_to']} the normalized NNGS falls for "
                   f"{len(falls)} of {len(changes)} pairs{named(falls)}, rises for {len(rises)}"
                   f"{named(rises)} and changes by less than its interval resolves for "
                   f"{len(flat)}{named(flat)} ({level}% item-bootstrap interval of the change, "
                   "paired per item).")
    return out


def _family(name: str) -> tuple[str, int | None]:
    """``("minilm", 3)`` for ``"minilm:layer3"``; ``(name, None)`` for a space without layers."""
    fam, sep, rest = name.rpartition(":")
    if sep and rest.startswith("layer") and rest[5:].isdigit():
        return fam, int(rest[5:])
    return name, None


def closest_partners(doc: dict[str, Any], j: int = 0) -> list[dict[str, Any]]:
    """For every space, the space of ANOTHER family (encoder) it agrees with most at the ``j``-th
    reported ``k``: ``{"space", "partner", "at"}`` (``at`` as in the pair summary)."""
    res = doc["results"]
    out = []
    for nm in res["names"]:
        best = None
        for p in res["pairs"]:
            if nm not in (p["a"], p["b"]):
                continue
            other = p["b"] if p["a"] == nm else p["a"]
            if _family(other)[0] == _family(nm)[0]:
                continue
            v = p["at"][j]["normalized"]
            if v is not None and (best is None or v > best[1]["normalized"]):
                best = (other, p["at"][j])
        if best is not None:
            out.append({"space": nm, "partner": best[0], "at": best[1]})
    return out


def layer_gap_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Mean normalized NNGS of the layer pairs of one layered encoder by layer distance
    ``|i - j|``, at every reported ``k`` (``{"family", "gap", "pairs", "k": {k: mean}}``)."""
    res, st = doc["results"], doc["settings"]
    acc: dict[tuple[str, int], list[list[float]]] = {}
    for p in res["pairs"]:
        (fa, la), (fb, lb) = _family(p["a"]), _family(p["b"])
        if la is None or lb is None or fa != fb:
            continue
        acc.setdefault((fa, abs(la - lb)), []).append([at["normalized"] for at in p["at"]])
    return [{"family": f, "gap": g, "pairs": len(v),
             "k": {k: float(np.mean([r[j] for r in v])) for j, k in enumerate(st["ks"])}}
            for (f, g), v in sorted(acc.items())]


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
        lines += [f"**Pairs at k = {k}** (NNGS and normalized NNGS with their intervals; where "
                  f"the normalized spectrum over k = 1..{st['k_max']} is highest and lowest)", "",
                  "| pair | NNGS | normalized NNGS | peak k | at peak | lowest k | at lowest |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for p in sorted(res["pairs"], key=lambda p, j=j: -(p["at"][j]["normalized"] or -1e9)):
            at = p["at"][j]
            lines.append(f"| {_md(p['a'])} / {_md(p['b'])} | {_interval(at, 'nngs')} | "
                         f"{_interval(at)} | {p['k_peak']} | {_fmt(p['normalized_peak'])} | "
                         f"{p.get('k_trough', '–')} | {_fmt(p.get('normalized_trough'))} |")
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
    gaps = layer_gap_rows(doc)
    if gaps:
        lines += ["**Layers of one encoder by layer distance** (mean normalized NNGS of the layer "
                  "pairs that many layers apart)", "",
                  "| encoder | layer distance | pairs | "
                  + " | ".join(f"k = {k}" for k in st["ks"]) + " |",
                  "|---|---:|---:|" + "---:|" * len(st["ks"])]
        lines += [f"| {_md(r['family'])} | {r['gap']} | {r['pairs']} | "
                  + " | ".join(_fmt(r["k"][k]) for k in st["ks"]) + " |" for r in gaps]
        lines.append("")
    changes = [p for p in res["pairs"] if p.get("scale_change")]
    if changes:
        sc = changes[0]["scale_change"]
        lines += [f"**Scale: normalized NNGS at k = {sc['k_to']} minus at k = {sc['k_from']}** "
                  "(negative: the two spaces agree more on the closest neighbors than on the wider "
                  "neighborhood; interval paired per item)", "",
                  "| pair | change |", "|---|---:|"]
        for p in sorted(changes, key=lambda p: p["scale_change"]["change"]):
            lines.append(f"| {_md(p['a'])} / {_md(p['b'])} | "
                         f"{_interval(p['scale_change'], 'change')} |")
        lines.append("")
    partners = closest_partners(doc)
    if partners:
        lines += [f"**Closest space of another encoder** (normalized NNGS at k = {st['ks'][0]} "
                  "with its interval)", "", "| space | closest other-encoder space | normalized NNGS |",
                  "|---|---|---:|"]
        lines += [f"| {_md(r['space'])} | {_md(r['partner'])} | {_interval(r['at'])} |"
                  for r in partners]
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
