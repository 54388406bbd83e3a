"""run_curation over tables and a (stub) teacher: projection, prompts, owners, statistics, flags."""

from __future__ import annotations

import numpy as np
import pytest

from pairspace.data.table import EmbeddingTable
from pairspace.data.templates import load_templates
from pairspace.studies.curation import PROMPT
from pairspace.studies.curation_run import (
    caption_owners,
    curation_stats,
    run_curation,
    teacher_prompts,
    teacher_space,
)
from pairspace.tasks.zeroshot import format_prompts


class Teacher:
    """Heads that keep the first two coordinates and L2-normalize (a linear projection)."""

    @staticmethod
    def _p(x):
        x = np.asarray(x, dtype=np.float64)[:, :2]
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    project_a = _p
    project_b = _p


class Encoder:
    """Text 'backbone': prompts of class c map to its direction (third coordinate is noise)."""

    def __init__(self, directions):
        self.directions = directions

    def encode(self, texts, progress=None):
        return np.array([[*self.directions[t.replace("this is a sound of ", "")], 9.0] for t in texts])


def _pools():
    dirs = {"cat": (1.0, 0.0), "dog": (0.0, 1.0), "owl": (-1.0, 0.0)}
    rng = np.random.default_rng(0)
    lab_a = ["cat", "dog", "owl", "cat", "dog", "owl", "cat", "dog"]
    A = np.array([[*dirs[c], rng.normal()] for c in lab_a]) + [[0.1, -0.1, 0]] * 8
    lab_t = ["dog", "cat", "owl", "owl", "cat", "dog"]
    T = np.array([[*dirs[c], rng.normal()] for c in lab_t]) + [[0.0, 0.2, 0]] * 6
    audio = EmbeddingTable([f"a{i}" for i in range(8)], A, lab_a)
    text = EmbeddingTable([f"t{i}" for i in range(6)], T, lab_t,
                          columns={"audio_id": ["o0", "o1", "o2", "o2", "o4", "o5"]})
    return dirs, audio, text


def test_p3_template_is_the_curation_prompt():
    t = load_templates("msclap_p3")
    assert len(t) == 1
    assert format_prompts(t.templates, ["dog bark"]) == ["this is a sound of dog bark"]
    assert PROMPT.format("dog bark") == "this is a sound of " + "dog bark"


def test_teacher_space_and_prompts():
    dirs, audio, text = _pools()
    P = teacher_space(Teacher(), audio, "audio")
    assert P.ids == audio.ids and P.labels == audio.labels and P.dim == 2
    np.testing.assert_allclose(np.linalg.norm(P.vectors, axis=1), 1.0, rtol=1e-6)
    E = teacher_prompts(Teacher(), Encoder(dirs), ["dog", "owl"])
    np.testing.assert_allclose(E, [[0, 1], [-1, 0]])
    with pytest.raises(ValueError, match="modality"):
        teacher_space(Teacher(), audio, "image")


def test_caption_owners():
    _, _, text = _pools()
    assert caption_owners(text) == ["o0", "o1", "o2", "o2", "o4", "o5"]
    pairs = [(f"x{i}", f"t{i}") for i in range(6)]
    assert caption_owners(text, pairs) == [f"x{i}" for i in range(6)]
    with pytest.raises(ValueError, match="no audio"):
        caption_owners(text, pairs[:3])


def test_run_curation_stats_and_flags():
    dirs, audio, text = _pools()
    tch = Teacher()
    A, T = teacher_space(tch, audio, "audio"), teacher_space(tch, text, "text")
    classes = ["owl", "dog"]
    run = run_curation(A, T, ["du", "ds", "ads"], thresholds={"du": 0.9, "ds": 0.9, "ads": 0.9},
                       class_names=classes, prompts=teacher_prompts(tch, Encoder(dirs), classes),
                       owners=caption_owners(text), sweep=[0.5])
    st = {s["method"]: s for s in run.stats}
    du = run.results["du"]
    ref = np.mean([audio.labels[a] == text.labels[t] for a, t, _ in du.pairs])
    assert len(du) > 0 and st["du"]["precision"] == pytest.approx(ref)
    assert st["du"]["uses_target_labels"] is False and st["ds"]["uses_target_labels"] is True
    ds = run.results["ds"]
    assert {text.labels[t] for t in ds.text_index} <= {"owl", "dog"}
    assert st["ds"]["target_precision"] == 1.0 and st["ds"]["precision"] == 1.0
    assert all(a in {"o0", "o2", "o5"} for a, _ in ds.id_pairs())
    ads = run.results["ads"]
    assert set(ads.text_index) <= set(ds.text_index) and st["ads"]["uses_target_labels"]
    assert run.to_dict()["settings"]["class_names"] == classes


