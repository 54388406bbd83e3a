"""Controls and attribution on synthetic embeddings (a shuffled pairing gives chance)."""

import numpy as np
import pytest

from pairspace.studies.audit.attribution import clean_gap, flagged_gap, separability_vs_accuracy
from pairspace.studies.audit.controls import (
    ControlSettings,
    chance_interval,
    control_pairs,
    run_controls,
    spread,
)
from pairspace.studies.audit.study import seed_data
from pairspace.studies.audit.synthetic import synthetic_inputs


def _config(**kw):
    from pairspace.align import TrainConfig

    return TrainConfig(**{"head": "linear", "dim": 16, "epochs": 6, "batch_size": 32, "lr": 3e-3,
                          "val_fraction": 0.1, **kw})


@pytest.fixture(scope="module")
def world():
    return synthetic_inputs(n_seen=16, n_unseen=8, clips=8, noise=1.0, leak_fraction=0.25, seed=1)


def test_shuffled_pairing_gives_chance_and_full_beats_it(world, tmp_path):
    inp = world
    flagged = {t for t, c in inp.captions.items() if " like a " in c}
    st = ControlSettings(_config(), seeds=(0, 1, 2), controls=("full", "shuffled", "clean"), out=tmp_path)
    sds = [seed_data(inp, s) for s in (0, 1, 2)]
    assert sds[0].flagged & {t for _, t in inp.pairs} == flagged & {t for _, t in inp.pairs}
    res = run_controls(sds, st)
    lo, hi = res["chance_interval"]
    assert res["chance"] == pytest.approx(1 / 8)
    shuffled, full = res["controls"]["shuffled"], res["controls"]["full"]
    assert lo <= shuffled["mean"] <= hi
    assert full["mean"] > hi
    assert res["controls"]["clean"]["n_pairs"] == len(inp.pairs) - sum(t in flagged for _, t in inp.pairs)
    assert len(full["top1"]) == 3 and full["std"] is not None
    # per-clip outcomes, their mean interval and the paired difference against full
    assert [np.mean(r["correct"]) for r in full["per_seed"]] == pytest.approx(full["top1"])
    assert full["accuracy"]["ci_low"] <= full["accuracy"]["estimate"] <= full["accuracy"]["ci_high"]
    d = shuffled["vs_full"]
    assert d["estimate"] == pytest.approx(shuffled["accuracy"]["estimate"] - full["accuracy"]["estimate"])
    assert d["ci_high"] < 0 and d["p_value"] < 0.01 and "vs_full" not in full
    # a finished control run is reused: the same numbers without training again
    again = run_controls([sds[0]], ControlSettings(_config(), seeds=(0,), controls=("full",), out=tmp_path))
    assert again["controls"]["full"]["top1"][0] == full["top1"][0]


def test_control_pairs():
    pairs = [(f"a{i}", f"t{i}") for i in range(10)]
    assert control_pairs("clean", pairs, {"t1", "t2"}, 0) == [p for p in pairs if p[1] not in ("t1", "t2")]
    sh = control_pairs("shuffled", pairs, set(), 3)
    assert [a for a, _ in sh] == [a for a, _ in pairs]
    assert sorted(t for _, t in sh) == sorted(t for _, t in pairs) and sh != pairs
    assert sh == control_pairs("shuffled", pairs, set(), 3)
    m = control_pairs("matched", pairs, {"t1", "t2", "t3"}, 0)
    assert len(m) == 7 and set(m) <= set(pairs)
    assert m == control_pairs("matched", pairs, {"t1", "t2", "t3"}, 0)
    with pytest.raises(ValueError, match="clean control keeps"):
        control_pairs("clean", pairs, {t for _, t in pairs}, 0)
    with pytest.raises(ValueError, match="unknown controls"):
        ControlSettings(_config(), controls=("full", "nope"))
    with pytest.raises(ValueError, match="logmel"):
        ControlSettings(_config(), controls=("logmel",))
    with pytest.raises(ValueError, match="distinct"):
        ControlSettings(_config(), seeds=(1, 1))


def test_chance_interval_and_spread():
    lo, hi = chance_interval(4, 100)
    assert (lo, hi) == pytest.approx((0.25 - 1.96 * np.sqrt(0.25 * 0.75 / 100),
                                      0.25 + 1.96 * np.sqrt(0.25 * 0.75 / 100)))
    s = spread([0.1, 0.2, 0.3])
    assert s == pytest.approx({"mean": 0.2, "std": 0.1, "min": 0.1, "max": 0.3})
    assert spread([0.5])["std"] is None


def test_flagged_gap_interval_covers_a_known_difference():
    rng = np.random.default_rng(0)
    acc = {f"f{i}": 0.6 + 0.05 * rng.normal() for i in range(20)}
    acc.update({f"u{i}": 0.2 + 0.05 * rng.normal() for i in range(20)})
    g = flagged_gap(acc, [f"f{i}" for i in range(20)], seed=1)
    assert g["ci_low"] < g["difference"] < g["ci_high"]
    assert 0.3 < g["ci_low"] and g["ci_high"] < 0.5
    assert flagged_gap(acc, [])["difference"] is None


def test_separability_vs_accuracy_and_clean_gap():
    sep = {"a": 0.1, "b": 0.5, "c": 0.9, "d": None}
    r = separability_vs_accuracy(sep, {"a": 0.0, "b": 0.2, "c": 0.3, "d": 1.0})
    assert r["spearman"] == pytest.approx(1.0) and r["n_classes"] == 3
    g = clean_gap({"full": {"top1": [0.3, 0.4]}, "clean": {"top1": [0.1, 0.3]}})
    assert g["per_seed"] == pytest.approx([0.2, 0.1]) and g["mean"] == pytest.approx(0.15)
    assert clean_gap({"full": {"top1": [0.3]}}) is None
