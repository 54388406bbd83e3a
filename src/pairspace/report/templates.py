"""Report of the prompt-template study: ``results.json``, ``report.html``, ``report.md``,
``templates.csv`` and the plots.

No computation happens here: everything is read from a
:class:`~pairspace.studies.templates.TemplateStudyResult`. Every user string (template text, group
and class names, sources) is escaped for Markdown and HTML, and CSV cells that a spreadsheet would
read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) are
prefixed with a quote.
"""

from __future__ import annotations

import csv
import html
import io
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write_bytes, write_json
from ..studies.templates import TemplateStudyResult
from .format import csv_cell
from .plots import panel_axes, plt, save_figure

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|{}#~!])")
_LABELS = {"nngs": "NNGS", "linear_cka": "linear CKA", "mutual_knn": "mutual kNN"}


def md_escape(text: Any) -> str:
    """A user string made inert in Markdown and HTML (one line; ``|`` and backticks escaped)."""
    s = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", html.escape(s, quote=False))


def _measure_label(result: TemplateStudyResult, m: str) -> str:
    label = _LABELS.get(m, m)
    return f"{label} (k = {result.settings['k']})" if m in ("nngs", "mutual_knn") else label


def group_labels(result: TemplateStudyResult) -> dict[str, str]:
    """A readable legend entry per group: its name, its size and one of its templates."""
    out = {}
    for g in dict.fromkeys(result.groups):
        members = [t for t, gg in zip(result.templates, result.groups, strict=True) if gg == g]
        example = members[0] if len(members[0]) <= 34 else members[0][:31] + "..."
        name = f"group '{g}'" if g else "templates"
        out[g] = f"{name}, {len(members)} (e.g. \"{example}\")"
    return out


