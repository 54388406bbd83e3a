"""Zero-shot protocols (ensemble, MS-CLAP P3) against naive per-fold and per-subset references."""

import numpy as np
import pytest
from oracles import LetterCounts

from pairspace.data.datasets import load_tut2017
from pairspace.data.table import EmbeddingTable
from pairspace.tasks.protocols import (
    PROTOCOLS,
    evaluate_protocol,
    protocol_split,
    protocol_templates,
)
from pairspace.tasks.zeroshot import text_embeddings_for

NAMES = ["dog", "rooster", "pig", "cow", "frog", "cat", "hen"]


def naive_fold_numbers(X, labels, folds, W):
    """Per fold: top-1, top-5 and balanced accuracy by plain loops over cosine scores."""
    out = {}
    for f in sorted(set(folds)):
        idx = [i for i in range(len(labels)) if folds[i] == f]
        hit1 = hit5 = 0
        recall = {}
        for i in idx:
            x = X[i] / np.sqrt(sum(v * v for v in X[i]))
            s = [float(x @ (w / np.sqrt(sum(v * v for v in w)))) for w in W]
            order = sorted(range(len(W)), key=lambda c: (-s[c], c))
            y = NAMES.index(labels[i])
            hit1 += order[0] == y
            hit5 += y in order[:5]
            recall.setdefault(y, []).append(order[0] == y)
        out[str(f)] = (hit1 / len(idx), hit5 / len(idx),
                       sum(np.mean(v) for v in recall.values()) / len(recall))
    return out


