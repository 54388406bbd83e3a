"""Figures of the ``compare-many`` report: a heatmap grid of the matrices, every pair's normalized
spectrum (small multiples when there are many pairs) and the dendrogram, all drawn from the
``pairspace.compare_many/1`` document (see :mod:`pairspace.report.many_spaces`)."""

from __future__ import annotations

from typing import Any

import numpy as np

LABELS = {"nngs": "NNGS", "mutual_knn": "mutual kNN", "cknna": "CKNNA", "linear_cka": "linear CKA"}


def _arr(v: Any) -> np.ndarray:
    return np.array([[np.nan if x is None else x for x in row] for row in v], dtype=np.float64)


def _label(m: dict[str, Any]) -> str:
    return LABELS.get(m["measure"], m["measure"]) + ("" if m["k"] is None else f" (k = {m['k']})")


def heatmap_panels(doc: dict[str, Any], k: int | None = None) -> list[tuple[str, np.ndarray]]:
    """``(title, matrix)`` panels at ``k`` (default: the first reported ``k``), in dendrogram
    order: normalized NNGS first, then every measure's values."""
    res = doc["results"]
    k = doc["settings"]["ks"][0] if k is None else k
    pos = [res["names"].index(v) for v in res["order"]]
    panels = []
    for m in res["matrices"]:
        if m["k"] not in (None, k):
            continue
        if m["normalized"] is not None:
            panels.append((f"normalized NNGS (k = {k})", _arr(m["normalized"])[np.ix_(pos, pos)]))
        panels.append((_label(m), _arr(m["values"])[np.ix_(pos, pos)]))
    return panels


def heatmaps_figure(doc: dict[str, Any], k: int | None = None, columns: int = 3) -> Any:
    """One annotated heatmap per panel of :func:`heatmap_panels` (rows and columns in dendrogram
    order), ``columns`` panels per row."""
    from .plots import plt

    panels = heatmap_panels(doc, k)
    order = doc["results"]["order"]
    M = len(order)
    size = 2.2 + 0.42 * M
    ncol = min(columns, len(panels))
    nrow = -(-len(panels) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(size * ncol, size * nrow), squeeze=False)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    for ax, (title, mat) in zip(axes.ravel(), panels, strict=False):
        im = ax.imshow(mat, vmin=min(0.0, float(np.nanmin(mat))), vmax=1.0, cmap="viridis")
        ax.set_xticks(range(M), order, rotation=90, fontsize=8)
        ax.set_yticks(range(M), order, fontsize=8)
        ax.set_title(title, fontsize=10)
        if M <= 14:
            for i in range(M):
                for j in range(M):
                    v = mat[i, j]
                    ax.text(j, i, "" if np.isnan(v) else f"{v:.2f}", ha="center", va="center",
                            fontsize=6 if M > 8 else 7, color="w" if v < 0.6 else "k")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def _series(v: list[Any]) -> list[float]:
    return [np.nan if x is None else x for x in v]


def spectra_figure(doc: dict[str, Any], max_pairs_one_panel: int = 10) -> Any:
    """Every pair's spectrum against ``k`` (log axis).

    Up to ``max_pairs_one_panel`` pairs: NNGS with the chance level (left, log scale) and the
    normalized spectrum (right), one line per pair. More pairs: small multiples, one panel per
    space with its normalized spectrum against every other space (one color per partner, the same
    in every panel), so each pair appears in the panels of both of its spaces.
    """
    from .plots import k_axis, plt

    res, st = doc["results"], doc["settings"]
    sp = res["spectrum"]
    k = np.asarray(sp["k"])
    pairs = sp["pairs"]
    if len(pairs) <= max_pairs_one_panel:
        fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11.5, 4.4))
        for i, p in enumerate(pairs):
            lab, col = f"{p['a']} / {p['b']}", f"C{i}"
            ax0.plot(k, _series(p["nngs"]), lw=1.4, color=col, label=lab)
            ax1.plot(k, _series(p["normalized"]), lw=1.4, color=col, label=lab)
        ax0.plot(k, _series(sp["chance"]), ls="--", color="0.3", lw=1,
                 label=f"chance ({st['chance']})")
        ax0.set_yscale("log")
        ax0.set_ylabel("NNGS (log scale)")
        ax1.axhline(0.0, ls="--", color="0.3", lw=1)
        ax1.set_ylabel("normalized NNGS (0 = chance, 1 = same graph)")
        for ax in (ax0, ax1):
            k_axis(ax, k)
        ax1.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
        fig.tight_layout()
        return fig
    names = res["order"]
    M = len(names)
    cmap = plt.get_cmap("tab10" if M <= 10 else "tab20")
    color = {nm: cmap(i % cmap.N) for i, nm in enumerate(names)}
    ncol = min(4, M)
    nrow = -(-M // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.3 * ncol, 2.7 * nrow), sharex=True,
                             sharey=True, squeeze=False)
    for ax in axes.ravel()[M:]:
        ax.axis("off")
    for ax, nm in zip(axes.ravel(), names, strict=False):
        for p in pairs:
            if nm not in (p["a"], p["b"]):
                continue
            other = p["b"] if p["a"] == nm else p["a"]
            ax.plot(k, _series(p["normalized"]), lw=1.3, color=color[other], label=other)
        ax.axhline(0.0, ls="--", color="0.3", lw=0.8)
        ax.set_title(f"{nm} against ...", fontsize=9)
        k_axis(ax, k)
        ax.set_xlabel("k (log scale)", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("normalized NNGS", fontsize=8)
    handles = [plt.Line2D([], [], color=color[nm], lw=2) for nm in names]
    fig.legend(handles, names, loc="lower center", ncol=min(M, 6), fontsize=8,
               bbox_to_anchor=(0.5, -0.02 - 0.03 * ((M - 1) // 6)))
    fig.suptitle("normalized NNGS spectra (0 = chance, 1 = same graph)", fontsize=10)
    fig.tight_layout()
    return fig


def dendrogram_figure(doc: dict[str, Any]) -> Any:
    """The average-linkage dendrogram of the spaces (distance ``1 - max(0, normalized NNGS)``)."""
    from scipy.cluster.hierarchy import dendrogram

    from .plots import plt

    res = doc["results"]
    fig, ax = plt.subplots(figsize=(1.5 + 0.5 * len(res["names"]), 3.6))
    if len(res["names"]) >= 3:
        dendrogram(np.asarray(res["linkage"]), labels=res["names"], ax=ax, leaf_rotation=90,
                   color_threshold=0.0, above_threshold_color="C0")
    else:
        ax.text(0.5, 0.5, "two spaces: " + " / ".join(res["names"]), ha="center",
                transform=ax.transAxes)
    ax.set_ylabel("1 - normalized NNGS")
    ax.set_title(doc["settings"]["order_by"], fontsize=9)
    fig.tight_layout()
    return fig
