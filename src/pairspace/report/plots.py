"""Plots for reports (matplotlib with the headless Agg backend).

Every ``plot_*`` function draws into ``ax`` when one is given (so that a notebook or a larger figure
can place it) or into a new figure, and returns the :class:`matplotlib.figure.Figure`; saving is a
separate step (:func:`save_figure`, or ``path=`` where a function offers it).
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .._atomic import atomic_write_bytes  # noqa: E402

__all__ = ["k_axis", "panel_axes", "plot_confusion", "plot_nngs_curve", "plot_training_curves",
           "plot_validation_recall", "save_figure"]


def save_figure(fig: Any, path: str | os.PathLike[str], dpi: int = 130) -> Path:
    """Save a figure atomically as PNG and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def _axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    """``(figure, axes)``: the given axes and their figure, or a new figure with one axes."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def panel_axes(ax: Any, n: int, grid: tuple[int, int], figsize: tuple[float, float],
               **subplots: Any) -> tuple[Any, Any, bool]:
    """``(figure, axes, own)`` for a figure of ``n`` panels.

    Parameters
    ----------
    ax : matplotlib.axes.Axes, sequence or 2-D array of them, or None
        The caller's axes (one per panel, at least ``n``; a flat sequence is read as one row), or
        None for a new figure of ``grid`` (rows, columns) panels.
    n : int
        Panels the plot draws.
    grid, figsize, **subplots
        The new figure's layout, size and further :func:`matplotlib.pyplot.subplots` options.

    Returns
    -------
    tuple
        The figure, a 2-D object array of axes, and whether the figure is new (the plot then owns its
        layout, figure title and figure legend).
    """
    import numpy as np

    if ax is None:
        fig, axes = plt.subplots(*grid, figsize=figsize, squeeze=False, **subplots)
        return fig, axes, True
    axes = np.asarray(ax, dtype=object)
    if axes.ndim < 2:
        axes = axes.reshape(1, -1)
    if axes.size < n:
        raise ValueError(f"this plot draws {n} panels and needs as many axes, got {axes.size}")
    return axes.flat[0].figure, axes, False


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


def plot_nngs_curve(curves: Mapping[str, Any], path: str | os.PathLike[str] | None = None,
                    title: str = "", *, ax: Any = None) -> Any:
    """NNGS against k for one or more curves, with the chance level.

    Parameters
    ----------
    curves : dict
        Label -> :class:`~pairspace.measures.nngs.NNGSCurve`.
    path : path-like, optional
        Also save the figure there as PNG (and close it).
    title : str, optional
        Axes title.
    ax : matplotlib.axes.Axes, optional
        Draw into these axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _axes(ax, (6.4, 4.2))
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
    if path is not None:
        save_figure(fig, path)
    return fig


def _series(history: Sequence[Mapping[str, Any]], key: str) -> tuple[list[float], list[float]]:
    pts = [(float(r["epoch"]) + 1, float(r[key])) for r in history
           if r.get(key) is not None and r.get("epoch") is not None]
    return [p[0] for p in pts], [p[1] for p in pts]


def plot_training_curves(histories: Mapping[str, Sequence[Mapping[str, Any]]], ax: Any = None,
                         best_epochs: Mapping[str, int | None] | None = None) -> Any:
    """Training (dashed) and validation (solid) loss against the epoch, one colour per run.

    Parameters
    ----------
    histories : dict
        Run label -> its ``metrics.jsonl`` records (``epoch``, ``train_loss``, ``val_loss``).
    ax : matplotlib.axes.Axes, optional
        Draw into these axes instead of a new figure.
    best_epochs : dict, optional
        Run label -> the selected epoch (0-based), marked with a dot on its validation curve.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _axes(ax, (6.4, 4.2))
    for i, (label, hist) in enumerate(histories.items()):
        color = f"C{i}"
        ex, ey = _series(hist, "train_loss")
        ax.plot(ex, ey, ls="--", lw=1.2, color=color, label=f"{label}: train")
        vx, vy = _series(hist, "val_loss")
        if vx:
            ax.plot(vx, vy, lw=1.8, color=color, label=f"{label}: validation")
            best = (best_epochs or {}).get(label)
            if best is not None and best + 1 in vx:
                ax.plot([best + 1], [vy[vx.index(best + 1)]], "o", color=color, ms=5)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (log scale)")
    ax.set_yscale("log")  # losses of different kinds (InfoNCE, soft targets) differ in scale
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    return fig


def plot_validation_recall(histories: Mapping[str, Sequence[Mapping[str, Any]]], ax: Any = None,
                           key: str = "val_r1_a2t") -> Any:
    """A validation metric (audio-to-text R@1 by default) against the epoch, one line per run.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _axes(ax, (6.4, 4.2))
    drawn = 0
    for i, (label, hist) in enumerate(histories.items()):
        x, y = _series(hist, key)
        if x:
            ax.plot(x, y, lw=1.8, color=f"C{i}", label=label)
            drawn += 1
    ax.set_xlabel("epoch")
    ax.set_ylabel({"val_r1_a2t": "validation R@1, audio to text"}.get(key, key))
    ax.grid(alpha=0.3)
    if drawn:
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "no validation set", transform=ax.transAxes, ha="center", va="center")
    return fig


#: Most classes whose names label the confusion matrix's axes (above it the names are unreadable and
#: :func:`plot_confusion` draws no tick labels).
MAX_CONFUSION_LABELS = 50


def plot_confusion(matrix: Any, class_names: Sequence[str], ax: Any = None, normalize: bool = True,
                   title: str = "") -> Any:
    """A confusion matrix (rows: true class, columns: predicted class), rows normalized to recall.

    With at most :data:`MAX_CONFUSION_LABELS` classes the class names label both axes; with more,
    the axes carry no tick labels.

    Parameters
    ----------
    matrix : array-like, shape (C, C)
        Counts, row = true class, column = predicted class.
    class_names : sequence of str
        The C class names, in the matrix's order.
    ax : matplotlib.axes.Axes, optional
        Draw into these axes instead of a new figure (sized to the class count).
    normalize : bool, default True
        Divide each row by its count (each cell: the fraction of that class predicted as the column).
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import numpy as np

    m = np.asarray(matrix, dtype=float)
    if normalize:
        rows = m.sum(axis=1, keepdims=True)
        m = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
    n = len(class_names)
    size = min(14.0, max(4.0, 0.26 * n + 2.0))
    fig, ax = _axes(ax, (size + 1.2, size))
    im = ax.imshow(m, cmap="viridis", vmin=0, vmax=1 if normalize else None, interpolation="nearest")
    if n <= MAX_CONFUSION_LABELS:
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
        fs = 8 if n <= 20 else 6
        ax.set_xticklabels(class_names, rotation=90, fontsize=fs)
        ax.set_yticklabels(class_names, fontsize=fs)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02,
                 label="fraction of the true class" if normalize else "items")
    if title:
        ax.set_title(title, fontsize=10)
    return fig
