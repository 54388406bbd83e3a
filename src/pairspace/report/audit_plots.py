"""Figures of the leakage audit report (no computation beyond what a figure needs)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .plots import plt, save_figure


def plot_map(coords: list[list[float]], labels: list[str], path: str | os.PathLike[str],
             title: str, flagged: set[str] | None = None) -> Path:
    """2-D map coloured by class; each class name written at its centroid (red: named in captions)."""
    Y = np.asarray(coords, dtype=np.float64)
    names = sorted(set(labels))
    cmap = plt.get_cmap("tab20")
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    lab = np.array(labels)
    for i, c in enumerate(names):
        pts = Y[lab == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=12, color=cmap(i % 20), alpha=0.8)
        cx, cy = pts.mean(axis=0)
        ax.annotate(c, (cx, cy), fontsize=6.5, ha="center",
                    color="crimson" if flagged and c in flagged else "0.15")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    return save_figure(fig, path)


def plot_scatter(points: list[dict[str, Any]], flagged: set[str], path: str | os.PathLike[str],
                 xlabel: str, rho: float | None) -> Path:
    """Per-class backbone separability (x) against zero-shot recall (y); flagged classes in red."""
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    for p in points:
        red = p["class"] in flagged
        ax.scatter(p["separability"], p["zeroshot"], s=22, color="crimson" if red else "C0", alpha=0.8)
        ax.annotate(p["class"], (p["separability"], p["zeroshot"]), fontsize=5.5, alpha=0.7,
                    xytext=(2, 2), textcoords="offset points")
    ax.scatter([], [], color="crimson", label="named in training captions")
    ax.scatter([], [], color="C0", label="not named")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("zero-shot recall (full control, mean over seeds)")
    rho_txt = f" (Spearman {rho:.2f})" if rho is not None else ""
    ax.set_title("per-class separability vs zero-shot" + rho_txt, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_controls(controls: dict[str, Any], chance: float, probe: float | None,
                  path: str | os.PathLike[str]) -> Path:
    """Zero-shot top-1 of each control: mean bar, every seed as a dot, chance and probe lines."""
    names = list(controls)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    x = np.arange(len(names))
    ax.bar(x, [controls[n]["mean"] for n in names], color="C0", alpha=0.6,
           yerr=[controls[n]["std"] or 0.0 for n in names], capsize=4)
    for i, n in enumerate(names):
        ax.scatter(np.full(len(controls[n]["top1"]), i), controls[n]["top1"], color="k", s=10, zorder=3)
    ax.axhline(chance, ls="--", color="0.4", lw=1, label=f"chance {chance:.3f}")
    if probe is not None:
        ax.axhline(probe, ls=":", color="crimson", lw=1.2, label=f"backbone linear probe {probe:.3f}")
    ax.set_xticks(x, names)
    ax.set_ylabel("zero-shot top-1 (unseen classes)")
    ax.set_title("controls: mean ± sd over seeds, dots = seeds", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_nngs(curves: dict[str, dict[str, Any]], path: str | os.PathLike[str]) -> Path:
    """NNGS of audio class centroids against class prompts, per space, with the exact chance."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, (name, c) in enumerate(curves.items()):
        ax.plot(c["k"], c["nngs"], lw=1.8, color=f"C{i}", marker="o", ms=3, label=name)
    first = next(iter(curves.values()))
    ax.plot(first["k"], first["chance"], ls="--", color="0.4", lw=1, label=f"chance (exact, C={first['n']})")
    ax.set_xlabel("k (neighborhood size)")
    ax.set_ylabel("NNGS (centroids vs prompts)")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def plot_sweep(sweep: list[dict[str, Any]], threshold: float | None, n_texts: int,
               path: str | os.PathLike[str]) -> Path:
    """Captions flagged by the semantic detector against its cosine threshold."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    t = [s["threshold"] for s in sweep]
    ax.plot(t, [s["n_captions"] for s in sweep], marker="o", ms=3, label="captions flagged")
    ax.plot(t, [s["n_classes"] for s in sweep], marker="s", ms=3, label="classes hit")
    if threshold is not None:
        ax.axvline(threshold, ls="--", color="crimson", lw=1, label=f"threshold {threshold:g}")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("cosine threshold (caption vs class prompt)")
    ax.set_ylabel(f"count (of {n_texts} captions)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)
