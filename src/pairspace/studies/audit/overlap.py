r"""Source overlap, backbone label overlap and generalized zero-shot accuracy.

* **Source overlap**: the same recording behind a training pair and an evaluation clip, by shared
  source ids (Freesound ids, YouTube ids) and by near-duplicate audio: backbone cosine
  :math:`\cos(a_i, b_j) \ge \tau`, computed in blocks of rows under a memory budget.
* **Backbone label overlap**: evaluation classes that are (normalized) labels the backbone was
  supervised on (AudioSet's 527 names, MagnaTagATune's 50 tags...), so its embedding was trained to
  separate them.
* **Generalized zero-shot** (Xian et al., TPAMI 2019): every class, seen or unseen, is a candidate;
  accuracy on the seen-class items :math:`a_s`, on the unseen-class items :math:`a_u` and their
  harmonic mean :math:`H = 2 a_s a_u / (a_s + a_u)`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..._validation import resolve_memory_budget, rows_per_block, unit_rows
from ...data.textfiles import csv_rows, text_lines
from .text import contains_phrase, words


def shared_sources(train: Sequence[str | None], evaluation: Sequence[str | None]) -> dict[str, Any]:
    """Source ids present on both sides (empty ids ignored): ``{"n_shared", "shared"}`` sorted."""
    a = {str(s) for s in train if s not in (None, "")}
    b = {str(s) for s in evaluation if s not in (None, "")}
    both = sorted(a & b)
    return {"n_train_sources": len(a), "n_eval_sources": len(b), "n_shared": len(both),
            "shared": both[:1000]}


def near_duplicates(train: Any, evaluation: Any, threshold: float = 0.98,
                    train_ids: Sequence[str] | None = None, eval_ids: Sequence[str] | None = None,
                    center: bool = True, memory_budget: int | None = None) -> dict[str, Any]:
    r"""Evaluation clips whose nearest training clip has cosine >= ``threshold`` (chunked).

    With ``center`` (the default) both sides are centered on the training mean first,
    :math:`\cos(a_i - \bar a, b_j - \bar a)`: mean-pooled backbone states share a large common
    component (Whisper's median nearest-neighbor cosine is about 0.97), which makes the raw cosine
    of unrelated clips look like a duplicate's. The evaluation clips are compared in blocks of at
    most ``memory_budget`` bytes of cosines (None: the configured setting,
    :func:`pairspace.set_config`).

    Returns ``{"threshold", "centered", "n_eval", "n_duplicates", "pairs": [{"eval", "train",
    "cosine"}], "max_cosine_quantiles"}``.
    """
    if not -1.0 <= threshold <= 1.0:
        raise ValueError(f"threshold is a cosine in [-1, 1]; got {threshold}")
    A0, B0 = np.asarray(train, dtype=np.float64), np.asarray(evaluation, dtype=np.float64)
    if A0.ndim != 2 or B0.ndim != 2 or A0.shape[1] != B0.shape[1]:
        raise ValueError(f"training {A0.shape} and evaluation {B0.shape} audio must be 2-D with one dim")
    mu = A0.mean(axis=0) if center else 0.0
    A, B = unit_rows(A0 - mu, "training audio"), unit_rows(B0 - mu, "evaluation audio")
    tid = [str(i) for i in train_ids] if train_ids is not None else [str(i) for i in range(len(A))]
    eid = [str(i) for i in eval_ids] if eval_ids is not None else [str(i) for i in range(len(B))]
    step = rows_per_block(resolve_memory_budget(memory_budget), 8 * A.shape[0], n_rows=B.shape[0])
    best = np.empty(B.shape[0])
    arg = np.empty(B.shape[0], dtype=np.int64)
    for s in range(0, B.shape[0], step):
        S = B[s:s + step] @ A.T
        arg[s:s + step] = S.argmax(axis=1)
        best[s:s + step] = S[np.arange(S.shape[0]), arg[s:s + step]]
    hit = np.flatnonzero(best >= threshold)
    return {"threshold": float(threshold), "centered": bool(center), "n_eval": int(B.shape[0]),
            "n_duplicates": int(hit.size),
            "pairs": [{"eval": eid[i], "train": tid[arg[i]], "cosine": float(best[i])} for i in hit[:1000]],
            "max_cosine_quantiles": {q: float(np.quantile(best, float(q)))
                                     for q in ("0.5", "0.9", "0.99", "1.0")}}


def load_label_file(path: str | os.PathLike[str]) -> list[str]:
    """Label names from a text file (one per line) or a CSV with a ``display_name``/``name`` column.

    AudioSet's ``class_labels_indices.csv`` (``index,mid,display_name``) reads as is.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"label file {p} does not exist")
    if p.suffix.lower() == ".csv":
        header, rows = csv_rows(p, "label file")  # encoding, short rows and huge cells checked
        col = next((c for c in ("display_name", "name", "label") if c in header), None)
        if col is None:
            raise ValueError(f"{p}: a CSV label file needs a display_name, name or label column")
        return [r[col].strip() for _, r in rows if r[col].strip()]
    return text_lines(p, "label file")


def shipped_labels(name: str) -> list[str]:
    """A label set shipped in ``pairspace/resources/audit`` (``magnatagatune_50``)."""
    from importlib import resources

    res = resources.files("pairspace.resources") / "audit" / f"{name}.txt"
    if not res.is_file():
        raise ValueError(f"no shipped label set {name!r}; pass a label file instead")
    return [ln.strip() for ln in res.read_text(encoding="utf-8").splitlines() if ln.strip()]


def label_overlap(class_names: Sequence[str], labels: Sequence[str], source: str = "labels"
                  ) -> dict[str, Any]:
    """Evaluation classes matching a backbone label: ``equal`` (same normalized words) or
    ``contained`` (one's words occur contiguously in the other's: ``guitar`` in ``jazz guitar``)."""
    lab = [(str(label), words(label)) for label in labels]
    rows = []
    for c in class_names:
        cw = words(c)
        eq = [n for n, w in lab if w == cw]
        part = [n for n, w in lab if w != cw and (contains_phrase(cw, w) or contains_phrase(w, cw))]
        if eq or part:
            rows.append({"class": str(c), "kind": "equal" if eq else "contained",
                         "labels": (eq or part)[:10]})
    return {"source": source, "n_labels": len(lab), "n_classes": len(class_names),
            "n_equal": sum(r["kind"] == "equal" for r in rows),
            "n_contained": sum(r["kind"] == "contained" for r in rows), "matches": rows}


def generalized_zeroshot(scores: Any, labels: Sequence[str], class_names: Sequence[str],
                         seen: Sequence[str]) -> dict[str, Any]:
    """Seen, unseen accuracy and harmonic mean with every class as a candidate (see the docstring).

    ``scores`` is (n, C) over ``class_names``; ``seen`` lists the classes trained on (the rest of
    ``class_names`` are unseen).
    """
    S = np.asarray(scores, dtype=np.float64)
    names = [str(c) for c in class_names]
    if S.ndim != 2 or S.shape != (len(labels), len(names)):
        raise ValueError(f"scores must have shape ({len(labels)}, {len(names)}); got {S.shape}")
    pos = {c: i for i, c in enumerate(names)}
    missing = sorted({str(v) for v in labels} - set(pos))
    if missing:
        raise ValueError(f"labels not among the class names: {missing[:5]}")
    y = np.array([pos[str(v)] for v in labels])
    is_seen = np.array([c in set(map(str, seen)) for c in names])
    hit = S.argmax(axis=1) == y
    out: dict[str, Any] = {"n_classes": len(names), "n_seen_classes": int(is_seen.sum())}
    for part, mask in (("seen", is_seen[y]), ("unseen", ~is_seen[y])):
        out[f"{part}_accuracy"] = float(hit[mask].mean()) if mask.any() else None
        out[f"n_{part}"] = int(mask.sum())
    s, u = out["seen_accuracy"], out["unseen_accuracy"]
    out["harmonic_mean"] = None if s is None or u is None else (2 * s * u / (s + u) if s and u else 0.0)
    out["unseen_predicted_as_seen"] = float(np.mean(is_seen[S.argmax(axis=1)][~is_seen[y]])) \
        if (~is_seen[y]).any() else None
    return out
