"""The improve experiment's pieces: the instrument split, the seed summary, the report."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from pairspace.studies.improve import ImproveResult, instrument_data, summarize


def _fake_set(n_clips=10):
    classes = [{"instrument": n, "split": s, "family": "f"} for n, s in
               [("a", "seen"), ("b", "seen"), ("c", "unseen"), ("d", "unseen")]]
    clips, caps = [], []
    for c in classes:
        for j in range(n_clips):
            aid = f"{c['instrument']}-{j}"
            clips.append({"audio_id": aid, "instrument": c["instrument"], "split": c["split"]})
            caps += [{"audio_id": aid, "text_id": f"{aid}-c{k}", "label": c["instrument"]} for k in range(2)]
    names = {s: [c["instrument"] for c in classes if c["split"] == s] for s in ("seen", "unseen")}
    return SimpleNamespace(root="fake", clips=clips, captions=caps, classes=classes,
                           class_names=names.get)


def test_instrument_split_is_disjoint_and_sized():
    ds = _fake_set()
    d = instrument_data(ds, teacher_clips=2, test_clips=3, seed=1)
    teacher_clips = {a for a, _ in d.teacher_pairs}
    groups = [teacher_clips, set(d.audio_pool), set(d.owners), set(d.test_audio)]
    assert sum(len(g) for g in groups) == len(set().union(*groups)) == 40  # every clip once
    assert {a.split("-")[0] for a in teacher_clips} == {"a", "b"} and len(teacher_clips) == 4
    assert len(d.teacher_pairs) == 8  # both captions of each teacher clip
    assert {a.split("-")[0] for a in d.test_audio} == {"c", "d"} and len(d.test_audio) == 6
    assert d.test_labels == [a.split("-")[0] for a in d.test_audio]
    assert len(d.audio_pool) == 4 + 4 + 3 + 3  # half of the rest of every class
    assert all(t.rsplit("-", 1)[0] == o for t, o in zip(d.text_pool, d.owners, strict=True))
    assert d.target_classes == ["c", "d"]
    assert d == instrument_data(ds, teacher_clips=2, test_clips=3, seed=1)  # deterministic
    with pytest.raises(ValueError, match="clips"):
        instrument_data(_fake_set(4), teacher_clips=3)


def _rows():
    rows = []
    for seed, (t, s, h) in enumerate([(0.10, 0.14, 0.09), (0.12, 0.13, 0.12), (0.11, 0.15, 0.10)]):
        rows += [{"seed": seed, "model": "teacher", "loss": "infonce", "top1_p3": t, "top1_ens": t,
                  "chance": 0.25, "uses_target_labels": False},
                 {"seed": seed, "model": "ds", "loss": "soft", "top1_p3": s, "top1_ens": s,
                  "chance": 0.25, "uses_target_labels": True},
                 {"seed": seed, "model": "du", "loss": "infonce", "top1_p3": h, "top1_ens": h,
                  "chance": 0.25, "uses_target_labels": False}]
    return rows


def test_summary_means_spreads_and_paired_gains():
    table, gains = summarize(_rows())
    t = {(r["model"], r["loss"]): r for r in table}
    assert t[("teacher", "infonce")]["top1_p3"] == pytest.approx(0.11)
    assert t[("teacher", "infonce")]["top1_p3_sd"] == pytest.approx(np.std([0.10, 0.12, 0.11], ddof=1))
    g = {(r["model"], r["loss"]): r for r in gains}
    assert g[("ds", "soft")]["top1_p3"] == pytest.approx(np.mean([0.04, 0.01, 0.04]))
    assert g[("ds", "soft")]["top1_p3_sd"] == pytest.approx(np.std([0.04, 0.01, 0.04], ddof=1))
    assert g[("ds", "soft")]["top1_p3_wins"] == 3 and g[("du", "infonce")]["top1_p3_wins"] == 0
    assert t[("ds", "soft")]["uses_target_labels"] and not t[("du", "infonce")]["uses_target_labels"]


def test_improve_report_files(tmp_path):
    import json

    from pairspace.report.curation import write_improve_report
    from pairspace.studies.curation import curate_du

    rng = np.random.default_rng(0)
    du = curate_du(rng.normal(size=(5, 3)), rng.normal(size=(4, 3)), tau=0.0, sweep=[0.5])
    cur = [{"seed": 0, "method": "du", "threshold": 0.0, "threshold_value": 0.0, "n_pairs": len(du),
            "n_audio": 5, "n_text": 4, "precision": None, "target_precision": None,
            "uses_target_labels": False, "sweep": du.sweep}]
    table, gains = summarize(_rows())
    res = ImproveResult(_rows(), table, gains, cur,
                        {"seeds": [0, 1, 2], "prompt_p3": "this is a sound of {}",
                         "sizes": {"target_classes": 2, "audio_pool": 5, "text_pool": 4,
                                   "teacher_pairs": 8}},
                        runs={"seed0": SimpleNamespace(results={"du": du})})
    paths = write_improve_report(res, tmp_path)
    doc = json.loads(paths["json"].read_text())
    assert doc["schema"] == "pairspace.improve/1" and len(doc["rows"]) == 9
    md = paths["md"].read_text()
    assert "0.140 ± 0.010" in md and "3/3" in md and "label names" in md
    assert (tmp_path / "seed0" / "curation" / "du.csv").exists()
