"""Files of the ``compare`` report: the curve figure and the CSV table (no computation here)."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from .io import atomic_write_bytes
from .plots import plt, save_figure

CSV_COLUMNS = ("measure", "k", "value", "higher_is_similar", "p_value", "n_permutations",
               "null_mean", "null_q025", "null_q975", "ci_low", "ci_high", "ci_level", "ci_scheme")


def write_results_csv(path: str | os.PathLike[str], rows: list[dict[str, Any]]) -> Path:
    """One CSV line per measure and ``k`` (the ``results`` rows of ``results.json``)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({c: ("" if r.get(c) is None else r.get(c)) for c in CSV_COLUMNS})
    return atomic_write_bytes(path, buf.getvalue().encode())


def plot_compare_curve(curve: Any, path: str | os.PathLike[str], null_band: dict[str, Any] | None = None,
                       title: str = "") -> Path:
    """Two panels against ``k``: NNGS with its chance level and permutation-null band, and
    normalized NNGS ``(NNGS - chance) / (1 - chance)`` with the band normalized the same way."""
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10.5, 4.0))
    k = np.asarray(curve.k)
    ax0.plot(k, curve.nngs, lw=1.8, color="C0", label="NNGS")
    ax0.plot(k, curve.chance, ls="--", lw=1, color="0.4", label=f"chance ({curve.chance_method})")
    ax1.plot(k, curve.normalized, lw=1.8, color="C1", label="normalized NNGS")
    ax1.axhline(0.0, ls="--", lw=1, color="0.4", label="chance")
    if null_band is not None:
        lab = f"permutation null 95% ({null_band['n_permutations']} perms)"
        ax0.fill_between(null_band["k"], null_band["low"], null_band["high"], color="0.55",
                         alpha=0.35, label=lab)
        ch = np.asarray(curve.chance)
        with np.errstate(divide="ignore", invalid="ignore"):
            lo = (np.asarray(null_band["low"]) - ch) / (1.0 - ch)
            hi = (np.asarray(null_band["high"]) - ch) / (1.0 - ch)
        ax1.fill_between(null_band["k"], lo, hi, color="0.55", alpha=0.35, label=lab)
    ax0.set_ylim(0, 1.02)
    ax0.set_ylabel("NNGS")
    ax1.set_ylabel("normalized NNGS")
    for ax in (ax0, ax1):
        ax.set_xlabel("k (neighborhood size)")
        if k.max() > 50:
            ax.set_xscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
