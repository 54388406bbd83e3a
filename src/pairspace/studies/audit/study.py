"""``pairspace.studies.audit.run``: the whole leakage audit from tables, pairs and captions.

The sections of the result: caption leaks, source overlap, backbone label overlap, separability
already in the spaces (audio and text side, backbone and projected), controls (each seed with its
own split and its own training seed), attribution (the paired decomposition of the clean gap into a
words part and a classes part, the planted leak) and the generalized zero-shot companion. The
sections that describe one split (caption leaks, separability, maps) use the first seed's split.
The study never prints: progress goes to ``log``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..._progress import log_info
from ...data.table import EmbeddingTable
from .attribution import clean_gap, decompose, flagged_gap, separability_vs_accuracy, verdict
from .captions import LEXICAL, caption_leaks
from .controls import ControlSettings, EvalSet, SeedData, run_controls, zeroshot
from .overlap import generalized_zeroshot, label_overlap, near_duplicates, shared_sources
from .separability import centroid_prompt_nngs, separability, tsne_map

SCHEMA = "pairspace.audit/2"



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
    text_encoder : callable, optional
        ``texts -> (n, d_text)``, the text backbone of ``text`` (the ``word_masked`` and ``leak``
        controls embed the captions they write with it).
    eval_text_ids, eval_text_labels : list of str, optional
        Captions (rows of ``text``) of the evaluation clips and their classes, for the text-side
        separability (never used for training).
    split_seed : int, optional
        The seed that drew this split (None: a split given by the user).
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
    text_encoder: Callable[[list[str]], np.ndarray] | None = None
    eval_text_ids: list[str] | None = None
    eval_text_labels: list[str] | None = None
    split_seed: int | None = None

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
    """The audit: its results (``doc``), how it was run, and the trained models.

    ``to_dict()`` is the result envelope (:mod:`pairspace.envelope`) ``{"schema": "pairspace.audit/2",
    "pairspace_version", "created", "command", "inputs", "settings", "results"}``; ``results`` is
    ``doc``. The JSON Schema ships as ``pairspace/resources/schemas/audit-2.json``.
    """

    doc: dict[str, Any]
    models: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    stamp: Any = None

    def __post_init__(self) -> None:
        from ...envelope import Envelope

        if self.stamp is None:
            self.stamp = Envelope.new(SCHEMA)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (the result envelope)."""
        from ...envelope import Envelope

        st = self.stamp
        return Envelope(SCHEMA, json_ready(self.inputs), st.pairspace_version, st.created,
                        st.command).document(json_ready(self.settings), json_ready(self.doc))