def esc50_like_table(tmp_path, n=60, d=6, seed=0):
    """An ESC-50 style table (fold 1-5 column, file-name ids, class-name labels) saved and reloaded."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(NAMES), size=n)
    folds = [int(f) for f in rng.integers(1, 6, size=n)]
    ids = [f"{folds[i]}-{100000 + i}-A-{y[i]}.wav" for i in range(n)]
    protos = rng.normal(size=(len(NAMES), d))
    X = protos[y] + 1.2 * rng.normal(size=(n, d))
    EmbeddingTable(ids, X, [NAMES[c] for c in y], columns={"fold": folds}).save(tmp_path / "e.parquet")
    return EmbeddingTable.load(tmp_path / "e.parquet"), protos


def test_per_fold_numbers_match_naive_reference(tmp_path):
    t, protos = esc50_like_table(tmp_path)
    W = protos + 0.5 * np.random.default_rng(1).normal(size=protos.shape)
    res = evaluate_protocol("msclap-p3", t.vectors, t.labels, W[None], NAMES, t.columns,
                            ["this is a sound of {}"])
    ref = naive_fold_numbers(np.asarray(t.vectors, np.float64), t.labels, t.columns["fold"], W)
    assert res["split"]["kind"] == "folds" and res["split"]["folds"] == sorted(ref)
    assert res["prompts"] == ["this is a sound of {}"] and res["protocol"]["ensemble"] is False
    for f, (t1, t5, bal) in ref.items():
        got = res["per_fold"][f]
        assert (got["top1"], got["top5"]) == (pytest.approx(t1), pytest.approx(t5))
        assert got["balanced_accuracy"] == pytest.approx(bal)
        assert got["n"] == t.columns["fold"].count(int(f))
    top1s = [v[0] for v in ref.values()]
    assert res["top1"] == pytest.approx(np.mean(top1s))
    assert res["std"]["top1"] == pytest.approx(np.std(top1s))  # population std over folds
    assert len(set(top1s)) > 1  # the folds really differ, so the mean is not a pooled accuracy


def tut2017_eval_table(tmp_path, d=6, seed=2):
    """The DCASE 2017 evaluation-set layout read by the real loader, embedded synthetically."""
    scenes = ["beach", "bus", "cafe/restaurant", "car"]
    rng = np.random.default_rng(seed)
    lab = [scenes[i % 4] for i in range(12)]
    (tmp_path / "evaluation_setup").mkdir()
    (tmp_path / "evaluation_setup" / "evaluate.txt").write_text(
        "".join(f"audio/{i}.wav\t{s}\n" for i, s in enumerate(lab)))
    ds = load_tut2017(tmp_path, check_files=False)
    assert ds.folds is None and set(ds.extra["subset"]) == {"evaluation"}
    X = rng.normal(size=(len(ds), d))
    return EmbeddingTable(ds.ids, X, ds.labels, columns=ds.to_manifest().columns), ds.class_names


def test_tut2017_scores_only_the_evaluation_subset(tmp_path):
    ev, names = tut2017_eval_table(tmp_path)
    rng = np.random.default_rng(3)
    dev = EmbeddingTable([f"dev{i}" for i in range(9)], rng.normal(size=(9, 6)),
                         [names[i % 4] for i in range(9)], columns={"subset": ["development"] * 9})
    both = EmbeddingTable.concat([dev, ev])
    W = rng.normal(size=(len(names), 6))
    res = evaluate_protocol("msclap-p3", both.vectors, both.labels, W, names, both.columns)
    assert res["split"] == {"kind": "subset", "n": len(ev), "subset": "evaluation"}
    S = ev.vectors / np.linalg.norm(ev.vectors, axis=1, keepdims=True) @ (
        W / np.linalg.norm(W, axis=1, keepdims=True)).T
    y = [names.index(v) for v in ev.labels]
    assert res["n"] == len(ev) and res["top1"] == pytest.approx(np.mean(S.argmax(1) == y))
    # the development rows would change the number: the selection is real
    Sall = both.vectors / np.linalg.norm(both.vectors, axis=1, keepdims=True) @ (
        W / np.linalg.norm(W, axis=1, keepdims=True)).T
    assert protocol_split("msclap-p3", len(both), both.columns)["rows"].tolist() == list(range(9, 21))
    assert np.mean(Sall.argmax(1) == [names.index(v) for v in both.labels]) != res["top1"]
    with pytest.raises(ValueError, match="has none"):
        evaluate_protocol("msclap-p3", dev.vectors, dev.labels, W, names, dev.columns)
    with pytest.raises(ValueError, match="'fold' column"):
        evaluate_protocol("msclap-p3", dev.vectors, dev.labels, W, names, {})


class CharCounts(LetterCounts):
    """A deterministic toy text encoder (letter counts)."""


def test_single_prompt_without_ensembling_equals_direct_computation(tmp_path):
    ts = protocol_templates("msclap-p3")
    assert ts.templates == ("this is a sound of {}",)
    enc = CharCounts()
    E = text_embeddings_for(enc, ts.templates, NAMES)
    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 26)) + 3 * enc.encode(NAMES)[rng.integers(0, len(NAMES), 40)]
    labels = [NAMES[i % len(NAMES)] for i in range(40)]
    res = evaluate_protocol("msclap-p3", X, labels, E, NAMES, {"fold": [1 + i % 2 for i in range(40)]},
                            ts.templates)
    direct = enc.encode(["this is a sound of " + c for c in NAMES]).astype(np.float64)
    direct /= np.linalg.norm(direct, axis=1, keepdims=True)
    pred = (X / np.linalg.norm(X, axis=1, keepdims=True) @ direct.T).argmax(1)
    y = np.array([NAMES.index(v) for v in labels])
    folds = np.array([1 + i % 2 for i in range(40)])
    for f in (1, 2):
        assert res["per_fold"][str(f)]["top1"] == pytest.approx(np.mean(pred[folds == f] == y[folds == f]))
    # several prompts are refused rather than averaged
    with pytest.raises(ValueError, match="without ensembling"):
        evaluate_protocol("msclap-p3", X, labels, np.stack([E[0], E[0]]), NAMES, {"fold": folds})


def test_templates_and_protocol_never_contradict():
    assert set(PROTOCOLS) == {"ensemble", "msclap-p3"}
    assert protocol_templates("msclap-p3", "msclap_p3").templates == ("this is a sound of {}",)
    with pytest.raises(ValueError, match="prescribes the template set 'msclap_p3'"):
        protocol_templates("msclap-p3", "audio")
    with pytest.raises(ValueError, match="needs templates"):
        protocol_templates("ensemble")
    assert len(protocol_templates("ensemble", "audio")) > 1
    with pytest.raises(ValueError, match="unknown zero-shot protocol"):
        protocol_templates("p3")


def naive_confusion(X, labels, W, names):
    """Counts by plain loops: for every item, its cosine top-1 class (ties to the lower index)."""
    C = len(names)
    counts = [[0] * C for _ in range(C)]
    for x, lab in zip(X, labels, strict=True):
        x = x / np.sqrt(sum(v * v for v in x))
        s = [float(x @ (w / np.sqrt(sum(v * v for v in w)))) for w in W]
        counts[names.index(lab)][min(range(C), key=lambda c: (-s[c], c))] += 1
    return counts


@pytest.mark.parametrize("protocol", ["ensemble", "msclap-p3"])
def test_confusion_matrix_equals_a_brute_force_count(tmp_path, protocol):
    t, protos = esc50_like_table(tmp_path, n=80, seed=5)
    W = protos + 0.8 * np.random.default_rng(2).normal(size=protos.shape)
    res = evaluate_protocol(protocol, t.vectors, t.labels, W[None], NAMES, t.columns)
    assert res["classes"] == NAMES
    X = np.asarray(t.vectors, np.float64)
    assert res["confusion"] == naive_confusion(X, t.labels, W, NAMES)  # the fold split: all folds
    # rows sum to the items of each class; the diagonal is the per-class recall's numerator
    assert [sum(r) for r in res["confusion"]] == [t.labels.count(c) for c in NAMES]
    if protocol == "ensemble":  # one score over all items: the trace is the top-1 hit count
        assert np.trace(res["confusion"]) / len(X) == pytest.approx(res["top1"])


def test_confusion_matrix_of_a_constructed_case():
    # prompts on the axes; items exactly on a chosen prompt's axis are predicted as that class
    names = ["a", "b", "c", "unused"]
    E = np.eye(4)[None]
    X = np.eye(4)[[0, 0, 1, 2, 2, 2, 2]] + 0.01  # the small shift leaves every argmax unchanged
    labels = ["a", "a", "a", "b", "b", "b", "c"]
    res = evaluate_protocol("ensemble", X, labels, E, names, templates=["{}"])
    assert res["confusion"] == [[2, 1, 0, 0], [0, 0, 3, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    assert res["per_class"] == {"a": pytest.approx(2 / 3), "b": 0.0, "c": 1.0, "unused": None}
