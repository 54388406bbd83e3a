"""Retrieval metrics in both directions against a naive loop."""

import numpy as np
import pytest
from scipy import sparse

from pairspace.tasks.retrieval import retrieval_metrics


def naive(Q, G, rel, ks=(1, 5, 10), K=10):
    Qn = Q / np.linalg.norm(Q, axis=1, keepdims=True)
    Gn = G / np.linalg.norm(G, axis=1, keepdims=True)
    S = Qn @ Gn.T
    firsts, aps = [], []
    for i in range(len(Q)):
        order = sorted(range(len(G)), key=lambda j: (-S[i, j], j))
        relevant = set(rel[i])
        ranks = [r + 1 for r, j in enumerate(order) if j in relevant]
        firsts.append(ranks[0])
        hits, ap = 0, 0.0
        for r, j in enumerate(order[:K], start=1):
            if j in relevant:
                hits += 1
                ap += hits / r
        aps.append(ap / min(len(relevant), K))
    out = {f"R@{k}": np.mean([f <= k for f in firsts]) for k in ks}
    out[f"mAP@{K}"] = np.mean(aps)
    out["median_rank"] = float(np.median(firsts))
    return out


def check(res, ref):
    for key, v in ref.items():
        assert res[key] == pytest.approx(v), key


@pytest.mark.parametrize("quantize", [False, True])
def test_one_caption_per_clip(quantize):
    rng = np.random.default_rng(0)
    G = rng.normal(size=(40, 6))
    Q = G + 0.9 * rng.normal(size=G.shape)
    if quantize:  # force exact ties in the similarities
        Q, G = np.sign(Q), np.sign(G)
    gt = np.arange(40)
    res = retrieval_metrics(Q, G, gt, names=("t2a", "a2t"))
    check(res["t2a"], naive(Q, G, [[j] for j in gt]))
    check(res["a2t"], naive(G, Q, [[i] for i in range(40)]))


def test_five_captions_per_clip_and_relevance_formats():
    rng = np.random.default_rng(1)
    G = rng.normal(size=(12, 5))
    clip_of = np.repeat(np.arange(12), 5)
    Q = G[clip_of] + 1.2 * rng.normal(size=(60, 5))
    res = retrieval_metrics(Q, G, clip_of, memory_budget=2000)  # tiny budget: many blocks
    check(res["query_to_gallery"], naive(Q, G, [[j] for j in clip_of]))
    captions = [list(np.flatnonzero(clip_of == a)) for a in range(12)]
    ref_a2t = naive(G, Q, captions)
    check(res["gallery_to_query"], ref_a2t)
    dense = np.zeros((60, 12), dtype=bool)
    dense[np.arange(60), clip_of] = True
    for rel in (dense, sparse.csr_matrix(dense), [[j] for j in clip_of]):
        check(retrieval_metrics(Q, G, rel)["gallery_to_query"], ref_a2t)


def test_perfect_retrieval():
    G = np.eye(8)
    res = retrieval_metrics(G, G, np.arange(8))
    for d in res.values():
        assert d["R@1"] == 1.0 and d["mAP@10"] == 1.0 and d["median_rank"] == 1.0


def test_errors():
    X = np.ones((3, 2))
    with pytest.raises(ValueError, match="dimension"):
        retrieval_metrics(X, np.ones((3, 4)), np.arange(3))
    with pytest.raises(ValueError, match="no relevant partner"):
        retrieval_metrics(X, X, np.eye(3)[[0, 1, 1]] * [1, 1, 0])
    with pytest.raises(ValueError, match="lie in"):
        retrieval_metrics(X, X, np.array([0, 1, 3]))
    with pytest.raises(ValueError, match="euclidean|similarity"):
        retrieval_metrics(X, X, np.arange(3), metric="euclidean")
