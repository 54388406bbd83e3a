"""Curation from backbone tables and a trained teacher: projection, prompts, the methods, statistics.

:func:`run_curation` is what ``pairspace curate`` and the ``improve`` experiment call: it projects
the pools with the teacher's heads (L2-normalized, as the teacher scores pairs), embeds the DS
prompts ``"this is a sound of {label}"`` with the teacher's text backbone and head, runs the
requested methods (:mod:`pairspace.studies.curation`) and summarizes each with
:func:`curation_stats` (pairs, distinct clips and captions, precision where labels are known).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._progress import log_info
from .._validation import resolve_memory_budget
from ..data.table import EmbeddingTable
from ..envelope import Envelope
from .curation import (
    DEFAULT_SWEEP,
    METHODS,
    PRESETS,
    PROMPT,
    TARGET_USE,
    CurationResult,
    curate_a2a,
    curate_ads,
    curate_ds,
    curate_du,
)
from .curation_names import CURATION_RUN_SCHEMA

DEFAULT_THRESHOLDS: dict[str, float | str] = dict(PRESETS["esc50"])
"""Thresholds used when none are given: the published ESC-50 values (MS-CLAP space)."""


def teacher_space(model: Any, table: EmbeddingTable, modality: str) -> EmbeddingTable:
    """``table`` projected by the teacher's ``"audio"`` or ``"text"`` head (unit rows; ids kept)."""
    if modality not in ("audio", "text"):
        raise ValueError(f"modality must be 'audio' or 'text'; got {modality!r}")
    proj = model.project_a if modality == "audio" else model.project_b
    meta = {**table.metadata, "projected_by": "teacher heads", "backbone_provenance": table.provenance}
    vec = proj(np.array(table.vectors, dtype=np.float32))  # a writable copy (tables may be mmapped)
    return EmbeddingTable(table.ids, vec, table.labels, meta, table.columns)


def teacher_prompts(model: Any, text_encoder: Any, class_names: Sequence[str],
                    prompt: str = PROMPT) -> np.ndarray:
    """One teacher-space embedding per class of ``prompt`` filled with its name (no ensembling), (C, d)."""
    from ..tasks.zeroshot import format_prompts

    texts = format_prompts([prompt], class_names)
    E = np.asarray(text_encoder.encode(texts, progress=False))
    if E.ndim != 2 or E.shape[0] != len(texts):
        raise ValueError(f"text encoder returned shape {E.shape} for {len(texts)} prompts")
    return model.project_b(E)


def caption_owners(text: EmbeddingTable, pairs: Sequence[tuple[str, str]] | None = None) -> list[str]:
    """Each caption's audio id: from ``(audio_id, text_id)`` pairs, else the ``audio_id`` column."""
    if pairs is not None:
        own = {t: a for a, t in pairs}
        missing = [t for t in text.ids if t not in own]
        if missing:
            raise ValueError(f"{len(missing)} captions of the text pool have no audio in the caption "
                             f"pairs, e.g. {missing[:5]}")
        return [own[t] for t in text.ids]
    if "audio_id" in text.columns:
        return [str(a) for a in text.columns["audio_id"]]
    raise ValueError("DS and a2a need each caption's own audio: give the captioned pool's pairs "
                     "(audio_id, text_id) or a text table with an audio_id column")


