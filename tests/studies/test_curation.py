"""Curation (DU, DS, ADS, a2a) against naive full-matrix references, ties, quantiles and flags."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from pairspace._config import DEFAULT_MEMORY_BUDGET
from pairspace.data.table import EmbeddingTable
from pairspace.envelope import validate
from pairspace.report.curation import write_manifest
from pairspace.studies import _curation_scan, curation
from pairspace.studies.curation import curate_a2a, curate_ads, curate_ds, curate_du, parse_threshold


def _ints(rng: np.random.Generator, n: int, d: int = 3) -> np.ndarray:
    X = rng.integers(-2, 3, (n, d)).astype(float)
    X[(X == 0).all(axis=1), 0] = 1.0
    return X


def _cos(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """The naive reference: the full matrix, one division by the product of the norms."""
    return (A @ B.T) / np.outer(np.linalg.norm(A, axis=1), np.linalg.norm(B, axis=1))


def _ref_threshold(S: np.ndarray, tau: float) -> list[tuple[int, int, float]]:
    return [(i, j, S[i, j]) for i in range(S.shape[0]) for j in range(S.shape[1]) if S[i, j] >= tau]


def _ref_topk(S: np.ndarray, k: int) -> list[tuple[int, int, float]]:
    out = []
    for i in range(S.shape[0]):
        best = sorted(range(S.shape[1]), key=lambda j: (-S[i, j], j))[:k]
        out += [(i, j, S[i, j]) for j in sorted(best)]
    return out


@pytest.fixture
def tied() -> tuple[np.ndarray, np.ndarray]:
    """Small-integer tables with exact cosines 0.6 and 0.8 (3-4-5 triangles) and many repeats."""
    rng = np.random.default_rng(3)
    A = np.vstack([[[3, 4, 0], [1, 0, 0], [0, 3, 4], [4, 3, 0]], _ints(rng, 37)])
    B = np.vstack([[[1, 0, 0], [0, 1, 0], [0, 0, 1], [3, 4, 0]], _ints(rng, 26)])
    return A, B


@pytest.mark.parametrize("budget", [64, 700, DEFAULT_MEMORY_BUDGET])
@pytest.mark.parametrize("tau", [0.6, 0.8, 0.75, -1.0])
def test_du_threshold_matches_full_matrix(tied, budget, tau):
    A, B = tied
    S = _cos(A, B)
    if tau in (0.6, 0.8):
        assert np.any(S == tau)  # exact ties on the threshold are present ...
    res = curate_du(A, B, tau=tau, memory_budget=budget, sweep=())
    assert res.pairs == _ref_threshold(S, tau)  # ... and kept (>=), same pairs, same order
    assert res.method == "du" and not res.uses_target_labels and not res.transductive


@pytest.mark.parametrize("k", [1, 3, 30])
def test_du_top_k_matches_full_matrix_with_ties(tied, k):
    A, B = tied
    S = _cos(A, B)
    res = curate_du(A, B, top_k=k, memory_budget=200, sweep=())
    assert res.pairs == _ref_topk(S, k)
    assert res.settings["top_k"] == k and res.settings["tau"] is None


def test_blocks_never_hold_the_full_matrix(tied, monkeypatch):
    A, B = tied
    shapes = []
    real = _curation_scan.cosine_blocks

    def spy(*args, **kw):
        for s, S in real(*args, **kw):
            shapes.append(S.shape)
            yield s, S

    monkeypatch.setattr(_curation_scan, "cosine_blocks", spy)  # the DU scan (pair_scan) lives there
    curate_du(A, B, tau="q0.9", memory_budget=24 * B.shape[0] * 5)
    assert shapes and max(s[0] for s in shapes) == 5 < A.shape[0]


@pytest.mark.parametrize("budget", [8 * 300, DEFAULT_MEMORY_BUDGET])
def test_quantile_thresholds_are_exact(tied, budget):
    A, B = tied
    S = _cos(A, B)
    qs = [0.0, 0.1, 0.5, 0.9, 0.97, 0.999, 1.0]
    res = curate_du(A, B, tau="q0.97", sweep=[f"q{q}" for q in qs], memory_budget=budget)
    ref = np.quantile(S.ravel(), qs)
    np.testing.assert_allclose([r["value"] for r in res.sweep], ref, rtol=0, atol=1e-15)
    tau = res.settings["tau_value"]
    assert tau == pytest.approx(np.quantile(S.ravel(), 0.97), abs=1e-15)
    assert res.pairs == _ref_threshold(S, tau)
    assert [r["n_pairs"] for r in res.sweep] == [int((S >= v).sum()) for v in
                                                 [r["value"] for r in res.sweep]]


def test_order_statistics_with_many_exact_ties():
    vals = np.repeat([0.25, 0.5, 0.5, 0.75], 400)

    def scan():
        for i in range(0, vals.size, 97):
            yield vals[i:i + 97]

    ranks = [0, 399, 400, 1199, 1200, 1599]
    got = _curation_scan.order_statistics(scan, vals.size, ranks, memory_budget=8 * 100)
    assert got == {r: float(np.sort(vals)[r]) for r in ranks}


def test_sweep_counts_at_each_threshold(tied):
    A, B = tied
    S = _cos(A, B)
    res = curate_du(A, B, tau=0.7, sweep=[0.5, 0.6, 0.8, 0.9])
    assert [(r["threshold"], r["n_pairs"]) for r in res.sweep] == [
        (t, int((S >= t).sum())) for t in (0.5, 0.6, 0.8, 0.9)]


def _ds_fixture(rng):
    T = np.vstack([[[3, 4, 0], [0, 0, 1], [1, 0, 0]], _ints(rng, 21)])  # captions
    P = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 2]], dtype=float)  # one prompt per class
    own = rng.integers(0, 10, T.shape[0])  # each caption's own audio
    own[:3] = [7, 2, 2]
    return T, P, own


def test_ds_matches_reference_and_is_marked_label_using():
    rng = np.random.default_rng(1)
    T, P, own = _ds_fixture(rng)
    S = _cos(T, P)
    best = S.max(axis=1)
    assert np.any(best == 0.8)
    res = curate_ds(T, P, own, tau=0.8, class_names=["a", "b", "c"], memory_budget=100)
    ref = sorted([(int(own[j]), j, best[j]) for j in range(T.shape[0]) if best[j] >= 0.8])
    assert 0 < len(ref) < T.shape[0]
    assert res.pairs == ref
    assert list(res.columns["matched_class"]) == [["a", "b", "c"][int(np.argmax(S[j]))]
                                                  for _, j, _ in ref]
    assert res.uses_target_labels and not res.transductive
    assert res.to_dict()["target_use"].startswith("target label names")
    assert res.settings["prompt"] == "this is a sound of {}"


def test_ads_matches_reference():
    rng = np.random.default_rng(2)
    T, P, own = _ds_fixture(rng)
    ds = curate_ds(T, P, own, tau=0.6, class_names=["a", "b", "c"])
    A = np.vstack([[[1, 0, 0], [4, 3, 0]], _ints(rng, 15)])
    S = _cos(A, T)
    cand = sorted(set(ds.text_index.tolist()))
    res = curate_ads(A, T, ds, tau=0.8, memory_budget=50, sweep=[0.5])
    ref = [(i, j, S[i, j]) for i in range(A.shape[0]) for j in cand if S[i, j] >= 0.8]
    assert res.pairs == ref
    assert res.uses_target_labels and not res.transductive
    assert res.sweep[0]["n_pairs"] == int((S[:, cand] >= 0.5).sum())


@pytest.mark.parametrize("budget", [40, DEFAULT_MEMORY_BUDGET])
@pytest.mark.parametrize(("tau", "top_k"), [(0.6, 1), (0.6, 5), (0.0, 3), ("q0.5", 2)])
def test_a2a_matches_dense_reference_and_is_transductive(tmp_path, tau, top_k, budget):
    rng = np.random.default_rng(4)
    pool = np.vstack([[[3, 4, 0], [0, 1, 0], [5, 0, 0]], _ints(rng, 12)])
    target = np.array([[1, 0, 0], [0, 0, 2]], dtype=float)
    ds_text = np.vstack([[[1, 0, 0], [2, 0, 0], [0, 1, 0]], _ints(rng, 7)])  # rows 0 and 1 tie
    best = _cos(pool, target).max(axis=1)
    tau_value = float(np.quantile(best, 0.5)) if tau == "q0.5" else tau
    S = _cos(pool, ds_text)
    ref = [row for i in range(pool.shape[0]) if best[i] >= tau_value
           for row in _ref_topk(S[i:i + 1], top_k) for row in [(i, row[1], row[2])]]
    res = curate_a2a(pool, target, ds_text, tau=tau, top_k=top_k, memory_budget=budget, sweep=[0.6, "q0.5"])
    assert [(a, t) for a, t, _ in res.pairs] == [(a, t) for a, t, _ in ref]
    assert np.allclose([s for *_, s in res.pairs], [s for *_, s in ref])
    assert res.settings["tau_value"] == pytest.approx(tau_value)
    assert np.allclose(res.columns["target_similarity"], best[res.audio_index])
    assert [r["n_pairs"] for r in res.sweep] == [int((best >= v).sum()) * top_k
                                                 for v in (0.6, np.quantile(best, 0.5))]
    assert res.transductive and res.uses_target_labels
    kept = [(a, t) for a, t, _ in res.pairs]
    if top_k == 1 and tau == 0.6:  # pool row 2 = (5,0,0): captions 0 and 1 tie at cosine 1 -> the lower
        assert (2, 0) in kept and (2, 1) not in kept
        assert (0, 2) in kept and (1, 2) not in kept  # row 0 kept at exactly 0.6; row 1 (best 0) dropped

    paths = write_manifest(res, tmp_path / "a2a")
    with open(paths["csv"], newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(ref) and {r["transductive"] for r in rows} <= {"True"}
    side = validate(paths["json"])["results"]
    assert side["transductive"] is True and side["method"] == "a2a"


def test_a2a_refuses_bad_top_k():
    A = np.eye(3)
    for k in (0, 4, 2.5, True):
        with pytest.raises(ValueError, match="top_k"):
            curate_a2a(A, A, A, tau=0.5, top_k=k)


def test_manifest_with_tables_has_ids_and_loads_as_pairs(tmp_path):
    from pairspace.align.trainer import load_pairs

    rng = np.random.default_rng(5)
    A = EmbeddingTable([f"a{i}" for i in range(12)], _ints(rng, 12), [str(i % 2) for i in range(12)])
    T = EmbeddingTable([f"=t{i}" for i in range(9)], _ints(rng, 9), [str(i % 2) for i in range(9)])
    res = curate_du(A, T, tau=0.5)
    paths = write_manifest(res, tmp_path / "du.csv", inputs={"teacher": "run"})
    assert load_pairs(paths["csv"]) == res.id_pairs()  # ids verbatim: the manifest is read back
    side = validate(paths["json"])  # the pairspace.curation_set/1 envelope, checked by its schema
    assert side["schema"] == "pairspace.curation_set/1" and side["inputs"] == {"teacher": "run"}
    assert side["results"]["uses_target_labels"] is False and side["settings"]["tau"] == 0.5
    assert side["results"]["n_pairs"] == len(res) and side["results"]["manifest"] == "du.csv"
    ref = np.mean([A.labels[a] == T.labels[t] for a, t, _ in res.pairs])
    assert res.precision(A.labels, T.labels) == pytest.approx(ref)


def test_ds_manifest_says_labels_are_used(tmp_path):
    rng = np.random.default_rng(6)
    T, P, own = _ds_fixture(rng)
    res = curate_ds(T, P, own, tau=0.5, class_names=["a", "b", "c"],
                    audio_ids=[f"clip{i}" for i in range(10)])
    paths = write_manifest(res, tmp_path / "ds.csv")
    with open(paths["csv"], newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and {r["uses_target_labels"] for r in rows} == {"True"}
    assert rows[0]["audio_id"].startswith("clip") and "matched_class" in rows[0]
    res.columns["matched_class"] = np.array(["=cmd()"] * len(res), dtype=object)
    with open(write_manifest(res, tmp_path / "ds2.csv")["csv"], newline="") as f:
        assert {r["matched_class"] for r in csv.DictReader(f)} == {"'=cmd()"}  # no formula
    side = validate(paths["json"])
    assert side["settings"]["class_names"] == ["a", "b", "c"]
    assert side["results"]["uses_target_labels"] is True


@pytest.mark.parametrize("spec, want", [(0.7, ("value", 0.7)), ("q0.99", ("quantile", 0.99)),
                                        ("0.5", ("value", 0.5))])
def test_parse_threshold(spec, want):
    assert parse_threshold(spec) == want


@pytest.mark.parametrize("spec", ["q1.5", "qx", "high", 1.5, float("nan"), True])
def test_bad_thresholds(spec):
    with pytest.raises(ValueError, match="threshold|quantile"):
        parse_threshold(spec)


def test_bad_inputs():
    A = np.eye(3)
    with pytest.raises(ValueError, match="all-zero"):
        curate_du(np.zeros((2, 3)), A)
    with pytest.raises(ValueError, match="one space"):
        curate_du(A, np.eye(4))
    with pytest.raises(ValueError, match="top_k"):
        curate_du(A, A, top_k=4)
    with pytest.raises(ValueError, match="class names"):
        curate_ds(A, A, [0, 1, 2], class_names=["a"])
    with pytest.raises(ValueError, match="caption_audio"):
        curate_ds(A, A, [0, 1], class_names=["a", "b", "c"])
    ds = curate_ds(A, A, [0, 1, 2], tau=0.99, class_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="same text pool"):
        curate_ads(A, np.eye(3)[:2], ds)


def test_presets_hold_the_published_thresholds():
    assert curation.PRESETS["esc50"] == {"du": 0.75, "ds": 0.70, "ads": 0.70, "a2a": 0.70}
    assert curation.PRESETS["us8k"] == {"du": 0.75, "ds": 0.60, "ads": 0.70, "a2a": 0.875}
    assert curation.PRESETS["tut2017"] == {"du": 0.75, "ds": 0.675, "ads": 0.65, "a2a": 0.70}
