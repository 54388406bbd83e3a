"""Files of the leakage audit: ``audit.json``, CSV tables, figures and a self-contained HTML page.

Every user string (captions, class names, ids) is escaped in the HTML; CSV cells are quoted by the
csv module and a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
leading apostrophe so that no spreadsheet runs it as a formula.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._atomic import write_json
from .audit_tables import write_tables
from .html import fmt_cell, html_page, html_table, png_data_uri, write_html

FAMILY_NOTE = ("A 'family' accuracy is not zero-shot when family nouns occur in the training captions and "
               "every family has trained members.")


def write_figures(doc: dict[str, Any], out: Path) -> dict[str, Path]:
    """The PNG figures of the audit (``doc``: the results)."""
    from .audit_plots import (
        plot_controls,
        plot_differences,
        plot_l1,
        plot_map,
        plot_nngs,
        plot_scatter,
        plot_sweep,
    )
    from .plots import save_figure

    flagged = set(doc["caption_leaks"]["classes_with_lexical_leaks"])
    figs: dict[str, Path] = {}
    ctl = doc.get("controls")
    if ctl and ctl["controls"]:
        probe = doc["separability"]["audio backbone"]["probe_accuracy"]
        figs["fig controls"] = save_figure(plot_controls(ctl["controls"], ctl["chance"], probe),
                                           out / "controls.png")
        rows = [(f"{n} - full", s["vs_full"]) for n, s in ctl["controls"].items() if "vs_full" in s]
        if rows:
            figs["fig vs_full"] = save_figure(plot_differences(
                rows, title="every control against full, paired per clip and seed"),
                out / "controls_vs_full.png")
    dec = doc.get("attribution", {}).get("decomposition", {})
    if dec:
        figs["fig decomposition"] = save_figure(plot_differences(
            [(f"{k}: {v['a']} - {v['b']}", v) for k, v in dec.items()],
            title="decomposition of the clean gap: words part and classes part"), out / "decomposition.png")
    if doc.get("l1"):
        figs["fig l1"] = save_figure(plot_l1(doc["l1"]), out / "l1_backbones.png")
    for space, coords in doc["maps"].items():
        slug = space.replace(" ", "_")
        figs[f"map {space}"] = save_figure(plot_map(
            coords, doc["eval_labels"], title=f"t-SNE of the evaluation clips (first split), {space} space",
            flagged=flagged), out / f"map_{slug}.png")
    att = doc.get("attribution", {})
    sv = att.get("separability_vs_accuracy")
    if sv and sv["points"]:
        measure = att["separability_measure"].replace("_", " ")
        fig = plot_scatter(sv["points"], flagged, xlabel=f"backbone {measure} per class", rho=sv["spearman"])
        figs["scatter"] = save_figure(fig, out / "separability_vs_zeroshot.png")
    if doc["nngs"]:
        figs["nngs"] = save_figure(plot_nngs(doc["nngs"]), out / "nngs_centroids_prompts.png")
    cl = doc["caption_leaks"]
    if cl["sweep"]:
        figs["sweep"] = save_figure(plot_sweep(cl["sweep"], cl["threshold"], cl["n_texts"]),
                                    out / "semantic_sweep.png")
    return figs


def _img(path: Path, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="{png_data_uri(path)}">'


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{html.escape(summary)}</summary>{body}</details>"


def _ci(d: dict[str, Any] | None) -> tuple[Any, Any, Any, str]:
    if not d:
        return ("", "", "", "")
    p = d.get("p_value")
    return (d["estimate"], d["ci_low"], d["ci_high"], "" if p is None else f"{p:.1e}")


def _leak_section(doc: dict[str, Any]) -> str:
    cl = doc["caption_leaks"]
    rows = [(c, v["exact"], v["normalized"], v["synonym"], v["overlap"], v["semantic"], v["total"],
             " ".join(v["shared_words"]), "yes" if v["all_words_shared"] else "")
            for c, v in cl["per_class"].items() if v["total"]]
    return (f"<p>{len(cl['classes_with_lexical_leaks'])} of {len(doc['classes'])} evaluation classes "
            "(first split) are named "
            f"lexically by {cl['n_flagged_lexical_texts']} of {cl['n_texts']} training captions "
            f"(semantic threshold {fmt_cell(cl['threshold'])}). The flagged captions are listed at the end "
            "of the page and in caption_leaks.csv.</p>"
            + html_table(["class", "exact", "normalized", "synonym", "overlap", "semantic", "captions",
                          "shared words", "every word"], rows))


def _caption_list(doc: dict[str, Any]) -> str:
    cl = doc["caption_leaks"]
    first = [(r["id"], r["class"], r["kind"], r["score"], r["text"]) for r in cl["leaks"][:200]]
    return _details(f"the first {len(first)} of {len(cl['leaks'])} flagged (caption, class) pairs",
                    html_table(["id", "class", "kind", "score", "caption"], first))


def _separability_section(doc: dict[str, Any], figs: dict[str, Path]) -> str:
    rows = [(s, v["silhouette"], v["knn_accuracy"], v["probe_accuracy"], v["n"], v["n_classes"])
            for s, v in doc["separability"].items()]
    parts = ["<p>Audio side, first split.</p>",
             html_table(["space", "cosine silhouette", "leave-one-out 1-NN", "linear probe (CV)", "clips",
                         "classes"], rows)]
    ts = doc.get("text_separability") or {}
    trows = [(f"{name}: {sp}", v[sp]["silhouette"], v[sp]["knn_accuracy"], v[sp]["probe_accuracy"], v["n"],
              v[sp]["n_classes"]) for name, v in ts.items() for sp in ("backbone", "projected") if sp in v]
    if trows:
        parts += ["<p>Text side (Tavares et al. measure both sides): the prompts (every template, every "
                  "evaluation class) and the captions of the evaluation clips, in the text backbone and "
                  "after the audited heads' projection.</p>",
                  html_table(["items: space", "cosine silhouette", "leave-one-out 1-NN", "linear probe (CV)",
                              "items", "classes"], trows)]
    for name, c in doc["nngs"].items():
        parts.append(f"<p>NNGS of class centroids vs prompts, {html.escape(name)}: "
                     + ", ".join(f"k={k}: {v:.3f} (chance {ch:.3f})"
                                 for k, v, ch in list(zip(c["k"], c["nngs"], c["chance"], strict=True))[:5])
                     + "</p>")
    parts += [_img(p, k) for k, p in figs.items() if k.startswith("map") or k == "nngs"]
    return "\n".join(parts)


def _controls_section(doc: dict[str, Any], figs: dict[str, Path]) -> str:
    ctl = doc["controls"]
    rows = [(n, s["accuracy"]["estimate"], s["accuracy"]["ci_low"], s["accuracy"]["ci_high"],
             *_ci(s.get("vs_full")), s["n_pairs"], ", ".join(f"{a:.3f}" for a in s["top1"]))
            for n, s in ctl["controls"].items()]
    lo, hi = ctl["chance_interval"]
    splits = [(s["seed"], len(s["unseen_classes"]), s["n_pairs"], s["n_flagged"],
               ", ".join(s["unseen_classes"])) for s in ctl.get("splits", [])]
    return (html_table(["control", "top-1", "95% CI low", "high", "control - full", "CI low", "high", "p",
                        "training pairs (mean)", "per seed"], rows)
            + f"<p>chance {ctl['chance']:.4f}, chance interval [{lo:.3f}, {hi:.3f}]. Intervals: two-stage "
              "bootstrap over seeds and clips; p: paired sign-flip test per clip (stratified McNemar). "
              "The leak control is compared on the clips it did not train on.</p>"
            + (_img(figs["fig vs_full"], "controls vs full") if "fig vs_full" in figs else "")
            + _details("the unseen classes of every seed",
                       html_table(["seed", "unseen classes", "training pairs", "flagged captions", "classes"],
                                  splits)))


def _decomposition_section(doc: dict[str, Any], figs: dict[str, Path]) -> str:
    dec = doc["attribution"]["decomposition"]
    rows = [(k, v["meaning"], *_ci(v)) for k, v in dec.items()]
    out = (html_table(["part", "meaning", "estimate", "95% CI low", "high", "p"], rows)
           + "<p>words + classes = total exactly (per clip and seed).</p>")
    lk = doc["attribution"].get("leak")
    if lk and lk.get("vs_full"):
        out += ("<h3>Planted leak</h3>" + html_table(
            ["leak - full (held-out clips)", "CI low", "high", "p", "leak captions per seed",
             "detector recall"],
            [(*_ci(lk["vs_full"]), ", ".join(map(str, lk["n_leak_captions"])),
              ", ".join(fmt_cell(r) for r in lk["detector_recall"]))]))
    return out + (_img(figs["fig decomposition"], "decomposition") if "fig decomposition" in figs else "")


def _l1_section(doc: dict[str, Any], figs: dict[str, Path]) -> str:
    l1 = doc["l1"]
    rows = []
    for name, pb in l1["per_backbone"].items():
        for m in ("zeroshot", "knn", "probe"):
            g = pb[m]
            rows.append((name, m, g["tagged"]["estimate"], g["untagged"]["estimate"], *_ci(g["gap"])))
    crow = []
    for pair, c in l1["contrasts"].items():
        for m, v in c.items():
            crow.append((pair, m, *_ci(v["tagged"])[:3], *_ci(v["untagged"])[:3],
                         *_ci(v["gap_difference"])))
    tagged = [(s["seed"], ", ".join(f"{k} ({'/'.join(v)})" for k, v in s["tagged_classes"].items()))
              for s in l1["per_seed"]]
    return ("<p>Tags that name an instrument: " + html.escape(", ".join(l1["tags"])) + ".</p>"
            + html_table(["backbone", "measure", "tagged", "untagged", "gap", "CI low", "high", "p"], rows)
            + html_table(["contrast", "measure", "tagged diff", "low", "high", "untagged diff", "low", "high",
                          "gap difference", "low", "high", "p"], crow)
            + (_img(figs["fig l1"], "route L1") if "fig l1" in figs else "")
            + _details("tagged instruments per seed", html_table(["seed", "tagged (tags)"], tagged)))


def report_html(env: dict[str, Any], figs: dict[str, Path]) -> str:
    """The self-contained audit page (figures inlined, every user string escaped), ordered for a
    reviewer: verdict and controls first, the details after, the long caption lists last (collapsed)."""
    from ..studies.audit.study import results_of

    doc = results_of(env)
    top = "".join(f"<p>{html.escape(s)}</p>" for s in doc["verdict"])
    if "fig controls" in figs:
        top += _img(figs["fig controls"], "controls")
    sec: list[tuple[str, str]] = [("Verdict", top)]
    if doc.get("controls"):
        sec.append(("1. Controls (paired against full)", _controls_section(doc, figs)))
    if doc.get("attribution", {}).get("decomposition"):
        sec.append(("2. Where the clean gap comes from: words or classes", _decomposition_section(doc, figs)))
    if doc.get("l1"):
        sec.append(("3. Route L1: a backbone supervised on the names", _l1_section(doc, figs)))
    sec.append(("4. Separability already in the spaces", _separability_section(doc, figs)))
    if "scatter" in figs:
        sec.append(("5. Per-class separability and zero-shot recall", _img(figs["scatter"],
                                                                            "separability vs zero-shot")))
    sec.append(("6. Caption leaks", _leak_section(doc) + (_img(figs["sweep"], "semantic sweep")
                                                           if "sweep" in figs else "")))
    so = doc["source_overlap"]
    nd = so["near_duplicates"]
    txt = (f"<p>{nd['n_duplicates']} of {nd['n_eval']} evaluation clips have a training clip with backbone "
           f"cosine >= {nd['threshold']}.</p>")
    if "shared_sources" in so:
        txt += f"<p>{so['shared_sources']['n_shared']} source ids are shared by training and evaluation.</p>"
    sec.append(("7. Source overlap", txt))
    lrows = [(name, m["class"], m["kind"], ", ".join(m["labels"]))
             for name, lo in doc["label_overlap"].items() for m in lo["matches"]]
    sec.append(("8. Backbone label overlap", html_table(["label set", "class", "match", "labels"], lrows)
                if lrows else "<p>No label set given, or no evaluation class matches one.</p>"))
    if doc.get("gzsl"):
        g = doc["gzsl"]
        sec.append(("Generalized zero-shot (first split)", html_table(
            ["seen accuracy", "unseen accuracy", "harmonic mean", "unseen clips predicted as seen"],
            [(g["seen_accuracy"], g["unseen_accuracy"], g["harmonic_mean"], g["unseen_predicted_as_seen"])])))
    sec += _demo_sections(doc)
    sec.append(("Flagged captions", _caption_list(doc)))
    return html_page("pairspace leakage audit", sec,
                     note=f"schema {env.get('schema', '')}, pairspace {env.get('pairspace_version', '')}. "
                          f"{env.get('command', '')}. {FAMILY_NOTE}")


def _demo_sections(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """The demonstration's label-noise caption variant and leaky-backbone experiment, when present."""
    sec = []
    var = doc.get("caption_variants")
    if var:
        lx = var["lexical_name"]
        pr = [(r["threshold"], r["precision"], r["recall"], r["tp"], r["fp"]) for r in var["semantic_pr"]]
        z = [(k, v["mean"], v["std"], v["min"], v["max"], v["n_pairs"]) for k, v in var["zeroshot"].items()]
        sec.append(("Caption detector on a known truth (label-noise variant)",
                    f"<p>{var['n_rewritten']} of {var['n_captions']} seen captions rewritten to name "
                    f"an unseen instrument over another instrument's clip, {var['n_decoys']} decoys with "
                    f"near-miss words. Lexical detector: precision "
                    f"{lx['precision']:.3f}, recall {lx['recall']:.3f}; decoys flagged "
                    f"{var['decoys_flagged_by_name']}; lexical flags left in the clean variant "
                    f"{var['clean_lexical_flags']}.</p>"
                    + html_table(["semantic threshold", "precision", "recall", "TP", "FP"], pr)
                    + html_table(["captions", "mean top-1", "sd", "min", "max", "pairs"], z)))
    lb = doc.get("leaky_backbone")
    if lb:
        rows = [(k, v["n_pretrain_classes"], v["probe_accuracy"], v["knn_accuracy"], v["silhouette"],
                 v["zeroshot"]["mean"], v["zeroshot"]["std"], v["shuffled"]["mean"])
                for k, v in lb.items() if k != "n_extra_clips"]
        sec.append(("Leaky backbone", html_table(
            ["pre-training classes", "n classes", "probe", "1-NN", "silhouette", "zero-shot mean", "sd",
             "shuffled"], rows)))
    return sec