def curation_stats(result: CurationResult, audio_labels: Mapping[str, str] | None = None,
                   text_labels: Mapping[str, str] | None = None,
                   target_classes: Sequence[str] | None = None) -> dict[str, Any]:
    r"""Size and quality of a curated set.

    ``precision`` is the fraction of pairs whose clip and caption carry the same true label;
    ``target_precision`` the fraction whose caption's true label is a target class (the share of
    pairs that are really in the target domain). Both need the labels (``id -> label``) and are
    ``None`` otherwise. ``sweep`` repeats the result's threshold sweep with the ``precision`` at
    each threshold where it is known: labels given, a threshold (not top-k) method, and a threshold
    at or above the one used, whose kept pairs are the curated pairs with a score at least that
    value (the similarity; for a2a the clip's best cosine to the target audio). Elsewhere it is
    ``None``.
    """
    ids = result.id_pairs() if result.audio_ids is not None and result.text_ids is not None else None
    d: dict[str, Any] = {
        "method": result.method, "n_pairs": len(result),
        "n_audio": int(np.unique(result.audio_index).size), "n_text": int(np.unique(result.text_index).size),
        "pool": result.pool, "threshold": result.settings.get("tau"),
        "threshold_value": result.settings.get("tau_value"), "top_k": result.settings.get("top_k"),
        "uses_target_labels": result.uses_target_labels, "transductive": result.transductive,
        "target_use": TARGET_USE[result.method], "precision": None, "target_precision": None,
        "mean_similarity": float(np.mean(result.similarity)) if len(result) else None,
    }
    same = None
    if ids is not None and audio_labels is not None and text_labels is not None and ids:
        same = np.array([audio_labels.get(a) == text_labels.get(t) for a, t in ids], dtype=bool)
        d["precision"] = float(np.mean(same))
    score = result.columns.get("target_similarity", result.similarity)
    tau = d["threshold_value"] if d["top_k"] is None or result.method == "a2a" else None
    sweep = []
    for row in result.sweep:
        v, prec = row["value"], None
        if same is not None and tau is not None and v is not None and v >= tau:
            kept = np.asarray(score) >= v
            prec = float(np.mean(same[kept])) if kept.any() else None
        sweep.append({**row, "precision": prec})
    d["sweep"] = sweep
    if ids is not None and text_labels is not None and target_classes is not None and ids:
        tgt = set(target_classes)
        d["target_precision"] = float(np.mean([text_labels.get(t) in tgt for _, t in ids]))
    return d


@dataclass
class CurationRun:
    """The results of :func:`run_curation` (one per method), their statistics and the envelope.

    Attributes
    ----------
    results : dict of str to CurationResult
        One curated set per method.
    stats : list of dict
        :func:`curation_stats` of each method (with the sweep and its precision where known).
    settings : dict
        Every setting of the run (methods, thresholds, top-k, prompt, memory budget...).
    envelope : Envelope
        The inputs and the stamp of the ``pairspace.curation/3`` document.
    """

    results: dict[str, CurationResult]
    stats: list[dict[str, Any]]
    settings: dict[str, Any] = field(default_factory=dict)
    envelope: Envelope = field(default_factory=lambda: Envelope.new(CURATION_RUN_SCHEMA))

    def to_dict(self) -> dict[str, Any]:
        """The ``pairspace.curation/3`` document.

        ``results`` holds ``stats`` (one entry per method: sizes, the threshold used as given and
        as resolved, precision where labels are known, the flags and the ``sweep`` of
        ``{"threshold", "value", "n_pairs", "precision"}``) and ``methods`` (each method's settings,
        flags and pool sizes, :meth:`CurationResult.to_dict` without its sweep).
        """
        methods = {m: {k: v for k, v in r.to_dict().items() if k != "sweep"}
                   for m, r in self.results.items()}
        return self.envelope.document(self.settings, {"stats": self.stats, "methods": methods})


def _empty(method: str, ds: CurationResult, tau: float | str, audio: EmbeddingTable,
           caps: EmbeddingTable, sweep: Sequence[float | str]) -> CurationResult:
    """The result of ADS or a2a when DS kept no caption (no pairs; every sweep count 0)."""
    z = np.zeros(0, np.int64)
    rows = [{"threshold": s, "value": None, "n_pairs": 0} for s in sweep]
    return CurationResult(method, z, z.copy(), np.zeros(0), {"tau": tau, "tau_value": None,
                          "note": "DS kept no caption, so there was nothing to pair with"},
                          True, method == "a2a", rows, {"n_audio": len(audio), "n_text": len(caps)},
                          list(audio.ids), list(caps.ids))