def test_run_curation_a2a_pairs_kept_clips_with_ds_captions():
    dirs, audio, text = _pools()
    tch = Teacher()
    pool = EmbeddingTable(["o0", "o1", "o2", "o4", "o5"], audio.vectors[:5], audio.labels[:5])
    target = teacher_space(tch, audio.take([5, 6]), "audio")  # an owl and a cat clip
    classes = ["owl", "dog"]
    P, T = teacher_space(tch, pool, "audio"), teacher_space(tch, text, "text")
    run = run_curation(P, T, ["a2a"], thresholds={"a2a": 0.95, "ds": 0.9}, class_names=classes,
                       prompts=teacher_prompts(tch, Encoder(dirs), classes), owners=caption_owners(text),
                       target_audio=target, a2a_top_k=2, sweep=[])
    res, ds = run.results["a2a"], run.results["ds"]
    assert res.transductive and run.stats[-1]["transductive"] is True
    assert "transductive" in run.stats[-1]["target_use"]
    # dense reference: pool clips whose best cosine to a target clip is >= 0.95, x their top-2 DS captions
    cand = sorted(set(ds.text_index.tolist()))
    best = (P.vectors @ target.vectors.T).max(axis=1)
    ref = []
    for i in np.flatnonzero(best >= 0.95):
        s = T.vectors[cand] @ P.vectors[i]
        top = sorted(range(len(cand)), key=lambda j: (-s[j], cand[j]))[:2]
        ref += [(int(i), cand[j]) for j in sorted(top)]
    assert ref and [(a, t) for a, t, _ in res.pairs] == ref
    np.testing.assert_allclose([x for *_, x in res.pairs],
                               [T.vectors[t] @ P.vectors[a] for a, t in ref], rtol=1e-6)


def test_run_curation_ds_chooses_among_the_given_captions():
    dirs, audio, text = _pools()
    tch = Teacher()
    own = EmbeddingTable(["t1", "t2", "t5"], text.vectors[[1, 2, 5]], [text.labels[j] for j in (1, 2, 5)])
    classes = ["owl", "dog"]
    run = run_curation(teacher_space(tch, audio, "audio"), teacher_space(tch, text, "text"), ["ds"],
                       thresholds={"ds": 0.9}, class_names=classes,
                       prompts=teacher_prompts(tch, Encoder(dirs), classes),
                       captions=teacher_space(tch, own, "text"), owners=["o1", "o2", "o5"], sweep=[])
    pairs = run.results["ds"].id_pairs()
    assert pairs and set(pairs) <= {("o1", "t1"), ("o2", "t2"), ("o5", "t5")}
    assert {t for _, t in pairs} == {"t2", "t5"}  # the owl and the dog caption, not the cat one


def test_run_curation_bad_requests():
    _, audio, text = _pools()
    with pytest.raises(ValueError, match="unknown curation"):
        run_curation(audio, text, ["dx"])
    with pytest.raises(ValueError, match="class names"):
        run_curation(audio, text, ["ds"])
    with pytest.raises(ValueError, match="transductive"):
        run_curation(audio, text, ["a2a"])


def test_stats_without_labels_are_none():
    _, audio, text = _pools()
    run = run_curation(EmbeddingTable(audio.ids, audio.vectors), text, ["du"], thresholds={"du": 0.5})
    s = curation_stats(run.results["du"])
    assert s["precision"] is None and s["n_pairs"] == len(run.results["du"])
