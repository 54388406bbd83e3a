"""Pair manifests, tables, the sweep figure and the report of the curation study
(:mod:`pairspace.studies.curation`).

``pairspace curate`` writes, through :func:`write_curation`: one manifest per method, the
``pairspace.curation/3`` document ``curation.json``, the figure ``sweep.png`` and ``report.html``
(self-contained: every string escaped, the figure inlined).

A manifest is a CSV with a header (``audio_id, text_id, similarity, method, uses_target_labels,
transductive, target_use``, then the method's extra columns), readable by
:func:`pairspace.align.trainer.load_pairs`, and a JSON sidecar (same stem): the
``pairspace.curation_set/1`` envelope the study builds (:meth:`CurationResult.sidecar`: the
method, every setting, the flags and the threshold sweep). Both are written atomically. The ids are written
verbatim (the manifest is data that ``pairspace train`` reads back); every other string cell that a
spreadsheet would run as a formula gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import html
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._atomic import atomic_write_bytes, write_json
from .format import csv_cell

__all__ = ["SWEEP_HEADERS", "curation_html", "manifest_rows", "markdown_table", "plot_sweep",
           "stats_table", "sweep_rows", "sweep_table", "write_curation", "write_manifest"]

_VERBATIM = ("audio_id", "text_id")


def manifest_rows(result: Any) -> list[dict[str, Any]]:
    """One dict per curated pair (ids, index, similarity, method, flags, extra columns).

    Inputs given as arrays (no ids) are named by their row index.
    """
    a_ids, t_ids = result.audio_ids, result.text_ids
    target_use = result.to_dict()["target_use"]
    rows = []
    for i, (a, t, s) in enumerate(result.pairs):
        row = {"audio_id": a_ids[a] if a_ids is not None else str(a),
               "text_id": t_ids[t] if t_ids is not None else str(t),
               "audio_index": a, "text_index": t, "similarity": repr(float(s)),
               "method": result.method, "uses_target_labels": result.uses_target_labels,
               "transductive": result.transductive, "target_use": target_use}
        for name, col in result.columns.items():
            v = col[i]
            row[name] = v.item() if hasattr(v, "item") else v
        rows.append(row)
    return rows


def write_manifest(result: Any, path: str | os.PathLike[str],
                   inputs: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write ``result`` as ``path`` (CSV) and ``path`` with suffix ``.json`` (its sidecar envelope).

    Parameters
    ----------
    result : CurationResult
        A curation result.
    path : path
        The CSV file (a ``.csv`` suffix is added when missing).
    inputs : dict, optional
        The ``inputs`` of the sidecar envelope (the teacher run, the input tables).
    """
    path = Path(path)
    if path.suffix.lower() != ".csv":
        path = path.with_name(path.name + ".csv")
    rows = manifest_rows(result)
    header = ["audio_id", "text_id", "audio_index", "text_index", "similarity", "method",
              "uses_target_labels", "transductive", "target_use", *result.columns]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    w.writeheader()
    w.writerows({k: v if k in _VERBATIM else csv_cell(v) for k, v in r.items()} for r in rows)
    atomic_write_bytes(path, buf.getvalue().encode())
    side = path.with_suffix(".json")
    write_json(side, result.sidecar(path.name, inputs))
    return {"csv": path, "json": side}


def sweep_table(results: Sequence[Any]) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows: pairs kept at each threshold of each result's sweep (with the flags)."""
    headers = ["method", "threshold", "value", "pairs kept", "uses target labels", "transductive"]
    rows = [[r.method, str(s["threshold"]), s["value"], s["n_pairs"], r.uses_target_labels,
             r.transductive] for r in results for s in r.sweep]
    return headers, rows


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], digits: int = 3) -> str:
    """A Markdown table; cells are HTML-escaped, on one line, with ``|`` and backticks escaped."""
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "-" if v != v else f"{v:.{digits}f}"
        text = html.escape(" ".join(str(v).split()), quote=False)
        return text.replace("|", r"\|").replace("`", r"\`")

    out = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(out)


# ------------------------------------------------------------------ the curation.json document
SWEEP_HEADERS = ["method", "threshold", "value", "pairs kept", "precision", "chosen"]


def _chosen(stat: dict[str, Any], row: dict[str, Any]) -> bool:
    v = stat["threshold_value"]
    return v is not None and row["value"] is not None and float(row["value"]) == float(v)


def sweep_rows(doc: dict[str, Any]) -> list[list[Any]]:
    """Rows of :data:`SWEEP_HEADERS` from a ``pairspace.curation/3`` document: every method's sweep,
    with the precision where known and whether the threshold is the one the method used.

    The curation study computes no test, so the table has no p-value column.
    """
    return [[st["method"], str(row["threshold"]), row["value"], row["n_pairs"], row["precision"],
             "yes" if _chosen(st, row) else ""]
            for st in doc["results"]["stats"] for row in st["sweep"]]


