"""Route L1 pieces: which classes a backbone's tags name, the group gap's interval and test, and the
musicnn adapter (skipped without the ``musicnn`` extra)."""

import numpy as np
import pytest

from pairspace.studies.audit.l1 import group_gap, tagged_classes


def test_tagged_classes_match_whole_words_of_names_and_synonyms():
    got = tagged_classes(["steel string guitar", "kalimba", "guitarist", "oboe"],
                         ["guitar", "strings", "piano"], {"kalimba": ["thumb piano"], "oboe": ["hautbois"]})
    assert got == {"steel string guitar": ["guitar", "strings"], "kalimba": ["piano"]}


def test_group_gap_recovers_a_planted_gap_and_not_a_null_one():
    rng = np.random.default_rng(0)
    masks = [rng.random(60) < 0.4 for _ in range(3)]
    planted = [np.where(m, rng.random(60) < 0.8, rng.random(60) < 0.2).astype(float) for m in masks]
    g = group_gap(planted, masks, n_resamples=500, n_permutations=500)
    truth = np.mean([v[m].mean() - v[~m].mean() for v, m in zip(planted, masks, strict=True)])
    assert g["estimate"] == pytest.approx(truth)
    assert 0.3 < g["ci_low"] <= g["estimate"] <= g["ci_high"] and g["p_value"] < 0.01
    null = [(rng.random(60) < 0.5).astype(float) for _ in masks]
    h = group_gap(null, masks, n_resamples=500, n_permutations=500)
    assert h["ci_low"] < 0 < h["ci_high"] and h["p_value"] > 0.05
    assert group_gap([np.ones(4)], [np.ones(4, bool)])["estimate"] is None  # one group empty


def test_musicnn_embeds_clips_independently_of_the_batch():
    pytest.importorskip("musicnn")
    pytest.importorskip("tensorflow")
    from pairspace.encoders import get

    t = np.arange(16000 * 3) / 16000
    clips = [np.sin(2 * np.pi * f * t).astype(np.float32) * 0.3 for f in (220.0, 440.0, 880.0)]
    enc = get("musicnn")
    E = enc.encode(clips, batch_size=2, progress=False)
    assert E.shape == (3, 200) and np.isfinite(E).all()
    np.testing.assert_allclose(enc.encode(clips[1:2], progress=False)[0], E[1], rtol=1e-4, atol=1e-5)
    tags = get("musicnn", layer="taggram").encode(clips[:1], progress=False)
    assert tags.shape == (1, 50) and ((tags >= 0) & (tags <= 1)).all()
