"""Issue 13: the trained teacher of the soft loss, the student's initialization, curated/replay
mixing and selection on held-out classes."""

import json
import math

import numpy as np
import pytest
import torch

from pairspace.align import TrainConfig, load_model, train
from pairspace.align.sampling import mixed_batches, steps_per_epoch
from pairspace.align.split import split_pairs, split_pairs_by_class
from pairspace.data.table import EmbeddingTable

torch.set_num_threads(1)


def tables(n_classes=6, per_class=6, seed=0):
    rng = np.random.default_rng(seed)
    P = rng.normal(size=(n_classes, 8))
    labels = np.repeat(np.arange(n_classes), per_class)
    A = (P[labels] + 0.3 * rng.normal(size=(len(labels), 8))) @ rng.normal(size=(8, 10))
    T = (P[labels] + 0.3 * rng.normal(size=(len(labels), 8))) @ rng.normal(size=(8, 9))
    audio = EmbeddingTable([f"x{i}" for i in range(len(labels))], A, [f"k{c}" for c in labels])
    text = EmbeddingTable([f"c{i}" for i in range(len(labels))], T)
    return audio, text, list(zip(audio.ids, text.ids, strict=True))


def naive_soft(L, Pa, Pb, beta):
    """The soft-labeled loss of arXiv 2305.01864 written out in float64 numpy."""
    L, n = np.asarray(L, np.float64), len(L)

    def targets(P):
        P = P / np.linalg.norm(P, axis=1, keepdims=True)
        return np.maximum(0.0, (1 - beta) * np.eye(n) + beta * P @ P.T)

    def kl(Y, M):
        logp = M - np.log(np.exp(M).sum(axis=1, keepdims=True))
        return sum(Y[i, j] * (math.log(Y[i, j]) - logp[i, j])
                   for i in range(n) for j in range(n) if Y[i, j] > 0) / n

    return 0.5 * (kl(targets(Pa), L) + kl(targets(Pb), L.T))


@pytest.fixture(scope="module")
def teacher_run(tmp_path_factory):
    audio, text, pairs = tables()
    out = tmp_path_factory.mktemp("teacher") / "run"
    cfg = TrainConfig(head="linear", dim=6, epochs=8, batch_size=12, lr=5e-3, selection="val", seed=2)
    train(audio, text, pairs, out, cfg, progress=False)
    return out


def test_soft_loss_with_trained_teacher_matches_numpy(teacher_run, tmp_path):
    audio, text, pairs = tables()
    teacher, _, _ = load_model(teacher_run)
    beta = 0.4
    # one batch holding every pair, no dropout, the student starts as the teacher: the first
    # recorded training loss is the soft loss of the teacher's own logits and targets
    cfg = TrainConfig(head="linear", dim=6, loss="soft", beta=beta, teacher=str(teacher_run),
                      init_from_teacher=True, dropout=0.0, epochs=1, batch_size=64, lr=1e-9,
                      selection="last", val_fraction=0.0)
    res = train(audio, text, pairs, tmp_path / "student", cfg, progress=False)
    Pa, Pb = teacher.project_a(audio.vectors), teacher.project_b(text.vectors)
    scale = min(math.exp(teacher.logit_scale.log_scale.item()), 100.0)
    ref = naive_soft(np.clip(scale * Pa @ Pb.T, -100, 100), Pa, Pb, beta)
    assert res.history[0]["train_loss"] == pytest.approx(ref, rel=1e-5)
    # the backbone variant gives a different number (its targets are the raw backbone cosines)
    ref_backbone = naive_soft(np.clip(scale * Pa @ Pb.T, -100, 100), audio.vectors, text.vectors, beta)
    assert abs(ref - ref_backbone) > 1e-3
    cfg_b = TrainConfig(**{**cfg.to_dict(), "soft_targets": "backbone"})
    res_b = train(audio, text, pairs, tmp_path / "student-b", cfg_b, progress=False)
    assert res_b.history[0]["train_loss"] == pytest.approx(ref_backbone, rel=1e-5)
    run_cfg = json.loads((tmp_path / "student" / "config.json").read_text())
    assert run_cfg["teacher"]["path"].endswith("model.safetensors") and run_cfg["status"] == "complete"


def test_student_starts_from_the_teachers_weights(teacher_run, tmp_path):
    audio, text, pairs = tables()
    teacher, _, _ = load_model(teacher_run)
    base = dict(head="linear", dim=6, epochs=1, batch_size=12, lr=1e-9, selection="last",
                val_fraction=0.0, weight_decay=0.0)
    train(audio, text, pairs, tmp_path / "init", TrainConfig(**base, teacher=str(teacher_run),
                                                              init_from_teacher=True), progress=False)
    train(audio, text, pairs, tmp_path / "fresh", TrainConfig(**base), progress=False)
    s_init, _, _ = load_model(tmp_path / "init")
    s_fresh, _, _ = load_model(tmp_path / "fresh")
    for k, v in teacher.state_dict().items():
        assert torch.allclose(s_init.state_dict()[k], v, atol=1e-6), k
    assert not torch.allclose(s_fresh.state_dict()["head_a.proj.weight"], teacher.state_dict()[
        "head_a.proj.weight"], atol=1e-2)
    with pytest.raises(ValueError, match="teacher's head and dimension"):
        train(audio, text, pairs, tmp_path / "bad", TrainConfig(**{**base, "head": "mlp"},
              teacher=str(teacher_run), init_from_teacher=True), progress=False)


