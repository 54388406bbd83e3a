"""The audio demo's files: ``audio_demo.json``, its figures, ``report.html`` and the template-study
report of the trained model; and its section of the documentation (:func:`docs_markdown`).

No computation happens here: everything is read from an
:class:`~pairspace.studies.audio_demo.AudioDemoResult` (or its JSON document) and the training runs'
own files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._atomic import write_json

__all__ = ["ZEROSHOT_HEADERS", "docs_markdown", "render_html", "write_audio_demo", "zeroshot_rows"]

ZEROSHOT_HEADERS = ["model", "top1", "top5", "bal.acc", "chance", "family top1", "family chance",
                    "t2a R@1", "t2a R@10", "a2t R@1", "a2t R@10"]

BEST_DEFAULT = "trained, infonce"


def zeroshot_rows(results: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """One table row per model: zero-shot, family zero-shot and retrieval on the unseen classes."""
    rows = []
    for name, res in results.items():
        z, f, r = res["zeroshot"], res["zeroshot_family"], res["retrieval"]
        rows.append((name, z["top1"], z["top5"], z["balanced_accuracy"], z["chance"], f["top1"],
                     f["chance"], r["text_to_audio"]["R@1"], r["text_to_audio"]["R@10"],
                     r["audio_to_text"]["R@1"], r["audio_to_text"]["R@10"]))
    return rows


def flat_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The renderers' view of a ``pairspace.audio_demo/2`` document: ``inputs`` and ``settings``
    merged at the top, ``results`` holding the per-model metrics (``results.models``), and the
    template study, run folders and timings beside them (as version 1 laid them out)."""
    if "models" not in doc.get("results", {}):
        return dict(doc)  # already flat (version 1)
    res = doc["results"]
    return {"schema": doc["schema"], **doc["inputs"], **doc["settings"], "results": res["models"],
            "template_study": res["template_study"], "run_dirs": res.get("run_dirs", {}),
            "timings_s": res.get("timings_s", {})}


def _best(doc: Mapping[str, Any]) -> str:
    from ..studies.audio_demo_runs import BEST

    return BEST if BEST in doc["results"] else next(iter(doc["results"]))


def write_figures(doc: Mapping[str, Any], out: Path) -> dict[str, Path]:
    """``training_curves.png`` (every run) and ``confusion.png`` (the template study's model)."""
    from .plots import plot_confusion, save_figure
    from .training import read_run, training_figure

    files: dict[str, Path] = {}
    runs = {}
    for name, folder in doc.get("run_dirs", {}).items():
        try:
            runs[name] = read_run(folder)
        except FileNotFoundError:
            continue
    if runs:
        files["training_curves"] = save_figure(training_figure(runs), out / "training_curves.png")
    best = _best(doc)
    confusion = doc["results"][best].get("confusion")
    if confusion is not None:
        fig = plot_confusion(confusion, doc["unseen_classes"],
                             title=f"zero-shot on the unseen instruments ({best})")
        files["confusion"] = save_figure(fig, out / "confusion.png")
    return files


def render_html(doc: Mapping[str, Any], figures: Mapping[str, Path], template_figures: Mapping[str, Path]
                ) -> str:
    """The self-contained ``report.html`` of the demo (every string escaped, figures embedded)."""
    import html

    from .format import format_interval, format_number, format_p, timings_rows
    from .html import html_page, html_table, png_data_uri

    def img(path: Path, alt: str) -> str:
        return f'<p><img alt="{html.escape(alt)}" src="{png_data_uri(path)}"></p>'

    first = next(iter(doc["results"].values()))["zeroshot"]
    cells = [tuple(format_number(v) if isinstance(v, float) else v for v in row)
             for row in zeroshot_rows(doc["results"])]
    sections = [(f"Unseen instruments ({len(doc['unseen_classes'])} classes, {first['n']} clips; "
                 f"{doc['n_templates']} templates ensembled)", html_table(ZEROSHOT_HEADERS, cells))]
    if "training_curves" in figures:
        sections.append(("Training curves", img(figures["training_curves"], "training curves")))
    if "confusion" in figures:
        sections.append(("Zero-shot confusion matrix", img(figures["confusion"], "confusion matrix")))
    from .templates import flat_view as template_view

    ts = template_view(doc["template_study"])
    rows = [(t["template"], format_number(t["nngs"]), format_number(t["accuracy"]))
            for t in ts["templates"]]
    corr = [(m, format_number(c["pearson"]), format_p(c["pearson_p"]),
             format_interval(c["pearson_ci_low"], c["pearson_ci_high"]), format_number(c["spearman"]),
             format_p(c["spearman_p"])) for m, c in ts["correlations"].items()]
    body = (html_table(["template", f"nngs@{ts['settings']['k']}", "top1"], rows)
            + html_table(["measure", "Pearson", "p", "95% interval", "Spearman", "p"], corr)
            + "".join(img(p, role) for role, p in template_figures.items()))
    sections.append((f"Template study on the trained model ({_best(doc)})", body))
    sections.append(("Timings", html_table(["stage", "seconds"],
                                           [(k, f"{v:.1f}") for k, v in timings_rows(doc["timings_s"])])))
    return html_page("pairspace demo --audio", sections,
                     note=f"schema {doc['schema']}; audio encoder {doc['audio_encoder']['encoder']}, "
                          f"text encoder {doc['text_encoder']['encoder']}")