def results_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The results of an audit document (an envelope, or a bare results dictionary)."""
    return dict(doc["results"]) if "results" in doc and "schema" in doc else dict(doc)


def _leaks(inp: AuditInputs, threshold: float | None) -> Any:
    from ...tasks.zeroshot import classifier_weights

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
    from ._zs import class_scores

    prompts = np.concatenate([inp.prompts, np.asarray(inp.seen_prompts)], axis=1)
    ids = inp.eval_ids + list(inp.gzsl_ids)
    labels = inp.eval_labels + list(inp.gzsl_labels or [])
    S = class_scores(model, inp.audio.select(ids).vectors, prompts)
    return generalized_zeroshot(S, labels, inp.classes + list(inp.seen_classes), inp.seen_classes)


SplitSource = Mapping[int, AuditInputs] | Callable[[int], AuditInputs]


def seed_data(inp: AuditInputs, seed: int) -> SeedData:
    """The control runs' view of one seed's split: its pairs, evaluation set and flagged captions."""
    inp.check()
    tids = inp.text_ids()
    flagged = caption_leaks([inp.captions[t] for t in tids], inp.classes, ids=tids,
                            synonyms=inp.synonyms).flagged_ids(LEXICAL)
    ev = EvalSet(inp.audio.select(inp.eval_ids).vectors, inp.eval_labels, inp.classes, inp.prompts)
    return SeedData(seed, inp.audio, inp.text, list(inp.pairs), inp.captions, ev, list(inp.eval_ids),
                    flagged, inp.synonyms, inp.text_encoder)


def _split(splits: SplitSource | None, inp: AuditInputs, seed: int) -> AuditInputs:
    if splits is None:
        return inp
    return splits(seed) if callable(splits) else splits[seed]


def run(inp: AuditInputs, *, controls: ControlSettings | None = None, model: Any = None,
        splits: SplitSource | None = None, threshold: float | None = None,
        duplicate_threshold: float = 0.98, k: int = 1, folds: int = 4, seed: int = 0, tsne: bool = True,
        extra_spaces: Mapping[str, np.ndarray] | None = None,
        log: Callable[[str], None] = log_info) -> AuditResult:
    """Run the leakage audit (see the module docstring and :mod:`pairspace.studies.audit`).

    Parameters
    ----------
    inp : AuditInputs
        Tables, pairs, captions, evaluation set and optional sources and label sets (the split the
        one-split sections describe: the first seed's when ``splits`` is given).
    controls : ControlSettings, optional
        Train the control runs (:data:`~pairspace.studies.audit.controls.CONTROLS`) for each seed.
    model : AlignmentModel, optional
        A trained run to audit; default the first seed of the ``full`` control.
    splits : mapping or callable, optional
        ``seed -> AuditInputs``: the split each seed of the controls draws. Default: ``inp`` for every
        seed (a split fixed by the user; only the training seed varies).
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
    doc: dict[str, Any] = {"classes": list(inp.classes), "n_eval": len(inp.eval_ids),
                           "n_pairs": len(inp.pairs), "eval_ids": list(inp.eval_ids),
                           "eval_labels": list(inp.eval_labels), "split_seed": inp.split_seed}
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
        per_seed = [seed_data(_split(splits, inp, s), s) for s in controls.seeds]
        res = run_controls(per_seed, controls, log)
        models = res.pop("models")
        doc["controls"] = res
    model = model if model is not None else models.get("full")
    if model is not None:
        _projected(doc, inp, ev, model, k, folds, seed, tsne)
    doc["text_separability"] = text_separability(inp, model, k=k, folds=folds, seed=seed)
    doc["attribution"] = _attribution(doc, leaks.flagged_classes(LEXICAL), seed)
    doc["verdict"] = verdict(doc)
    doc["seconds"] = round(time.perf_counter() - t0, 2)
    settings = {"k": k, "folds": folds, "seed": seed, "threshold": threshold,
                "duplicate_threshold": duplicate_threshold, "tsne": tsne}
    if controls is not None:
        settings.update(seeds=list(controls.seeds), controls=list(controls.controls),
                        leak_share=controls.leak_share, train_config=controls.config.to_dict())
    inputs = {"n_eval": len(inp.eval_ids), "n_pairs": len(inp.pairs), "n_classes": len(inp.classes),
              "audio": inp.audio.metadata.get("provenance"), "text": inp.text.metadata.get("provenance"),
              "per_seed_splits": splits is not None}
    return AuditResult(doc, {**models, **({"audited": model} if model is not None else {})},
                       settings=json_ready(settings), inputs=json_ready(inputs))


def json_ready(v: Any) -> Any:
    """Plain JSON types (numpy scalars and arrays, tuples and paths converted)."""
    if isinstance(v, dict):
        return {str(k): json_ready(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [json_ready(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if v is None or isinstance(v, bool | int | float | str):
        return v
    return str(v)


def text_separability(inp: AuditInputs, model: Any = None, k: int = 1, folds: int = 4, seed: int = 0
                      ) -> dict[str, Any]:
    """Separability of the evaluation classes on the text side (Tavares et al. measure both sides).

    Items: the prompts (every template applied to every evaluation class: ``T`` items per class)
    and, when given, the captions of the evaluation clips. Spaces: the text backbone, and the
    projected space of ``model`` when given. The probe is skipped when a class has fewer items than
    ``folds``.
    """
    from ._zs import project_text

    P = np.asarray(inp.prompts, dtype=np.float32)
    T, C, d = P.shape
    sets: dict[str, tuple[np.ndarray, list[str]]] = {
        "prompts": (P.reshape(T * C, d), [c for _ in range(T) for c in inp.classes])}
    if inp.eval_text_ids:
        sets["captions"] = (np.asarray(inp.text.select(inp.eval_text_ids).vectors, np.float32),
                            list(inp.eval_text_labels or []))
    out: dict[str, Any] = {}
    for name, (X, y) in sets.items():
        out[name] = {"n": int(X.shape[0]), "backbone": separability(
            X, y, space=f"text backbone: {name}", k=k, folds=folds, seed=seed).to_dict()}
        if model is not None:
            out[name]["projected"] = separability(project_text(model, X), y, space=f"projected: {name}",
                                                  k=k, folds=folds, seed=seed).to_dict()
    return out


def _projected(doc: dict[str, Any], inp: AuditInputs, ev: EvalSet, model: Any, k: int, folds: int,
               seed: int, tsne: bool) -> None:
    """The audited model's zero-shot, GZSL, projected-space separability, NNGS and map."""
    from ._zs import project_audio, project_text

    doc["zeroshot"] = zeroshot(model, ev)
    doc["gzsl"] = _gzsl(inp, model)
    P = project_audio(model, ev.audio)
    doc["separability"]["projected"], coords = _space(P, ev.labels, "projected", k, folds, seed, tsne)
    if coords is not None:
        doc["maps"]["projected"] = coords
    doc["nngs"]["projected"] = centroid_prompt_nngs(P, ev.labels, ev.classes, project_text(model, ev.prompts))


def _attribution(doc: dict[str, Any], flagged: list[str], seed: int) -> dict[str, Any]:
    ctl = doc.get("controls", {}).get("controls", {})
    # per-class recall on the first split: the mean over seeds when every seed has that split, else the
    # first seed's full heads (other seeds evaluate other classes among other candidates)
    one_split = len({tuple(s["unseen_classes"]) for s in doc.get("controls", {}).get("splits", [])}) <= 1
    pooled = "full" in ctl and one_split
    acc = ctl["full"]["per_class"] if pooled else (doc.get("zeroshot") or {}).get("per_class")
    out: dict[str, Any] = {"flagged_classes": flagged,
                           "recall_source": "full control, mean over seeds" if pooled else
                           "the audited heads (first seed's full control) on the first split"}
    if acc:
        acc = {c: acc[c] for c in doc["classes"] if acc.get(c) is not None}
        per = doc["separability"]["audio backbone"]["per_class"]
        probe = all(v["probe_accuracy"] is not None for v in per.values())
        key = "probe_accuracy" if probe else "knn_accuracy"
        out["separability_measure"] = key
        out["separability_vs_accuracy"] = separability_vs_accuracy({c: v[key] for c, v in per.items()}, acc)
        out["flagged_vs_unflagged"] = flagged_gap(acc, flagged, seed=seed)
    out["clean_gap"] = clean_gap(ctl)
    out["decomposition"] = decompose(ctl)
    if "leak" in ctl:
        det = [r["detection"] for r in ctl["leak"]["per_seed"]]
        out["leak"] = {"vs_full": ctl["leak"].get("vs_full"),
                       "n_leak_captions": [d["n_leak_captions"] for d in det],
                       "detector_recall": [d["recall"] for d in det]}
    return out
