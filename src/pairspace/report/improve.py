"""Tables, figure, Markdown, HTML and docs of the improve experiment (:mod:`pairspace.studies.improve`).

Everything here reads the ``pairspace.improve/2`` document (``results["runs"]``, one run per
setting and audio encoder); :func:`docs_markdown` renders the docs' tables and verdict sentences
from it, so no number is typed by hand. Intervals are the 95% two-stage bootstrap intervals over
seeds and clips; p-values are the paired sign-flip (stratified McNemar) test's, printed with two
significant digits.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._atomic import atomic_write_bytes, write_json
from .curation import markdown_table, write_manifest

METRIC_NAMES = {"top1_p3": "P3 prompt", "top1_ens": "ensembled templates"}


def fmt_p(p: float | None) -> str:
    """A p-value in scientific notation with two significant digits (``3.1e-04``)."""
    return "-" if p is None else f"{p:.1e}"


def fmt_ci(d: dict[str, Any], signed: bool = False, digits: int = 3) -> str:
    """``estimate [low, high]`` of an interval dict."""
    f = f"{{:+.{digits}f}}" if signed else f"{{:.{digits}f}}"
    return f"{f.format(d['estimate'])} [{f.format(d['ci_low'])}, {f.format(d['ci_high'])}]"


def _target_use(run: dict[str, Any], model: str) -> str:
    return "none" if model == "teacher" else run["settings"]["target_use"].get(model, "none")


def improve_table(run: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows: each model's top-1 (mean over seeds, 95% interval) beside chance."""
    headers = ["model", "loss", "uses the target task", "P3 top-1 [95% CI]", "ensembled top-1 [95% CI]",
               "chance", "seeds"]
    rows = [[r["model"], "-" if r["model"] == "teacher" else r["loss"], _target_use(run, r["model"]),
             fmt_ci(r["top1_p3"]), fmt_ci(r["top1_ens"]), run["settings"]["chance"], r["n_seeds"]]
            for r in run["table"]]
    return headers, rows


def comparison_table(run: dict[str, Any], metric: str = "top1_p3") -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of the paired differences of one metric."""
    headers = ["comparison", "kind", "difference [95% CI]", "p", "per seed"]
    rows = [[f"{c['a']} − {c['b']}", c["kind"], fmt_ci(c, signed=True), fmt_p(c["p_value"]),
             " ".join(f"{x:+.3f}" for x in c["per_seed"])]
            for c in run["comparisons"] if c["metric"] == metric]
    return headers, rows


def curation_stats_table(run: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of the curation statistics of every seed (threshold source, sizes, precision)."""
    headers = ["seed", "method", "threshold from", "value", "pairs", "clips", "captions", "precision",
               "target precision"]
    rows = [[c["seed"], c["method"], c.get("threshold_source", "-"), c["threshold_value"], c["n_pairs"],
             c["n_audio"], c["n_text"], c["precision"], c["target_precision"]] for c in run["curation"]]
    return headers, rows