def run_curation(audio: EmbeddingTable, text: EmbeddingTable, methods: Sequence[str], *,
                 thresholds: Mapping[str, float | str] | None = None, top_k: int | None = None,
                 class_names: Sequence[str] | None = None, prompts: np.ndarray | None = None,
                 owners: Sequence[str] | None = None, target_audio: EmbeddingTable | None = None,
                 captions: EmbeddingTable | None = None, a2a_top_k: int = 5,
                 sweep: Sequence[float | str] = DEFAULT_SWEEP,
                 memory_budget: int | None = None, progress: bool | None = None,
                 log: Callable[[str], None] = log_info,
                 inputs: Mapping[str, Any] | None = None) -> CurationRun:
    """Run the curation ``methods`` on pools already in the teacher's space.

    Parameters
    ----------
    audio, text : EmbeddingTable
        The unpaired audio pool and the unpaired text pool (teacher space, :func:`teacher_space`).
        DU pairs them.
    methods : sequence of {"du", "ds", "ads", "a2a"}
        Methods to run (ADS and a2a run DS first when DS is not asked for).
    thresholds : mapping, optional
        ``method -> threshold`` (numbers or ``"q..."`` quantiles); missing ones from
        :data:`DEFAULT_THRESHOLDS`.
    top_k : int, optional
        DU keeps each clip's ``top_k`` texts instead of a threshold.
    class_names, prompts : the target task's classes and their teacher-space prompt embeddings
        (DS, ADS, a2a).
    captions : EmbeddingTable, optional
        The captioned pairs DS chooses from (teacher space): in the paper, the teacher's *own*
        training captions. Default: ``text``.
    owners : sequence of str, optional
        Each row of ``captions`` (or ``text``)'s own audio id (DS; :func:`caption_owners`).
    target_audio : EmbeddingTable, optional
        The target task's clips in the teacher space (a2a; transductive).
    a2a_top_k : int
        DS captions paired with each clip a2a keeps (the authors' top-5; fewer when DS kept
        fewer captions).
    sweep, memory_budget, progress : as in :func:`pairspace.studies.curation.curate_du`
        (``memory_budget`` None: the configured setting, :func:`pairspace.set_config`, resolved
        once and recorded in the settings).
    log : callable, optional
        Receives one line per finished method (default: an INFO record of the ``pairspace``
        logger).
    inputs : mapping, optional
        Provenance of the inputs (teacher run, tables) for the result envelope.
    """
    methods = list(dict.fromkeys(m.lower() for m in methods))
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise ValueError(f"unknown curation method(s) {bad}; choose from {', '.join(METHODS)}")
    thr = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    memory_budget = resolve_memory_budget(memory_budget)
    kw = {"sweep": sweep, "memory_budget": memory_budget, "progress": progress}
    needs_ds = any(m in ("ds", "ads", "a2a") for m in methods)
    if "a2a" in methods and target_audio is None:
        raise ValueError("a2a needs the target task's audio (it is transductive)")
    if needs_ds and (class_names is None or prompts is None):
        raise ValueError("DS, ADS and a2a need the target task's class names (and their prompts)")
    caps = text if captions is None else captions
    out: dict[str, CurationResult] = {}
    if "du" in methods:
        out["du"] = curate_du(audio, text, thr["du"], top_k, **kw)
    if needs_ds:
        if owners is None:
            raise ValueError("DS needs each caption's own audio (owners)")
        out["ds"] = curate_ds(caps, prompts, np.array(owners, dtype=object), thr["ds"],
                              class_names=class_names, audio_ids=sorted(set(owners)), **kw)
    cand = np.unique(out["ds"].text_index) if needs_ds else np.zeros(0, np.int64)
    for m in ("ads", "a2a"):  # nothing to pair with: an empty result that says why
        if m in methods and cand.size == 0:
            out[m] = _empty(m, out["ds"], thr[m], audio, caps, sweep)
    if "ads" in methods and "ads" not in out:
        out["ads"] = curate_ads(audio, caps, out["ds"], thr["ads"], **kw)
    if "a2a" in methods and "a2a" not in out:
        sub = EmbeddingTable([caps.ids[j] for j in cand], np.asarray(caps.vectors)[cand],
                             None if caps.labels is None else [caps.labels[j] for j in cand])
        res = curate_a2a(audio, target_audio, sub, thr["a2a"], min(int(a2a_top_k), int(cand.size)), **kw)
        res.text_index = cand[res.text_index]
        res.text_ids = list(caps.ids)
        res.pool["n_text"], res.pool["n_ds_captions"] = len(caps), int(cand.size)
        out["a2a"] = res
    a_lab = dict(zip(audio.ids, audio.labels, strict=True)) if audio.labels is not None else None
    stats = []
    for m, res in out.items():
        src = text if m == "du" else caps
        t_lab = dict(zip(src.ids, src.labels, strict=True)) if src.labels is not None else None
        lab = a_lab
        if m == "ds" and t_lab is not None:  # own audio: the caption's label
            lab = {**(a_lab or {}), **{owners[j]: t_lab[caps.ids[j]] for j in range(len(caps))}}
        stats.append(curation_stats(res, lab, t_lab, class_names))
        log(f"{m}: {len(res)} pairs")
    settings = {"methods": list(out), "thresholds": {m: thr[m] for m in out}, "top_k": top_k,
                "a2a_top_k": int(a2a_top_k), "ds_source": "text" if captions is None else "captions",
                "class_names": list(class_names) if class_names is not None else None,
                "prompt": PROMPT, "memory_budget": memory_budget}
    return CurationRun(out, stats, settings, Envelope.new(CURATION_RUN_SCHEMA, inputs))


