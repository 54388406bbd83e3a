r"""Pseudo-pair curation from unpaired audio and text in a trained teacher's projected space.

Wang, Subakan, Subramani, Wu, Tavares, Ayres & Smaragdis, "Unsupervised Improvement of Audio-Text
Cross-Modal Representations", WASPAA 2023 (arXiv 2305.01864). Every method takes embedding tables
(or arrays) already projected by the teacher and scores pairs by cosine similarity
:math:`s(a, t) = \langle a, t \rangle / (\lVert a \rVert \lVert t \rVert)`, in row blocks under a
``memory_budget`` (never the full ``|audio| x |text|`` matrix):

- **DU** (domain-unspecific, :func:`curate_du`): every pool pair with :math:`s \ge \tau_{DU}`, or
  the ``top_k`` texts of each audio clip. Label-free.
- **DS** (domain-specific, :func:`curate_ds`): the captions whose best cosine to any prompt
  ``"this is a sound of {label}"`` of the target task's class names is :math:`\ge \tau_{DS}`,
  paired with their own audio.
- **ADS** (augmented DS, :func:`curate_ads`): unpaired audio against the DS captions,
  :math:`s \ge \tau_{ADS}`.
- **a2a** (audio-to-audio, :func:`curate_a2a`): unpaired pool audio whose best cosine to any
  target-task audio clip is :math:`\ge \tau_{a2a}`, each paired with its ``top_k`` DS captions by
  audio-text cosine (the authors' a2a x t2t). It looks at the target task's audio, so it is
  **transductive**.

DS, ADS and a2a use the target task (its label names; a2a also its audio): their results carry
``uses_target_labels=True`` (a2a also ``transductive=True``), and the manifest and every report
say so. Thresholds are numbers (the published ones in the MS-CLAP space are in :data:`PRESETS`) or
quantiles of the pool's similarity distribution, written ``"q0.99"``; every result reports the
pairs kept at each threshold of a sweep.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import resolve_memory_budget
from ._curation_scan import (
    best_match,
    pair_scan,
    parse_threshold,
    prepare,
    resolve_thresholds,
    sweep_rows,
)
from .curation_names import (
    CURATION_METHODS,
    CURATION_SET_SCHEMA,
    DEFAULT_SWEEP,
    PRESETS,
    PROMPT,
    TARGET_USE,
)

__all__ = ["PRESETS", "PROMPT", "CurationResult", "curate_a2a", "curate_ads", "curate_ds", "curate_du",
           "parse_threshold"]

METHODS = CURATION_METHODS


@dataclass
class CurationResult:
    """Curated pairs of one method, sorted by audio index, then text index.

    Attributes
    ----------
    method : {"du", "ds", "ads", "a2a"}
    audio_index, text_index : numpy.ndarray of int64
        Rows of the audio and text inputs of each pair.
    similarity : numpy.ndarray of float64
        The score each pair was kept on (see the method's docstring).
    settings : dict
        Every setting (thresholds as given and as resolved, top_k, memory budget...).
    uses_target_labels, transductive : bool
        Whether the target task's label names (and its audio) were used.
    sweep : list of dict
        ``{"threshold", "value", "n_pairs"}`` for each threshold of the sweep.
    pool : dict
        Sizes of the inputs.
    audio_ids, text_ids : list of str or None
        Ids of the input rows (from tables), used by the manifest.
    columns : dict of str to numpy.ndarray
        Extra per-pair columns (``matched_class`` for DS, ``target_index`` for a2a...).
    """

    method: str
    audio_index: np.ndarray
    text_index: np.ndarray
    similarity: np.ndarray
    settings: dict[str, Any]
    uses_target_labels: bool
    transductive: bool
    sweep: list[dict[str, Any]] = field(default_factory=list)
    pool: dict[str, int] = field(default_factory=dict)
    audio_ids: list[str] | None = None
    text_ids: list[str] | None = None
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.audio_index.shape[0])

    @property
    def pairs(self) -> list[tuple[int, int, float]]:
        """``(audio_index, text_index, similarity)`` rows, sorted by audio then text index."""
        return [(int(a), int(t), float(s)) for a, t, s in
                zip(self.audio_index, self.text_index, self.similarity, strict=True)]

    def id_pairs(self) -> list[tuple[str, str]]:
        """``(audio_id, text_id)`` of every pair (needs inputs given as tables, or ids)."""
        if self.audio_ids is None or self.text_ids is None:
            raise ValueError("id pairs need the audio and text ids: pass EmbeddingTables (or ids=)")
        return [(self.audio_ids[a], self.text_ids[t]) for a, t in
                zip(self.audio_index.tolist(), self.text_index.tolist(), strict=True)]

    def precision(self, audio_labels: Sequence[str], text_labels: Sequence[str]) -> float:
        """Fraction of pairs whose audio and text carry the same true label (NaN when empty)."""
        if len(self) == 0:
            return float("nan")
        a = np.asarray(audio_labels, dtype=object)[self.audio_index]
        t = np.asarray(text_labels, dtype=object)[self.text_index]
        return float(np.mean(a == t))

    def sidecar(self, manifest: str, inputs: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The ``pairspace.curation_set/1`` envelope of this set: the JSON sidecar of its manifest.

        ``settings`` are the method's settings; ``results`` the summary of :meth:`to_dict` (method,
        size, flags, sweep, pool sizes) and ``manifest``, the name of the CSV it describes.
        """
        from ..envelope import envelope

        summary = {k: v for k, v in self.to_dict().items() if k != "settings"}
        return envelope(CURATION_SET_SCHEMA, inputs=inputs, settings=self.settings,
                        results={**summary, "manifest": manifest})

    def to_dict(self, include_pairs: bool = False) -> dict[str, Any]:
        """JSON-ready summary (the pairs themselves only when asked)."""
        d = {"method": self.method, "n_pairs": len(self),
             "settings": self.settings,
             "uses_target_labels": self.uses_target_labels, "transductive": self.transductive,
             "target_use": TARGET_USE[self.method], "sweep": self.sweep, "pool": self.pool}
        if include_pairs:
            d["pairs"] = self.pairs
        return d


def _ids(X: Any) -> list[str] | None:
    ids = getattr(X, "ids", None)
    return list(ids) if ids is not None else None


# ------------------------------------------------------------------ DU / ADS: pair thresholds
def curate_du(audio: Any, text: Any, tau: float | str = 0.75, top_k: int | None = None, *,
              sweep: Sequence[float | str] = DEFAULT_SWEEP, memory_budget: int | None = None,
              progress: bool | None = None) -> CurationResult:
    r"""Domain-unspecific curation: pool pairs with :math:`s(a_i, t_j) \ge \tau`, or each clip's top k.

    Parameters
    ----------
    audio, text : EmbeddingTable or array-like, shapes (n_a, d) and (n_t, d)
        Unpaired audio and text pools, projected by the teacher (one space).
    tau : float or str
        Cosine threshold (default 0.75, the published DU value in the MS-CLAP space), or a quantile
        of all :math:`n_a n_t` pool similarities written ``"q0.999"``. Ignored when ``top_k`` is set.
    top_k : int, optional
        Keep the ``top_k`` most similar texts of every audio clip instead (ties to the lower
        text index).
    sweep : sequence of float or str
        Thresholds at which the number of kept pairs is reported.
    memory_budget : int or None
        Scratch bytes of one block of similarities (None: the configured setting,
        :func:`pairspace.set_config`); the settings record the bytes used.
    progress : bool or None
        Progress bar (None: only on a terminal).

    Returns
    -------
    CurationResult
        ``pairs`` are ``(audio_index, text_index, similarity)``, sorted by audio then text index.
    """
    memory_budget = resolve_memory_budget(memory_budget)
    ai, ti, sim, thr, sw, (n_a, n_t) = pair_scan(audio, text, tau, top_k, sweep, memory_budget,
                                                  progress, ("audio", "text"), "curate DU")
    settings = {"tau": None if top_k is not None else tau, "tau_value": thr, "top_k": top_k,
                "memory_budget": memory_budget, "space": "teacher projection (cosine)"}
    return CurationResult("du", ai, ti, sim, settings, False, False, sw,
                          {"n_audio": n_a, "n_text": n_t}, _ids(audio), _ids(text))


def curate_ads(audio: Any, text: Any, ds: CurationResult, tau: float | str = 0.70, *,
               sweep: Sequence[float | str] = DEFAULT_SWEEP, memory_budget: int | None = None,
               progress: bool | None = None) -> CurationResult:
    r"""Augmented domain-specific curation: unpaired audio against the DS captions.

    Keeps :math:`(a_i, t_j)` with :math:`t_j` a caption kept by DS and
    :math:`s(a_i, t_j) \ge \tau_{ADS}`; ``text_index`` indexes the same text pool as ``ds``.
    It inherits DS's use of the target task's label names.

    Parameters
    ----------
    audio : EmbeddingTable or array-like, shape (n_a, d)
        The unpaired audio pool (teacher space).
    text : EmbeddingTable or array-like, shape (n_t, d)
        The text pool DS curated (the same rows as its ``text_index``).
    ds : CurationResult
        The result of :func:`curate_ds` on ``text``.
    tau : float or str
        Threshold (default 0.70: ESC-50's published value), or a quantile ``"q..."`` of the
        similarities of all (audio, DS caption) pairs.
    sweep, memory_budget, progress : as in :func:`curate_du`.
    """
    if not isinstance(ds, CurationResult) or ds.method != "ds":
        raise ValueError("ads needs the CurationResult of curate_ds on the same text pool")
    memory_budget = resolve_memory_budget(memory_budget)
    Tm, _ = prepare(text, "text")
    if ds.pool.get("n_text") != Tm.shape[0]:
        raise ValueError(f"the DS result curated {ds.pool.get('n_text')} captions but text has "
                         f"{Tm.shape[0]} rows: pass the same text pool")
    cand = np.unique(ds.text_index)
    if cand.size == 0:
        raise ValueError("DS kept no captions, so ADS has nothing to match audio against; "
                         "lower tau_DS")
    ai, ti, sim, thr, sw, (n_a, _) = pair_scan(audio, Tm[cand], tau, None, sweep, memory_budget,
                                                progress, ("audio", "DS captions"), "curate ADS")
    settings = {"tau": tau, "tau_value": thr, "ds_settings": ds.settings,
                "memory_budget": memory_budget, "space": "teacher projection (cosine)"}
    return CurationResult("ads", ai, cand[ti], sim, settings, True, ds.transductive, sw,
                          {"n_audio": n_a, "n_text": int(Tm.shape[0]), "n_ds_captions": int(cand.size)},
                          _ids(audio), _ids(text) or ds.text_ids, {})


# ------------------------------------------------------------------ DS / a2a: best-match filters
def _own_audio(caption_audio: Any, n_text: int, audio_ids: Sequence[str] | None) -> np.ndarray:
    own = np.asarray(caption_audio)
    if own.shape != (n_text,):
        raise ValueError(f"caption_audio needs one audio index per caption ({n_text}); got shape {own.shape}")
    if own.dtype.kind not in "iu":
        if audio_ids is None:
            raise ValueError("caption_audio holds ids: pass audio_ids (the ids it refers to)")
        pos = {a: i for i, a in enumerate(audio_ids)}
        missing = sorted({str(a) for a in own.tolist() if a not in pos})
        if missing:
            raise ValueError(f"{len(missing)} caption_audio ids are not in audio_ids, e.g. {missing[:5]}")
        own = np.array([pos[a] for a in own.tolist()], dtype=np.int64)
    if own.size and (own.min() < 0 or (audio_ids is not None and own.max() >= len(audio_ids))):
        raise ValueError("caption_audio indices must be >= 0 (and index audio_ids)")
    return own.astype(np.int64)


def _filter_by_best(best: np.ndarray, own: np.ndarray, tau: float | str,
                    sweep: Sequence[float | str], memory_budget: int) -> tuple[np.ndarray, ...]:
    """Captions (rows) with best >= tau, sorted by own audio then caption; the sweep counts."""
    specs = [tau, *sweep]
    vals = resolve_thresholds(specs, best, best.size, memory_budget)
    keep = np.flatnonzero(best >= vals[0])
    keep = keep[np.lexsort((keep, own[keep]))]
    counts = [int(np.count_nonzero(best >= v)) for v in vals]
    return keep, vals[0], sweep_rows(specs, vals, counts)[1:]


def curate_ds(text: Any, prompts: Any, caption_audio: Any, tau: float | str = 0.70, *,
              class_names: Sequence[str], audio_ids: Sequence[str] | None = None,
              sweep: Sequence[float | str] = DEFAULT_SWEEP, memory_budget: int | None = None,
              progress: bool | None = None) -> CurationResult:
    r"""Domain-specific curation: captions close to a target-class prompt, with their own audio.

    Caption :math:`t_j` is kept when :math:`\max_c s(t_j, p_c) \ge \tau_{DS}`, with :math:`p_c` the
    teacher-space embedding of ``"this is a sound of {class c}"`` (:data:`PROMPT`); the pair is
    (its own audio, :math:`t_j`) with that best cosine as ``similarity`` and the best class in
    ``columns["matched_class"]``. Uses the target task's label names.

    Parameters
    ----------
    text : EmbeddingTable or array-like, shape (n_t, d)
        The captioned pool's captions (teacher space).
    prompts : EmbeddingTable or array-like, shape (C, d)
        One prompt embedding per target class (teacher space), in ``class_names`` order.
    caption_audio : sequence of int or str, length n_t
        The audio row (or id, with ``audio_ids``) each caption describes.
    tau : float or str
        Threshold (default 0.70: ESC-50's published value) or a quantile ``"q..."`` of the
        captions' best prompt cosines.
    class_names : sequence of str
        The target task's class names (recorded in the settings).
    audio_ids : sequence of str, optional
        Ids of the audio rows ``caption_audio`` refers to (for the manifest).
    sweep, memory_budget, progress : as in :func:`curate_du`.
    """
    names = [str(c) for c in class_names]
    memory_budget = resolve_memory_budget(memory_budget)
    best, arg = best_match(text, prompts, ("text", "prompts"), memory_budget, progress, "curate DS")
    if len(names) != int(np.asarray(getattr(prompts, "vectors", prompts)).shape[0]):
        raise ValueError(f"{len(names)} class names for the prompt rows: give one name per prompt")
    own = _own_audio(caption_audio, best.size, audio_ids)
    keep, thr, sw = _filter_by_best(best, own, tau, sweep, memory_budget)
    settings = {"tau": tau, "tau_value": thr, "prompt": PROMPT, "class_names": names,
                "memory_budget": memory_budget, "space": "teacher projection (cosine)"}
    return CurationResult("ds", own[keep], keep.astype(np.int64), best[keep], settings, True, False, sw,
                          {"n_text": int(best.size), "n_classes": len(names)},
                          list(audio_ids) if audio_ids is not None else None, _ids(text),
                          {"matched_class": np.array(names, dtype=object)[arg[keep]]})


def curate_a2a(pool_audio: Any, target_audio: Any, ds_text: Any, tau: float | str = 0.70,
               top_k: int = 5, *, sweep: Sequence[float | str] = DEFAULT_SWEEP,
               memory_budget: int | None = None,
               progress: bool | None = None) -> CurationResult:
    r"""Audio-to-audio curation x DS captions (transductive): the authors' a2a x t2t pairing.

    Pool clip :math:`a_i` is kept when its best cosine to any target-task clip :math:`x_m` reaches
    the threshold,

    .. math:: \max_m s(a_i, x_m) \ge \tau_{a2a},

    and each kept clip is paired with its ``top_k`` DS captions :math:`t_j` by audio-text cosine
    :math:`s(a_i, t_j)` (ties go to the lower caption index). This is the a2a filter
    (``retrieve_ds_a2a.py``, :math:`\tau_{a2a}` = 0.70 ESC-50, 0.875 UrbanSound8K, 0.70 TUT2017)
    followed by the top-5 pairing of the a2a-filtered audio with the DS captions
    (``{ds}_insper_audioset_ds_retr.yaml``) of Wang et al., WASPAA 2023 (arXiv 2305.01864; authors'
    code zhepeiw/clap_curation). It looks at the target task's audio, so it is **transductive**,
    and the DS captions come from the target task's label names: the result carries
    ``transductive=True`` and ``uses_target_labels=True``.

    Parameters
    ----------
    pool_audio : EmbeddingTable or array-like, shape (n_a, d)
        The unpaired audio pool (teacher space).
    target_audio : EmbeddingTable or array-like, shape (m, d)
        The target task's clips (teacher space; their labels are never read).
    ds_text : EmbeddingTable or array-like, shape (n_t, d)
        The DS captions (teacher space); ``text_index`` indexes its rows.
    tau : float or str
        Threshold on the best pool-to-target cosine (default 0.70), or an exact quantile
        ``"q..."`` of the ``n_a`` best cosines (numpy's linear method).
    top_k : int
        Captions per kept clip, ``1 <= top_k <= n_t`` (default 5, the authors' top-5).
    sweep : sequence of float or str
        Thresholds at which the kept clips (and ``top_k`` times as many pairs) are counted.
    memory_budget, progress : as in :func:`curate_du`.

    Returns
    -------
    CurationResult
        ``pairs`` are ``(audio_index, text_index, similarity)`` sorted by audio, then text index;
        ``similarity`` is the audio-text cosine; ``columns["target_similarity"]`` holds the clip's
        best cosine to the target audio and ``columns["target_index"]`` that target clip.
    """
    memory_budget = resolve_memory_budget(memory_budget)
    best, arg = best_match(pool_audio, target_audio, ("pool_audio", "target_audio"), memory_budget,
                            progress, "curate a2a")
    Tm, _ = prepare(ds_text, "ds_text")
    if isinstance(top_k, bool) or not isinstance(top_k, int | np.integer) or not 1 <= top_k <= Tm.shape[0]:
        raise ValueError(f"top_k must be an int in [1, {Tm.shape[0]}] (the number of DS captions); "
                         f"got {top_k!r}")
    specs = [tau, *sweep]
    vals = resolve_thresholds(specs, best, best.size, memory_budget)
    kept = np.flatnonzero(best >= vals[0])
    sw = sweep_rows(specs, vals, [int(np.count_nonzero(best >= v)) * int(top_k) for v in vals])[1:]
    if kept.size:
        Am = prepare(pool_audio, "pool_audio")[0][kept]
        ai, ti, sim, *_ = pair_scan(Am, Tm, None, int(top_k), (), memory_budget, progress,
                                     ("pool_audio", "ds_text"), "curate a2a x DS")
        ai = kept[ai]
    else:
        ai, ti, sim = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
    settings = {"tau": tau, "tau_value": vals[0], "top_k": int(top_k), "memory_budget": memory_budget,
                "space": "teacher projection (cosine)", "n_target_audio": int(np.asarray(
                    getattr(target_audio, "vectors", target_audio)).shape[0])}
    return CurationResult("a2a", ai, ti, sim, settings, True, True, sw,
                          {"n_audio": int(best.size), "n_text": int(Tm.shape[0]),
                           "n_kept_audio": int(kept.size)},
                          _ids(pool_audio), _ids(ds_text),
                          {"target_similarity": best[ai], "target_index": arg[ai]})
