"""Figures of the leakage audit report (no computation beyond what a figure needs).

As in :mod:`pairspace.report.plots`, every ``plot_*`` function draws into ``ax`` when one is given
(several axes for a figure of several panels) or into a new figure, saves it as PNG when ``path`` is
given, and returns the :class:`matplotlib.figure.Figure`.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .plots import _axes, panel_axes, plt, save_figure

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


Target = str | os.PathLike[str] | None


def _done(fig: Any, path: Target) -> Any:
    """Save ``fig`` as PNG when ``path`` is given (closing it); return it."""
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_map(coords: list[list[float]], labels: list[str], path: Target = None, title: str = "",
             flagged: set[str] | None = None, *, ax: Any = None) -> Any:
    """2-D map: each class its own colour and marker, named in a legend beside the map (classes named
    in training captions marked ``*``).

    Parameters
    ----------
    coords : list of [x, y]
        One point per item.
    labels : list of str
        Each item's class.
    path : path-like, optional
        Also save the figure there as PNG (and close it).
    title : str, optional
        Axes title.
    flagged : set of str, optional
        Classes named in training captions.
    ax : matplotlib.axes.Axes, optional
        Draw into these axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    Y = np.asarray(coords, dtype=np.float64)
    names = sorted(set(labels))
    cmap = plt.get_cmap("tab20")
    fig, ax = _axes(ax, (10.5, 6.5))
    lab = np.array(labels)
    for i, c in enumerate(names):
        pts = Y[lab == c]
        star = " *" if flagged and c in flagged else ""
        ax.scatter(pts[:, 0], pts[:, 1], s=16, color=cmap(i % 20), marker=MARKERS[(i // 20) % len(MARKERS)],
                   alpha=0.85, label=f"{c}{star}", edgecolors="none")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    ncol = 1 if len(names) <= 20 else 2
    ax.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), ncol=ncol, frameon=False,
              title="class (* named in training captions)" if flagged else "class", title_fontsize=7,
              markerscale=1.2, handletextpad=0.3, columnspacing=0.8)
    return _done(fig, path)


def _spread_labels(y: np.ndarray, gap: float) -> np.ndarray:
    """Vertical label positions near ``y`` at least ``gap`` apart (order kept)."""
    order = np.argsort(y)
    pos = y[order].astype(float).copy()
    for i in range(1, pos.size):
        pos[i] = max(pos[i], pos[i - 1] + gap)
    out = np.empty_like(pos)
    out[order] = pos
    return out


