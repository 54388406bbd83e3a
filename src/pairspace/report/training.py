"""Report of a training run (``pairspace train``): training curves and a self-contained page.

Reads what :func:`pairspace.align.trainer.train` wrote into the run folder (``summary.json``, the
``pairspace.train/1`` envelope whose results hold the epoch history, or the flat summary of older
runs; ``metrics.jsonl`` when neither holds a history) and writes ``training_curves.png`` and
``report.html`` beside them. No computation happens here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..envelope import Envelope
from .format import format_number
from .html import html_page, html_table, png_data_uri, write_html
from .plots import plot_training_curves, plot_validation_recall, plt, save_figure

__all__ = ["read_run", "summary_results", "training_figure", "write_train_report"]


def summary_results(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The results of a ``summary.json``: those of a ``pairspace.train/1`` envelope, or an older
    run's flat summary as it is (both hold ``history``, ``best_epoch``, ``selection``, ``status``).

    Raises
    ------
    ValueError
        For an envelope of another schema.
    """
    if "schema" in doc:
        Envelope.from_dict(doc, "pairspace.train")
        return dict(doc["results"])
    return dict(doc)


def read_run(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """A run's summary results (:func:`summary_results`; its ``history`` read from
    ``metrics.jsonl`` when the summary lacks it, as a failed run's does).

    Parameters
    ----------
    run_dir : str or os.PathLike
        A folder written by ``pairspace train``.

    Returns
    -------
    dict
        At least ``history`` (one record per epoch) and, when known, ``best_epoch`` and ``selection``.
    """
    run_dir = Path(run_dir)
    summary: dict[str, Any] = {}
    if (run_dir / "summary.json").is_file():
        summary = summary_results(json.loads((run_dir / "summary.json").read_text(encoding="utf-8")))
    if not summary.get("history") and (run_dir / "metrics.jsonl").is_file():
        lines = (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
        summary["history"] = [json.loads(ln) for ln in lines if ln.strip()]
    if "history" not in summary:
        raise FileNotFoundError(f"{run_dir} has neither summary.json nor metrics.jsonl")
    return summary


def training_figure(runs: Mapping[str, Mapping[str, Any]]) -> Any:
    """Losses (left) and validation R@1 (right) against the epoch, one colour per run.

    Parameters
    ----------
    runs : dict
        Run label -> :func:`read_run` output.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11.5, 4.0))
    histories = {label: r["history"] for label, r in runs.items()}
    plot_training_curves(histories, ax=ax0, best_epochs={k: r.get("best_epoch") for k, r in runs.items()})
    ax0.set_title("loss (dot: the selected epoch)", fontsize=10)
    plot_validation_recall(histories, ax=ax1)
    ax1.set_title("validation retrieval", fontsize=10)
    fig.tight_layout()
    return fig


def summary_rows(runs: Mapping[str, Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    """One row per run: selection, selected epoch, epochs run, last train and validation loss."""
    rows = []
    for label, r in runs.items():
        last = r["history"][-1] if r["history"] else {}
        best = r.get("best_epoch")
        rows.append((label, r.get("selection", "\u2013"), "\u2013" if best is None else best + 1,
                     len(r["history"]), last.get("train_loss"), last.get("val_loss"),
                     last.get("val_r1_a2t")))
    return rows


SUMMARY_HEADERS = ["run", "selection", "selected epoch", "epochs", "last train loss",
                   "last validation loss", "last validation R@1"]


def write_train_report(run_dir: str | os.PathLike[str], title: str = "") -> dict[str, Path]:
    """Write ``training_curves.png`` and ``report.html`` into a run folder.

    Returns
    -------
    dict
        ``figure`` and ``html`` -> their paths.
    """
    run_dir = Path(run_dir)
    runs = {run_dir.name or "run": read_run(run_dir)}
    fig_path = save_figure(training_figure(runs), run_dir / "training_curves.png")
    cells = [tuple(format_number(v) if isinstance(v, float) else v for v in row)
             for row in summary_rows(runs)]
    sections = [("Summary", html_table(SUMMARY_HEADERS, cells)),
                ("Training curves", f'<img alt="training curves" src="{png_data_uri(fig_path)}">')]
    page = html_page(title or f"pairspace train: {run_dir.name}", sections,
                     note="epochs are counted from 1; the selected epoch is the checkpoint in "
                          "model.safetensors")
    return {"figure": fig_path, "html": write_html(run_dir / "report.html", page)}
