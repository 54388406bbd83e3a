"""``pairspace.studies.audit.run``: the whole leakage audit from tables, pairs and captions.

The sections of the result follow the issue: caption leaks, source overlap, backbone label
overlap, separability already in the spaces (backbone and projected), controls, attribution and the
generalized zero-shot companion. The study never prints: progress goes to ``log``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...data.table import EmbeddingTable
from .attribution import clean_gap, flagged_gap, separability_vs_accuracy, verdict
from .captions import LEXICAL, caption_leaks
from .controls import ControlSettings, EvalSet, run_controls, zeroshot
from .overlap import generalized_zeroshot, label_overlap, near_duplicates, shared_sources
from .separability import centroid_prompt_nngs, separability, tsne_map

SCHEMA = "pairspace.audit/1"


def _quiet(message: str) -> None:
    """The default ``log``: say nothing."""


@dataclass
class AuditInputs:
    """What the audit reads.

    Attributes
    ----------
    audio, text : EmbeddingTable
        Audio-backbone embeddings (training and evaluation clips) and text-backbone embeddings of
        the training captions.
    pairs : list of (audio_id, text_id)
        Training pairs.
    captions : mapping
        ``text_id -> caption`` for every caption of ``pairs``.
    eval_ids, eval_labels : list of str
        Evaluation clips (rows of ``audio``) and their classes.
    classes : list of str
        The evaluation classes (zero-shot candidates).
    prompts : numpy.ndarray, shape (T, C, d_text)
        Text-backbone embeddings of every template applied to every class.
    seen_classes, seen_prompts, gzsl_ids, gzsl_labels : optional
        For generalized zero-shot: the training classes, their prompts (T, S, d_text) and held-out
        clips of the training classes.
    train_sources, eval_sources : list of str, optional
        Source ids (Freesound, YouTube) of the training clips and evaluation clips.
    label_sets : mapping
        Name -> label list of a backbone's supervised label set.
    synonyms : mapping
        Class -> synonyms for the caption-leak detector.
    """

    audio: EmbeddingTable
    text: EmbeddingTable
    pairs: list[tuple[str, str]]
    captions: Mapping[str, str]
    eval_ids: list[str]
    eval_labels: list[str]
    classes: list[str]
    prompts: np.ndarray
    seen_classes: list[str] | None = None
    seen_prompts: np.ndarray | None = None
    gzsl_ids: list[str] | None = None
    gzsl_labels: list[str] | None = None
    train_sources: list[str] | None = None
    eval_sources: list[str] | None = None
    label_sets: Mapping[str, Sequence[str]] = field(default_factory=dict)
    synonyms: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def text_ids(self) -> list[str]:
        """Unique caption ids of the training pairs, in first-seen order."""
        return list(dict.fromkeys(t for _, t in self.pairs))

    def check(self) -> None:
        """Clear errors for inconsistent inputs (before any expensive work)."""
        missing = [t for t in self.text_ids() if t not in self.captions]
        if missing:
            raise ValueError(f"{len(missing)} caption ids of the pairs have no caption text, "
                             f"e.g. {missing[:3]}")
        if len(self.eval_ids) != len(self.eval_labels):
            raise ValueError(f"{len(self.eval_ids)} evaluation ids for {len(self.eval_labels)} labels")
        if len(self.classes) < 4:
            raise ValueError(f"the audit needs at least 4 evaluation classes; got {len(self.classes)}")
        self.audio.select(self.eval_ids)
        self.text.select(self.text_ids())


@dataclass
class AuditResult:
    """The audit document (``to_dict()``, schema ``pairspace.audit/1``) and the trained models."""

    doc: dict[str, Any]
    models: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document."""
        return self.doc


def _leaks(inp: AuditInputs, threshold: float | None) -> Any:
    from ._api import classifier_weights

    tids = inp.text_ids()
    return caption_leaks([inp.captions[t] for t in tids], inp.classes, ids=tids, synonyms=inp.synonyms,
                         threshold=threshold, text_embeddings=inp.text.select(tids).vectors,
                         class_embeddings=classifier_weights(inp.prompts))


def _overlaps(inp: AuditInputs, dup_threshold: float) -> dict[str, Any]:
    train_audio = list(dict.fromkeys(a for a, _ in inp.pairs))
    out: dict[str, Any] = {"near_duplicates": near_duplicates(
        inp.audio.select(train_audio).vectors, inp.audio.select(inp.eval_ids).vectors, dup_threshold,
        train_audio, inp.eval_ids)}
    if inp.train_sources is not None and inp.eval_sources is not None:
        out["shared_sources"] = shared_sources(inp.train_sources, inp.eval_sources)
    return out


def _space(X: np.ndarray, labels: list[str], name: str, k: int, folds: int, seed: int,
           tsne: bool) -> tuple[dict[str, Any], list[list[float]] | None]:
    sep = separability(X, labels, space=name, k=k, folds=folds, seed=seed).to_dict()
    coords = tsne_map(X, seed=seed).round(4).tolist() if tsne else None
    return sep, coords


def _gzsl(inp: AuditInputs, model: Any) -> dict[str, Any] | None:
    if inp.seen_classes is None or inp.seen_prompts is None or not inp.gzsl_ids:
        return None
    prompts = np.concatenate([inp.prompts, np.asarray(inp.seen_prompts)], axis=1)
    ids = inp.eval_ids + list(inp.gzsl_ids)
    labels = inp.eval_labels + list(inp.gzsl_labels or [])
    ev = EvalSet(inp.audio.select(ids).vectors, labels, inp.classes + list(inp.seen_classes), prompts)
    from ._api import classifier_weights, zeroshot_scores

    T, C, d = ev.prompts.shape
    W = classifier_weights(model.project_b(ev.prompts.reshape(T * C, d)).reshape(T, C, -1))
    S = zeroshot_scores(model.project_a(ev.audio), W)
    return generalized_zeroshot(S, labels, ev.classes, inp.seen_classes)