def curate_files(teacher: str | os.PathLike[str], audio: str | os.PathLike[str],
                 text: str | os.PathLike[str], methods: Sequence[str], *,
                 classes: str | os.PathLike[str] | None = None,
                 caption_pairs: str | os.PathLike[str] | None = None,
                 target_audio: str | os.PathLike[str] | None = None,
                 text_encoder: str | None = None, **options: Any) -> CurationRun:
    """:func:`run_curation` on files: a teacher run folder and embedding tables in its backbones.

    Loads the teacher, projects the pools (and the target audio for a2a) into its space, encodes
    the class prompts with the teacher's text encoder (or ``text_encoder``) for the methods that
    use the target task's label names (ds, ads, a2a), finds each caption's clip (from the text
    table's ``audio_id`` column or ``caption_pairs``) and records every input file's provenance.

    Parameters
    ----------
    teacher : path-like
        The teacher's run folder (``pairspace train``).
    audio, text : path-like
        The unpaired audio and text pools (embedding tables in the teacher's backbones).
    methods : sequence of str
        Curation methods (:data:`~pairspace.studies.curation_names.CURATION_METHODS`).
    classes : path-like, optional
        The target task's class names (required by ds, ads and a2a).
    caption_pairs : path-like, optional
        The teacher's (audio_id, text_id) pairs, when the text table has no ``audio_id`` column.
    target_audio : path-like, optional
        The target task's audio table (a2a only; transductive).
    text_encoder : str, optional
        Registry name of the text encoder (default: the one the teacher run records).
    **options
        Passed to :func:`run_curation` (thresholds, top_k, a2a_top_k, sweep, memory_budget,
        progress, log).

    Returns
    -------
    CurationRun
        As :func:`run_curation`, with the inputs' provenance in its envelope.
    """
    from ..align.trainer import load_model, load_pairs
    from ..data.templates import load_class_names
    from ..encoders import get
    from ..envelope import file_input

    methods = list(dict.fromkeys(methods))
    needs_labels = [m for m in methods if m in ("ds", "ads", "a2a")]
    if "a2a" in methods and not target_audio:
        raise ValueError("a2a needs the target task's audio: pass --target-audio (it is transductive)")
    if needs_labels and not classes:
        raise ValueError(f"{', '.join(needs_labels)} use the target task's label names: pass --classes")
    model, _, meta = load_model(teacher)
    audio_t, text_t = EmbeddingTable.load(audio), EmbeddingTable.load(text)
    names = load_class_names(classes) if classes else None
    owners = None
    if needs_labels:
        owners = caption_owners(text_t, load_pairs(caption_pairs) if caption_pairs else None)
    prompts = None
    if needs_labels:
        enc = text_encoder or meta.get("text_encoder")
        if not enc:
            raise ValueError("the teacher run does not record its text encoder; pass --text-encoder")
        prompts = teacher_prompts(model, get(enc), names)
    target = (teacher_space(model, EmbeddingTable.load(target_audio), "audio")
              if "a2a" in methods else None)
    provenance = {"teacher": str(teacher), "audio_table": file_input(audio),
                  "text_table": file_input(text),
                  "target_audio_table": file_input(target_audio) if target_audio else None,
                  "classes": None if classes is None else str(classes),
                  "caption_pairs": file_input(caption_pairs) if caption_pairs else None}
    return run_curation(teacher_space(model, audio_t, "audio"), teacher_space(model, text_t, "text"),
                        methods, class_names=names, prompts=prompts, owners=owners,
                        target_audio=target, inputs=provenance, **options)
