r"""Control runs of the audit: the same heads and settings trained on altered data, over seeds.

Each control isolates one source of zero-shot accuracy (Tavares et al., ICASSP 2025):

``full``           the training pairs as given;
``clean``          the pairs whose caption names an evaluation class (any lexical kind, a shared
                   content word included) removed;
``matched``        a random subset of the pairs as large as ``clean`` (the cost of having fewer pairs);
``shuffled``       the captions permuted among the pairs (the pairing broken: accuracy must fall to
                   chance, within :math:`1/C \pm 1.96\sqrt{(1/C)(1 - 1/C)/n}`);
``untrained``      heads at their random initialization (what the frozen backbones give alone);
``logmel``         ``full`` on the weight-free log-mel features instead of the audio backbone;
``word_masked``    every clip and caption kept, every word of every evaluation name (and of its
                   synonyms) deleted from the captions, which are embedded again: the cost of the
                   *words* alone, with every seen class kept;
``class_matched``  ``clean``'s removal pattern (the share of each class's captions it removes)
                   applied to randomly chosen seen classes: the cost of losing that many classes
                   when they are *not* the relatives of the evaluation classes;
``leak``           ``full`` plus a share of the evaluation classes' own clips, captioned by name
                   (a real caption leak, route L2 of the paper); these clips are left out of every
                   comparison with ``leak``, and the audit's own detector must flag their captions.

Every seed draws its own split (:class:`SeedData`: the unseen classes, the training pairs, the
evaluation clips) *and* its own training seed. Every control is evaluated per clip (0/1 top-1
correctness), so every difference between controls is paired per clip and seed
(:func:`pairspace.stats.paired.paired_difference`).

A finished run folder is reused when its key (configuration, pairs, tables) is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..._progress import log_info
from ...data.table import EmbeddingTable
from .altered import (
    LEAK_FORMS,
    class_matched_pairs,
    leak_captions,
    leak_clips,
    leak_detection,
    mask_words,
    masked_captions,
    name_words,
)

__all__ = ["CONTROLS", "DEFAULT_CONTROLS", "LEAK_FORMS", "ControlSettings", "EvalSet", "SeedData",
           "class_matched_pairs", "control_data", "leak_captions", "leak_clips", "leak_detection",
           "mask_words", "masked_captions", "name_words", "run_controls"]

CONTROLS = ("full", "clean", "matched", "shuffled", "untrained", "logmel", "word_masked",
            "class_matched", "leak")
"""Every control the audit knows (the command line reads its choices from here)."""

DEFAULT_CONTROLS = ("full", "clean", "matched", "shuffled", "untrained", "word_masked", "class_matched",
                    "leak")
"""The controls trained by default (``logmel`` needs a second audio table)."""

NEEDS_ENCODER = ("word_masked", "leak")
"""Controls whose captions are written by the audit and embedded with the text encoder."""


@dataclass
class EvalSet:
    """The zero-shot evaluation: clips (backbone rows), their classes and the class prompts.

    ``prompts`` are text-backbone embeddings of every (template, class) prompt, shape (T, C, d).
    """

    audio: np.ndarray
    labels: list[str]
    classes: list[str]
    prompts: np.ndarray

    def __post_init__(self) -> None:
        self.audio = np.asarray(self.audio, dtype=np.float32)
        self.prompts = np.asarray(self.prompts, dtype=np.float32)
        if self.prompts.ndim == 2:
            self.prompts = self.prompts[None]
        if self.prompts.ndim != 3 or self.prompts.shape[1] != len(self.classes):
            raise ValueError(f"prompts must have shape (templates, {len(self.classes)}, d); "
                             f"got {self.prompts.shape}")
        if self.audio.ndim != 2 or self.audio.shape[0] != len(self.labels):
            raise ValueError(f"{len(self.labels)} labels for evaluation audio of shape {self.audio.shape}")
        missing = sorted(set(self.labels) - set(self.classes))
        if missing:
            raise ValueError(f"evaluation labels not among the classes: {missing[:5]}")


def outcomes(model: Any, ev: EvalSet, audio: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Per-clip top-1 correctness (0/1) and the metrics of heads on ``ev`` (template-ensembled)."""
    from ...tasks.zeroshot import zeroshot_metrics
    from ._zs import class_scores

    S = class_scores(model, ev.audio if audio is None else audio, ev.prompts)
    m = zeroshot_metrics(S, ev.labels, ev.classes)
    pos = {c: i for i, c in enumerate(ev.classes)}
    hit = (S.argmax(axis=1) == np.array([pos[v] for v in ev.labels])).astype(np.int8)
    return hit, {k: m[k] for k in ("top1", "top5", "balanced_accuracy", "chance", "n", "per_class")}


