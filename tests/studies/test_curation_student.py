"""Student-training smoke test of the improve experiment on synthetic tables (tiny heads, CPU)."""

from __future__ import annotations

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
            first = "teacher" if c in SEEN else "test"
            roles[first if j < 3 else ("pool" if j < 6 else "owner")].append(aid)
    audio = EmbeddingTable(a_ids, np.array(a_vec), a_lab)
    text = EmbeddingTable(t_ids, np.array(t_vec), t_lab)
    data = ImproveData([(a, a + "-t") for a in roles["teacher"]], roles["pool"],
                       [a + "-t" for a in roles["owner"]], roles["owner"], roles["test"],
                       [a.split("-")[0] for a in roles["test"]], TARGET, {"synthetic": True})
    return audio, text, data, PromptEncoder(ct)


def test_students_train_from_the_teacher_and_are_tabled(tmp_path):
    from pairspace.align import TrainConfig

    audio, text, data, enc = _synthetic()
    cfg = TrainConfig(head="linear", dim=8, dropout=0.0, epochs=3, batch_size=8, val_fraction=0.2)
    res = improve_study(audio, text, data, enc, tmp_path, config=cfg, seeds=(0, 1),
                        thresholds={"du": "q0.9", "ds": "q0.5", "ads": "q0.9"},
                        templates=["{}", "a sound of {}."], student_epochs=2, sweep=[0.0])
    assert len(res.rows) == 2 * (1 + 4 * 2)
    assert all(0.0 <= r["top1_p3"] <= 1.0 and r["chance"] == 0.5 for r in res.rows)
    extra = {(r["model"], r["seed"]): r["n_extra"] for r in res.rows if r["model"] != "teacher"}
    assert all(extra[("replay", s)] == 0 for s in (0, 1))
    assert all(extra[(m, s)] > 0 for m in ("du", "ds", "ads") for s in (0, 1))
    assert all(extra[("ads", s)] >= extra[("ds", s)] for s in (0, 1))  # ADS augments DS
    flags = {(t["model"], t["loss"]): t["uses_target_labels"] for t in res.table}
    assert flags[("ds", "soft")] and flags[("ads", "infonce")] and not flags[("du", "soft")]
    assert {g["model"] for g in res.gains} == {"replay", "du", "ds", "ads"}
    assert {c["method"] for c in res.curation} == {"du", "ds", "ads"} and len(res.curation) == 6
    for seed in (0, 1):
        for run in ("teacher", "ds-soft", "replay-infonce"):
            assert (tmp_path / f"seed{seed}" / run / "model.safetensors").exists()
    assert res.settings["teacher_config"]["selection"] == "heldout_classes"
    assert res.to_dict()["schema"] == "pairspace.improve/1"
