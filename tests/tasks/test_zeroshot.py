"""Zero-shot classifier weights and metrics against naive loops."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import LetterCounts

from pairspace.tasks.zeroshot import (
    build_classifier,
    classifier_weights,
    fold_metrics,
    format_prompts,
    zeroshot_metrics,
    zeroshot_scores,
)


def naive_weights(E):
    T, C, d = E.shape
    W = np.zeros((C, d))
    for c in range(C):
        acc = np.zeros(d)
        for t in range(T):
            acc += E[t, c] / np.sqrt(sum(v * v for v in E[t, c]))
        acc /= T
        W[c] = acc / np.sqrt(sum(v * v for v in acc))
    return W


def naive_metrics(S, y, C):
    n = len(y)
    top1 = top5 = 0
    conf = np.zeros((C, C), dtype=int)
    for i in range(n):
        order = sorted(range(C), key=lambda c: (-S[i, c], c))
        top1 += order[0] == y[i]
        top5 += y[i] in order[:5]
        conf[y[i], order[0]] += 1
    per = {}
    for c in range(C):
        items = [i for i in range(n) if y[i] == c]
        per[c] = None if not items else sum(conf[c, c] for _ in [0]) / len(items)
    present = [v for v in per.values() if v is not None]
    return top1 / n, top5 / n, sum(present) / len(present), per, conf


def test_classifier_weights_matches_naive_loop():
    rng = np.random.default_rng(0)
    E = rng.normal(size=(4, 7, 5)) * rng.uniform(0.1, 10, size=(4, 7, 1))
    np.testing.assert_allclose(classifier_weights(E), naive_weights(E), atol=1e-12)
    # one template (2-D input) is the normalized embedding itself
    np.testing.assert_allclose(classifier_weights(E[0]), E[0] / np.linalg.norm(E[0], axis=1,
                                                                                keepdims=True))


def test_classifier_weights_is_scale_invariant_per_template():
    rng = np.random.default_rng(1)
    E = rng.normal(size=(3, 4, 6))
    scaled = E * rng.uniform(0.01, 100, size=(3, 4, 1))
    np.testing.assert_allclose(classifier_weights(E), classifier_weights(scaled), atol=1e-12)


def test_classifier_weights_errors():
    with pytest.raises(ValueError, match="shape"):
        classifier_weights(np.zeros(5))
    E = np.ones((2, 3, 4))
    E[1, 2] = 0
    with pytest.raises(ValueError, match="all-zero"):
        classifier_weights(E)
    E = np.ones((2, 3, 4))
    E[1] = -1  # the two templates cancel out
    with pytest.raises(ValueError, match="cancel"):
        classifier_weights(E)
    E = np.ones((2, 3, 4))
    E[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        classifier_weights(E)


def test_scores_are_cosines():
    rng = np.random.default_rng(2)
    X, W = rng.normal(size=(9, 4)), rng.normal(size=(3, 4))
    S = zeroshot_scores(X, W)
    for i in range(9):
        for c in range(3):
            ref = X[i] @ W[c] / np.linalg.norm(X[i]) / np.linalg.norm(W[c])
            assert abs(S[i, c] - ref) < 1e-12
    np.testing.assert_allclose(zeroshot_scores(X, W, normalize=False), X @ W.T)
    with pytest.raises(ValueError, match="dimension"):
        zeroshot_scores(X, W[:, :3])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_match_naive_loops_with_ties(seed):
    rng = np.random.default_rng(seed)
    n, C = 60, 8
    S = rng.integers(0, 4, size=(n, C)).astype(float)  # many ties: lower index must win
    y = rng.integers(0, C - 1, size=n)  # the last class never occurs
    names = [f"class {c}" for c in range(C)]
    m = zeroshot_metrics(S, y, names)
    t1, t5, bal, per, conf = naive_metrics(S, y, C)
    assert m["top1"] == pytest.approx(t1)
    assert m["top5"] == pytest.approx(t5)
    assert m["balanced_accuracy"] == pytest.approx(bal)
    np.testing.assert_array_equal(m["confusion"], conf)
    for c in range(C):
        assert m["per_class"][names[c]] == (None if per[c] is None else pytest.approx(per[c]))
    assert m["chance"] == 1 / C and m["n"] == n and m["n_classes"] == C
    # string labels give the same result
    m2 = zeroshot_metrics(S, [names[v] for v in y], names)
    assert m2["top1"] == m["top1"] and m2["balanced_accuracy"] == m["balanced_accuracy"]


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 12), st.integers(1, 30), st.integers(0, 10**6))
def test_topk_properties(C, n, seed):
    rng = np.random.default_rng(seed)
    S = rng.normal(size=(n, C))
    y = rng.integers(0, C, size=n)
    m = zeroshot_metrics(S, y, top_k=range(1, C + 1))
    vals = [m[f"top{k}"] for k in range(1, C + 1)]
    assert all(a <= b for a, b in zip(vals, vals[1:], strict=False))
    assert vals[-1] == 1.0
    assert m["top1"] == pytest.approx(np.mean(S.argmax(1) == y))
    assert int(m["confusion"].sum()) == n


def test_metrics_errors():
    S = np.zeros((3, 2))
    with pytest.raises(ValueError, match="labels must lie"):
        zeroshot_metrics(S, [0, 1, 2])
    with pytest.raises(ValueError, match="class_names"):
        zeroshot_metrics(S, ["a", "b", "a"])
    with pytest.raises(ValueError, match="not class names"):
        zeroshot_metrics(S, ["a", "b", "z"], ["a", "b"])
    with pytest.raises(ValueError, match="3 labels|labels for"):
        zeroshot_metrics(S, [0, 1])


def test_fold_metrics_mean_and_std():
    rng = np.random.default_rng(3)
    S = rng.normal(size=(50, 5))
    y = rng.integers(0, 5, size=50)
    folds = np.repeat(np.arange(1, 6), 10)
    res = fold_metrics(S, y, folds)
    accs = [np.mean(S[folds == f].argmax(1) == y[folds == f]) for f in range(1, 6)]
    assert res["n_folds"] == 5
    assert res["mean"]["top1"] == pytest.approx(np.mean(accs))
    assert res["std"]["top1"] == pytest.approx(np.std(accs))
    assert res["folds"]["3"]["top1"] == pytest.approx(accs[2])


class HashEncoder(LetterCounts):
    """A deterministic toy text encoder (character counts) for wiring tests."""

    name = "hash"


def test_build_classifier_orders_prompts_template_major():
    templates, names = ["a photo of a {}.", "the {}"], ["cat", "dog", "zebra"]
    prompts = format_prompts(templates, names)
    assert prompts[:3] == ["a photo of a cat.", "a photo of a dog.", "a photo of a zebra."]
    enc = HashEncoder()
    E = enc.encode(prompts).reshape(2, 3, 26)
    np.testing.assert_allclose(build_classifier(enc, names, templates), naive_weights(E), atol=1e-6)
    with pytest.raises(ValueError, match="placeholder"):
        format_prompts(["no slot"], names)
