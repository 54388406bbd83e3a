"""Pair manifests and tables of the curation study (:mod:`pairspace.studies.curation`).

A manifest is a CSV with a header (``audio_id, text_id, similarity, method, uses_target_labels,
transductive, target_use``, then the method's extra columns), readable by
:func:`pairspace.align.trainer.load_pairs`, and a JSON sidecar (same stem) with the method, every
setting, the flags and the threshold sweep. Both are written atomically. The ids are written
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
    w.writerows({k: v if k in _VERBATIM else csv_cell(v) for k, v in r.items()} for r in rows)
    atomic_write_bytes(path, buf.getvalue().encode())
    side = path.with_suffix(".json")
    write_json(side, {**result.to_dict(), "manifest": path.name, **(extra or {})})
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