def test_soft_loss_needs_a_teacher_or_the_named_backbone_variant():
    with pytest.raises(ValueError, match=r"teacher=RUN.*soft_targets='backbone'"):
        TrainConfig(loss="soft")
    assert TrainConfig(loss="soft", soft_targets="backbone").teacher is None
    with pytest.raises(ValueError, match="init_from_teacher needs"):
        TrainConfig(init_from_teacher=True)
    with pytest.raises(ValueError, match="ignored"):
        TrainConfig(teacher="run")  # infonce without initialization would not use it


@pytest.mark.parametrize("p", [0.0, 0.3, 0.5, 1.0])
def test_mixing_frequency(p):
    n, n_extra, bs = 50, 130, 10
    counts, steps = 0, 0
    for epoch in range(60):
        plan = mixed_batches(n, n_extra, bs, p, torch.Generator().manual_seed(epoch))
        assert len(plan) == steps_per_epoch(n, n_extra, bs) == 18
        counts += sum(src for src, _ in plan)
        steps += len(plan)
        for src, idx in plan:
            assert len(idx) == bs and int(idx.max()) < (n_extra if src else n)
    sd = math.sqrt(steps * p * (1 - p))
    assert abs(counts - p * steps) <= 4 * sd + 1e-9, (counts, p * steps)
    # within one source, every pair is used once before any pair repeats
    plan = mixed_batches(n, n_extra, bs, 0.5, torch.Generator().manual_seed(0))
    orig = torch.cat([idx for src, idx in plan if src == 0][: n // bs])
    assert len(set(orig.tolist())) == len(orig)


def test_train_with_extra_pairs_counts_batches_and_drops_heldout(tmp_path):
    audio, text, pairs = tables(n_classes=8, per_class=6)
    orig = pairs[::2]
    # the curated set: the odd pairs, plus pseudo-pairs of original clips with other captions
    extra = pairs[1::2] + [(a, t) for (a, _), (_, t) in zip(orig, pairs[1::2], strict=True)]
    cfg = TrainConfig(head="linear", dim=6, epochs=5, batch_size=4, extra_prob=0.75, selection="val",
                      val_fraction=0.25)
    res = train(audio, text, orig, tmp_path / "mix", cfg, progress=False, extra_pairs=extra)
    run_cfg = json.loads((tmp_path / "mix" / "config.json").read_text())
    _, va = split_pairs(orig, 0.25, seed=0)
    held = {orig[i][0] for i in va}
    assert run_cfg["n_extra_dropped"] == sum(a in held for a, _ in extra) > 0
    assert res.n_extra == run_cfg["n_extra"] == len(extra) - run_cfg["n_extra_dropped"]
    steps = steps_per_epoch(res.n_train, res.n_extra, 4)
    got = sum(h["extra_batches"] for h in res.history)
    assert all(0 <= h["extra_batches"] <= steps for h in res.history)
    assert abs(got - 0.75 * steps * 5) <= 4 * math.sqrt(steps * 5 * 0.75 * 0.25)
    # the deprecated order (config, out) warns and gives the same run
    with pytest.warns(DeprecationWarning, match="pass the run folder first"):
        res2 = train(audio, text, orig, cfg, tmp_path / "mix2", progress=False, extra_pairs=extra)
    assert [h["train_loss"] for h in res2.history] == [h["train_loss"] for h in res.history]


def test_epoch_over_replay_gives_every_student_the_replay_sets_steps(tmp_path):
    audio, text, pairs = tables(n_classes=8, per_class=6)
    orig, extra = pairs[::2], pairs[1::2] * 5  # a curated set much larger than the replay set
    base = dict(head="linear", dim=6, epochs=3, batch_size=4, selection="last", val_fraction=0.0)
    plain = train(audio, text, orig, tmp_path / "plain", TrainConfig(**base), progress=False)
    rep = train(audio, text, orig, tmp_path / "rep", TrainConfig(**base, epoch_over="replay", extra_prob=1.0),
                progress=False, extra_pairs=extra)
    allp = train(audio, text, orig, tmp_path / "all", TrainConfig(**base, extra_prob=1.0), progress=False,
                 extra_pairs=extra)
    assert [h["step"] for h in rep.history] == [h["step"] for h in plain.history] == [6, 12, 18]
    assert [h["extra_batches"] for h in rep.history] == [6, 6, 6]  # p = 1: every batch curated
    assert allp.history[0]["step"] == steps_per_epoch(len(orig), len(extra), 4) == 36
    with pytest.raises(ValueError, match="epoch_over"):
        TrainConfig(epoch_over="curated")


def test_heldout_class_split_and_auto_selection(tmp_path):
    audio, text, pairs = tables(n_classes=10, per_class=3)
    labels = dict(zip(audio.ids, audio.labels, strict=True))
    tr, va = split_pairs_by_class(pairs, labels, 0.3, seed=0)
    assert sorted(tr + va) == list(range(len(pairs)))
    assert len({labels[pairs[i][0]] for i in va}) == 3
    assert not {labels[pairs[i][0]] for i in tr} & {labels[pairs[i][0]] for i in va}
    assert split_pairs_by_class(pairs, labels, 0.3, seed=0) == (tr, va)
    cfg = TrainConfig(head="linear", dim=4, epochs=2, batch_size=8, val_fraction=0.3)
    res = train(audio, text, pairs, tmp_path / "auto", cfg, progress=False)
    assert res.selection == "heldout_classes" and res.n_val == len(va)
    unlabeled = EmbeddingTable(audio.ids, audio.vectors)
    assert train(unlabeled, text, pairs, tmp_path / "auto2", cfg, progress=False).selection == "val"
    with pytest.raises(ValueError, match="needs labels"):
        train(unlabeled, text, pairs, tmp_path / "hc", TrainConfig(**{**cfg.to_dict(),
              "selection": "heldout_classes"}), progress=False)
