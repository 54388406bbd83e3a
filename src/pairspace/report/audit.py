"""Files of the leakage audit: ``audit.json``, CSV tables, figures and a self-contained HTML page.

Every user string (captions, class names, ids) is escaped in the HTML; CSV cells are quoted by the
csv module and a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
leading apostrophe so that no spreadsheet runs it as a formula.
"""

from __future__ import annotations

import csv
import html
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .html import fmt_cell, html_page, html_table, png_data_uri, write_html
from .io import atomic_write_bytes, write_json

FAMILY_NOTE = ("A 'family' accuracy is not zero-shot when family nouns occur in the training captions and "
               "every family has trained members.")


def _cell(v: Any) -> Any:
    """Lists joined by spaces, then the toolkit's one formula guard (:func:`report.compare.csv_cell`)."""
    from .compare import csv_cell

    if isinstance(v, list | tuple):
        v = " ".join(str(x) for x in v)
    return csv_cell(v)


def write_csv(path: str | os.PathLike[str], columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> Path:
    """A CSV table with these columns (missing values empty, formula-like strings defused)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({c: _cell(r.get(c)) for c in columns})
    return atomic_write_bytes(path, buf.getvalue().encode("utf-8"))


def per_class_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per evaluation class: leak counts, separability in each space, zero-shot recall."""
    rows = []
    ctl = doc.get("controls", {}).get("controls", {})
    for c in doc["classes"]:
        leak = doc["caption_leaks"]["per_class"][c]
        r: dict[str, Any] = {"class": c, **{f"leaks_{k}": leak[k] for k in
                                             ("exact", "normalized", "synonym", "overlap", "semantic")},
                             "shared_words": leak["shared_words"],
                             "all_words_shared": leak["all_words_shared"]}
        for space, sep in doc["separability"].items():
            for m in ("silhouette", "knn_accuracy", "probe_accuracy"):
                r[f"{space}: {m}"] = sep["per_class"].get(c, {}).get(m)
        for name, s in ctl.items():
            r[f"zeroshot {name}"] = s["per_class"].get(c)
        rows.append(r)
    return rows


def write_tables(doc: dict[str, Any], out: Path) -> dict[str, Path]:
    """The CSV tables of the audit."""
    leak_cols = ("id", "class", "kind", "score", "words", "text")
    files = {"caption_leaks": write_csv(out / "caption_leaks.csv", leak_cols, doc["caption_leaks"]["leaks"])}
    rows = per_class_rows(doc)
    files["per_class"] = write_csv(out / "per_class.csv", list(rows[0]), rows)
    if doc["caption_leaks"]["sweep"]:
        files["semantic_sweep"] = write_csv(out / "semantic_sweep.csv",
                                            ("threshold", "n_captions", "n_pairs", "n_classes"),
                                            doc["caption_leaks"]["sweep"])
    ctl = doc.get("controls", {}).get("controls", {})
    if ctl:
        crow = [{"control": n, "seed": sd, "top1": a, "n_pairs": s["n_pairs"]}
                for n, s in ctl.items() for sd, a in zip(s["seeds"], s["top1"], strict=True)]
        files["controls"] = write_csv(out / "controls.csv", ("control", "seed", "top1", "n_pairs"), crow)
    lrow = [{"label_set": name, **m} for name, lo in doc["label_overlap"].items() for m in lo["matches"]]
    files["label_overlap"] = write_csv(out / "label_overlap.csv", ("label_set", "class", "kind", "labels"),
                                       lrow)
    files["near_duplicates"] = write_csv(out / "near_duplicates.csv", ("eval", "train", "cosine"),
                                         doc["source_overlap"]["near_duplicates"]["pairs"])
    return files


def write_figures(doc: dict[str, Any], out: Path) -> dict[str, Path]:
    """The PNG figures of the audit."""
    from .audit_plots import plot_controls, plot_map, plot_nngs, plot_scatter, plot_sweep

    flagged = set(doc["caption_leaks"]["classes_with_lexical_leaks"])
    figs: dict[str, Path] = {}
    for space, coords in doc["maps"].items():
        slug = space.replace(" ", "_")
        figs[f"map {space}"] = plot_map(coords, doc["eval_labels"], out / f"map_{slug}.png",
                                        f"t-SNE of the evaluation clips, {space} space "
                                        "(red: named in captions)",
                                        flagged)
    att = doc.get("attribution", {})
    sv = att.get("separability_vs_accuracy")
    if sv and sv["points"]:
        figs["scatter"] = plot_scatter(sv["points"], flagged, out / "separability_vs_zeroshot.png",
                                       f"backbone {att['separability_measure'].replace('_', ' ')} per class",
                                       sv["spearman"])
    ctl = doc.get("controls")
    if ctl and ctl["controls"]:
        probe = doc["separability"]["audio backbone"]["probe_accuracy"]
        figs["fig controls"] = plot_controls(ctl["controls"], ctl["chance"], probe, out / "controls.png")
    if doc["nngs"]:
        figs["nngs"] = plot_nngs(doc["nngs"], out / "nngs_centroids_prompts.png")
    cl = doc["caption_leaks"]
    if cl["sweep"]:
        figs["sweep"] = plot_sweep(cl["sweep"], cl["threshold"], cl["n_texts"], out / "semantic_sweep.png")
    return figs


def _img(path: Path, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="{png_data_uri(path)}">'


def _leak_section(doc: dict[str, Any]) -> str:
    cl = doc["caption_leaks"]
    rows = [(c, v["exact"], v["normalized"], v["synonym"], v["overlap"], v["semantic"], v["total"],
             " ".join(v["shared_words"]), "yes" if v["all_words_shared"] else "")
            for c, v in cl["per_class"].items() if v["total"]]
    first = [(r["id"], r["class"], r["kind"], r["score"], r["text"]) for r in cl["leaks"][:60]]
    return (f"<p>{len(cl['classes_with_lexical_leaks'])} of {len(doc['classes'])} evaluation classes "
            "are named "
            f"lexically by {cl['n_flagged_lexical_texts']} of {cl['n_texts']} training captions "
            f"(semantic threshold {fmt_cell(cl['threshold'])}).</p>"
            + html_table(["class", "exact", "normalized", "synonym", "overlap", "semantic", "captions",
                          "shared words", "every word"], rows)
            + "<p>First flagged captions (all of them in caption_leaks.csv):</p>"
            + html_table(["id", "class", "kind", "score", "caption"], first))


def _separability_section(doc: dict[str, Any], figs: dict[str, Path]) -> str:
    rows = [(s, v["silhouette"], v["knn_accuracy"], v["probe_accuracy"], v["n"], v["n_classes"])
            for s, v in doc["separability"].items()]
    parts = [html_table(["space", "cosine silhouette", "leave-one-out 1-NN", "linear probe (CV)", "clips",
                         "classes"], rows)]
    for name, c in doc["nngs"].items():
        parts.append(f"<p>NNGS of class centroids vs prompts, {html.escape(name)}: "
                     + ", ".join(f"k={k}: {v:.3f} (chance {ch:.3f})"
                                 for k, v, ch in list(zip(c["k"], c["nngs"], c["chance"], strict=True))[:5])
                     + "</p>")
    parts += [_img(p, k) for k, p in figs.items() if k.startswith("map") or k == "nngs"]
    return "\n".join(parts)


def _controls_section(doc: dict[str, Any], figs: dict[str, Path]) -> str:
    ctl = doc["controls"]
    rows = [(n, s["mean"], s["std"], s["min"], s["max"], s["n_pairs"],
             ", ".join(f"{a:.3f}" for a in s["top1"]))
            for n, s in ctl["controls"].items()]
    lo, hi = ctl["chance_interval"]
    return (html_table(["control", "mean top-1", "sd", "min", "max", "training pairs", "per seed"], rows)
            + f"<p>chance {ctl['chance']:.4f}, chance interval [{lo:.3f}, {hi:.3f}]</p>"
            + (_img(figs["fig controls"], "controls") if "fig controls" in figs else ""))


def report_html(doc: dict[str, Any], figs: dict[str, Path]) -> str:
    """The self-contained audit page (figures inlined, every user string escaped)."""
    sec: list[tuple[str, str]] = [("Verdict", "".join(f"<p>{html.escape(s)}</p>" for s in doc["verdict"])),
                                  ("1. Caption leaks", _leak_section(doc))]
    if "sweep" in figs:
        sec[-1] = (sec[-1][0], sec[-1][1] + _img(figs["sweep"], "semantic sweep"))
    so = doc["source_overlap"]
    nd = so["near_duplicates"]
    txt = (f"<p>{nd['n_duplicates']} of {nd['n_eval']} evaluation clips have a training clip with backbone "
           f"cosine >= {nd['threshold']}.</p>")
    if "shared_sources" in so:
        txt += f"<p>{so['shared_sources']['n_shared']} source ids are shared by training and evaluation.</p>"
    sec.append(("2. Source overlap", txt))
    lrows = [(name, m["class"], m["kind"], ", ".join(m["labels"]))
             for name, lo in doc["label_overlap"].items() for m in lo["matches"]]
    sec.append(("3. Backbone label overlap", html_table(["label set", "class", "match", "labels"], lrows)
                if lrows else "<p>No label set given, or no evaluation class matches one.</p>"))
    sec.append(("4. Separability already in the spaces", _separability_section(doc, figs)))
    if doc.get("controls"):
        sec.append(("5. Controls", _controls_section(doc, figs)))
    if "scatter" in figs:
        sec.append(("6. Attribution", _img(figs["scatter"], "separability vs zero-shot")))
    if doc.get("gzsl"):
        g = doc["gzsl"]
        sec.append(("Generalized zero-shot", html_table(
            ["seen accuracy", "unseen accuracy", "harmonic mean", "unseen clips predicted as seen"],
            [(g["seen_accuracy"], g["unseen_accuracy"], g["harmonic_mean"], g["unseen_predicted_as_seen"])])))
    sec += _demo_sections(doc)
    return html_page("pairspace leakage audit", sec, note=f"schema {doc['schema']}. {FAMILY_NOTE}")


def _demo_sections(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """The demonstration's caption variants and leaky-backbone experiment, when present."""
    sec = []
    var = doc.get("caption_variants")
    if var:
        lx = var["lexical_name"]
        pr = [(r["threshold"], r["precision"], r["recall"], r["tp"], r["fp"]) for r in var["semantic_pr"]]
        z = [(k, v["mean"], v["std"], v["min"], v["max"], v["n_pairs"]) for k, v in var["zeroshot"].items()]
        sec.append(("Caption variants (known truth)",
                    f"<p>{var['n_rewritten']} of {var['n_captions']} seen captions rewritten to name "
                    f"an unseen instrument, {var['n_decoys']} decoys with near-miss words. "
                    f"Lexical detector: precision "
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


def write_audit_report(doc: dict[str, Any], out: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``audit.json``, the CSV tables, the figures and ``report.html`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = {"json": write_json(out / "audit.json", doc), **write_tables(doc, out)}
    figs = write_figures(doc, out)
    files.update(figs)
    files["html"] = write_html(out / "report.html", report_html(doc, figs))
    return files
