import json

import numpy as np
import pytest
import torch

from pairspace.align import AlignmentModel, TrainConfig, load_model, load_pairs, save_model, train
from pairspace.align.schedule import lr_at
from pairspace.align.split import split_pairs
from pairspace.data.table import EmbeddingTable
from pairspace.envelope import validate

torch.set_num_threads(1)


def synthetic(n_classes=20, per_class=12, seed=0, noise=0.3):
    """Audio and text embeddings generated from shared class prototypes through different maps."""
    rng = np.random.default_rng(seed)
    P = rng.normal(size=(n_classes, 16))
    Ma, Mt = rng.normal(size=(16, 32)), rng.normal(size=(16, 24))
    labels = np.repeat(np.arange(n_classes), per_class)
    A = (P[labels] + noise * rng.normal(size=(len(labels), 16))) @ Ma
    T = (P[labels] + noise * rng.normal(size=(len(labels), 16))) @ Mt
    class_text = P @ Mt
    ids = [f"x{i}" for i in range(len(labels))]
    audio = EmbeddingTable(ids, A, [str(c) for c in labels], {"provenance": {"encoder": "synthetic-a"}})
    text = EmbeddingTable([f"c{i}" for i in range(len(labels))], T, [str(c) for c in labels],
                          {"provenance": {"encoder": "synthetic-t"}})
    return audio, text, labels, class_text


def zeroshot_top1(model, audio_vecs, labels, class_text, classes):
    pa = model.project_a(audio_vecs)
    pt = model.project_b(class_text[classes])
    pred = np.asarray(classes)[np.argmax(pa @ pt.T, axis=1)]
    return float(np.mean(pred == labels))


def test_training_raises_zero_shot_accuracy_on_unseen_classes(tmp_path):
    audio, text, labels, class_text = synthetic()
    seen, unseen = list(range(14)), list(range(14, 20))
    pairs = [(audio.ids[i], text.ids[i]) for i in range(len(labels)) if labels[i] in seen]
    test = np.isin(labels, unseen)
    cfg = TrainConfig(head="linear", dim=16, epochs=25, batch_size=32, lr=5e-3, seed=1)
    torch.manual_seed(1)
    untrained = AlignmentModel(32, 24, "linear", 16)
    before = zeroshot_top1(untrained, audio.vectors[test], labels[test], class_text, unseen)
    res = train(audio, text, pairs, tmp_path / "run", cfg, progress=False)
    model, loaded_cfg, meta = load_model(tmp_path / "run")
    after = zeroshot_top1(model, audio.vectors[test], labels[test], class_text, unseen)
    chance = 1 / len(unseen)
    print("zero-shot top-1 before", before, "after", after)
    assert after >= 0.8, (before, after)
    assert after > 3 * chance and after > before + 0.3
    assert loaded_cfg == cfg and meta["best_epoch"] == res.best_epoch
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 25 and {"train_loss", "val_loss", "lr", "logit_scale"} <= json.loads(lines[0]).keys()
    hist = [json.loads(x)["train_loss"] for x in lines]
    assert hist[-1] < hist[0]
    assert res.best_epoch == int(np.argmin([json.loads(x)["val_loss"] for x in lines]))
    assert res.n_val > 0 and res.n_train + res.n_val == len(pairs)