def run(inp: AuditInputs, *, controls: ControlSettings | None = None, model: Any = None,
        threshold: float | None = None, duplicate_threshold: float = 0.98, k: int = 1, folds: int = 4,
        seed: int = 0, tsne: bool = True, extra_spaces: Mapping[str, np.ndarray] | None = None,
        log: Callable[[str], None] = _quiet) -> AuditResult:
    """Run the leakage audit (see the module docstring and :mod:`pairspace.studies.audit`).

    Parameters
    ----------
    inp : AuditInputs
        Tables, pairs, captions, evaluation set and optional sources and label sets.
    controls : ControlSettings, optional
        Train the control runs (``full``, ``clean``, ``shuffled``, ``untrained``, ``logmel``).
    model : AlignmentModel, optional
        A trained run to audit; default the first seed of the ``full`` control.
    threshold : float, optional
        Cosine threshold of the semantic caption detector.
    duplicate_threshold : float
        Backbone cosine above which an evaluation clip is a near duplicate of a training clip.
    k, folds, seed : int
        Leave-one-out kNN size, probe folds, seed of the folds and the t-SNE map.
    tsne : bool
        Compute the 2-D maps.
    extra_spaces : mapping, optional
        Other embeddings of the evaluation clips (name -> (n, d)) whose separability is reported.
    """
    inp.check()
    t0 = time.perf_counter()
    leaks = _leaks(inp, threshold)
    log(f"caption leaks: {len(leaks.flagged_classes())} of {len(inp.classes)} classes named lexically")
    doc: dict[str, Any] = {"schema": SCHEMA, "classes": list(inp.classes), "n_eval": len(inp.eval_ids),
                           "n_pairs": len(inp.pairs), "eval_ids": list(inp.eval_ids),
                           "eval_labels": list(inp.eval_labels)}
    cl = leaks.to_dict()
    cl["n_flagged_lexical_texts"] = len(leaks.flagged_ids(LEXICAL))
    doc["caption_leaks"] = cl
    doc["source_overlap"] = _overlaps(inp, duplicate_threshold)
    doc["label_overlap"] = {name: label_overlap(inp.classes, labels, name)
                            for name, labels in inp.label_sets.items()}
    A = np.asarray(inp.audio.select(inp.eval_ids).vectors)
    ev = EvalSet(A, inp.eval_labels, inp.classes, inp.prompts)
    doc["separability"], doc["maps"], doc["nngs"] = {}, {}, {}
    spaces = {"audio backbone": A, **(extra_spaces or {})}
    for name, X in spaces.items():
        doc["separability"][name], coords = _space(np.asarray(X), inp.eval_labels, name, k, folds, seed, tsne)
        if coords is not None and name == "audio backbone":
            doc["maps"][name] = coords
    doc["nngs"]["backbone"] = centroid_prompt_nngs(A, inp.eval_labels, inp.classes, inp.prompts)
    log("separability: backbone done")

    models: dict[str, Any] = {}
    if controls is not None:
        res = run_controls(inp.audio, inp.text, inp.pairs, ev, leaks.flagged_ids(LEXICAL), controls, log)
        models = res.pop("models")
        doc["controls"] = res
    model = model if model is not None else models.get("full")
    if model is not None:
        _projected(doc, inp, ev, model, k, folds, seed, tsne)
    doc["attribution"] = _attribution(doc, leaks.flagged_classes(LEXICAL), seed)
    doc["verdict"] = verdict(doc)
    doc["seconds"] = round(time.perf_counter() - t0, 2)
    return AuditResult(doc, {**models, **({"audited": model} if model is not None else {})})


def _projected(doc: dict[str, Any], inp: AuditInputs, ev: EvalSet, model: Any, k: int, folds: int,
               seed: int, tsne: bool) -> None:
    """The audited model's zero-shot, GZSL, projected-space separability, NNGS and map."""
    z = zeroshot(model, ev)
    doc["zeroshot"] = z
    doc["gzsl"] = _gzsl(inp, model)
    P = model.project_a(ev.audio)
    doc["separability"]["projected"], coords = _space(P, ev.labels, "projected", k, folds, seed, tsne)
    if coords is not None:
        doc["maps"]["projected"] = coords
    T, C, d = ev.prompts.shape
    Pt = model.project_b(ev.prompts.reshape(T * C, d)).reshape(T, C, -1)
    doc["nngs"]["projected"] = centroid_prompt_nngs(P, ev.labels, ev.classes, Pt)


def _attribution(doc: dict[str, Any], flagged: list[str], seed: int) -> dict[str, Any]:
    ctl = doc.get("controls", {}).get("controls", {})
    acc = ctl["full"]["per_class"] if "full" in ctl else (doc.get("zeroshot") or {}).get("per_class")
    out: dict[str, Any] = {"flagged_classes": flagged}
    if acc:
        acc = {c: v for c, v in acc.items() if v is not None}
        per = doc["separability"]["audio backbone"]["per_class"]
        probe = all(v["probe_accuracy"] is not None for v in per.values())
        key = "probe_accuracy" if probe else "knn_accuracy"
        out["separability_measure"] = key
        out["separability_vs_accuracy"] = separability_vs_accuracy({c: v[key] for c, v in per.items()}, acc)
        out["flagged_vs_unflagged"] = flagged_gap(acc, flagged, seed=seed)
    out["clean_gap"] = clean_gap(ctl)
    return out
