"""Student-training smoke test of the improve experiment on synthetic tables (tiny heads, CPU)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")

from pairspace.data.table import EmbeddingTable  # noqa: E402
from pairspace.studies.improve import ImproveData, improve_study  # noqa: E402

CLASSES = [f"class{i}" for i in range(8)]
SEEN, TARGET = CLASSES[:6], CLASSES[6:]


class PromptEncoder:
    """A text 'backbone' that maps any prompt naming a class to that class's text centroid."""

    def __init__(self, centroids):
        self.centroids = centroids

    def encode(self, texts, progress=None):
        rng = np.random.default_rng(len(texts))
        return np.stack([self.centroids[next(c for c in CLASSES if t.rstrip(".").endswith(c))]
                         + 0.05 * rng.normal(size=6) for t in texts])


def _synthetic():
    rng = np.random.default_rng(0)
    ca = {c: rng.normal(size=8) for c in CLASSES}
    ct = {c: rng.normal(size=6) for c in CLASSES}
    a_ids, a_vec, a_lab, t_ids, t_vec, t_lab = [], [], [], [], [], []
    roles: dict[str, list[str]] = {"teacher": [], "pool": [], "owner": [], "test": []}
    for c in CLASSES:
        for j in range(8):
            aid = f"{c}-{j}"
            a_ids.append(aid)
            a_vec.append(ca[c] + 0.3 * rng.normal(size=8))
            a_lab.append(c)
            t_ids.append(aid + "-t")
            t_vec.append(ct[c] + 0.3 * rng.normal(size=6))
            t_lab.append(c)
            if c in SEEN:
                role = "teacher" if j < 3 else ("pool" if j < 6 else "owner")
            else:  # the paper's design: the teacher also holds one captioned clip of a target class
                role = "test" if j < 3 else ("teacher" if j == 3 else "pool" if j < 6 else "owner")
            roles[role].append(aid)
    audio = EmbeddingTable(a_ids, np.array(a_vec), a_lab)
    text = EmbeddingTable(t_ids, np.array(t_vec), t_lab)
    data = ImproveData([(a, a + "-t") for a in roles["teacher"]], roles["pool"],
                       [a + "-t" for a in roles["owner"]], roles["owner"], roles["test"],
                       [a.split("-")[0] for a in roles["test"]], TARGET, {"synthetic": True})
    return audio, text, data, PromptEncoder(ct)


def test_students_train_from_the_teacher_and_are_compared_per_clip(tmp_path):
    from pairspace.align import TrainConfig

    audio, text, data, enc = _synthetic()
    cfg = TrainConfig(head="linear", dim=8, dropout=0.0, epochs=3, batch_size=8, val_fraction=0.2)
    res = improve_study(audio, text, data, enc, tmp_path, config=cfg, seeds=(0, 1),
                        templates=["{}", "a sound of {}."], student_epochs=2, sweep=[0.0],
                        thresholds={"ds": "q0.8"}, n_resamples=50, n_permutations=50)
    assert len(res.rows) == 2 * (1 + 5 * 2)
    assert all(0.0 <= r["top1_p3"] <= 1.0 and r["n_test"] == 6 for r in res.rows)
    extra = {(r["model"], r["seed"]): r["n_extra"] for r in res.rows if r["model"] != "teacher"}
    assert all(extra[("replay", s)] == 0 for s in (0, 1))
    # DS is a subset of the teacher's own pairs
    teacher = set(data.teacher_pairs)
    for seed in (0, 1):
        ds = res.runs[f"seed{seed}"].results["ds"].id_pairs()
        assert ds and set(ds) <= teacher
        a2a = res.runs[f"seed{seed}"].results["a2a"]
        assert a2a.transductive and a2a.uses_target_labels
        assert {t for _, t in a2a.id_pairs()} <= {t for _, t in ds}  # a2a pairs clips with DS captions
        assert {a for a, _ in a2a.id_pairs()} <= set(data.audio_pool)
    # every comparison: each student vs the teacher, soft vs InfoNCE, each method vs replay
    kinds = {(c["a"], c["b"]) for c in res.comparisons if c["metric"] == "top1_p3"}
    assert ("ds-soft", "teacher") in kinds and ("ds-soft", "ds-infonce") in kinds
    assert ("a2a-infonce", "replay-infonce") in kinds and ("replay-soft", "replay-infonce") in kinds
    assert len(kinds) == 10 + 5 + 8
    for c in res.comparisons:
        assert c["ci_low"] <= c["estimate"] <= c["ci_high"] and 0 < c["p_value"] <= 1
        assert c["n_seeds"] == 2 and c["n_items"] == 12
    # the table's estimate is the mean of the per-seed accuracies
    t = {r["key"]: r for r in res.table}
    acc = [r["top1_p3"] for r in res.rows if r["model"] == "teacher"]
    assert t["teacher"]["top1_p3"]["estimate"] == pytest.approx(np.mean(acc))
    assert res.settings["teacher_config"]["selection"] == "heldout_classes"
    src = {c["method"]: c["threshold_source"] for c in res.curation}
    assert src == {"du": "rule", "ds": "given", "ads": "rule", "a2a": "rule"}
    rule = res.settings["threshold_rule"]["seed0"]
    assert rule["du"] == rule["ads"] and rule["rule"]["quantile"] == 0.5
    from pairspace.envelope import validate

    doc = validate(json.loads(json.dumps(res.to_dict())))
    assert doc["schema"] == "pairspace.improve/2" and doc["command"] is None  # called from Python
    run = doc["results"]["runs"][0]
    assert len(run["outcomes"]["seed1"]["ds-soft"]["top1_p3"]) == 6


def test_improve_refuses_empty_and_repeated_seeds_and_methods(tmp_path):
    from pairspace.align import TrainConfig

    audio, text, data, enc = _synthetic()
    cfg = TrainConfig(head="linear", dim=8, epochs=1, batch_size=8, val_fraction=0.2)
    with pytest.raises(ValueError, match="seeds is empty"):
        improve_study(audio, text, data, enc, tmp_path, config=cfg, seeds=())
    with pytest.raises(ValueError, match="more than once"):
        improve_study(audio, text, data, enc, tmp_path, config=cfg, seeds=(0, 0))
    with pytest.raises(ValueError, match="more than once"):
        improve_study(audio, text, data, enc, tmp_path, config=cfg, methods=("ds", "ds"))
    assert not any(tmp_path.iterdir())  # refused before any work


def test_test_clips_overlapping_the_teacher_or_a_pool_are_refused():
    _, _, data, _ = _synthetic()
    d = data.to_dict()
    d["audio_pool"] = d["audio_pool"] + [d["test_audio"][0]]
    with pytest.raises(ValueError, match="test clips are also in the audio pool"):
        ImproveData.from_dict(d)
    d = data.to_dict()
    d["teacher_pairs"] = d["teacher_pairs"] + [[d["test_audio"][0], "x"]]
    with pytest.raises(ValueError, match="teacher"):
        ImproveData.from_dict(d)