def stats_table(doc: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of the curated sets of a ``pairspace.curation/3`` document."""
    headers = ["method", "threshold", "value", "pairs", "clips", "captions", "precision",
               "target precision", "uses target labels", "transductive", "target use"]
    rows = [[s["method"], s["threshold"] if s["top_k"] is None else f"top-{s['top_k']}",
             s["threshold_value"], s["n_pairs"], s["n_audio"], s["n_text"], s["precision"],
             s["target_precision"], "yes" if s["uses_target_labels"] else "no",
             "yes" if s["transductive"] else "no", s["target_use"]] for s in doc["results"]["stats"]]
    return headers, rows


def plot_sweep(doc: dict[str, Any], path: str | os.PathLike[str] | None = None) -> Any:
    """Pairs kept (top) and precision where known (bottom) against the threshold, per method.

    The threshold each method used is a dashed vertical line (``gid`` ``"chosen-METHOD"``); a
    method run with top-k has none. Returns the figure, or the saved path when ``path`` is given.
    """
    from .plots import plt, save_figure

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.0, 6.0), sharex=True)
    any_precision = False
    for i, st in enumerate(doc["results"]["stats"]):
        color, m = f"C{i}", st["method"]
        rows = sorted((r for r in st["sweep"] if r["value"] is not None), key=lambda r: r["value"])
        kept = [(r["value"], r["n_pairs"]) for r in rows if r["n_pairs"] > 0]
        if kept:
            top.plot(*zip(*kept, strict=True), "o-", color=color, label=m)
        prec = [(r["value"], r["precision"]) for r in rows if r["precision"] is not None]
        if prec:
            any_precision = True
            bottom.plot(*zip(*prec, strict=True), "o-", color=color, label=m)
        if st["threshold_value"] is not None:
            for ax in (top, bottom):
                ax.axvline(st["threshold_value"], color=color, ls="--", lw=1, gid=f"chosen-{m}")
    top.set_yscale("log")
    top.set_ylabel("pairs kept (log scale)")
    top.set_title("Threshold sweep (reported, never used to choose); dashed: threshold used")
    top.legend(fontsize=8)
    bottom.set_ylabel("precision (same true label)")
    bottom.set_ylim(-0.02, 1.02)
    bottom.set_xlabel("threshold (cosine in the teacher space)")
    if not any_precision:
        bottom.text(0.5, 0.5, "precision unknown (the tables carry no labels)",
                    transform=bottom.transAxes, ha="center", va="center", color="0.4")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig if path is None else save_figure(fig, path)


def curation_html(doc: dict[str, Any], png: str | os.PathLike[str] | None) -> str:
    """The self-contained ``report.html`` of a ``pairspace.curation/3`` document (escaped, the
    sweep figure inlined)."""
    from .html import html_page, html_table, png_data_uri

    inp, st = doc["inputs"], doc["settings"]
    fields = [(k, v["path"] if isinstance(v, dict) and "path" in v else v) for k, v in inp.items()]
    fields += [(f"setting: {k}", v if not isinstance(v, dict) else
                ", ".join(f"{a} {b}" for a, b in v.items())) for k, v in st.items()]
    notes = [f"{s['method']} uses {s['target_use']}; it is not label-free for this task"
             for s in doc["results"]["stats"] if s["uses_target_labels"]]
    sections = [("Inputs and settings", html_table(["field", "value"], fields)),
                ("Curated sets", html_table(*stats_table(doc))
                 + '<p class="note">precision: clip and caption share their true label (tables with '
                   "labels); target precision: the caption's label is a target class.</p>"
                 + "".join(f"<p>{html.escape(n)}</p>" for n in notes))]
    if png is not None:
        sections.append(("Threshold sweep", f'<img alt="threshold sweep" src="{png_data_uri(png)}">'))
    sections.append(("Pairs kept per threshold", html_table(SWEEP_HEADERS, sweep_rows(doc))
                     + '<p class="note">precision at a threshold is known with labels, for '
                       "thresholds at or above the one used. The sweep is reported only; the "
                       "curation computes no test, so there are no p-values.</p>"))
    return html_page("pairspace curate", sections,
                     note=f"schema {doc['schema']}, pairspace {doc['pairspace_version']}, created "
                          f"{doc['created']}; command: {doc['command']}")


def write_curation(run: Any, out: str | os.PathLike[str]) -> dict[str, Path]:
    """Write the files of ``pairspace curate`` into the folder ``out``.

    ``METHOD.csv`` and ``METHOD.json`` per method (:func:`write_manifest`; the sidecars carry the
    run's ``inputs``), ``curation.json`` (``run.to_dict()``, the ``pairspace.curation/3``
    document), ``sweep.png`` (:func:`plot_sweep`) and ``report.html`` (:func:`curation_html`).

    Parameters
    ----------
    run : CurationRun
        The result of :func:`pairspace.studies.curation_run.run_curation`.
    out : path
        An existing folder.
    """
    from .html import write_html

    out = Path(out)
    files: dict[str, Path] = {}
    for m, r in run.results.items():
        files.update({f"{m}.{k}": p for k, p in
                      write_manifest(r, out / f"{m}.csv", run.envelope.inputs).items()})
    doc = run.to_dict()
    files["json"] = write_json(out / "curation.json", doc)
    files["png"] = plot_sweep(doc, out / "sweep.png")
    files["html"] = write_html(out / "report.html", curation_html(doc, files["png"]))
    return files
