"""CSV tables of the leakage audit (:func:`write_tables`): caption leaks, per class, controls,
paired differences, label overlap, near duplicates.

CSV cells are quoted by the csv module and a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return gets a leading apostrophe so that no spreadsheet runs it as a formula.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._atomic import atomic_write_bytes


def _cell(v: Any) -> Any:
    """Lists joined by spaces, then the toolkit's one formula guard (:func:`report.format.csv_cell`)."""
    from .format import csv_cell

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
    """The CSV tables of the audit (``doc``: the results)."""
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
        crow = [{"control": n, "seed": r["seed"], "top1": r["top1"], "n_pairs": r["n_pairs"]}
                for n, s in ctl.items() for r in s["per_seed"]]
        files["controls"] = write_csv(out / "controls.csv", ("control", "seed", "top1", "n_pairs"), crow)
        dec = doc.get("attribution", {}).get("decomposition", {})
        keys = ("estimate", "ci_low", "ci_high", "p_value")
        drow = [{"comparison": f"{n} - full", **{c: s["vs_full"][c] for c in keys}}
                for n, s in ctl.items() if "vs_full" in s]
        drow += [{"comparison": f"{k}: {v['a']} - {v['b']}", **{c: v[c] for c in keys}}
                 for k, v in dec.items()]
        files["differences"] = write_csv(out / "differences.csv",
                                         ("comparison", "estimate", "ci_low", "ci_high", "p_value"), drow)
    lrow = [{"label_set": name, **m} for name, lo in doc["label_overlap"].items() for m in lo["matches"]]
    files["label_overlap"] = write_csv(out / "label_overlap.csv", ("label_set", "class", "kind", "labels"),
                                       lrow)
    files["near_duplicates"] = write_csv(out / "near_duplicates.csv", ("eval", "train", "cosine"),
                                         doc["source_overlap"]["near_duplicates"]["pairs"])
    return files