def write_audio_demo(result: Any, out: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``audio_demo.json``, ``training_curves.png``, ``confusion.png``, ``report.html`` and
    ``template-study/`` (results, report, plots) into ``out``.

    Parameters
    ----------
    result : pairspace.studies.audio_demo.AudioDemoResult
        The demo's result.
    out : str or os.PathLike
        The output folder (created when missing).

    Returns
    -------
    dict
        File role -> path: ``json``, ``training_curves``, ``confusion``, ``html`` and the template
        report's own roles (``template-study/...``).
    """
    from .html import write_html
    from .templates import write_template_report

    out = Path(out)
    full = result.to_dict()
    files = {"json": write_json(out / "audio_demo.json", full)}
    doc = flat_view(full)
    report = write_template_report(result.template_study, out / "template-study")
    files.update({f"template-study/{role}": path for role, path in report.items()})
    figures = write_figures(doc, out)
    files.update(figures)
    template_figures = {role: report[role] for role in ("scatter", "curves") if role in report}
    files["html"] = write_html(out / "report.html", render_html(doc, figures, template_figures))
    return files


def docs_markdown(doc: dict[str, Any]) -> str:
    """The documentation's result section from a ``pairspace.audio_demo/2`` document (MyST Markdown).

    Every number comes from ``doc``; the figures are those written beside it in
    ``docs/results/audio_demo/`` (and its ``template-study/``).
    """
    from .format import format_number, markdown_table, timings_rows
    from .templates import template_markdown

    doc = flat_view(doc)
    first = next(iter(doc["results"].values()))["zeroshot"]
    enc_a, enc_t = doc["audio_encoder"], doc["text_encoder"]
    lines = [f"Dataset: {doc['n_clips']:,} clips and {doc['n_captions']:,} captions, "
             f"{len(doc['seen_classes'])} seen and {len(doc['unseen_classes'])} unseen instruments. "
             f"Audio backbone `{enc_a['encoder']}` ({enc_a.get('model_id', '')}), text backbone "
             f"`{enc_t['encoder']}`; heads trained {doc['train_config']['epochs']} epochs, "
             f"{doc['threads']} CPU thread(s).", "",
             f"**Unseen instruments** ({len(doc['unseen_classes'])} classes, {first['n']} clips; "
             f"{doc['n_templates']} templates ensembled)", "",
             markdown_table(ZEROSHOT_HEADERS, zeroshot_rows(doc["results"])), "",
             "top1/top5/bal.acc: zero-shot classification among the unseen instruments; family: the "
             "same over instrument families (the family names occur in the seen captions, so this is "
             "not zero-shot); t2a/a2t: caption-to-clip and clip-to-caption retrieval.", ""]
    if any("confusion" in r for r in doc["results"].values()):
        lines += ["```{figure} ../results/audio_demo/confusion.png", ":alt: zero-shot confusion matrix",
                  "", f"Zero-shot confusion matrix of `{_best(doc)}` on the unseen instruments "
                  "(rows: true instrument, normalized).", "```", ""]
    lines += ["```{figure} ../results/audio_demo/training_curves.png", ":alt: training curves", "",
              "Training and validation loss (dot: the selected epoch) and validation R@1 of the three "
              "runs.", "```", "",
              f"**Template study on the trained model** (`{_best(doc)}`, unseen classes)", "",
              template_markdown(doc["template_study"], figures="../results/audio_demo/template-study"),
              "**Run time per stage** (seconds on the machine below; they depend on its load, the "
              "numbers above do not)", "",
              markdown_table(["stage", "seconds"],
                             [(k, format_number(v, 1)) for k, v in timings_rows(doc["timings_s"])],
                             align=["l", "r"])]
    return "\n".join(lines) + "\n"