def plot_scatter(points: list[dict[str, Any]], flagged: set[str], path: Target = None, xlabel: str = "",
                 rho: float | None = None, n_labels: int = 8, *, ax: Any = None) -> Any:
    """Per-class backbone separability (x) against zero-shot recall (y); flagged classes in red. Only
    the ``n_labels`` classes with the highest zero-shot recall are named, in a column to the right
    with leader lines (no overprinting).

    ``path`` (optional) also saves the figure as PNG; ``ax`` (optional) is drawn into instead of a
    new figure. Returns the :class:`matplotlib.figure.Figure`.
    """
    fig, ax = _axes(ax, (7.6, 4.8))
    x = np.array([p["separability"] for p in points])
    y = np.array([p["zeroshot"] for p in points])
    red = np.array([p["class"] in flagged for p in points])
    ax.scatter(x[red], y[red], s=24, color="crimson", alpha=0.8, label="named in training captions")
    ax.scatter(x[~red], y[~red], s=24, color="C0", alpha=0.8, label="not named")
    top = np.argsort(-y, kind="stable")[:n_labels]
    if top.size:
        span = max(float(np.ptp(y)), 1e-3)
        ly = _spread_labels(y[top], 0.06 * span)
        x_text = float(x.max()) + 0.08 * max(float(np.ptp(x)), 1e-3)
        for i, yy in zip(top, ly, strict=True):
            ax.annotate(points[int(i)]["class"], (x[i], y[i]), xytext=(x_text, yy), fontsize=6.5,
                        va="center", arrowprops={"arrowstyle": "-", "color": "0.6", "lw": 0.5})
        ax.set_xlim(right=x_text + 0.35 * max(float(np.ptp(x)), 1e-3))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("zero-shot recall (full control)")
    rho_txt = f" (Spearman {rho:.2f})" if rho is not None else ""
    ax.set_title("per-class backbone separability vs zero-shot recall" + rho_txt, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return _done(fig, path)


def plot_controls(controls: dict[str, Any], chance: float, probe: float | None, path: Target = None, *,
                  ax: Any = None) -> Any:
    """Zero-shot top-1 of each control: mean over seeds with its 95% interval, every seed as a dot,
    chance and probe lines.

    ``path`` (optional) also saves the figure as PNG; ``ax`` (optional) is drawn into instead of a
    new figure. Returns the :class:`matplotlib.figure.Figure`.
    """
    names = list(controls)
    fig, ax = _axes(ax, (8.0, 4.2))
    x = np.arange(len(names))
    est = np.array([controls[n]["accuracy"]["estimate"] for n in names])
    lo = np.array([controls[n]["accuracy"]["ci_low"] for n in names])
    hi = np.array([controls[n]["accuracy"]["ci_high"] for n in names])
    colors = ["C2" if n == "full" else "C3" if n == "leak" else "C0" for n in names]
    ax.bar(x, est, color=colors, alpha=0.55, yerr=[est - lo, hi - est], capsize=4)
    for i, n in enumerate(names):
        ax.scatter(np.full(len(controls[n]["top1"]), i), controls[n]["top1"], color="k", s=10, zorder=3)
    ax.axhline(chance, ls="--", color="0.4", lw=1, label=f"chance {chance:.3f}")
    if probe is not None:
        ax.axhline(probe, ls=":", color="crimson", lw=1.2, label=f"backbone linear probe {probe:.3f}")
    ax.set_xticks(x, names, rotation=30, ha="right")
    ax.set_ylabel("zero-shot top-1 (unseen classes)")
    ax.set_title("zero-shot top-1 per control: mean over seeds, 95% CI (seeds and clips), dots = seeds",
                 fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    return _done(fig, path)


def plot_differences(rows: list[tuple[str, dict[str, Any]]], path: Target = None, title: str = "",
                     xlabel: str = "paired difference of top-1 (95% CI)", *, ax: Any = None) -> Any:
    """A forest plot of paired differences: estimate and interval per row, zero marked.

    ``path`` (optional) also saves the figure as PNG; ``ax`` (optional) is drawn into instead of a
    new figure. Returns the :class:`matplotlib.figure.Figure`.
    """
    fig, ax = _axes(ax, (7.6, 0.45 * len(rows) + 1.4))
    yv = np.arange(len(rows))[::-1]
    for yy, (_, d) in zip(yv, rows, strict=True):
        excl = d["ci_low"] > 0 or d["ci_high"] < 0
        ax.errorbar(d["estimate"], yy, xerr=[[d["estimate"] - d["ci_low"]], [d["ci_high"] - d["estimate"]]],
                    fmt="o", color="C3" if excl else "0.4", capsize=3, ms=5)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(yv, [r[0] for r in rows], fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    return _done(fig, path)


def plot_l1(l1: dict[str, Any], path: Target = None, *, ax: Any = None) -> Any:
    """Route L1: per backbone, zero-shot recall and backbone 1-NN on tagged and untagged instruments.

    ``path`` (optional) also saves the figure as PNG; ``ax`` (optional, three axes: zero-shot, 1-NN,
    probe) is drawn into instead of a new figure, whose title is then left to the caller. Returns the
    :class:`matplotlib.figure.Figure`.
    """
    names = list(l1["per_backbone"])
    fig, grid, own = panel_axes(ax, 3, (1, 3), (11, 3.8))
    axes = list(grid.ravel()[:3])
    for ax, m, lab in zip(axes, ("zeroshot", "knn", "probe"),
                          ("zero-shot top-1", "backbone 1-NN", "backbone linear probe"), strict=True):
        x = np.arange(len(names))
        for off, grp, col in ((-0.18, "tagged", "C3"), (0.18, "untagged", "C0")):
            d = [l1["per_backbone"][n][m][grp] for n in names]
            est = np.array([v["estimate"] for v in d])
            lo, hi = np.array([v["ci_low"] for v in d]), np.array([v["ci_high"] for v in d])
            ax.bar(x + off, est, width=0.36, color=col, alpha=0.6, label=grp, yerr=[est - lo, hi - est],
                   capsize=3)
        ax.set_xticks(x, names)
        ax.set_title(lab, fontsize=9)
        ax.grid(alpha=0.3, axis="y")
    axes[0].legend(fontsize=8, title="musicnn tag names the class", title_fontsize=7)
    if own:
        fig.suptitle("route L1: instruments named by musicnn's training tags vs the others (95% CI)",
                     fontsize=10)
    return _done(fig, path)


def plot_nngs(curves: dict[str, dict[str, Any]], path: Target = None, *, ax: Any = None) -> Any:
    """NNGS of audio class centroids against class prompts, per space, with the exact chance.

    ``path`` (optional) also saves the figure as PNG; ``ax`` (optional) is drawn into instead of a
    new figure. Returns the :class:`matplotlib.figure.Figure`.
    """
    fig, ax = _axes(ax, (6.4, 4.2))
    for i, (name, c) in enumerate(curves.items()):
        ax.plot(c["k"], c["nngs"], lw=1.8, color=f"C{i}", marker="o", ms=3, label=name)
    first = next(iter(curves.values()))
    ax.plot(first["k"], first["chance"], ls="--", color="0.4", lw=1, label=f"chance (exact, C={first['n']})")
    ax.set_xlabel("k (neighborhood size)")
    ax.set_ylabel("NNGS (centroids vs prompts)")
    ax.set_title("NNGS of audio class centroids vs class prompts (first split)", fontsize=10)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _done(fig, path)


def plot_sweep(sweep: list[dict[str, Any]], threshold: float | None, n_texts: int, path: Target = None, *,
               ax: Any = None) -> Any:
    """Captions flagged by the semantic detector against its cosine threshold.

    ``path`` (optional) also saves the figure as PNG; ``ax`` (optional) is drawn into instead of a
    new figure. Returns the :class:`matplotlib.figure.Figure`.
    """
    fig, ax = _axes(ax, (6.4, 4.0))
    t = [s["threshold"] for s in sweep]
    ax.plot(t, [s["n_captions"] for s in sweep], marker="o", ms=3, label="captions flagged")
    ax.plot(t, [s["n_classes"] for s in sweep], marker="s", ms=3, label="classes hit")
    if threshold is not None:
        ax.axvline(threshold, ls="--", color="crimson", lw=1, label=f"threshold {threshold:g}")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("cosine threshold (caption vs class prompt)")
    ax.set_ylabel(f"count (of {n_texts} captions)")
    ax.set_title("semantic caption detector: flagged captions vs threshold", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _done(fig, path)
