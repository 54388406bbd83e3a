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


@pytest.mark.parametrize("setting", ["paper", "strict"])
def test_instrument_split_is_disjoint_and_sized(setting):
    ds = _fake_set()
    d = instrument_data(ds, setting, teacher_clips=2, target_teacher_clips=2, test_clips=3, seed=1)
    teacher_clips = {a for a, _ in d.teacher_pairs}
    groups = [teacher_clips, set(d.audio_pool), set(d.owners), set(d.test_audio)]
    assert sum(len(g) for g in groups) == len(set().union(*groups)) == 40  # every clip once
    per_class = {c: sum(a.split("-")[0] == c for a in teacher_clips) for c in "abcd"}
    if setting == "paper":  # the teacher covers the target classes loosely (2 clips each)
        assert per_class == {"a": 2, "b": 2, "c": 2, "d": 2}
        assert len(d.audio_pool) == 4 + 4 + 2 + 2  # half of the rest of every class
    else:  # strict zero-shot: no captioned clip of a target class
        assert per_class == {"a": 2, "b": 2, "c": 0, "d": 0}
        assert len(d.audio_pool) == 4 + 4 + 3 + 3
    assert len(d.teacher_pairs) == 2 * len(teacher_clips)  # both captions of each teacher clip
    assert {a.split("-")[0] for a in d.test_audio} == {"c", "d"} and len(d.test_audio) == 6
    assert d.test_labels == [a.split("-")[0] for a in d.test_audio]
    assert all(t.rsplit("-", 1)[0] == o for t, o in zip(d.text_pool, d.owners, strict=True))
    assert d.target_classes == ["c", "d"] and d.description["setting"] == setting
    assert d == instrument_data(ds, setting, 2, 2, 3, seed=1)  # deterministic
    assert d.test_audio != instrument_data(ds, setting, 2, 2, 3, seed=2).test_audio  # each seed its split
    with pytest.raises(ValueError, match="clips"):
        instrument_data(_fake_set(4), teacher_clips=3)
    with pytest.raises(ValueError, match="setting"):
        instrument_data(ds, "oracle")


def _outcomes():
    """Two seeds with their own clips (4 and 6); ds-soft is right wherever the teacher is, and more."""
    t0, t1 = [1, 0, 0, 1], [0, 0, 1, 1, 0, 0]
    s0, s1 = [1, 1, 0, 1], [1, 0, 1, 1, 1, 0]
    i0, i1 = [1, 0, 1, 1], [0, 0, 1, 1, 0, 1]
    return {f"seed{k}": {"teacher": {"top1_p3": t, "top1_ens": t}, "ds-soft": {"top1_p3": s, "top1_ens": s},
                         "ds-infonce": {"top1_p3": i, "top1_ens": t}}
            for k, (t, s, i) in enumerate([(t0, s0, i0), (t1, s1, i1)])}


def test_summary_is_paired_per_clip_and_seed():
    from pairspace.stats import paired_difference

    out = _outcomes()
    models = [("teacher", "infonce"), ("ds", "infonce"), ("ds", "soft")]
    table, comps = summarize(out, models, n_resamples=200, n_permutations=500)
    t = {r["key"]: r for r in table}
    assert t["teacher"]["top1_p3"]["estimate"] == pytest.approx(np.mean([2 / 4, 2 / 6]))
    assert t["ds-soft"]["uses_target_labels"] and not t["teacher"]["uses_target_labels"]
    c = {(x["a"], x["b"], x["metric"]): x for x in comps}
    assert {k[:2] for k in c} == {("ds-infonce", "teacher"), ("ds-soft", "teacher"),
                                  ("ds-soft", "ds-infonce")}
    soft = c[("ds-soft", "teacher", "top1_p3")]
    assert soft["per_seed"] == pytest.approx([1 / 4, 2 / 6]) and soft["n_items"] == 10
    ref = paired_difference([out["seed0"]["ds-soft"]["top1_p3"], out["seed1"]["ds-soft"]["top1_p3"]],
                            [out["seed0"]["teacher"]["top1_p3"], out["seed1"]["teacher"]["top1_p3"]],
                            n_resamples=200, n_permutations=500)
    assert soft["estimate"] == ref.estimate and soft["p_value"] == ref.p_value
    assert (soft["ci_low"], soft["ci_high"]) == (ref.ci_low, ref.ci_high)
    assert c[("ds-soft", "ds-infonce", "top1_p3")]["kind"] == "soft vs InfoNCE"
    # the ensembled metric is compared on its own outcomes
    assert c[("ds-infonce", "teacher", "top1_ens")]["estimate"] == 0.0
    with pytest.raises(ValueError, match="seed"):
        summarize({}, models)


