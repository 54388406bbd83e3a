"""Separability scores on synthetic clusters with a known ordering; overlap checks; GZSL."""

import numpy as np
import pytest

from pairspace import nngs_chance
from pairspace.studies.audit.overlap import (
    generalized_zeroshot,
    label_overlap,
    load_label_file,
    near_duplicates,
    shared_sources,
    shipped_labels,
)
from pairspace.studies.audit.separability import (
    centroid_prompt_nngs,
    class_centroids,
    knn_accuracy,
    separability,
    silhouette,
    tsne_map,
)


def clusters(spread, n_classes=6, per=12, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(n_classes, dim))
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    X = np.repeat(centers, per, axis=0) + spread * rng.normal(size=(n_classes * per, dim))
    labels = [f"c{i}" for i in range(n_classes) for _ in range(per)]
    return X, labels, centers


def test_scores_follow_the_known_ordering_of_spreads():
    res = [separability(*clusters(s)[:2], space=f"s{s}") for s in (0.05, 0.3, 0.6, 2.0)]
    for field in ("silhouette", "knn_accuracy", "probe_accuracy"):
        vals = [getattr(r, field) for r in res]
        assert vals == sorted(vals, reverse=True), (field, vals)
    assert res[0].knn_accuracy == 1.0 and res[0].probe_accuracy == 1.0 and res[0].silhouette > 0.9
    assert res[-1].knn_accuracy < 0.6


def test_per_class_ordering_within_one_space():
    X, labels, _ = clusters(0.05)
    X[labels.index("c5"):] += np.random.default_rng(1).normal(scale=1.5, size=(12, 16))  # c5 is messy
    res = separability(X, labels)
    worst = min(res.per_class, key=lambda c: res.per_class[c]["silhouette"])
    assert worst == "c5"
    assert res.per_class["c0"]["knn_accuracy"] == 1.0


def test_knn_oracle_on_a_tiny_example():
    X = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [0.8, 0.2]])
    acc, per = knn_accuracy(X, ["a", "a", "b", "b", "b"], k=1)
    # leave-one-out 1-NN: rows 0,1 -> a (right), rows 2,3 -> b (right), row 4 -> nearest is row 1 (a): wrong
    assert acc == pytest.approx(4 / 5)
    assert per == {"a": 1.0, "b": pytest.approx(2 / 3)}
    sil, _ = silhouette(X, ["a", "a", "b", "b", "b"])
    assert -1 <= sil <= 1


def test_centroid_prompt_nngs_identical_spaces_and_chance():
    X, labels, centers = clusters(0.05, n_classes=10)
    names = [f"c{i}" for i in range(10)]
    same = centroid_prompt_nngs(X, labels, names, 3.0 * class_centroids(X, labels, names))
    assert same["nngs"] == pytest.approx([1.0] * len(same["k"]))
    assert same["chance"] == pytest.approx(list(nngs_chance(10, same["k"])))
    rng = np.random.default_rng(3)
    rand = [np.mean(centroid_prompt_nngs(X, labels, names, rng.normal(size=(10, 5)))["nngs"][:3])
            for _ in range(30)]
    assert abs(np.mean(rand) - np.mean(same["chance"][:3])) < 0.1
    with pytest.raises(ValueError, match="prompt rows"):
        centroid_prompt_nngs(X, labels, names, centers[:5])


def test_tsne_map_shape_and_separation():
    X, labels, _ = clusters(0.05, n_classes=3, per=10)
    Y = tsne_map(X)
    assert Y.shape == (30, 2)
    assert separability(Y, labels, probe=False).knn_accuracy == 1.0


def test_bad_input():
    with pytest.raises(ValueError, match="2 classes"):
        separability(np.ones((4, 2)) + np.arange(4)[:, None], ["a"] * 4)
    with pytest.raises(ValueError, match="labels for"):
        knn_accuracy(np.eye(3), ["a", "b"])
    with pytest.raises(ValueError, match="zero"):
        silhouette(np.zeros((3, 2)), ["a", "b", "b"])


def test_source_overlap_and_near_duplicates():
    assert shared_sources(["1", "2", None, ""], ["2", "3"])["shared"] == ["2"]
    rng = np.random.default_rng(0)
    A = rng.normal(size=(50, 8))
    B = np.vstack([A[7] + 1e-4, rng.normal(size=(3, 8))])
    d = near_duplicates(A, B, 0.99, train_ids=[f"t{i}" for i in range(50)], memory_budget=64)
    assert d["n_duplicates"] == 1 and d["pairs"][0]["train"] == "t7" and d["pairs"][0]["eval"] == "0"
    with pytest.raises(ValueError, match="dim"):
        near_duplicates(A, B[:, :4])


def test_label_overlap_and_files(tmp_path):
    mtt = shipped_labels("magnatagatune_50")
    assert len(mtt) == 50 and "harpsichord" in mtt
    res = label_overlap(["Harpsichord", "jazz guitar", "oboe", "violins"], mtt)
    kinds = {m["class"]: m["kind"] for m in res["matches"]}
    assert kinds == {"Harpsichord": "equal", "jazz guitar": "contained", "violins": "equal"}
    f = tmp_path / "class_labels_indices.csv"
    f.write_text('index,mid,display_name\n0,/m/09x0r,"Speech"\n1,/m/0l14jd,Oboe\n')
    assert load_label_file(f) == ["Speech", "Oboe"]
    with pytest.raises(FileNotFoundError):
        load_label_file(tmp_path / "none.txt")


def test_generalized_zeroshot():
    names = ["s1", "s2", "u1", "u2"]
    S = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0.5, 0], [0, 0, 0, 1]], float)
    g = generalized_zeroshot(S, ["s1", "s2", "u1", "u2"], names, seen=["s1", "s2"])
    assert g["seen_accuracy"] == 1.0 and g["unseen_accuracy"] == 0.5
    assert g["harmonic_mean"] == pytest.approx(2 * 0.5 / 1.5)
    assert g["unseen_predicted_as_seen"] == 0.5
    with pytest.raises(ValueError, match="not among"):
        generalized_zeroshot(S, ["s1", "s2", "u1", "zz"], names, seen=["s1"])


def test_near_duplicates_center_away_a_common_component():
    rng = np.random.default_rng(1)
    common = 20.0 * np.ones(8)
    A = common + rng.normal(size=(40, 8))
    B = common + rng.normal(size=(10, 8))
    raw = near_duplicates(A, B, 0.98, center=False)
    centered = near_duplicates(A, B, 0.98)
    assert raw["n_duplicates"] == 10 and centered["n_duplicates"] == 0 and centered["centered"]