@pytest.mark.parametrize("loss", ["infonce", "soft"])
def test_resume_equals_uninterrupted(tmp_path, loss):
    audio, text, labels, _ = synthetic(n_classes=8, per_class=8, seed=3)
    pairs = [(a, t) for a, t in zip(audio.ids, text.ids, strict=True)]
    cfg = TrainConfig(head="clap", dim=8, epochs=6, batch_size=16, loss=loss, dropout=0.2, seed=5,
                      soft_targets="backbone")
    train(audio, text, pairs, tmp_path / "full", cfg, progress=False)
    part = train(audio, text, pairs, tmp_path / "part", cfg, progress=False, stop_after=2)
    assert part.epochs_run == 2 and not (tmp_path / "part" / "model.safetensors").exists()
    rest = train(audio, text, pairs, tmp_path / "part", cfg, progress=False, stop_after=1)
    rest = train(audio, text, pairs, tmp_path / "part", cfg, progress=False)
    assert rest.resumed_from == 3
    m1, _, _ = load_model(tmp_path / "full")
    m2, _, _ = load_model(tmp_path / "part")
    for (k, v1), (_, v2) in zip(m1.state_dict().items(), m2.state_dict().items(), strict=True):
        assert torch.equal(v1, v2), k
    strip = [{k: v for k, v in json.loads(x).items() if k != "seconds"}
             for x in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()]
    strip2 = [{k: v for k, v in json.loads(x).items() if k != "seconds"}
              for x in (tmp_path / "part" / "metrics.jsonl").read_text().splitlines()]
    assert strip == strip2
    # a different config in the same folder is refused
    with pytest.raises(ValueError, match="different configuration"):
        train(audio, text, pairs, tmp_path / "part", TrainConfig(dim=4, epochs=2), progress=False)


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    cfg = TrainConfig(head="mlp", dim=6)
    m = AlignmentModel(5, 7, "mlp", 6)
    with torch.no_grad():
        m.logit_scale.log_scale.fill_(2.5)
    save_model(tmp_path / "m.safetensors", m, cfg)
    m2, cfg2, _ = load_model(tmp_path / "m.safetensors")
    assert cfg2 == cfg
    x = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    np.testing.assert_array_equal(m.project_a(x), m2.project_a(x))
    assert m2.logit_scale.log_scale.item() == 2.5
    (tmp_path / "bad.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="could not read"):
        load_model(tmp_path / "bad.safetensors")


def test_oracle_selection_is_labeled_and_needs_a_scorer(tmp_path):
    audio, text, _, _ = synthetic(n_classes=6, per_class=6)
    pairs = list(zip(audio.ids, text.ids, strict=True))
    with pytest.raises(ValueError, match="oracle"):
        train(audio, text, pairs, tmp_path / "o", TrainConfig(selection="oracle", epochs=2), progress=False)
    scores = iter([0.1, 0.9, 0.2])
    res = train(audio, text, pairs, tmp_path / "o", TrainConfig(selection="oracle", epochs=3, dim=8),
                oracle=lambda m: next(scores), progress=False)
    assert res.best_epoch == 1 and res.selection.startswith("oracle (test-set")
    assert json.loads((tmp_path / "o" / "config.json").read_text())["selection_label"].startswith("oracle")


def test_pairs_manifest_split_and_schedule(tmp_path):
    (tmp_path / "p.csv").write_text("audio_id,text_id\na,1\na,2\nb,3\n")
    assert load_pairs(tmp_path / "p.csv") == [("a", "1"), ("a", "2"), ("b", "3")]
    (tmp_path / "p.jsonl").write_text('{"audio": "a", "text": "1"}\n')
    assert load_pairs(tmp_path / "p.jsonl") == [("a", "1")]
    (tmp_path / "bad.csv").write_text("x,y\n1,2\n")
    with pytest.raises(ValueError, match="audio_id"):
        load_pairs(tmp_path / "bad.csv")
    pairs = [(f"a{i // 3}", f"t{i}") for i in range(60)]
    tr, va = split_pairs(pairs, 0.25, seed=0)
    assert sorted(tr + va) == list(range(60))
    assert not {pairs[i][0] for i in tr} & {pairs[i][0] for i in va}  # audio items never straddle
    assert split_pairs(pairs, 0.25, seed=0) == (tr, va)
    lrs = [lr_at(s, 100, 1.0, 0.1) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(b <= a + 1e-12 for a, b in zip(lrs[10:], lrs[11:], strict=False)) and lrs[-1] < 0.01
    audio, text, _, _ = synthetic(n_classes=4, per_class=3)
    with pytest.raises(ValueError, match="not in the audio table"):
        train(audio, text, [("nope", "c0"), ("x1", "c1")], tmp_path / "r", progress=False)


def test_tensorboard_is_optional(tmp_path):
    audio, text, _, _ = synthetic(n_classes=4, per_class=4)
    pairs = list(zip(audio.ids, text.ids, strict=True))
    cfg = TrainConfig(epochs=1, dim=4, selection="last", val_fraction=0.0)
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="tensorboard"):
            train(audio, text, pairs, tmp_path / "tb", cfg, tensorboard=True, progress=False)
    else:
        train(audio, text, pairs, tmp_path / "tb", cfg, tensorboard=True, progress=False)
        assert any((tmp_path / "tb" / "tensorboard").iterdir())


def test_diverging_run_is_marked_failed(tmp_path):
    from pairspace.align import TrainingDiverged

    audio, text, _, _ = synthetic(n_classes=4, per_class=8)
    pairs = list(zip(audio.ids, text.ids, strict=True))
    cfg = TrainConfig(head="linear", dim=4, epochs=3, batch_size=8, lr=1e30, selection="val")
    with pytest.raises(TrainingDiverged, match=r"diverged at epoch 0.*lower the learning rate"):
        train(audio, text, pairs, tmp_path / "run", cfg, progress=False)
    run = tmp_path / "run"
    assert (run / "FAILED").exists() and not (run / "model.safetensors").exists()
    failed = validate(run / "summary.json")  # still the pairspace.train/1 envelope
    assert failed["schema"] == "pairspace.train/1" and failed["results"]["status"] == "failed"
    assert "diverged at epoch 0" in failed["results"]["error"] and failed["settings"]["lr"] == 1e30
    assert failed["inputs"]["pairs"]["n"] == len(pairs) and failed["inputs"]["pairs"]["path"] is None
    assert json.loads((run / "config.json").read_text())["status"] == "failed"
    with pytest.raises(ValueError, match="failed run"):  # neither resumed nor loaded as a model
        train(audio, text, pairs, run, cfg, progress=False)
    with pytest.raises(ValueError, match="failed run"):
        load_model(run)
    ok = TrainConfig(**{**cfg.to_dict(), "lr": 1e-3})
    assert train(audio, text, pairs, run, ok, progress=False, resume=False).status == "complete"
    assert not (run / "FAILED").exists() and load_model(run)[1] == ok
    assert json.loads((run / "config.json").read_text())["status"] == "complete"


def test_run_folder_that_is_a_file_is_refused(tmp_path):
    audio, text, _, _ = synthetic(n_classes=4, per_class=3)
    (tmp_path / "f").write_text("x")
    pairs = list(zip(audio.ids, text.ids, strict=True))
    for out in (tmp_path / "f", tmp_path / "f" / "run"):
        with pytest.raises(ValueError, match="folder"):
            train(audio, text, pairs, out, TrainConfig(epochs=1, dim=4), progress=False)


def test_threads_auto_measures_and_records_its_choice(tmp_path):
    from pairspace.align.threads import available_cores

    audio, text, _, _ = synthetic(n_classes=4, per_class=8)
    pairs = list(zip(audio.ids, text.ids, strict=True))
    cfg = TrainConfig(head="linear", dim=4, epochs=1, batch_size=8, selection="last", val_fraction=0.0)
    before = torch.get_num_threads()
    train(audio, text, pairs, tmp_path / "auto", cfg, progress=False, threads="auto")
    assert torch.get_num_threads() == before
    rt = json.loads((tmp_path / "auto" / "config.json").read_text())["runtime"]
    if available_cores() >= 2:
        assert set(rt["seconds_per_step"]) == {"1", "2"}
        assert rt["threads"] == min((int(k) for k in rt["seconds_per_step"]),
                                    key=lambda k: rt["seconds_per_step"][str(k)])
    else:
        assert rt["threads"] == 1


def test_invalid_inputs_leave_no_run_folder(tmp_path):
    audio, text, _, _ = synthetic(n_classes=4, per_class=3)
    with pytest.raises(ValueError, match="not in the text table"):
        train(audio, text, [("x0", "nope"), ("x1", "c1")], tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()


def test_progress_bar_carries_the_given_label(tmp_path, capsys):
    audio, text, labels, _ = synthetic(n_classes=4, per_class=4)
    pairs = list(zip(audio.ids, text.ids, strict=True))
    cfg = TrainConfig(head="linear", dim=4, epochs=1, batch_size=8, selection="last", val_fraction=0.0)
    train(audio, text, pairs, tmp_path / "a", cfg, progress=True, desc="train heads (run a)")
    train(audio, text, pairs, tmp_path / "b", cfg, progress=True)
    err = capsys.readouterr().err
    assert "train heads (run a)" in err
    assert err.count("train heads") > err.count("train heads (run a)")  # the default label


def test_summary_is_the_train_envelope_of_the_result(tmp_path):
    from pairspace.align import TrainResult

    audio, text, _, _ = synthetic(n_classes=4, per_class=6)
    pairs = list(zip(audio.ids, text.ids, strict=True))
    extra = pairs[::3]
    cfg = TrainConfig(head="linear", dim=4, epochs=2, batch_size=8, selection="last", val_fraction=0.0)
    res = train(audio, text, pairs, tmp_path / "run", cfg, progress=False, extra_pairs=extra)
    doc = validate(tmp_path / "run" / "summary.json")
    assert doc == json.loads(json.dumps(res.to_dict()))  # the file is the result's own document
    assert doc["schema"] == "pairspace.train/1" and doc["command"] is None  # called from Python
    assert {k: v for k, v in doc["settings"].items() if k != "threads"} == cfg.to_dict()
    assert doc["settings"]["threads"] == 1
    a_in = doc["inputs"]["audio_table"]
    assert (a_in["n"], a_in["d"], a_in["encoder"], a_in["path"]) == (24, 32, {"encoder": "synthetic-a"}, None)
    assert doc["inputs"]["extra_pairs"]["n"] == len(extra) and doc["inputs"]["teacher"] is None
    cfg_json = json.loads((tmp_path / "run" / "config.json").read_text())
    assert doc["inputs"]["pairs"]["digest"] == cfg_json["pairs_sha"]  # the digest config.json records
    r = doc["results"]
    assert r["status"] == "complete" and r["epochs_run"] == len(r["history"]) == 2
    assert r["best_epoch"] == 1 and r["n_train"] == len(pairs) and r["n_extra"] == len(extra)
    assert TrainResult.from_dict(doc).to_dict() == doc  # the typed object the document describes


def test_summary_records_the_files_the_tables_came_from(tmp_path):
    audio, text, _, _ = synthetic(n_classes=4, per_class=6)
    audio.save(tmp_path / "a.npz")
    text.save(tmp_path / "t.parquet")
    (tmp_path / "p.csv").write_text("audio_id,text_id\n" + "".join(
        f"{a},{t}\n" for a, t in zip(audio.ids, text.ids, strict=True)))
    cfg = TrainConfig(head="linear", dim=4, epochs=1, batch_size=8, selection="last", val_fraction=0.0)
    res = train(audio, text, tmp_path / "p.csv", tmp_path / "run", cfg, progress=False,
                table_files=(tmp_path / "a.npz", tmp_path / "t.parquet"))
    inputs = validate(res.to_dict())["inputs"]
    import hashlib

    for key, name in (("audio_table", "a.npz"), ("text_table", "t.parquet"), ("pairs", "p.csv")):
        data = (tmp_path / name).read_bytes()
        assert inputs[key]["path"] == str(tmp_path / name) and inputs[key]["size"] == len(data)
        assert inputs[key]["sha256"] == hashlib.sha256(data).hexdigest()
    with pytest.raises(ValueError, match="audio and the text table"):
        train(audio, text, tmp_path / "p.csv", tmp_path / "run2", cfg, progress=False,
              table_files=(tmp_path / "a.npz",))


def test_training_report_reads_the_envelope_and_older_flat_summaries(tmp_path):
    from pairspace.report.training import read_run, summary_results

    audio, text, _, _ = synthetic(n_classes=4, per_class=6)
    pairs = list(zip(audio.ids, text.ids, strict=True))
    cfg = TrainConfig(head="linear", dim=4, epochs=3, batch_size=8, selection="last", val_fraction=0.0)
    res = train(audio, text, pairs, tmp_path / "new", cfg, progress=False)
    new = read_run(tmp_path / "new")
    assert new == json.loads(json.dumps(res.results))  # the envelope's results
    # a run folder written before summary.json became an envelope: the flat summary, read as it is
    old = tmp_path / "old"
    old.mkdir()
    flat = {**res.results, "best_epoch": 1, "selection": "val"}
    (old / "summary.json").write_text(json.dumps(flat))
    got = read_run(old)
    assert got["best_epoch"] == 1 and got["selection"] == "val" and len(got["history"]) == 3
    # an old failed run's summary has no history: it is read from metrics.jsonl
    (old / "summary.json").write_text(json.dumps({"status": "failed", "error": "x", "run_dir": str(old)}))
    (old / "metrics.jsonl").write_text(json.dumps({"epoch": 0, "step": 3, "train_loss": 2.0}) + "\n")
    assert read_run(old)["history"] == [{"epoch": 0, "step": 3, "train_loss": 2.0}]
    with pytest.raises(ValueError, match="pairspace.train"):  # another command's document is refused
        summary_results({**res.to_dict(), "schema": "pairspace.zeroshot/3"})