def _result(tmp_path, setting="paper"):
    from pairspace.studies.curation import curate_du

    rng = np.random.default_rng(0)
    du = curate_du(rng.normal(size=(5, 3)), rng.normal(size=(4, 3)), tau=0.0, sweep=[0.5])
    cur = [{"seed": 0, "method": "du", "threshold": 0.1, "threshold_value": 0.1, "n_pairs": len(du),
            "n_audio": 5, "n_text": 4, "precision": None, "target_precision": None,
            "uses_target_labels": False, "threshold_source": "rule", "sweep": du.sweep}]
    models = [("teacher", "infonce"), ("ds", "infonce"), ("ds", "soft")]
    out = _outcomes()
    table, comps = summarize(out, models, n_resamples=200, n_permutations=500)
    rows = [{"seed": 0, "model": "teacher", "loss": "infonce", "top1_p3": 0.5, "top1_ens": 0.5}]
    settings = {"seeds": [0, 1], "setting": setting, "encoders": {"audio": "whisper", "text": "minilm"},
                "chance": 0.5, "target_use": {"ds": "target label names (prompts)"},
                "sizes": {"target_classes": 2, "audio_pool": 5, "text_pool": 4, "teacher_pairs": 8,
                          "teacher_clips": 4, "test_audio": 4},
                "teacher_config": {"epochs": 3}, "student_epochs": 2, "out": str(tmp_path / setting),
                "losses": ["infonce", "soft"], "methods": ["ds"], "threshold_rule": {},
                "statistics": {"n_resamples": 200}, "split_per_seed": True}
    data = instrument_data(_fake_set(), setting, 2, 2, 3, seed=0)
    return ImproveResult(rows, table, comps, cur, settings, out, {"total": 1.0},
                         runs={"seed0": SimpleNamespace(results={"du": du})}, data={"seed0": data})


def test_improve_report_files_and_docs_markdown(tmp_path):
    import json

    from pairspace.envelope import invocation, validate
    from pairspace.report.improve import docs_markdown, fmt_p, write_improve_report
    from pairspace.studies.improve import SCHEMA, envelope

    results = [_result(tmp_path, "paper"), _result(tmp_path, "strict")]
    with invocation(["improve", "--seeds", "0", "1"]):
        doc = envelope(results)
    paths = write_improve_report(doc, results, tmp_path)
    back = validate(paths["json"])
    assert back == json.loads(paths["json"].read_text())
    assert back["command"] == "pairspace improve --seeds 0 1"
    assert back["schema"] == SCHEMA and [r["setting"] for r in back["results"]["runs"]] == ["paper", "strict"]
    assert paths["png"].exists() and paths["html"].exists()
    assert (tmp_path / "paper" / "seed0" / "curation" / "du.csv").exists()
    assert (tmp_path / "strict" / "split-seed0.json").exists()
    md = docs_markdown(back)
    soft = next(c for c in back["results"]["runs"][0]["comparisons"]
                if c["a"] == "ds-soft" and c["b"] == "teacher" and c["metric"] == "top1_p3")
    # the numbers come from the document: the interval and the p-value as printed
    assert f"{soft['estimate']:+.3f} [{soft['ci_low']:+.3f}, {soft['ci_high']:+.3f}]" in md
    assert f"p = {fmt_p(soft['p_value'])}" in md or fmt_p(soft["p_value"]) in md
    assert "setting paper" in md and "setting strict" in md
    assert "Soft loss against InfoNCE" in md
    assert fmt_p(3.14e-4) == "3.1e-04" and fmt_p(None) == "-"


def test_split_round_trip_and_validation():
    from pairspace.studies.improve import ImproveData

    d = instrument_data(_fake_set(), teacher_clips=2, test_clips=3)
    assert ImproveData.from_dict(json_round(d.to_dict())) == d
    bad = d.to_dict()
    bad["owners"] = bad["owners"][:-1]
    with pytest.raises(ValueError, match="owners"):
        ImproveData.from_dict(bad)
    bad = d.to_dict()
    bad["test_labels"] = ["zebra"] * len(bad["test_audio"])
    with pytest.raises(ValueError, match="not target classes"):
        ImproveData.from_dict(bad)
    with pytest.raises(ValueError, match="lacks"):
        ImproveData.from_dict({"teacher_pairs": []})


def json_round(d):
    import json

    return json.loads(json.dumps(d))


def test_markdown_cells_are_inert():
    from pairspace.report.curation import markdown_table

    md = markdown_table(["name", "x"], [["a|b <i>\n`c`", 0.25], ["n", float("nan")]])
    assert "a\\|b &lt;i&gt; \\`c\\`" in md and "| 0.250 |" in md and "| - |" in md
    assert md.count("\n") == 3


def test_verdicts_follow_the_intervals():
    from pairspace.report.improve import verdicts

    def c(a, b, kind, est, lo, hi, p=0.01):
        return {"a": a, "b": b, "kind": kind, "metric": "top1_p3", "estimate": est, "ci_low": lo,
                "ci_high": hi, "p_value": p}

    run = {"comparisons": [
        c("ds-soft", "ds-infonce", "soft vs InfoNCE", 0.05, 0.01, 0.09),
        c("du-soft", "du-infonce", "soft vs InfoNCE", -0.05, -0.09, -0.01),
        c("ads-soft", "ads-infonce", "soft vs InfoNCE", 0.01, -0.02, 0.04, 0.5),
        c("ds-soft", "teacher", "student vs teacher", 0.02, -0.01, 0.05, 0.2),
        c("du-soft", "teacher", "student vs teacher", -0.04, -0.07, -0.01),
        c("replay-soft", "teacher", "student vs teacher", 0.09, 0.05, 0.13),  # the control, not curated
        c("ds-soft", "replay-soft", "method vs replay control", 0.03, 0.001, 0.06)]}
    soft, teacher, replay = verdicts(run)
    assert "the soft loss is better: ds (+0.050 [+0.010, +0.090], p = 1.0e-02)" in soft
    assert "InfoNCE is better: du" in soft and "holds 0): ads" in soft
    assert teacher.startswith("No curated student beats its teacher") and "ds-soft +0.020" in teacher
    assert "below the teacher: du-soft" in teacher and "replay" not in teacher
    assert "better: ds-soft (+0.030 [+0.001, +0.060]" in replay
