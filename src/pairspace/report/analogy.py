"""Plots and the report of the word-analogy study (results.json, report.html, PNGs).

No computation happens here: everything is read from an
:class:`~pairspace.studies.analogy.AnalogyStudy`.
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path
from typing import Any

from .._atomic import atomic_write_bytes, write_json
from ..studies.analogy import DISPLAY_COLUMNS, AnalogyStudy
from .html import png_data_uri
from .plots import panel_axes, save_figure

_MEASURE_LABELS = {"nngs": "NNGS", "mutual_knn": "mutual kNN", "linear_cka": "linear CKA"}
_GROUP_COLORS = {"semantic": "tab:blue", "syntactic": "tab:orange"}


_OFFSETS = [(dx, dy) for r in (4, 8, 13, 19, 26, 34, 44, 56)
            for dx, dy in ((r, r), (r, -r - 6), (-r, r), (-r, -r - 6), (r + 2, -3), (-r - 2, -3),
                           (0, r + 2), (0, -r - 8))]  # offsets (points) tried, near to far


def _place_labels(ax: Any, points: list[tuple[float, float, str]], fontsize: float = 6.5) -> None:
    """Label every point without overlapping another label or point or leaving the panel.

    Greedy: each label, longest first, takes the first offset (near to far) whose box is inside
    the axes and clear of the boxes already placed and of every marker, with a thin leader line to
    its point; a label that finds no free place takes the place inside the panel where it
    overlaps least.
    """
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    marks = [ax.transData.transform((x, y)) for x, y, _ in points]
    taken = [(mx - 3.5, my - 3.5, mx + 3.5, my + 3.5) for mx, my in marks]
    for i in sorted(range(len(points)), key=lambda i: -len(points[i][2])):
        x, y, text = points[i]
        chosen, fallback = None, None
        for dx, dy in _OFFSETS:
            t = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                            fontsize=fontsize, ha="left" if dx >= 0 else "right")
            bb = t.get_window_extent(renderer).expanded(1.04, 1.15)
            t.remove()
            box = (bb.x0, bb.y0, bb.x1, bb.y1)
            if box[0] < frame.x0 or box[2] > frame.x1 or box[1] < frame.y0 or box[3] > frame.y1:
                continue
            clash = sum(max(0.0, min(box[2], o[2]) - max(box[0], o[0]))
                        * max(0.0, min(box[3], o[3]) - max(box[1], o[1])) for o in taken)
            if clash == 0:
                chosen = ((dx, dy), box)
                break
            if fallback is None or clash < fallback[0]:
                fallback = (clash, (dx, dy), box)
        (dx, dy), box = chosen or (fallback[1:] if fallback else (_OFFSETS[0], taken[i]))
        taken.append(box)
        far = abs(dx) + abs(dy) > 10
        ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                    ha="left" if dx >= 0 else "right",
                    arrowprops={"arrowstyle": "-", "color": "0.6", "lw": 0.5, "shrinkA": 0,
                                "shrinkB": 3} if far else None)


def plot_scatter(result: AnalogyStudy, path: str | os.PathLike[str] | None = None, *,
                 ax: Any = None) -> Any:
    """Similarity against accuracy, one point per category (labeled), one panel per measure.

    Parameters
    ----------
    result : AnalogyStudy
        The study.
    path : path-like, optional
        Also save the figure there as PNG (and close it).
    ax : matplotlib.axes.Axes or sequence of them, optional
        Draw into these axes (one per measure) instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    measures = list(result.correlations)
    fig, axes, own = panel_axes(ax, len(measures), (1, len(measures)), (6.0 * len(measures), 5.2),
                                sharey=True)
    corr = "acc_paper" if result.params["protocol"] == "paper" else "acc_3cosadd"
    acc_label = f"analogy accuracy ({corr}, {result.params['protocol']} protocol)"
    panels = []
    for ax, m in zip(axes.ravel(), measures, strict=False):
        pts = []
        for r in result.categories:
            x, y = getattr(r, m), r.accuracy
            if math.isfinite(x) and math.isfinite(y):
                ax.scatter(x, y, color=_GROUP_COLORS.get(r.group, "tab:gray"), s=28, zorder=3)
                pts.append((x, y, r.category))
        p, s = result.correlations[m]["pearson"], result.correlations[m]["spearman"]
        label = _MEASURE_LABELS.get(m, m)
        if m in ("nngs", "mutual_knn"):
            label += f" (k = {result.params['k']} n)" if isinstance(result.params["k"], float) \
                else f" (k = {result.params['k']})"
        ax.set_xlabel(label)
        ax.set_title(f"Pearson r = {p.statistic:.3f} (p = {p.pvalue:.1e})\n"
                     f"Spearman rho = {s.statistic:.3f} (p = {s.pvalue:.1e})", fontsize=9)
        ax.grid(alpha=0.3)
        ax.margins(x=0.35, y=0.12)  # room for the labels inside the panel
        panels.append((ax, pts))
    first = axes.flat[0]
    first.set_ylabel(acc_label)
    for g, c in _GROUP_COLORS.items():
        first.scatter([], [], color=c, label=g)
    first.legend(fontsize=8, loc="upper left")
    if own:
        fig.tight_layout()
    for ax, pts in panels:  # after the layout, so that the label boxes are final
        _place_labels(ax, pts)
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_curves(result: AnalogyStudy, path: str | os.PathLike[str] | None = None, *,
                ax: Any = None) -> Any:
    """The NNGS curve of every category with its chance level (one small panel per category).

    Parameters
    ----------
    result : AnalogyStudy
        The study.
    path : path-like, optional
        Also save the figure there as PNG (and close it).
    ax : sequence or 2-D array of matplotlib.axes.Axes, optional
        Draw into these axes (one per category, a flat sequence read as one row) instead of a new
        figure; the figure title is then left to the caller.

    Returns
    -------
    matplotlib.figure.Figure
    """
    cats = result.categories
    cols = min(4, max(1, len(cats)))
    fig, axes, own = panel_axes(ax, len(cats), (math.ceil(len(cats) / cols), cols),
                                (3.4 * cols, 2.9 * math.ceil(len(cats) / cols)), sharey=True)
    cols = axes.shape[1]
    for ax, r in zip(axes.ravel(), cats, strict=False):
        c = r.curve
        ax.plot(c.k, c.nngs, lw=1.6, color=_GROUP_COLORS.get(r.group, "tab:gray"), label="NNGS")
        ax.plot(c.k, c.chance, ls="--", lw=1, color="0.4", label="chance")
        ax.axvline(r.k, color="0.7", lw=0.8)
        ax.set_title(f"{r.category} (n={r.n}, acc={r.accuracy:.2f})", fontsize=7.5)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(cats):]:
        ax.axis("off")
    for col in range(min(cols, len(cats))):  # the lowest panel in use of each column: axis label
        axes[(len(cats) - 1 - col) // cols, col].set_xlabel("k")
    for ax in axes[:, 0]:
        ax.set_ylabel("NNGS")
    axes.flat[0].legend(fontsize=7)
    if own:
        fig.suptitle(f"NNGS against k per category ({result.params['metric']}); grey line: k of the "
                     "table", fontsize=9)
        fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "-" if not math.isfinite(v) else f"{v:.4f}"
    return html.escape(str(v))


def _img(path: Path) -> str:
    return f'<img alt="{html.escape(path.name)}" src="{png_data_uri(path)}">'


def render_html(result: AnalogyStudy, images: list[Path]) -> str:
    """A self-contained HTML page (the PNGs are embedded)."""
    p = result.params
    cols = ["category", "group", "n", "k", "nngs", "chance", "mutual_knn", "linear_cka",
            "accuracy_paper", "accuracy_standard", "n_oov"]
    corr = "accuracy_paper" if p["protocol"] == "paper" else "accuracy_standard"
    head = "".join(f"<th>{DISPLAY_COLUMNS[c]}{' *' if c == corr else ''}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(getattr(r, c))}</td>" for c in cols) + "</tr>"
                   for r in result.categories)
    corr_rows = ""
    for m, d in result.correlations.items():
        for name, c in d.items():
            corr_rows += (f"<tr><td>{html.escape(_MEASURE_LABELS.get(m, m))}</td><td>{name}</td>"
                          f"<td>{c.statistic:.4f}</td><td>{c.pvalue:.2e}</td>"
                          f"<td>[{c.ci_low:.3f}, {c.ci_high:.3f}]</td></tr>")
    ev = result.evaluation
    evs = "".join(f"<tr><td>{html.escape(s.name)}</td><td>{s.n_questions}</td><td>{s.n_oov}</td>"
                  f"<td>{_fmt(s.accuracy)}</td></tr>" for s in (ev.semantic, ev.syntactic, ev.overall))
    skipped = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in result.skipped.items())
    imgs = "".join(f"<p>{_img(i)}</p>" for i in images)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>pairspace word-analogy study</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto;}} table{{border-collapse:collapse;
font-size:13px}} td,th{{border:1px solid #ccc;padding:3px 7px;text-align:right}}
td:first-child{{text-align:left}} img{{max-width:100%}}</style></head><body>
<h1>Word analogies as paired embedding spaces</h1>
<p>Vectors: <b>{html.escape(str(p['vectors']))}</b> ({p['n_words']} words, {p['dim']}-D);
questions: <b>{html.escape(str(p['questions']))}</b> {html.escape(p['questions_license'])}.
Metric {p['metric']}, k = {p['k']}, protocol <b>{p['protocol']}</b>,
restrict_vocab = {p['restrict_vocab']}, {p['n_boot']} bootstrap resamples (seed {p['seed']}).</p>
<p>For each category, X holds the first words of its pairs and Y the second words. NNGS is the mean
Jaccard overlap of the k-nearest-neighbor sets of each pair in X and in Y (Tavares, Ayres &amp;
Smaragdis, arXiv 2411.08687); the chance level is its expectation for unrelated spaces.</p>
<h2>Per category</h2><table><tr>{head}</tr>{body}</table>
<p>acc_paper: the published within-category protocol; acc_3cosadd: 3CosAdd over the
{p['restrict_vocab']} most frequent words; n_oov: 3CosAdd questions out of vocabulary.
* the accuracy correlated below.</p>
{f'<p>Skipped:</p><ul>{skipped}</ul>' if skipped else ''}
<h2>Similarity against accuracy, across categories</h2>
<table><tr><th>measure</th><th>correlation</th><th>coefficient</th><th>p-value</th>
<th>{int(100 * result.pearson.confidence)}% bootstrap interval</th></tr>{corr_rows}</table>
<h2>3CosAdd over the {ev.restrict_vocab} most frequent words</h2>
<table><tr><th>pool</th><th>questions</th><th>out of vocabulary</th><th>accuracy</th></tr>{evs}</table>
<h2>Plots</h2>{imgs}
</body></html>
"""


def write_report(result: AnalogyStudy, out: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``results.json``, ``scatter.png``, ``curves.png`` and ``report.html`` into ``out``."""
    out = Path(out)
    paths = {"results": write_json(out / "results.json", result.to_dict()),
             "scatter": save_figure(plot_scatter(result), out / "scatter.png"),
             "curves": save_figure(plot_curves(result), out / "curves.png")}
    page = render_html(result, [paths["scatter"], paths["curves"]])
    paths["html"] = atomic_write_bytes(out / "report.html", page.encode())
    return paths


def _flat_view(doc: dict[str, Any]) -> dict[str, Any]:
    """A ``pairspace.analogy/2`` document in version 1's layout: ``params`` (the inputs' sources
    and sizes with the settings) beside the numbers of ``results``."""
    if "params" in doc:
        return doc
    vec, q = doc["inputs"]["vectors"], doc["inputs"]["questions"]
    res = doc["results"]
    params = {**doc["settings"], "vectors": vec["source"], "n_words": vec["n_words"], "dim": vec["dim"],
              "questions": q["source"], "n_categories": res["n_categories"]}
    return {"schema": doc["schema"], "params": params, **res}


def docs_markdown(doc: dict[str, Any]) -> str:
    """The documentation's result section from a ``pairspace.analogy/2`` document (MyST Markdown).

    Every number comes from ``doc``; the figures are the ``scatter.png`` and ``curves.png`` written
    beside it in ``docs/results/analogy/``.
    """
    from .format import format_interval, format_number, format_p, markdown_table

    doc = _flat_view(doc)
    p = doc["params"]
    k = p["k"]
    k_text = f"k = {k} n (a fraction of each category's n)" if isinstance(k, float) else f"k = {k}"
    proto = p["protocol"]
    corr_col = "accuracy_paper" if proto == "paper" else "accuracy_standard"
    lines = [f"Vectors `{p['vectors']}` ({p['n_words']:,} words, {p['dim']}-D); questions "
             f"`{p['questions']}` ({p['n_categories']} categories); metric {p['metric']}, {k_text}; "
             f"accuracy protocol `{proto}`; {p['n_boot']} bootstrap resamples of the categories "
             f"(seed {p['seed']}).", ""]
    cols = ["category", "group", "n", "k", "nngs", "chance", "mutual_knn", "linear_cka",
            "accuracy_paper", "accuracy_standard"]
    rows = [[r[c] for c in cols] for r in doc["categories"]]
    lines += ["**Per category**", "",
              markdown_table([DISPLAY_COLUMNS[c] + (" *" if c == corr_col else "") for c in cols],
                             rows, digits=3), "",
              "`*` the accuracy correlated below.", ""]
    conf = None
    crow = []
    for m, d in doc["correlations"].items():
        for kind, c in d.items():
            conf = c["confidence"]
            crow.append([_MEASURE_LABELS.get(m, m), kind, c["statistic"], format_p(c["pvalue"]),
                         format_interval(*c["ci"])])
    lines += [f"**Similarity against accuracy across the {len(doc['categories'])} categories**", "",
              markdown_table(["measure", "correlation", "coefficient", "p",
                              f"{round(100 * (conf or 0.95))}% bootstrap interval"], crow, digits=3), ""]
    nngs_p = doc["correlations"]["nngs"]["pearson"]
    lines += [f"NNGS against accuracy: Pearson r = {format_number(nngs_p['statistic'])} "
              f"{format_interval(*nngs_p['ci'])}, p = {format_p(nngs_p['pvalue'])}.", ""]
    ev = doc["evaluation_3cosadd"]
    lines += [f"**3CosAdd over the {ev['restrict_vocab']:,} most frequent words**", "",
              markdown_table(["pool", "questions", "out of vocabulary", "accuracy"],
                             [[ev[s]["name"], ev[s]["n_questions"], ev[s]["n_oov"], ev[s]["accuracy"]]
                              for s in ("semantic", "syntactic", "overall")]), ""]
    for name, why in doc.get("skipped", {}).items():
        lines.append(f"Skipped `{name}`: {why}")
    lines += ["```{figure} ../results/analogy/scatter.png",
              ":alt: similarity against accuracy, one point per category", "",
              "Similarity against analogy accuracy, one point per category.", "```", "",
              "```{figure} ../results/analogy/curves.png", ":alt: NNGS against k per category", "",
              "NNGS against k per category, with its chance level.", "```"]
    return "\n".join(lines) + "\n"
