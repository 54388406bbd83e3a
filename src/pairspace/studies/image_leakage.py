"""The leakage side of the image demo (Tavares et al., ICASSP 2025, arXiv 2408.13068).

A backbone trained with supervised labels may already separate the "unseen" classes whose names it
was trained on. For EfficientNet-Lite0 the labels are ImageNet-1k's: :func:`imagenet_overlap` flags
the benchmark classes whose name (or an alias) is an ImageNet class name, and
:func:`overlap_table` compares, for flagged against unflagged unseen classes, the zero-shot top-1
and the backbone's own separability (:func:`separability`, leave-one-out 1-NN accuracy), each with
class-bootstrap intervals (:func:`class_bootstrap`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

N_BOOT = 2000


def imagenet_class_names() -> list[str]:
    """The 1,000 ImageNet-1k class names shipped as data (``resources/imagenet``; see its SOURCE.md)."""
    from importlib import resources

    text = resources.files("pairspace.resources").joinpath("imagenet", "classnames.txt").read_text("utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def _norm(s: str) -> str:
    return " ".join(s.lower().replace("-", " ").replace("_", " ").split())


def imagenet_overlap(classes: Sequence[dict[str, Any]], imagenet: Sequence[str] | None = None
                     ) -> dict[str, str]:
    """Class name -> the ImageNet class its name or one of its aliases equals ('' when none).

    Matching is exact after lower-casing and turning hyphens and underscores into spaces, also with
    a plural ``s`` added or removed ("rocket" = "rocket", "dog face" != "dog").
    """
    names = {_norm(n): n for n in (imagenet if imagenet is not None else imagenet_class_names())}
    out = {}
    for c in classes:
        hit = ""
        for word in [c["name"], *filter(None, str(c.get("aliases", "")).split("|"))]:
            w = _norm(word)
            for cand in (w, w + "s", w[:-1] if w.endswith("s") else w):
                if cand in names:
                    hit = names[cand]
                    break
            if hit:
                break
        out[c["name"]] = hit
    return out


def class_bootstrap(correct: np.ndarray, labels: np.ndarray, n_boot: int = N_BOOT, seed: int = 0,
                    level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of a per-item mean when the *classes* are resampled with replacement.

    Items of one class (views of one emoji) are not independent, so the unit of resampling is the
    class: each resample draws as many classes as there are, with replacement, and averages the
    items of the drawn classes.
    """
    correct = np.asarray(correct, dtype=np.float64)
    _, inv = np.unique(labels, return_inverse=True)
    sums = np.bincount(inv, weights=correct)
    counts = np.bincount(inv).astype(np.float64)
    if sums.size < 2 or n_boot == 0:
        return float("nan"), float("nan")
    draw = np.random.default_rng(seed).integers(0, sums.size, size=(n_boot, sums.size))
    stats = sums[draw].sum(1) / counts[draw].sum(1)
    q = (1 - level) / 2
    lo, hi = np.quantile(stats, [q, 1 - q])
    return float(lo), float(hi)


def separability(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per item: is its nearest other item (cosine, leave-one-out 1-NN) of the same class?"""
    from ..neighbors import knn

    g = knn(np.asarray(X, dtype=np.float32), 1, metric="cosine")
    return labels[np.asarray(g.indices)[:, 0]] == labels


def overlap_table(flags: dict[str, str], unseen: list[str], parts: dict[str, tuple[np.ndarray, np.ndarray]],
                  n_boot: int = N_BOOT, seed: int = 0) -> dict[str, Any]:
    """Per quantity (zero-shot top-1 or 1-NN separability per backbone): ImageNet-named unseen
    classes against the others, means with class-bootstrap intervals and the difference."""
    rng = np.random.default_rng(seed)
    is_in = np.array([bool(flags[c]) for c in unseen])
    out: dict[str, Any] = {"n_unseen_classes": len(unseen), "n_imagenet_named": int(is_in.sum()),
                           "imagenet_named": sorted((c, flags[c]) for c in unseen if flags[c]),
                           "rows": {}}
    if is_in.sum() < 2 or (~is_in).sum() < 2:
        return out
    ci_in, ci_out = np.flatnonzero(is_in), np.flatnonzero(~is_in)
    draws_in = rng.integers(0, ci_in.size, size=(n_boot, ci_in.size))
    draws_out = rng.integers(0, ci_out.size, size=(n_boot, ci_out.size))
    for name, (correct, y) in parts.items():
        sums = np.bincount(y, weights=correct.astype(np.float64), minlength=len(unseen))
        counts = np.bincount(y, minlength=len(unseen)).astype(np.float64)
        m_in = sums[ci_in].sum() / counts[ci_in].sum()
        m_out = sums[ci_out].sum() / counts[ci_out].sum()
        b_in = sums[ci_in][draws_in].sum(1) / counts[ci_in][draws_in].sum(1)
        b_out = sums[ci_out][draws_out].sum(1) / counts[ci_out][draws_out].sum(1)
        q = [0.025, 0.975]
        out["rows"][name] = {
            "imagenet_named": float(m_in), "imagenet_named_ci": [float(v) for v in np.quantile(b_in, q)],
            "others": float(m_out), "others_ci": [float(v) for v in np.quantile(b_out, q)],
            "difference": float(m_in - m_out),
            "difference_ci": [float(v) for v in np.quantile(b_in - b_out, q)],
        }
    return out