def write_audit_report(env: dict[str, Any], out: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``audit.json`` (the envelope), the CSV tables, the figures and ``report.html`` into ``out``."""
    from ..studies.audit.study import results_of

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    doc = results_of(env)
    files = {"json": write_json(out / "audit.json", env), **write_tables(doc, out)}
    figs = write_figures(doc, out)
    files.update(figs)
    files["html"] = write_html(out / "report.html", report_html(env, figs))
    return files


def _md(v: Any, digits: int = 3) -> str:
    """One Markdown table cell (numbers rounded, pipes and HTML escaped)."""
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return html.escape(str(v), quote=False).replace("|", "\\|")


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(_md(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_md(c) for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _md_ci(d: dict[str, Any] | None, signed: bool = True) -> str:
    if not d or d.get("estimate") is None:
        return "n/a"
    f = "+.3f" if signed else ".3f"
    return f"{d['estimate']:{f}} [{d['ci_low']:{f}}, {d['ci_high']:{f}}]"


def _md_p(d: dict[str, Any] | None) -> str:
    p = (d or {}).get("p_value")
    return "n/a" if p is None else f"{p:.1e}"


def docs_markdown(doc: dict[str, Any]) -> str:
    """The generated part of ``docs/studies/audit.md``: the verdict and every table, from the audit
    envelope (numbers are never typed by hand; each comes with its 95% interval)."""
    from ..studies.audit.study import results_of

    r = results_of(doc)
    st = doc.get("settings", {})
    out = [f"Generated from `audit.json` (schema `{_md(doc.get('schema'))}`, pairspace "
           f"{_md(doc.get('pairspace_version'))}, created {_md(doc.get('created'))}) by "
           f"`{_md(doc.get('command'))}`.\n"]
    out.append("**Verdict** (intervals: 95% two-stage bootstrap over seeds and clips; p: paired sign-flip "
               "test per clip, stratified McNemar):\n")
    out += [f"- {_md(s)}" for s in r["verdict"]]
    out.append("")
    ctl = r.get("controls", {})
    if ctl.get("controls"):
        out.append(f"**Controls** (zero-shot top-1 on the unseen classes; seeds {_md(st.get('seeds'))}, each "
                   "with its own split and training seed; chance "
                   f"{ctl['chance']:.3f}):\n")
        out.append(_md_table(["control", "training pairs (mean)", "top-1 [95% CI]", "control − full [95% CI]",
                              "p"],
                             [(n, s["n_pairs"], _md_ci(s["accuracy"], False), _md_ci(s.get("vs_full")),
                               _md_p(s.get("vs_full"))) for n, s in ctl["controls"].items()]))
        out.append(_md_table(["seed", "unseen classes", "training pairs", "captions flagged"],
                             [(s["seed"], len(s["unseen_classes"]), s["n_pairs"], s["n_flagged"])
                              for s in ctl.get("splits", [])]))
    dec = r.get("attribution", {}).get("decomposition", {})
    if dec:
        out.append("**Decomposition of the clean gap** (paired differences a − b of top-1; words + classes = "
                   "total):\n")
        out.append(_md_table(["part", "a − b", "estimate [95% CI]", "p"],
                             [(k, f"{v['a']} − {v['b']}", _md_ci(v), _md_p(v)) for k, v in dec.items()]))
    lk = r.get("attribution", {}).get("leak")
    if lk and lk.get("vs_full"):
        out.append("**Planted leak** (the leak control against full, on the clips it did not train on):\n")
        out.append(_md_table(["leak − full [95% CI]", "p", "leak captions per seed",
                              "detector recall per seed"],
                             [(_md_ci(lk["vs_full"]), _md_p(lk["vs_full"]),
                               ", ".join(map(str, lk["n_leak_captions"])),
                               ", ".join(_md(x) for x in lk["detector_recall"]))]))
    l1 = r.get("l1")
    if l1:
        out.append("**Route L1**: instruments whose name or synonym contains one of musicnn's instrument "
                   f"tags ({_md(', '.join(l1['tags']))}) against the others, per backbone:\n")
        rows = []
        for name, pb in l1["per_backbone"].items():
            for m in ("zeroshot", "knn", "probe"):
                g = pb[m]
                rows.append((name, m, _md_ci(g["tagged"], False), _md_ci(g["untagged"], False),
                             _md_ci(g["gap"]), _md_p(g["gap"])))
        out.append(_md_table(["backbone", "measure", "tagged [95% CI]", "untagged [95% CI]",
                              "tagged − untagged [95% CI]", "p"], rows))
        crow = [(pair, m, _md_ci(v["tagged"]), _md_ci(v["untagged"]), _md_ci(v["gap_difference"]),
                 _md_p(v["gap_difference"])) for pair, c in l1["contrasts"].items() for m, v in c.items()]
        out.append(_md_table(["contrast (paired per clip)", "measure", "on tagged", "on untagged",
                              "difference of gaps", "p"], crow))
        out.append(_md_table(["seed", "tagged instruments"],
                             [(s["seed"], ", ".join(s["tagged_classes"])) for s in l1["per_seed"]]))
    ts = r.get("text_separability") or {}
    sep = r.get("separability", {})
    if sep or ts:
        out.append("**Separability already in the spaces** (first split; leave-one-out 1-NN, 4-fold linear "
                   "probe, cosine silhouette):\n")
        rows = [(f"audio: {k}", v["n"], v["knn_accuracy"], v["probe_accuracy"], v["silhouette"])
                for k, v in sep.items()]
        rows += [(f"text {name}: {sp}", v["n"], v[sp]["knn_accuracy"], v[sp]["probe_accuracy"],
                  v[sp]["silhouette"])
                 for name, v in ts.items() for sp in ("backbone", "projected") if sp in v]
        out.append(_md_table(["space", "items", "1-NN", "probe", "silhouette"], rows))
    out += _md_timings(r)
    return "\n".join(out) + "\n"


def _md_timings(r: dict[str, Any]) -> list[str]:
    """The run-time tables of a demo audit (wall-clock seconds), when recorded."""
    tm = r.get("timings")
    if not tm:
        return []
    out = [f"**Run times** (wall-clock seconds; {tm['reused_runs']} finished control runs were found and "
           "reused when their key matched):\n",
           _md_table(["stage", "seconds"], [(k, f"{float(v):.1f}") for k, v in tm["seconds"].items()])]
    rows = [(k, "reused" if v.get("reused") else "embedded", v.get("seconds"))
            for k, v in tm.get("embedding", {}).items()]
    l1 = (r.get("l1") or {}).get("per_backbone", {})
    rows += [(f"{k} (route L1)", "reused" if v.get("embedding", {}).get("reused") else "embedded",
              v.get("embedding", {}).get("seconds"))
             for k, v in l1.items() if k not in tm.get("embedding", {})]
    out.append(_md_table(["audio table", "", "seconds"], [(a, b, None if c is None else f"{float(c):.1f}")
                                                          for a, b, c in rows]))
    if l1:
        out.append(_md_table(["route L1 backbone", "seconds (audio table, heads per seed unless they are the "
                              "controls' full runs, separability)"],
                             [(k, f"{float(v['seconds']):.1f}") for k, v in l1.items() if "seconds" in v]))
    return out