def zeroshot(model: Any, ev: EvalSet, audio: np.ndarray | None = None) -> dict[str, Any]:
    """Zero-shot top-1 / per-class recall of projection heads on ``ev`` (template-ensembled)."""
    return outcomes(model, ev, audio)[1]


def chance_interval(n_classes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    r"""Normal-approximation interval of a chance-level classifier's accuracy on ``n`` items."""
    p = 1.0 / n_classes
    h = z * np.sqrt(p * (1 - p) / max(n, 1))
    return max(0.0, p - h), min(1.0, p + h)


@dataclass
class ControlSettings:
    """How to train the controls: the head configuration, the seeds, the run folder.

    ``leak_share`` is the share of each evaluation class's clips the ``leak`` control trains on
    (at least one clip, at most all but one).
    """

    config: Any
    seeds: Sequence[int] = (0, 1, 2)
    controls: Sequence[str] = ("full", "clean", "shuffled", "untrained")
    out: Path | None = None
    logmel_audio: EmbeddingTable | None = None
    leak_share: float = 0.25
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        bad = [c for c in self.controls if c not in CONTROLS]
        if bad:
            raise ValueError(f"unknown controls {bad}; choose from {', '.join(CONTROLS)}")
        if not self.seeds:
            raise ValueError("at least one seed is needed")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be distinct; got {list(self.seeds)}")
        if "logmel" in self.controls and self.logmel_audio is None:
            raise ValueError("the logmel control needs the logmel audio table (ControlSettings.logmel_audio)")
        if not 0.0 < self.leak_share < 1.0:
            raise ValueError(f"leak_share must lie in (0, 1); got {self.leak_share}")


@dataclass
class SeedData:
    """One seed's split: the training side, the evaluation side, the flagged captions.

    Attributes
    ----------
    seed : int
        The seed (of the split and of the training).
    audio, text : EmbeddingTable
        Audio-backbone rows (training and evaluation clips, with labels) and caption rows.
    pairs : list of (audio_id, text_id)
        Training pairs (seen classes only).
    captions : mapping
        ``text_id -> caption`` of the pairs.
    ev : EvalSet
        The evaluation clips, classes (the unseen ones) and prompts.
    eval_ids : list of str
        Ids of the evaluation clips (rows of ``audio``).
    flagged : set of str
        Caption ids flagged lexically for this split's evaluation classes.
    synonyms : mapping
        Class -> synonyms (the words of ``word_masked`` and the detector of ``leak``).
    encode : callable, optional
        ``texts -> (n, d_text)``: the text backbone (needed by ``word_masked`` and ``leak``).
    """

    seed: int
    audio: EmbeddingTable
    text: EmbeddingTable
    pairs: list[tuple[str, str]]
    captions: Mapping[str, str]
    ev: EvalSet
    eval_ids: list[str]
    flagged: set[str]
    synonyms: Mapping[str, Sequence[str]] = field(default_factory=dict)
    encode: Callable[[list[str]], np.ndarray] | None = None


def control_pairs(name: str, pairs: Sequence[tuple[str, str]], flagged: set[str], seed: int
                  ) -> list[tuple[str, str]]:
    """The training pairs of the pair-level controls (``clean`` drops flagged captions, ``matched``
    keeps as many random pairs, ``shuffled`` permutes the captions); others keep ``pairs``."""
    pairs = [(str(a), str(t)) for a, t in pairs]
    if name == "clean":
        out = [(a, t) for a, t in pairs if t not in flagged]
        if len(out) < 2:
            raise ValueError(f"the clean control keeps {len(out)} of {len(pairs)} pairs; nothing to train")
        return out
    if name == "matched":
        n = sum(t not in flagged for _, t in pairs)
        keep = np.sort(np.random.default_rng([seed, 11]).choice(len(pairs), size=max(n, 2), replace=False))
        return [pairs[i] for i in keep]
    if name == "shuffled":
        perm = np.random.default_rng([seed, 7]).permutation(len(pairs))
        return [(pairs[i][0], pairs[j][1]) for i, j in enumerate(perm)]
    return pairs


def _encode(sd: SeedData, texts: list[str]) -> np.ndarray:
    if sd.encode is None:
        raise ValueError("the word_masked and leak controls need the text encoder of the captions "
                         "(AuditInputs.text_encoder)")
    E = np.asarray(sd.encode(texts), dtype=np.float32)
    if E.shape != (len(texts), sd.text.dim):
        raise ValueError(f"the text encoder returned shape {E.shape}; expected ({len(texts)}, {sd.text.dim})")
    return E


def control_data(name: str, sd: SeedData, st: ControlSettings
                 ) -> tuple[EmbeddingTable, EmbeddingTable, list[tuple[str, str]], dict[str, Any]]:
    """Audio table, caption table, training pairs and a note of what changed, for one control."""
    audio = st.logmel_audio if name == "logmel" else sd.audio
    tids = list(dict.fromkeys(t for _, t in sd.pairs))
    text = sd.text.select(tids)
    info: dict[str, Any] = {}
    if name == "class_matched":
        labels = dict(zip(sd.audio.ids, sd.audio.labels or [], strict=False))
        pairs, info = class_matched_pairs(sd.pairs, labels, sd.flagged, sd.seed)
        return audio, text, pairs, info
    if name == "word_masked":
        masked = masked_captions(sd, tids)
        vec = np.array(text.vectors, dtype=np.float32)
        if masked:
            pos = {t: i for i, t in enumerate(text.ids)}
            vec[[pos[t] for t in masked]] = _encode(sd, list(masked.values()))
        info = {"n_masked_captions": len(masked), "n_words": len(name_words(sd.ev.classes, sd.synonyms)),
                "examples": [{"id": t, "before": sd.captions[t], "after": m}
                             for t, m in list(masked.items())[:5]]}
        return audio, EmbeddingTable(text.ids, vec, text.labels, dict(text.metadata)), list(sd.pairs), info
    if name == "leak":
        rows = leak_clips(sd, st.leak_share)
        caps = leak_captions(sd, rows)
        ids = list(caps)
        new = EmbeddingTable(ids, _encode(sd, [caps[t][1] for t in ids]))
        both = EmbeddingTable(text.ids + ids, np.vstack([np.asarray(text.vectors, np.float32),
                                                         np.asarray(new.vectors, np.float32)]))
        pairs = list(sd.pairs) + [(caps[t][0], t) for t in ids]
        info = {"leaked_clips": rows, "n_leak_captions": len(ids),
                "captions": {t: caps[t][1] for t in ids}}
        return audio, both, pairs, info
    return audio, text, control_pairs(name, sd.pairs, sd.flagged, sd.seed), info


def _model(name: str, sd: SeedData, st: ControlSettings) -> tuple[Any, dict[str, Any], int]:
    import torch

    from ...align import AlignmentModel, TrainConfig, load_model, train

    cfg = TrainConfig.from_dict({**st.config.to_dict(), "seed": int(sd.seed)})
    a_tab, t_tab, cpairs, info = control_data(name, sd, st)
    if name == "untrained":
        torch.manual_seed(sd.seed)
        return AlignmentModel(a_tab.dim, t_tab.dim, cfg.head, cfg.dim, cfg.dropout).eval(), info, 0
    if st.out is None:
        raise ValueError("trained controls need a run folder (ControlSettings.out)")
    run_dir = Path(st.out) / f"{name}-seed{sd.seed}"
    key = _run_key(cfg.to_dict(), cpairs, a_tab, t_tab)
    marker = run_dir / "audit_key.txt"
    done = (run_dir / "model.safetensors").exists() and marker.exists() and marker.read_text() == key
    if not done:
        train(a_tab, t_tab, cpairs, run_dir, cfg, resume=False, progress=False)
        marker.write_text(key)
    return load_model(run_dir)[0], info, len(cpairs)


def _run_key(config: dict[str, Any], pairs: Sequence[tuple[str, str]], audio: EmbeddingTable,
             text: EmbeddingTable) -> str:
    """A digest of everything a control run depends on (a finished run is reused only if equal)."""
    import hashlib
    import json

    h = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    for a, t in pairs:
        h.update(f"{a}\t{t}\n".encode())
    for tab in (audio, text):
        h.update(json.dumps([tab.dim, len(tab), tab.metadata.get("provenance")], default=str).encode())
        h.update(np.ascontiguousarray(tab.vectors).tobytes())
    return h.hexdigest()


def run_controls(seeds: Sequence[SeedData], st: ControlSettings,
                 log: Callable[[str], None] = log_info) -> dict[str, Any]:
    """Train and evaluate every control for every seed (each seed with its own split).

    Returns ``{"controls": {name: summary}, "models": {name: model of the first seed}, "chance",
    "chance_interval", "splits"}``. A summary holds, per seed, ``top1``, the per-clip 0/1
    ``correct`` and ``n_pairs``; ``accuracy`` (mean over seeds with its two-stage bootstrap
    interval, :func:`pairspace.stats.paired.mean_interval`); ``vs_full`` (the paired difference
    control − full, :func:`pairspace.stats.paired.paired_difference`); ``mean``, ``std``, ``min``,
    ``max`` of the per-seed top-1; and ``per_class`` (mean recall over the seeds where a class is
    evaluated).
    """
    from ...stats.paired import mean_interval, paired_difference

    if [s.seed for s in seeds] != list(st.seeds):
        raise ValueError(f"seed data for {[s.seed for s in seeds]} but settings for {list(st.seeds)}")
    out: dict[str, Any] = {}
    models: dict[str, Any] = {}
    for name in st.controls:
        per_seed, per = [], []
        for sd in seeds:
            model, info, n_pairs = _model(name, sd, st)
            audio = st.logmel_audio.select(sd.eval_ids).vectors if name == "logmel" else None
            hit, z = outcomes(model, sd.ev, audio)
            row: dict[str, Any] = {"seed": sd.seed, "top1": z["top1"], "n_pairs": n_pairs,
                                   "correct": hit.tolist()}
            if name == "leak":
                row["leaked_clips"] = info["leaked_clips"]
                row["detection"] = leak_detection(sd, info)
                keep = np.setdiff1d(np.arange(hit.size), info["leaked_clips"])
                row["top1_held_out"] = float(hit[keep].mean())
            elif info:
                row.update({k: v for k, v in info.items() if k != "captions"})
            per_seed.append(row)
            per.append(z["per_class"])
            models.setdefault(name, model)
            log(f"control {name}, seed {sd.seed}: zero-shot top-1 {z['top1']:.3f}")
        accs = [r["top1"] for r in per_seed]
        classes = list(dict.fromkeys(c for p in per for c in p))
        out[name] = {**spread(accs), "top1": accs, "seeds": list(st.seeds), "per_seed": per_seed,
                     "n_pairs": int(np.mean([r["n_pairs"] for r in per_seed])),
                     "accuracy": mean_interval([r["correct"] for r in per_seed]),
                     "per_class": {c: float(np.mean(v)) for c in classes
                                   if (v := [p[c] for p in per if p.get(c) is not None])}}
    if "full" in out:
        full = out["full"]["per_seed"]
        for name, s in out.items():
            if name == "full":
                continue
            a, b = [], []
            for r, f in zip(s["per_seed"], full, strict=True):
                keep = np.setdiff1d(np.arange(len(r["correct"])), r.get("leaked_clips", []))
                a.append(np.asarray(r["correct"])[keep])
                b.append(np.asarray(f["correct"])[keep])
            s["vs_full"] = paired_difference(a, b).to_dict()
    C = [len(sd.ev.classes) for sd in seeds]
    n = [len(sd.ev.labels) for sd in seeds]
    return {"controls": out, "models": models, "chance": float(np.mean([1.0 / c for c in C])),
            "chance_interval": list(chance_interval(C[0], n[0])),
            "splits": [{"seed": sd.seed, "unseen_classes": list(sd.ev.classes), "eval_ids": list(sd.eval_ids),
                        "n_pairs": len(sd.pairs), "n_flagged": len(sd.flagged)} for sd in seeds]}


def outcomes_of(controls: Mapping[str, Any], name: str, mask_leaked: Sequence[Sequence[int]] | None = None
                ) -> list[np.ndarray]:
    """Per-seed 0/1 outcome arrays of one control (clips of ``mask_leaked[s]`` left out)."""
    rows = controls[name]["per_seed"]
    out = []
    for s, r in enumerate(rows):
        v = np.asarray(r["correct"])
        if mask_leaked is not None:
            v = v[np.setdiff1d(np.arange(v.size), mask_leaked[s])]
        out.append(v)
    return out


def spread(values: Sequence[float]) -> dict[str, float | None]:
    """Mean, sample standard deviation (None for one value), min and max."""
    v = np.asarray(values, dtype=np.float64)
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else None,
            "min": float(v.min()), "max": float(v.max())}
