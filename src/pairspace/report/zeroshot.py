"""The files of ``pairspace zeroshot``: the ``pairspace.zeroshot/3`` document, its confusion-matrix
figure and a self-contained HTML report, written beside each other.

For ``--out DIR/NAME.json`` the files are ``DIR/NAME.json``, ``DIR/NAME-confusion.png`` and
``DIR/NAME.html`` (the default ``RUN/zeroshot.json`` thus never replaces the run's own training
``report.html``). No computation happens here: everything is read from the document.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._atomic import write_json

__all__ = ["METRIC_HEADERS", "metric_rows", "render_html", "report_paths", "write_zeroshot"]

METRIC_HEADERS = ["split", "top1", "top5", "balanced accuracy", "chance", "items", "classes"]


def report_paths(path: str | os.PathLike[str]) -> dict[str, Path]:
    """The files written for the JSON document ``path``: ``json``, ``confusion`` (PNG), ``html``."""
    p = Path(path)
    return {"json": p, "confusion": p.with_name(p.stem + "-confusion.png"),
            "html": p.with_suffix(".html")}


def metric_rows(results: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The metrics table: the summary row (fold means under a fold split) and, under a fold split,
    one row per fold; then, when present, the fold standard deviations."""
    from .format import format_number

    def row(name: str, m: Mapping[str, Any], chance: Any, n_classes: Any) -> tuple[Any, ...]:
        return (name, *(format_number(m.get(k)) for k in ("top1", "top5", "balanced_accuracy")),
                format_number(chance), m.get("n"), n_classes)

    split = results["split"]
    label = {"folds": "mean over folds", "subset": "evaluation subset"}.get(split["kind"], "all items")
    rows = [row(label, results, results["chance"], results["n_classes"])]
    if "std" in results:
        rows.append(("std over folds", *(format_number(results["std"].get(k))
                                         for k in ("top1", "top5", "balanced_accuracy")),
                     None, None, None))
    for fold, m in results.get("per_fold", {}).items():
        rows.append(row(f"fold {fold}", m, results["chance"], results["n_classes"]))
    return rows


def write_figure(doc: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """The row-normalized confusion matrix of the document, saved as PNG at ``path``."""
    from .plots import plot_confusion, save_figure

    res = doc["results"]
    fig = plot_confusion(res["confusion"], res["classes"],
                         title=f"zero-shot, protocol {doc['settings']['protocol']['name']}")
    return save_figure(fig, path)


def render_html(doc: Mapping[str, Any], confusion_png: str | os.PathLike[str] | None) -> str:
    """The self-contained report page of a ``pairspace.zeroshot/3`` document (every string of the
    document escaped, the figure embedded as a data URI)."""
    import html

    from .format import format_number
    from .html import html_page, html_table, png_data_uri

    inp, st, res = doc["inputs"], doc["settings"], doc["results"]
    ev = inp["eval"]
    about = [("run", inp["run"]), ("evaluation table", ev["path"]),
             ("table size (bytes), sha256", f"{ev['size']}, {ev.get('sha256') or '-'}"),
             ("text encoder", inp["text_encoder"].get("encoder", inp["text_encoder"].get("name"))),
             ("classes", inp["classes_source"]), ("templates", inp["templates_source"]),
             ("protocol", f"{st['protocol']['name']}: {st['protocol']['description']}"),
             ("number of templates", st["n_templates"]), ("epoch selection", st["selection"])]
    sections = [("Inputs and settings", html_table(["field", "value"], about)),
                ("Zero-shot accuracy", html_table(METRIC_HEADERS, metric_rows(res)))]
    if "per_class" in res:
        support = [sum(r) for r in res["confusion"]]
        sections.append(("Per-class recall", html_table(
            ["class", "recall", "items"],
            [(c, format_number(res["per_class"].get(c)), s)
             for c, s in zip(res["classes"], support, strict=True)])))
    if confusion_png is not None:
        sections.append(("Confusion matrix", '<p class="note">rows: true class, columns: predicted '
                         "class; each row divided by its item count</p>"
                         f'<p><img alt="{html.escape("confusion matrix")}" '
                         f'src="{png_data_uri(confusion_png)}"></p>'))
    return html_page("pairspace zeroshot", sections,
                     note=f"schema {doc['schema']}, pairspace {doc['pairspace_version']}, created "
                          f"{doc['created']}")


def write_zeroshot(result: Any, path: str | os.PathLike[str]) -> dict[str, Path]:
    """Write the document of ``result`` (a :class:`~pairspace.studies.zeroshot.ZeroShotResult`) to
    ``path``, its confusion figure and the HTML report beside it (:func:`report_paths`), each
    atomically.

    Returns
    -------
    dict
        ``json``, ``confusion`` and ``html`` -> their paths.
    """
    from .._atomic import to_jsonable
    from .html import write_html

    paths = report_paths(path)
    doc = to_jsonable(result.to_dict())
    files = {"json": write_json(paths["json"], doc)}
    files["confusion"] = write_figure(doc, paths["confusion"])
    files["html"] = write_html(paths["html"], render_html(doc, files["confusion"]))
    return files
