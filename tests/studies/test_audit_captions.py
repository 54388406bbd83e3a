"""The caption-leak detector on constructed captions with known leaks and near-miss decoys."""

import json

import numpy as np
import pytest

from pairspace.studies.audit import caption_leaks
from pairspace.studies.audit.captions import load_synonyms, shipped_synonyms
from pairspace.studies.audit.text import singular, words

CLASSES = ["hi-hat", "steel string guitar", "bass", "oboe", "Celesta"]
CAPTIONS = {
    "e1": "a loud oboe plays a short note",            # exact oboe
    "n1": "Hi Hats ticking in the background",         # normalized (case, hyphen, plural)
    "n2": "two OBOES, softly",                         # normalized (case + plural)
    "e2": "the Celesta rings",                         # exact (case kept)
    "n3": "a celesta, gently",                         # normalized (case differs)
    "s1": "someone strums an acoustic guitar",         # synonym of steel string guitar
    "o1": "a steel drum melody",                       # overlap: steel (1/3 of the name)
    "d1": "a guitarist tunes up",                      # decoy: guitarist is not guitar
    "d2": "a bassoon and a hi fi speaker",             # decoy: bassoon is not bass; 'hi fi' only overlaps
    "d3": "the oboist bows",                           # decoy: oboist is not oboe
    "d4": "basses and a bassline",                     # normalized: basses -> bass; bassline no
    "x1": "rain on a tin roof",                        # nothing
}
SYN = {"steel string guitar": ["acoustic guitar", "folk guitar"]}


def _run(**kw):
    ids = list(CAPTIONS)
    return caption_leaks([CAPTIONS[i] for i in ids], CLASSES, ids=ids, synonyms=SYN, **kw)


def _kinds(res):
    return {(r["id"], r["class"]): r["kind"] for r in res.to_dict()["leaks"]}


def test_known_leaks_and_kinds():
    k = _kinds(_run())
    assert k[("e1", "oboe")] == "exact"
    assert k[("n1", "hi-hat")] == "normalized"
    assert k[("n2", "oboe")] == "normalized"
    assert k[("e2", "Celesta")] == "exact"
    assert k[("n3", "Celesta")] == "normalized"
    assert k[("s1", "steel string guitar")] == "synonym"
    assert k[("o1", "steel string guitar")] == "overlap"
    assert k[("d4", "bass")] == "normalized"


def test_near_miss_decoys_do_not_match():
    k = _kinds(_run())
    assert not any(i in ("d1", "d3", "x1") for i, _ in k)
    # the decoy 'hi fi' shares the word 'hi' with hi-hat: a content-word overlap, never a name match
    assert k.get(("d2", "hi-hat")) == "overlap"
    assert ("d2", "bass") not in k


def test_overlap_score_is_the_fraction_of_content_words():
    rows = {(r["id"], r["class"]): r for r in _run().to_dict()["leaks"]}
    assert rows[("o1", "steel string guitar")]["score"] == pytest.approx(1 / 3)
    assert rows[("o1", "steel string guitar")]["words"] == ["steel"]


def test_per_class_counts_and_all_words():
    d = _run().to_dict()
    pc = d["per_class"]
    assert pc["oboe"]["exact"] == 1 and pc["oboe"]["normalized"] == 1 and pc["oboe"]["total"] == 2
    assert pc["steel string guitar"]["synonym"] == 1 and pc["steel string guitar"]["overlap"] == 1
    assert pc["steel string guitar"]["all_words_shared"] is False
    assert pc["bass"]["total"] == 1
    assert d["n_texts"] == len(CAPTIONS)
    assert set(d["classes_with_lexical_leaks"]) == set(CLASSES)


def test_semantic_detector_threshold_and_sweep():
    rng = np.random.default_rng(0)
    P = rng.normal(size=(len(CLASSES), 8))
    T = rng.normal(size=(len(CAPTIONS), 8))
    T[-1] = P[3] + 0.01 * rng.normal(size=8)  # x1 is (semantically) the oboe prompt
    res = _run(text_embeddings=T, class_embeddings=P, threshold=0.95)
    k = _kinds(res)
    assert k[("x1", "oboe")] == "semantic"
    assert ("e1", "oboe") in k and k[("e1", "oboe")] == "exact"  # lexical kinds win
    sw = res.to_dict()["sweep"]
    counts = [s["n_captions"] for s in sw]
    assert counts == sorted(counts, reverse=True)  # non-increasing in the threshold
    assert sw[-1]["threshold"] == 0.95 and sw[-1]["n_captions"] >= 1


class _Encoder:
    def __init__(self, table):
        self.table = table

    def encode(self, items):
        return np.array([self.table.get(t, np.ones(3)) for t in items])


def test_semantic_with_an_encoder_object():
    enc = _Encoder({"the sound of oboe": np.array([1.0, 0, 0]),
                    "rain on a tin roof": np.array([1.0, 0.1, 0])})
    res = caption_leaks(["rain on a tin roof"], ["oboe"], encoder=enc, threshold=0.9)
    assert _kinds(res) == {("0", "oboe"): "semantic"}
    assert res.to_dict()["threshold"] == 0.9
    # a {c} prompt is the same prompt (one template formatter for every study); {name} is refused
    same = caption_leaks(["rain on a tin roof"], ["oboe"], encoder=enc, threshold=0.9,
                         prompt="the sound of {c}")
    assert _kinds(same) == _kinds(res)
    with pytest.raises(ValueError, match="placeholder"):
        caption_leaks(["rain"], ["oboe"], encoder=enc, prompt="the sound of {name}")


def test_singular_rules():
    assert [singular(w) for w in ["drums", "bagpipes", "harmonies", "brushes", "bass", "chorus", "glass",
                                  "congas", "gas"]] == [
        "drum", "bagpipe", "harmony", "brush", "bass", "chorus", "glass", "conga", "gas"]
    assert words("Hi-Hats, Tom_toms!") == ["hi", "hat", "tom", "tom"]


def test_synonym_files(tmp_path):
    j = tmp_path / "s.json"
    j.write_text(json.dumps({"oboe": ["hautbois"]}))
    assert load_synonyms(j) == {"oboe": ["hautbois"]}
    t = tmp_path / "s.tsv"
    t.write_text("# comment\noboe\thautbois|cor\n\noboe\tshawm\n")
    assert load_synonyms(t) == {"oboe": ["hautbois", "cor", "shawm"]}
    bad = tmp_path / "b.txt"
    bad.write_text("no separator here\n")
    with pytest.raises(ValueError, match="expected"):
        load_synonyms(bad)
    with pytest.raises(FileNotFoundError):
        load_synonyms(tmp_path / "missing.json")
    assert "acoustic guitar" in shipped_synonyms()["steel string guitar"]


def test_bad_input():
    with pytest.raises(ValueError, match="unique"):
        caption_leaks(["x"], ["a", "a"])
    with pytest.raises(ValueError, match="ids"):
        caption_leaks(["x", "y"], ["a"], ids=["1"])
    with pytest.raises(ValueError, match="shape"):
        caption_leaks(["x"], ["a"], text_embeddings=np.ones((2, 3)), class_embeddings=np.ones((1, 3)))
    with pytest.raises(ValueError, match="no class"):
        caption_leaks(["x"], [])
