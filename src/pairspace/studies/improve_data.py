r"""The improve experiment's split and its threshold rule (:mod:`pairspace.studies.improve`).

:class:`ImproveData` holds one seed's split (the teacher's captioned pairs, the unpaired audio and
text pools, the target task's test clips) and refuses a test clip that is also in the teacher's
data or in a pool; :func:`instrument_data` draws it from the rendered-instrument benchmark in the
``paper`` or ``strict`` setting; :func:`threshold_rule` fixes the curation thresholds on the
teacher's held-out *seen* classes (never the test clips). Wang et al., WASPAA 2023 (arXiv
2305.01864).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..data.table import EmbeddingTable
from .curation_names import SETTINGS
from .curation_run import teacher_prompts

__all__ = ["RULE_QUANTILE", "ImproveData", "instrument_data", "threshold_rule"]

RULE_QUANTILE = 0.5
"""The quantile of the held-out reference cosines that :func:`threshold_rule` takes (the median:
"as close as a typical true pair"; fixed before any run and never tuned on an outcome)."""


@dataclass
class ImproveData:
    """The data of one seed's experiment: ids into an audio and a text backbone table.

    Attributes
    ----------
    teacher_pairs : list of (audio_id, text_id)
        Captioned pairs the teacher trains on (and the students replay); DS chooses among them.
    audio_pool : list of str
        Unpaired audio (captions withheld).
    text_pool : list of str
        Unpaired captions; ``owners[i]`` is the clip ``text_pool[i]`` describes (its audio is in no
        pool; used only to check that the parts are disjoint).
    owners : list of str
    test_audio, test_labels : the target task's clips and their classes.
    target_classes : list of str
        The target task's class names (the zero-shot classes; DS prompts).
    description : dict
        How the split was made (recorded in the outputs).
    """

    teacher_pairs: list[tuple[str, str]]
    audio_pool: list[str]
    text_pool: list[str]
    owners: list[str]
    test_audio: list[str]
    test_labels: list[str]
    target_classes: list[str]
    description: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.check_disjoint()

    def check_disjoint(self) -> None:
        """Raise unless the test clips are disjoint from the teacher's clips and from every pool."""
        test = set(self.test_audio)
        parts = {"the teacher's pairs": {a for a, _ in self.teacher_pairs},
                 "the audio pool": set(self.audio_pool), "the text pool's clips": set(self.owners)}
        for name, ids in parts.items():
            both = sorted(test & ids)
            if both:
                raise ValueError(f"{len(both)} test clips are also in {name}, e.g. {both[:3]}")
        teacher_text = {t for _, t in self.teacher_pairs}
        both = sorted(teacher_text & set(self.text_pool))
        if both:
            raise ValueError(f"{len(both)} captions of the text pool are teacher captions, e.g. {both[:3]}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the format of ``pairspace improve --split``)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImproveData:
        """Read :meth:`to_dict` output; every list is checked for length and type."""
        need = ("teacher_pairs", "audio_pool", "text_pool", "owners", "test_audio", "test_labels",
                "target_classes")
        missing = [k for k in need if k not in d]
        if missing:
            raise ValueError(f"the split lacks {', '.join(missing)}")
        if len(d["text_pool"]) != len(d["owners"]) or len(d["test_audio"]) != len(d["test_labels"]):
            raise ValueError("owners must match text_pool and test_labels must match test_audio, "
                             "one entry each")
        pairs = [tuple(map(str, p)) for p in d["teacher_pairs"]]
        if any(len(p) != 2 for p in pairs):
            raise ValueError("teacher_pairs must be [audio_id, text_id] pairs")
        unknown = sorted(set(d["test_labels"]) - set(d["target_classes"]))
        if unknown:
            raise ValueError(f"test labels {unknown[:5]} are not target classes")
        return cls(pairs, *([str(x) for x in d[k]] for k in need[1:]),  # type: ignore[arg-type]
                   description=dict(d.get("description", {})))

    def sizes(self) -> dict[str, int]:
        """How many items each part of the split holds."""
        return {"teacher_pairs": len(self.teacher_pairs),
                "teacher_clips": len({a for a, _ in self.teacher_pairs}),
                "audio_pool": len(self.audio_pool), "text_pool": len(self.text_pool),
                "text_pool_clips": len(set(self.owners)), "test_audio": len(self.test_audio),
                "target_classes": len(self.target_classes)}


def instrument_data(ds: Any, setting: str = "paper", teacher_clips: int = 4, target_teacher_clips: int = 2,
                    test_clips: int = 6, seed: int = 0) -> ImproveData:
    """One seed's split of the rendered-instrument benchmark; the target task is the unseen instruments.

    Per instrument, its clips are shuffled by a generator seeded with ``(seed, class index, 13)``.
    A *seen* instrument gives its first ``teacher_clips`` clips (with all their captions) to the
    teacher. A *target* (unseen) instrument gives its first ``test_clips`` clips to the test set
    and, in the ``"paper"`` setting, the next ``target_teacher_clips`` to the teacher (loose
    coverage of the target domain); in ``"strict"``, none. The rest of every instrument is split
    evenly between the unpaired audio pool (captions withheld) and the clips whose captions form
    the unpaired text pool (their audio is in no pool).
    """
    if setting not in SETTINGS:
        raise ValueError(f"unknown setting {setting!r}; choose one of {', '.join(SETTINGS)}")
    by_class: dict[str, list[dict[str, Any]]] = {}
    for c in ds.clips:
        by_class.setdefault(c["instrument"], []).append(c)
    caps: dict[str, list[dict[str, Any]]] = {}
    for c in ds.captions:
        caps.setdefault(c["audio_id"], []).append(c)
    classes = {c["instrument"]: c["split"] for c in ds.classes}
    per_target = target_teacher_clips if setting == "paper" else 0
    tp, ap, text, own, test, test_lab = [], [], [], [], [], []
    for k, (name, clips) in enumerate(sorted(by_class.items())):
        order = np.random.default_rng([seed, k, 13]).permutation(len(clips))
        clips = [clips[i] for i in order]
        seen = classes[name] == "seen"
        n_test, n_teacher = (0, teacher_clips) if seen else (test_clips, per_target)
        if len(clips) < n_test + n_teacher + 2:
            raise ValueError(f"{name} has {len(clips)} clips; the split needs at least "
                             f"{n_test + n_teacher + 2}")
        test += [c["audio_id"] for c in clips[:n_test]]
        test_lab += [name] * n_test
        tp += [(c["audio_id"], t["text_id"]) for c in clips[n_test:n_test + n_teacher]
               for t in caps[c["audio_id"]]]
        rest = clips[n_test + n_teacher:]
        half = len(rest) // 2
        ap += [c["audio_id"] for c in rest[:half]]
        for c in rest[half:]:
            text += [t["text_id"] for t in caps[c["audio_id"]]]
            own += [c["audio_id"]] * len(caps[c["audio_id"]])
    desc = {"dataset": str(ds.root), "setting": setting, "setting_description": SETTINGS[setting],
            "teacher_clips_per_seen_class": teacher_clips,
            "teacher_clips_per_target_class": per_target,
            "test_clips_per_target_class": test_clips, "split_seed": seed,
            "pools": "remaining clips of every instrument, half audio-only, half caption-only"}
    return ImproveData(tp, ap, text, own, test, test_lab, ds.class_names("unseen"), desc)


def _project(model: Any, X: Any, side: str) -> np.ndarray:
    """L2-normalized projection by the model's ``"audio"`` (``project_a``) or ``"text"``
    (``project_b``) head (the one call site of this study)."""
    X = np.asarray(X, dtype=np.float32)
    return model.project_a(X) if side == "audio" else model.project_b(X)


# ------------------------------------------------------------------ thresholds without test labels
def threshold_rule(model: Any, audio: EmbeddingTable, text: EmbeddingTable, data: ImproveData,
                   text_encoder: Any, val_fraction: float, seed: int,
                   q: float = RULE_QUANTILE) -> dict[str, Any]:
    r"""Curation thresholds fixed on the teacher's held-out *seen* classes (never the test clips).

    The teacher trains with ``selection="heldout_classes"``: the classes of its pairs that
    :func:`pairspace.align.split.split_pairs_by_class` holds out (same ``val_fraction`` and ``seed``)
    are never trained on. Restricted to classes that are not target classes, their true pairs give
    reference cosines in the teacher's space, and each threshold is the ``q``-quantile (the median)
    of the reference of its kind:

    - :math:`\tau_{DU} = \tau_{ADS}`: cosines of held-out clips with their own captions
      (audio-text, the kind of pair DU and ADS keep);
    - :math:`\tau_{DS}`: cosines of held-out captions with the prompt
      ``"this is a sound of {label}"`` of their own class (text-prompt, the DS score);
    - :math:`\tau_{a2a}`: for each held-out clip, its best cosine to another held-out clip of the
      same class (audio-audio, the a2a score).

    A pseudo-pair is kept when it is at least as close as a typical true pair of a class the
    teacher never trained on. The rule reads the labels of the teacher's own (seen) pairs only;
    the target task's test labels are never read.

    Returns
    -------
    dict
        ``{"du", "ds", "ads", "a2a"}`` thresholds, and ``"rule"`` with the held-out classes and the
        number of reference values of each kind.
    """
    from ..align.split import split_pairs_by_class

    labels = dict(zip(audio.ids, audio.labels or [], strict=False))
    if not labels:
        raise ValueError("the threshold rule needs a labeled audio table (the teacher's classes)")
    _, val = split_pairs_by_class(data.teacher_pairs, labels, val_fraction, seed)
    target = set(data.target_classes)
    held = [data.teacher_pairs[i] for i in val if labels[data.teacher_pairs[i][0]] not in target]
    if len(held) < 2:
        held = [data.teacher_pairs[i] for i in val]  # every held-out class is a target class
    a_ids = [a for a, _ in held]
    clips = sorted(set(a_ids))
    C = _project(model, audio.select(clips).vectors, "audio")
    A = C[[clips.index(a) for a in a_ids]]
    T = _project(model, text.select([t for _, t in held]).vectors, "text")
    pair_cos = np.sum(A * T, axis=1)
    held_classes = sorted({labels[a] for a in a_ids})
    P = teacher_prompts(model, text_encoder, held_classes)
    cls_idx = np.array([held_classes.index(labels[a]) for a in a_ids])
    prompt_cos = np.sum(T * P[cls_idx], axis=1)
    S = C @ C.T
    same = np.array([[labels[x] == labels[y] and x != y for y in clips] for x in clips])
    a2a = np.array([S[i][same[i]].max() for i in range(len(clips)) if same[i].any()])
    if a2a.size == 0:
        raise ValueError("the threshold rule needs at least two held-out clips of one class")
    qv = lambda v: float(np.quantile(v, q))  # noqa: E731
    return {"du": qv(pair_cos), "ads": qv(pair_cos), "ds": qv(prompt_cos), "a2a": qv(a2a),
            "rule": {"quantile": q, "heldout_classes": held_classes,
                     "n_pairs": int(pair_cos.size), "n_clips_a2a": int(a2a.size),
                     "description": "quantile q of the teacher-space cosines of true pairs of the "
                                    "teacher's held-out seen classes (never the test clips)"}}
