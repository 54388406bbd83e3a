"""Pair manifests and tables of the curation study (:mod:`pairspace.studies.curation`).

A manifest is a CSV with a header (``audio_id, text_id, similarity, method, uses_target_labels,
transductive, target_use``, then the method's extra columns), readable by
:func:`pairspace.align.trainer.load_pairs`, and a JSON sidecar (same stem) with the method, every
setting, the flags and the threshold sweep. Both are written atomically.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._atomic import atomic_write_bytes, write_json

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(v: Any) -> Any:
    """A CSV cell; strings that a spreadsheet would run as a formula get a leading quote."""
    if isinstance(v, str) and v.startswith(_FORMULA_START):
        return "'" + v
    return v


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
                   extra: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write ``result`` as ``path`` (CSV) and ``path`` with suffix ``.json`` (settings, flags, sweep).

    Parameters
    ----------
    result : CurationResult
        A curation result.
    path : path
        The CSV file (a ``.csv`` suffix is added when missing).
    extra : dict, optional
        More JSON fields for the sidecar (the teacher run, the input tables).
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
    w.writerows({k: _cell(v) for k, v in r.items()} for r in rows)
    atomic_write_bytes(path, buf.getvalue().encode())
    side = path.with_suffix(".json")
    write_json(side, {"schema": "pairspace.curation/1", **result.to_dict(), "manifest": path.name,
                      **(extra or {})})
    return {"csv": path, "json": side}


def sweep_table(results: Sequence[Any]) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows: pairs kept at each threshold of each result's sweep (with the flags)."""
    headers = ["method", "threshold", "value", "pairs kept", "uses target labels", "transductive"]
    rows = [[r.method, str(s["threshold"]), s["value"], s["n_pairs"], r.uses_target_labels,
             r.transductive] for r in results for s in r.sweep]
    return headers, rows


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], digits: int = 3) -> str:
    """A Markdown table; ``|`` and newlines in cells are escaped."""
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "-" if v != v else f"{v:.{digits}f}"
        return str(v).replace("|", r"\|").replace("\n", " ")

    out = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(out)


def _pm(mean: float, sd: float, digits: int = 3) -> str:
    return "-" if mean != mean else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def improve_table(result: Any) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of the experiment's table: mean ± sd over seeds, chance, gain over the teacher."""
    gains = {(g["model"], g["loss"]): g for g in result.gains}
    headers = ["model", "loss", "uses target labels", "P3 top-1", "ensembled top-1", "chance",
               "P3 gain over teacher", "seeds better"]
    rows = []
    for r in result.table:
        g = gains.get((r["model"], r["loss"]))
        rows.append([r["model"], r["loss"], "yes" if r["uses_target_labels"] else "no",
                     _pm(r["top1_p3"], r["top1_p3_sd"]), _pm(r["top1_ens"], r["top1_ens_sd"]),
                     r["chance"], _pm(g["top1_p3"], g["top1_p3_sd"]) if g else "-",
                     f"{g['top1_p3_wins']}/{r['n_seeds']}" if g else "-"])
    return headers, rows


def curation_stats_table(result: Any) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of the curation statistics of every seed (sizes, precision, flags)."""
    headers = ["seed", "method", "threshold", "value", "pairs", "clips", "captions", "precision",
               "target precision", "uses target labels"]
    rows = [[c["seed"], c["method"], str(c["threshold"]), c["threshold_value"], c["n_pairs"],
             c["n_audio"], c["n_text"], c["precision"], c["target_precision"],
             c["uses_target_labels"]] for c in result.curation]
    return headers, rows


def write_improve_report(result: Any, out: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``improve.json``, ``report.md`` and every seed's curation manifests under ``out``."""
    out = Path(out)
    paths = {"json": write_json(out / "improve.json", result.to_dict())}
    for seed, run in result.runs.items():
        for method, res in run.results.items():
            paths[f"{seed}/{method}"] = write_manifest(res, out / seed / "curation" / f"{method}.csv")["csv"]
    sweep_rows = [[c["seed"], c["method"], str(s["threshold"]), s["value"], s["n_pairs"]]
                  for c in result.curation for s in c["sweep"]]
    sizes = result.settings["sizes"]
    md = [
        "# Unsupervised improvement (curation) experiment", "",
        f"Seeds {result.settings['seeds']}; target classes: {sizes['target_classes']}; "
        f"pools: {sizes['audio_pool']} audio clips, {sizes['text_pool']} captions; teacher pairs: "
        f"{sizes['teacher_pairs']}. DS and ADS use the target task's label names (prompts "
        f"'{result.settings['prompt_p3']}'); DU is label-free.", "",
        "## Zero-shot accuracy on the target task (mean ± sd over seeds)", "",
        markdown_table(*improve_table(result)), "",
        "## Curated sets", "", markdown_table(*curation_stats_table(result)), "",
        "## Pairs kept at each threshold of the sweep", "",
        markdown_table(["seed", "method", "threshold", "value", "pairs kept"], sweep_rows), "",
    ]
    paths["md"] = atomic_write_bytes(out / "report.md", "\n".join(md).encode())
    return paths