def sweep_table(run: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of the pairs kept at each threshold of the sweep (reported, never used to choose)."""
    headers = ["seed", "method", "threshold", "value", "pairs kept"]
    rows = [[c["seed"], c["method"], str(s["threshold"]), s["value"], s["n_pairs"]]
            for c in run["curation"] for s in c["sweep"]]
    return headers, rows


def _comp(run: dict[str, Any], a: str, b: str, metric: str = "top1_p3") -> dict[str, Any] | None:
    return next((c for c in run["comparisons"] if c["a"] == a and c["b"] == b and c["metric"] == metric),
                None)


def _side(c: dict[str, Any]) -> int:
    return 1 if c["ci_low"] > 0 else -1 if c["ci_high"] < 0 else 0


def verdicts(run: dict[str, Any], metric: str = "top1_p3") -> list[str]:
    """Plain sentences, from the intervals: soft vs InfoNCE, and whether any curated student beats
    its teacher (and the replay control)."""
    out = []
    what = METRIC_NAMES.get(metric, metric)
    soft = [c for c in run["comparisons"] if c["kind"] == "soft vs InfoNCE" and c["metric"] == metric]
    if soft:
        parts = {1: [], -1: [], 0: []}
        for c in soft:
            method = c["a"].rsplit("-", 1)[0]
            parts[_side(c)].append(f"{method} ({fmt_ci(c, True)}, p = {fmt_p(c['p_value'])})")
        s = f"Soft loss against InfoNCE ({what}, paired per clip and seed): "
        labels = ((1, "the soft loss is better"), (-1, "InfoNCE is better"),
                  (0, "no difference resolved (the interval holds 0)"))
        s += "; ".join(f"{lab}: {', '.join(parts[k])}" for k, lab in labels if parts[k]) + "."
        out.append(s)
    studs = [c for c in run["comparisons"] if c["kind"] == "student vs teacher" and c["metric"] == metric
             and not c["a"].startswith("replay")]
    better = [c for c in studs if _side(c) == 1]
    if better:
        out.append(f"Curated students that beat their teacher ({what}; interval above 0): " + ", ".join(
            f"{c['a']} ({fmt_ci(c, True)}, p = {fmt_p(c['p_value'])})" for c in better) + ".")
    elif studs:
        best = max(studs, key=lambda c: c["estimate"])
        worse = [c["a"] for c in studs if _side(c) == -1]
        out.append(f"No curated student beats its teacher ({what}): no interval lies above 0; the "
                   f"largest difference is {best['a']} {fmt_ci(best, True)} (p = {fmt_p(best['p_value'])})"
                   + (f"; below the teacher: {', '.join(worse)}" if worse else "") + ".")
    rep = [c for c in run["comparisons"]
           if c["kind"] == "method vs replay control" and c["metric"] == metric]
    above = [c for c in rep if _side(c) == 1]
    if rep:
        out.append("Against the replay control (the same extra training without curated pairs): "
                   + ("better: " + ", ".join(f"{c['a']} ({fmt_ci(c, True)}, p = {fmt_p(c['p_value'])})"
                                             for c in above)
                      if above else "no curated student's interval lies above 0") + ".")
    return out


def _run_title(run: dict[str, Any]) -> str:
    return f"setting {run['setting']}, audio encoder {run['audio_encoder']}"


def _sizes_sentence(run: dict[str, Any]) -> str:
    sz, st = run["settings"]["sizes"], run["settings"]
    return (f"{sz['target_classes']} target instruments, {sz['test_audio']} test clips per seed (each seed "
            f"its own split and training; seeds {st['seeds']}); teacher: {sz['teacher_pairs']} pairs of "
            f"{sz['teacher_clips']} clips; pools: {sz['audio_pool']} unpaired clips, {sz['text_pool']} "
            f"unpaired captions; teacher {st['teacher_config']['epochs']} epochs, students "
            f"{st['student_epochs']} epochs; run time {run['timings'].get('total', '-')} s.")


def docs_markdown(doc: dict[str, Any]) -> str:
    """The docs' generated part: the verdicts of every run first (with their intervals and
    p-values), then per run its tables (top-1, paired differences, curated sets)."""
    runs = doc["results"]["runs"]
    md = [f"Generated from `{doc['schema']}` created {doc['created']} by `{doc['command']}` "
          f"(pairspace {doc.get('pairspace_version')}).", "", "### Verdicts", ""]
    for run in runs:
        md += [f"**{_run_title(run)}**", "",
               *[f"- {s}" for s in verdicts(run, "top1_p3") + verdicts(run, "top1_ens")[:2]], ""]
    for run in runs:
        md += [f"### {_run_title(run)}", "", _sizes_sentence(run), "",
               "Zero-shot top-1 on the target task (mean over seeds, 95% bootstrap interval over seeds "
               "and clips):", "", markdown_table(*improve_table(run)), "",
               "Paired differences, P3 prompt (bootstrap interval over seeds and clips; sign-flip "
               "p-value, stratified McNemar):", "", markdown_table(*comparison_table(run, "top1_p3")), "",
               "Curated sets (threshold from the rule on the teacher's held-out seen classes unless given; "
               "precision from the pool's true instruments, never used to choose):",
               "", markdown_table(*curation_stats_table(run)), ""]
    return "\n".join(md) + "\n"


def plot_improve(doc: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """One row per run: top-1 with intervals, each student minus the teacher, and the curation sweep."""
    import numpy as np

    from .plots import plt, save_figure

    runs = doc["results"]["runs"]
    fig, axes = plt.subplots(len(runs), 3, figsize=(15, 3.6 * len(runs)), squeeze=False)
    for ax3, run in zip(axes, runs, strict=True):
        names = [r["key"] for r in run["table"]]
        y = np.arange(len(names))[::-1]
        for off, m, col in ((0.15, "top1_p3", "C0"), (-0.15, "top1_ens", "C1")):
            est = np.array([r[m]["estimate"] for r in run["table"]])
            lo = np.array([r[m]["ci_low"] for r in run["table"]])
            hi = np.array([r[m]["ci_high"] for r in run["table"]])
            ax3[0].errorbar(est, y + off, xerr=[est - lo, hi - est], fmt="o", color=col, capsize=3,
                            label=METRIC_NAMES[m])
        ax3[0].axvline(run["settings"]["chance"], color="gray", ls=":", label="chance")
        ax3[0].set_yticks(y, names)
        ax3[0].set_xlabel("zero-shot top-1 (95% CI)")
        ax3[0].set_title(_run_title(run), fontsize=9)
        ax3[0].legend(fontsize=7)
        comps = [c for c in run["comparisons"]
                 if c["kind"] == "student vs teacher" and c["metric"] == "top1_p3"]
        yc = np.arange(len(comps))[::-1]
        est = np.array([c["estimate"] for c in comps])
        ax3[1].errorbar(est, yc, xerr=[est - np.array([c["ci_low"] for c in comps]),
                                       np.array([c["ci_high"] for c in comps]) - est],
                        fmt="o", color="C2", capsize=3)
        ax3[1].axvline(0, color="gray", lw=1)
        ax3[1].set_yticks(yc, [c["a"] for c in comps])
        ax3[1].set_xlabel("student − teacher, P3 top-1 (paired, 95% CI)")
        for i, method in enumerate(dict.fromkeys(c["method"] for c in run["curation"])):
            for c in (c for c in run["curation"] if c["method"] == method):
                pts = sorted((s["value"], s["n_pairs"]) for s in c["sweep"] if s["value"] is not None)
                if pts:
                    ax3[2].plot(*zip(*pts, strict=True), "-", color=f"C{i}", alpha=0.6,
                                label=method if c["seed"] == run["settings"]["seeds"][0] else None)
                if c["threshold_value"] is not None:
                    ax3[2].plot([c["threshold_value"]], [max(c["n_pairs"], 0.8)], "v", color=f"C{i}")
        ax3[2].set_yscale("symlog", linthresh=1)
        ax3[2].set_xlabel("threshold (cosine); ▼ = the rule's threshold, per seed")
        ax3[2].set_ylabel("pairs kept (sweep; not used to choose)")
        ax3[2].legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def improve_html(doc: dict[str, Any], png: str | os.PathLike[str] | None) -> str:
    """A self-contained HTML page (the figure inlined) of the improve document."""
    from .html import html_page, html_table, png_data_uri

    sections = []
    if png is not None:
        sections.append(("Results and curation sweep",
                         f'<img alt="improve results" src="{png_data_uri(png)}">'))
    for run in doc["results"]["runs"]:
        body = [f"<p>{html.escape(_sizes_sentence(run))}</p>", html_table(*improve_table(run)),
                "<h3>Paired differences (P3 prompt)</h3>", html_table(*comparison_table(run, "top1_p3")),
                "<h3>Paired differences (ensembled templates)</h3>",
                html_table(*comparison_table(run, "top1_ens")),
                "<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in verdicts(run)) + "</ul>",
                "<h3>Curated sets</h3>", html_table(*curation_stats_table(run)),
                "<h3>Threshold sweep (reported, never used to choose)</h3>", html_table(*sweep_table(run))]
        sections.append((_run_title(run), "\n".join(body)))
    return html_page("Unsupervised improvement (arXiv 2305.01864)", sections,
                     note=f"schema {doc['schema']}, pairspace {doc.get('pairspace_version')}, "
                          f"created {doc['created']}; command: {doc['command']}")


def write_improve_report(doc: dict[str, Any], results: Sequence[Any], out: str | os.PathLike[str]
                         ) -> dict[str, Path]:
    """Write ``improve.json``, ``improve.png``, ``report.html``, ``report.md`` and, per run, the
    splits (``split-seed<s>.json``) and the curated manifests (``seed<s>/curation/METHOD.csv``)."""
    out = Path(out)
    paths = {"json": write_json(out / "improve.json", doc)}
    for res in results:
        folder = Path(res.settings["out"])
        for seed, data in res.data.items():
            write_json(folder / f"split-{seed}.json", data.to_dict())
        for seed, run in res.runs.items():
            for method, r in run.results.items():
                write_manifest(r, folder / seed / "curation" / f"{method}.csv")
    paths["png"] = plot_improve(doc, out / "improve.png")
    paths["html"] = atomic_write_bytes(out / "report.html", improve_html(doc, paths["png"]).encode())
    paths["md"] = atomic_write_bytes(out / "report.md", ("# Unsupervised improvement\n\n"
                                                         + docs_markdown(doc)).encode())
    return paths