def plot_template_scatter(result: TemplateStudyResult, path: str | os.PathLike[str] | None = None,
                          measures: Sequence[str] | None = None, *, ax: Any = None) -> Any:
    """Similarity against single-template accuracy, one panel per measure, coloured by group.

    Each title gives Pearson's r and Spearman's rho with their p-values; the panels share the
    accuracy axis (labelled once) and the legend names each group with one of its templates.

    Parameters
    ----------
    result : TemplateStudyResult
        The study.
    path : path-like, optional
        Also save the figure there as PNG (and close it).
    measures : sequence of str, optional
        The panels' measures (default: all of the study's).
    ax : matplotlib.axes.Axes or sequence of them, optional
        Draw into these axes (one per measure) instead of a new figure; the legend then goes into
        the first axes and the figure title is left to the caller.

    Returns
    -------
    matplotlib.figure.Figure
    """
    measures = list(measures or result.measures)
    fig, axes, own = panel_axes(ax, len(measures), (1, len(measures)), (4.3 * len(measures), 4.4),
                                sharey=True, layout="constrained")
    acc = result.column("accuracy")
    labels = group_labels(result)
    colors = plt.get_cmap("tab10")
    for ax, m in zip(axes.ravel(), measures, strict=False):
        vals = result.column(m)
        for gi, g in enumerate(labels):
            sel = np.array([x == g for x in result.groups])
            ax.scatter(vals[sel], acc[sel], s=30, color=colors(gi % 10), label=labels[g],
                       edgecolor="white", linewidth=0.5, zorder=3)
        c = result.correlations[m]
        ax.set_title(f"{_LABELS.get(m, m)}\nPearson r = {c['pearson']:.2f} (p = {c['pearson_p']:.1e})\n"
                     f"Spearman rho = {c['spearman']:.2f} (p = {c['spearman_p']:.1e})", fontsize=9)
        ax.set_xlabel(_measure_label(result, m), fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    first = axes.flat[0]
    first.set_ylabel("single-template top-1 accuracy", fontsize=9)
    handles, names = first.get_legend_handles_labels()
    if not own:
        first.legend(handles, names, fontsize=7)
        return _finish(fig, path)
    fig.legend(handles, names, loc="outside lower center", ncol=min(3, len(names)), fontsize=8,
               frameon=False)
    tag = " (shuffled control)" if result.settings.get("shuffle_pairs") else ""
    fig.suptitle(f"{result.settings['n_templates']} templates, {result.settings['n_classes']} classes"
                 f"{tag}", fontsize=10)
    return _finish(fig, path)


def _finish(fig: Any, path: str | os.PathLike[str] | None) -> Any:
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_template_curves(result: TemplateStudyResult, path: str | os.PathLike[str] | None = None, *,
                         ax: Any = None) -> Any:
    """The NNGS curve of every template, coloured by its single-template accuracy, with chance.

    Parameters
    ----------
    result : TemplateStudyResult
        The study.
    path : path-like, optional
        Also save the figure there as PNG (and close it).
    ax : matplotlib.axes.Axes, optional
        Draw into these axes (the colour bar beside them) instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    acc = result.column("accuracy")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.2, 4.6), layout="constrained")
    else:
        fig = ax.figure
    cmap = plt.get_cmap("viridis")
    lo, hi = float(acc.min()), float(acc.max())
    norm = plt.Normalize(lo, hi if hi > lo else lo + 1e-9)
    order = np.argsort(acc)  # the most accurate drawn last, on top
    for i in order:
        c = result.per_template[int(i)]["curve"]
        ax.plot(c.k, c.nngs, lw=1.2, alpha=0.85, color=cmap(norm(acc[i])))
    c0 = result.per_template[0]["curve"]
    ax.plot(c0.k, c0.chance, ls="--", lw=1.2, color="0.3", label="chance (unrelated spaces)")
    ax.axvline(result.settings["k"], color="0.6", lw=0.8, label=f"k = {result.settings['k']}")
    best, worst = int(order[-1]), int(order[0])
    for i, style in ((best, "best"), (worst, "worst")):
        t = result.templates[i]
        ax.plot([], [], color=cmap(norm(acc[i])), lw=2,
                label=f"{style}: \"{t if len(t) <= 40 else t[:37] + '...'}\" (top-1 {acc[i]:.2f})")
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=ax, label="single-template top-1 accuracy")
    ax.set_xlabel("k (neighborhood size)")
    ax.set_ylabel("NNGS(class centroids, template text)")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(f"NNGS against k for all {len(result.templates)} templates", fontsize=10)
    return _finish(fig, path)


def _ci(c: dict[str, float], method: str) -> str:
    lo, hi = c[f"{method}_ci_low"], c[f"{method}_ci_high"]
    return "-" if lo != lo else f"[{lo:.3f}, {hi:.3f}]"


def render_markdown(result: TemplateStudyResult) -> str:
    """A Markdown report: settings and sources, correlations, the per-template table (escaped)."""
    from .format import format_p

    s = result.settings
    conf = "95%"
    lines = ["# Prompt-template study", "",
             f"{s['n_templates']} templates, {s['n_classes']} classes, {s['n_items']} media items; "
             f"metric {s['metric']}, k = {s['k']} (NNGS chance {s['chance_nngs']:.4f}, accuracy chance "
             f"{s['chance_accuracy']:.4f}){'; SHUFFLED CONTROL' if s['shuffle_pairs'] else ''}.", "",
             f"Templates: {md_escape(s.get('templates_source', '-'))}; class names: "
             f"{md_escape(s.get('class_names_source', '-'))}.", "",
             f"Ensemble of all templates: top-1 {result.ensemble['top1']:.4f}, "
             f"top-5 {result.ensemble['top5']:.4f}.", "",
             "## Correlation with single-template accuracy", "",
             f"Bootstrap intervals ({conf}) resample the templates ({s.get('n_boot', '-')} resamples).", "",
             f"| measure | Pearson | p | {conf} CI | Spearman | p | {conf} CI |",
             "|---|---|---|---|---|---|---|"]
    for m, c in result.correlations.items():
        lines.append(f"| {md_escape(m)} | {c['pearson']:.3f} | {format_p(c['pearson_p'])} | "
                     f"{_ci(c, 'pearson')} | {c['spearman']:.3f} | {format_p(c['spearman_p'])} | "
                     f"{_ci(c, 'spearman')} |")
    lines += ["", "## Per template", "",
              "| template | group | NNGS | CKA | mKNN | top-1 |", "|---|---|---|---|---|---|"]
    for r in result.per_template:
        lines.append(f"| {md_escape(r['template'])} | {md_escape(r['group'])} | {r['nngs']:.4f} | "
                     f"{r['linear_cka']:.4f} | {r['mutual_knn']:.4f} | {r['accuracy']:.4f} |")
    return "\n".join(lines) + "\n"


def render_csv(result: TemplateStudyResult) -> str:
    """The per-template table as CSV (strings made formula-safe)."""
    cols = ["template", "group", "nngs", "nngs_normalized", "linear_cka", "mutual_knn",
            *[m for m in result.measures if m not in ("nngs", "linear_cka", "mutual_knn")],
            "accuracy", "top5", "balanced_accuracy"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in result.per_template:
        w.writerow([csv_cell(r[c]) for c in cols])
    return buf.getvalue()


def render_html(result: TemplateStudyResult, figures: Sequence[Path] = ()) -> str:
    """The self-contained ``report.html``: settings and sources, the correlations with their
    intervals, the per-template table and the figures (embedded); every string escaped."""
    from .format import format_interval, format_number, format_p
    from .html import html_page, html_table, png_data_uri

    s = result.settings
    summary = html_table(["field", "value"], [
        ("templates", s.get("templates_source", "-")), ("class names", s.get("class_names_source", "-")),
        ("size", f"{s['n_templates']} templates, {s['n_classes']} classes, {s['n_items']} media items"),
        ("metric, k", f"{s['metric']}, k = {s['k']}"),
        ("chance", f"NNGS {format_number(s['chance_nngs'], 4)}, accuracy "
                   f"{format_number(s['chance_accuracy'], 4)}"),
        ("ensemble of all templates", f"top-1 {format_number(result.ensemble['top1'], 4)}, top-5 "
                                      f"{format_number(result.ensemble['top5'], 4)}"),
        ("shuffled control", "yes" if s["shuffle_pairs"] else "no")])
    corr = [(_measure_label(result, m), format_number(c["pearson"]), format_p(c["pearson_p"]),
             format_interval(c["pearson_ci_low"], c["pearson_ci_high"]), format_number(c["spearman"]),
             format_p(c["spearman_p"]), format_interval(c["spearman_ci_low"], c["spearman_ci_high"]))
            for m, c in result.correlations.items()]
    rows = [(r["template"], r["group"] or "\u2013", format_number(r["nngs"], 4),
             format_number(r["linear_cka"], 4), format_number(r["mutual_knn"], 4),
             format_number(r["accuracy"], 4)) for r in result.per_template]
    images = "".join(f'<p><img alt="{html.escape(Path(p).stem)}" src="{png_data_uri(p)}"></p>'
                     for p in figures)
    sections = [("Settings and sources", summary),
                (f"Similarity against single-template top-1 (95% bootstrap intervals over the "
                 f"templates, {s.get('n_boot', '-')} resamples)",
                 html_table(["measure", "Pearson", "p", "95% interval", "Spearman", "p", "95% interval"],
                            corr)),
                ("Per template", html_table(["template", "group", f"NNGS@{s['k']}", "linear CKA",
                                             f"mutual kNN@{s['k']}", "top-1"], rows))]
    if images:
        sections.append(("Figures", images))
    return html_page("pairspace template-study", sections, note=f"schema {result.to_dict()['schema']}")


def write_template_report(result: TemplateStudyResult, out: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``results.json``, ``report.html`` (self-contained), ``report.md``, ``templates.csv``,
    ``scatter.png`` and ``curves.png``."""
    out = Path(out)
    files = {"json": write_json(out / "results.json", result.to_dict()),
             "markdown": atomic_write_bytes(out / "report.md", render_markdown(result).encode()),
             "csv": atomic_write_bytes(out / "templates.csv", render_csv(result).encode()),
             "scatter": save_figure(plot_template_scatter(result), out / "scatter.png"),
             "curves": save_figure(plot_template_curves(result), out / "curves.png")}
    page = render_html(result, [files["scatter"], files["curves"]])
    files["html"] = atomic_write_bytes(out / "report.html", page.encode())
    return files


def flat_view(doc: dict[str, Any]) -> dict[str, Any]:
    """The renderers' view of a ``pairspace.template_study/2`` document: ``settings`` holding the
    inputs (sources, sizes) and the settings, ``templates``, ``correlations`` and ``ensemble`` at
    the top (as version 1 laid them out)."""
    if "templates" in doc:
        return dict(doc)  # already flat (version 1)
    return {"schema": doc["schema"], "settings": {**doc.get("inputs", {}), **doc["settings"]},
            **doc["results"]}


def template_markdown(doc: dict[str, Any], figures: str | None = None) -> str:
    """The template study's tables from a ``pairspace.template_study/2`` document (MyST Markdown).

    Parameters
    ----------
    doc : dict
        The study's JSON document.
    figures : str, optional
        The folder (relative to a docs page) of the study's ``scatter.png`` and ``curves.png``;
        unset: no figures.
    """
    from .format import format_interval, format_number, format_p, markdown_table

    doc = flat_view(doc)
    s = doc["settings"]
    ens = doc["ensemble"]
    lines = [f"{s['n_templates']} templates, {s['n_classes']} classes, {s['n_items']:,} media items; "
             f"metric {s['metric']}, k = {s['k']} (NNGS chance {format_number(s['chance_nngs'], 4)}, "
             f"accuracy chance {format_number(s['chance_accuracy'], 4)})"
             f"{'; shuffled control' if s['shuffle_pairs'] else ''}. Templates: "
             f"{md_escape(s.get('templates_source', '-'))}; class names: "
             f"{md_escape(s.get('class_names_source', '-'))}. The ensemble of all templates: top-1 "
             f"{format_number(ens['top1'])}, top-5 {format_number(ens['top5'])}.", ""]
    n_boot = s.get("n_boot", "-")
    rows = [[_LABELS.get(m, m), c["pearson"], format_p(c["pearson_p"]),
             format_interval(c["pearson_ci_low"], c["pearson_ci_high"]), c["spearman"],
             format_p(c["spearman_p"]), format_interval(c["spearman_ci_low"], c["spearman_ci_high"])]
            for m, c in doc["correlations"].items()]
    lines += [f"**Similarity against single-template top-1 across templates** (95% bootstrap "
              f"intervals over the templates, {n_boot} resamples)", "",
              markdown_table(["measure", "Pearson", "p", "95% interval", "Spearman", "p",
                              "95% interval"], rows, align=["l", "r", "r", "l", "r", "r", "l"]), ""]
    nn = doc["correlations"].get("nngs")
    if nn:
        lines += [f"NNGS@{s['k']} against accuracy: Pearson r = {format_number(nn['pearson'])} "
                  f"{format_interval(nn['pearson_ci_low'], nn['pearson_ci_high'])}, "
                  f"p = {format_p(nn['pearson_p'])}.", ""]
    rows = [[md_escape(r["template"]), md_escape(r["group"]) or "\u2013", r["nngs"], r["linear_cka"],
             r["mutual_knn"], r["accuracy"]] for r in doc["templates"]]
    lines += ["**Per template**", "",
              markdown_table(["template", "group", f"NNGS@{s['k']}", "linear CKA",
                              f"mutual kNN@{s['k']}", "top-1"], rows,
                             align=["l", "l", "r", "r", "r", "r"]), ""]
    if figures:
        lines += [f"```{{figure}} {figures}/scatter.png", ":alt: similarity against accuracy", "",
                  "Each template's similarity against its zero-shot top-1.", "```", "",
                  f"```{{figure}} {figures}/curves.png", ":alt: NNGS curves of every template", "",
                  "NNGS against k for every template, coloured by its accuracy.", "```"]
    return "\n".join(lines) + "\n"


def docs_markdown(doc: dict[str, Any]) -> str:
    """The documentation's result section of ``docs/results/templates/`` (MyST Markdown)."""
    return template_markdown(doc, figures="../results/templates")
