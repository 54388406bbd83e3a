r"""Control runs of the audit: the same heads and settings trained on altered data, over seeds.

Each control isolates one source of zero-shot accuracy (Tavares et al., ICASSP 2025):

``full``       the training pairs as given;
``clean``      the pairs whose caption names an evaluation class removed (what is left is what the
               heads learn without being told the evaluation names);
``matched``    a random subset of the pairs as large as ``clean`` (separates the effect of the
               removed names from the effect of having fewer pairs);
``shuffled``   the captions permuted among the pairs (the pairing broken: accuracy must fall to
               chance, within the interval :math:`1/C \pm 1.96\sqrt{(1/C)(1 - 1/C)/n}`);
``untrained``  heads at their random initialization (what the frozen backbones give alone);
``logmel``     ``full`` on the weight-free log-mel audio features instead of the audio backbone
               (what the backbone's pre-training contributes).

Every control is trained with :func:`pairspace.align.train` for each seed; a finished run folder is
reused, so a repeated audit costs only the evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...data.table import EmbeddingTable

CONTROLS = ("full", "clean", "matched", "shuffled", "untrained", "logmel")


def _quiet(message: str) -> None:
    """The default ``log``: say nothing."""


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


def zeroshot(model: Any, ev: EvalSet, audio: np.ndarray | None = None) -> dict[str, Any]:
    """Zero-shot top-1 / per-class recall of projection heads on ``ev`` (template-ensembled)."""
    from ._api import classifier_weights, zeroshot_metrics, zeroshot_scores

    T, C, d = ev.prompts.shape
    P = model.project_b(ev.prompts.reshape(T * C, d)).reshape(T, C, -1)
    S = zeroshot_scores(model.project_a(ev.audio if audio is None else audio), classifier_weights(P))
    m = zeroshot_metrics(S, ev.labels, ev.classes)
    return {k: m[k] for k in ("top1", "top5", "balanced_accuracy", "chance", "n", "per_class")}


def chance_interval(n_classes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    r"""Normal-approximation interval of a chance-level classifier's accuracy on ``n`` items."""
    p = 1.0 / n_classes
    h = z * np.sqrt(p * (1 - p) / max(n, 1))
    return max(0.0, p - h), min(1.0, p + h)


@dataclass
class ControlSettings:
    """How to train the controls: the head configuration, the seeds, the run folder."""

    config: Any
    seeds: Sequence[int] = (0, 1, 2)
    controls: Sequence[str] = ("full", "clean", "shuffled", "untrained")
    out: Path | None = None
    logmel_audio: EmbeddingTable | None = None
    logmel_eval: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        bad = [c for c in self.controls if c not in CONTROLS]
        if bad:
            raise ValueError(f"unknown controls {bad}; choose from {', '.join(CONTROLS)}")
        if not self.seeds:
            raise ValueError("at least one seed is needed")
        if "logmel" in self.controls and (self.logmel_audio is None or self.logmel_eval is None):
            raise ValueError("the logmel control needs the logmel audio table and evaluation rows")


def control_pairs(name: str, pairs: Sequence[tuple[str, str]], flagged: set[str], seed: int
                  ) -> list[tuple[str, str]]:
    """The training pairs of one control (``clean`` drops flagged captions, ``matched`` keeps as many
    random pairs, ``shuffled`` permutes the captions)."""
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


def _model(name: str, seed: int, audio: EmbeddingTable, text: EmbeddingTable,
           pairs: Sequence[tuple[str, str]], flagged: set[str], st: ControlSettings) -> Any:
    import torch

    from ._api import AlignmentModel, TrainConfig, load_model, train

    cfg = TrainConfig.from_dict({**st.config.to_dict(), "seed": int(seed)})
    a_tab = st.logmel_audio if name == "logmel" else audio
    if name == "untrained":
        torch.manual_seed(seed)
        return AlignmentModel(a_tab.dim, text.dim, cfg.head, cfg.dim, cfg.dropout).eval()
    if st.out is None:
        raise ValueError("trained controls need a run folder (ControlSettings.out)")
    run_dir = Path(st.out) / f"{name}-seed{seed}"
    cpairs = control_pairs(name, pairs, flagged, seed)
    key = _run_key(cfg.to_dict(), cpairs, a_tab, text)
    marker = run_dir / "audit_key.txt"
    done = (run_dir / "model.safetensors").exists() and marker.exists() and marker.read_text() == key
    if not done:
        train(a_tab, text, cpairs, run_dir, cfg, resume=False, progress=False)
        marker.write_text(key)
    return load_model(run_dir)[0]


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


def run_controls(audio: EmbeddingTable, text: EmbeddingTable, pairs: Sequence[tuple[str, str]],
                 ev: EvalSet, flagged: set[str], st: ControlSettings,
                 log: Callable[[str], None] = _quiet) -> dict[str, Any]:
    """Train and evaluate every control for every seed.

    Returns ``{"controls": {name: summary}, "models": {name: model of the first seed},
    "chance", "chance_interval"}``; a summary holds ``top1`` per seed, ``mean``, ``std``
    (ddof = 1), ``min``, ``max``, ``per_class`` (mean recall over seeds) and ``n_pairs``.
    """
    out: dict[str, Any] = {}
    models: dict[str, Any] = {}
    for name in st.controls:
        accs, per = [], []
        for seed in st.seeds:
            model = _model(name, seed, audio, text, pairs, flagged, st)
            z = zeroshot(model, ev, st.logmel_eval if name == "logmel" else None)
            accs.append(z["top1"])
            per.append(z["per_class"])
            models.setdefault(name, model)
            log(f"control {name}, seed {seed}: zero-shot top-1 {z['top1']:.3f}")
        n_pairs = len(control_pairs(name, pairs, flagged, 0)) if name != "untrained" else 0
        out[name] = {**spread(accs), "top1": accs, "n_pairs": n_pairs, "seeds": list(st.seeds),
                     "per_class": {c: float(np.mean([p[c] for p in per if p[c] is not None]))
                                   for c in ev.classes if any(p[c] is not None for p in per)}}
    C = len(ev.classes)
    return {"controls": out, "models": models, "chance": 1.0 / C,
            "chance_interval": list(chance_interval(C, len(ev.labels)))}


def spread(values: Sequence[float]) -> dict[str, float | None]:
    """Mean, sample standard deviation (None for one value), min and max."""
    v = np.asarray(values, dtype=np.float64)
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else None,
            "min": float(v.min()), "max": float(v.max())}
