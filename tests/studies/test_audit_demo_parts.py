"""Pieces of the instrument demonstration: the leaky caption variant and the supervised backbone."""

from types import SimpleNamespace

import numpy as np

from pairspace.studies.audit import caption_leaks, shipped_synonyms
from pairspace.studies.audit.backbone import supervised_backbone
from pairspace.studies.audit.captions import NAME_KINDS
from pairspace.studies.audit.instruments import leaky_captions, precision_recall
from pairspace.studies.audit.separability import knn_accuracy


def test_leaky_variant_truth_is_found_and_decoys_are_not():
    seen = ["oboe", "trumpet", "cello", "marimba"]
    unseen = ["violin", "clarinet", "steel string guitar", "tom-tom"]
    caps = [{"text_id": f"{s}-{j}", "text": f"Softly, someone plays a short note on the {s}", "label": s,
             "split": "seen"} for s in seen for j in range(30)]
    ds = SimpleNamespace(captions=caps)
    syn = shipped_synonyms()
    texts, truth, decoys = leaky_captions(ds, unseen, syn, share=0.25, decoys=0.2, seed=3)
    assert len(truth) == 30 and len(decoys) == 24 and not truth & decoys
    ids = list(texts)
    res = caption_leaks([texts[i] for i in ids], unseen, ids, synonyms=syn)
    named = {r["id"] for r in res.leaks if r["kind"] in NAME_KINDS}
    pr = precision_recall(named, truth)
    assert pr["precision"] == 1.0 and pr["recall"] == 1.0
    assert not named & decoys
    assert precision_recall({"a", "b"}, {"b", "c"}) == {"tp": 1, "fp": 1, "fn": 1, "precision": 0.5,
                                                       "recall": 0.5}


def test_supervised_backbone_separates_what_it_was_trained_on():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(6, 20))
    X = np.repeat(centers, 20, axis=0) + 1.5 * rng.normal(size=(120, 20))
    y = [f"c{i}" for i in range(6) for _ in range(20)]
    embed = supervised_backbone(X, y, dim=16, epochs=40)
    Xt = np.repeat(centers, 10, axis=0) + 1.5 * rng.normal(size=(60, 20))
    yt = [f"c{i}" for i in range(6) for _ in range(10)]
    E = embed(Xt)
    assert E.shape == (60, 16)
    assert knn_accuracy(E, yt)[0] >= knn_accuracy(Xt, yt)[0]
