"""The audit on constructed worlds whose truth is known (:mod:`pairspace.studies.audit.synthetic`).

* a planted caption leak (evaluation clips captioned by their own class name) is flagged by the
  audit's detector and raises zero-shot accuracy on the other clips;
* a planted class-relatedness confound (the seen relatives of the unseen classes share an empty
  word with their names) is attributed to classes, not words; the reversed world (the shared word
  carries the meaning) is attributed to words.
Every seed draws its own split.
"""

import numpy as np
import pytest

from pairspace.envelope import validate
from pairspace.studies.audit import ControlSettings, run
from pairspace.studies.audit.synthetic import synthetic_inputs

SEEDS = (0, 1, 2)


def _config():
    from pairspace.align import TrainConfig

    return TrainConfig(head="linear", dim=16, epochs=8, batch_size=32, lr=3e-3, val_fraction=0.1)


def _audit(tmp_path, controls, **world):
    kw = {"n_seen": 16, "n_unseen": 6, "clips": 8, "latent": 32, "noise": 0.5, **world}
    splits = {s: synthetic_inputs(seed=0, split_seed=s, **kw) for s in SEEDS}
    st = ControlSettings(_config(), seeds=SEEDS, controls=controls, out=tmp_path / "runs")
    env = run(splits[SEEDS[0]], controls=st, splits=splits, tsne=False).to_dict()
    validate(env)  # the shipped JSON Schema pairspace.audit/2
    return env["results"]


def test_planted_leak_is_detected_and_raises_accuracy(tmp_path):
    d = _audit(tmp_path, ("full", "leak"), d_audio=48, d_text=48)
    splits = d["controls"]["splits"]
    assert len({tuple(s["unseen_classes"]) for s in splits}) == len(SEEDS)  # each seed its own split
    leak = d["attribution"]["leak"]
    assert leak["detector_recall"] == [1.0] * len(SEEDS)
    assert leak["n_leak_captions"] == [12] * len(SEEDS)  # 2 of 8 clips of each of 6 classes
    assert leak["vs_full"]["ci_low"] > 0.1 and leak["vs_full"]["p_value"] < 0.01
    lk = d["controls"]["controls"]["leak"]
    for row in lk["per_seed"]:  # the leaked clips are left out of the comparison
        assert len(row["leaked_clips"]) == 12
    assert leak["vs_full"]["n_items"] == sum(len(s["eval_ids"]) - 12 for s in splits)


def test_class_relatedness_confound_is_attributed_to_classes(tmp_path):
    d = _audit(tmp_path, ("full", "clean", "word_masked", "class_matched"), relatives=True)
    dec = d["attribution"]["decomposition"]
    total, words, classes = dec["total"], dec["words"], dec["classes"]
    assert total["estimate"] == pytest.approx(words["estimate"] + classes["estimate"])
    assert np.allclose(total["per_seed"], np.add(words["per_seed"], classes["per_seed"]))
    assert classes["ci_low"] > 0.2 and classes["p_value"] < 0.01
    assert words["ci_low"] <= 0 <= words["ci_high"] or abs(words["estimate"]) < 0.05
    assert dec["relatives"]["ci_low"] > 0  # the relatives cost more than as many random classes
    # word_masked leaves no lexical flag: every word of every evaluation name is gone
    ctl = d["controls"]["controls"]["word_masked"]
    assert all(r["n_masked_captions"] > 0 for r in ctl["per_seed"])
    assert any("only the classes part excludes zero" in s for s in d["verdict"])


def test_word_carried_transfer_is_attributed_to_words(tmp_path):
    d = _audit(tmp_path, ("full", "clean", "word_masked"), relatives=True, shared_weight=1.0,
               relative_name_weight=0.002)
    dec = d["attribution"]["decomposition"]
    assert dec["words"]["ci_low"] > 0.1
    assert dec["words"]["estimate"] > dec["classes"]["estimate"]
