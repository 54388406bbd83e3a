"""Plots for reports (matplotlib with the headless Agg backend)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .io import atomic_write_bytes  # noqa: E402


def save_figure(fig: Any, path: str | os.PathLike[str], dpi: int = 130) -> Path:
    """Save a figure atomically as PNG and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def k_axis(ax: Any, k: Any) -> None:
    """The neighborhood-size axis of every curve: always logarithmic (k spans decades, and the
    scale must not switch with the largest k), labeled, with a light grid."""
    import numpy as np

    kk = np.asarray(k)
    ax.set_xscale("log")
    if kk.size:
        ax.set_xlim(max(0.8, 0.9 * kk.min()), 1.1 * kk.max() if kk.max() > kk.min() else kk.max() + 1)
    ax.set_xlabel("k (neighborhood size, log scale)")
    ax.grid(alpha=0.3, which="both")


def plot_nngs_curve(curves: dict[str, Any], path: str | os.PathLike[str], title: str = "") -> Path:
    """NNGS against k for one or more curves, with the chance level.

    Parameters
    ----------
    curves : dict
        Label -> :class:`~pairspace.measures.nngs.NNGSCurve`.
    path : path-like
        Output PNG.
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    chance_drawn = set()
    for label, c in curves.items():
        ax.plot(c.k, c.nngs, lw=1.8, label=label)
        key = (c.n, c.chance_method)
        if key not in chance_drawn:
            ax.plot(c.k, c.chance, ls="--", color="0.4", lw=1,
                    label=f"chance (n={c.n}, {c.chance_method})")
            chance_drawn.add(key)
    ax.set_ylabel("NNGS")
    ax.set_ylim(0, 1.02)
    k_axis(ax, [int(v) for c in curves.values() for v in c.k])
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return save_figure(fig, path)
