"""pairspace curate and pairspace improve at the command line (tiny tables, a tiny teacher run)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

pytest.importorskip("torch")

from pairspace.cli import main  # noqa: E402
from pairspace.data.table import EmbeddingTable  # noqa: E402
from pairspace.envelope import validate  # noqa: E402

ANIMALS = ["dog", "cat", "cow", "owl"]


@pytest.fixture(scope="module")
def teacher_setup(tmp_path_factory):
    from pairspace.align import TrainConfig, train
    from pairspace.encoders import get

    root = tmp_path_factory.mktemp("curate")
    enc = get("wordllama")
    rng = np.random.default_rng(0)
    centers = {a: rng.normal(size=16) for a in ANIMALS}
    a_ids, a_vec, a_lab, caps = [], [], [], []
    for a in ANIMALS:
        for j in range(6):
            a_ids.append(f"{a}{j}")
            a_vec.append(centers[a] + 0.2 * rng.normal(size=16))
            a_lab.append(a)
            caps.append((f"{a}{j}-t", f"a {a} makes a sound, take {j}", a, f"{a}{j}"))
    T = np.asarray(enc.encode([c[1] for c in caps], progress=False))
    audio = EmbeddingTable(a_ids, np.array(a_vec), a_lab)
    text = EmbeddingTable([c[0] for c in caps], T, [c[2] for c in caps],
                          {"provenance": {"encoder": "wordllama"}}, {"audio_id": [c[3] for c in caps]})
    audio.save(root / "audio.parquet")
    text.save(root / "text.parquet")
    pairs = [(c[3], c[0]) for c in caps if c[3][-1] in "012"]
    train(audio, text, pairs, root / "teacher",
          TrainConfig(head="linear", dim=8, dropout=0.0, epochs=3, batch_size=8, selection="last",
                      val_fraction=0.0), progress=False)
    (root / "classes.txt").write_text("cow\nowl\n")
    return root


def test_curate_writes_flagged_manifests(teacher_setup, capsys):
    r = teacher_setup
    out = r / "out"
    rc = main(["curate", "--teacher", str(r / "teacher"), "--audio", str(r / "audio.parquet"),
               "--text", str(r / "text.parquet"), "--method", "du", "ds", "ads",
               "--classes", str(r / "classes.txt"), "--tau-du", "q0.9", "--tau-ds", "q0.5",
               "--tau-ads", "0.0", "--text-encoder", "wordllama", "--sweep", "0.5", "q0.99",
               "--out", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "uses target labels" in printed and "not label-free" in printed
    with open(out / "ds.csv", newline="") as f:
        ds = list(csv.DictReader(f))
    assert ds and {row["uses_target_labels"] for row in ds} == {"True"}
    assert all(row["audio_id"] == row["text_id"][:-2] for row in ds)  # paired with their own clip
    doc = json.loads((out / "curation.json").read_text())
    validate(doc)
    for m in ("du", "ds", "ads"):  # every sidecar is a pairspace.curation_set/1 envelope
        side = validate(out / f"{m}.json")
        assert side["inputs"] == doc["inputs"] and side["results"]["manifest"] == f"{m}.csv"
    side = validate(out / "du.json")
    assert side["results"]["uses_target_labels"] is False and side["settings"]["tau"] == "q0.9"
    assert [s["threshold"] for s in side["results"]["sweep"]] == [0.5, "q0.99"]
    assert side["inputs"]["teacher"] == str(r / "teacher")
    assert doc["schema"] == "pairspace.curation/3"
    assert {s["method"] for s in doc["results"]["stats"]} == {"du", "ds", "ads"}
    assert not (out / "sweep.md").exists() and (out / "report.html").is_file()
    # the sweep counts agree with the manifest: at a threshold at or above the one used, the pairs
    # kept are the manifest's pairs with at least that similarity
    with open(out / "du.csv", newline="") as f:
        sims = np.array([float(row["similarity"]) for row in csv.DictReader(f)])
    du = next(s for s in doc["results"]["stats"] if s["method"] == "du")
    assert du["n_pairs"] == sims.size
    for row in du["sweep"]:
        if row["value"] >= du["threshold_value"]:
            assert row["n_pairs"] == int(np.sum(sims >= row["value"]))


def test_curate_report_escapes_and_marks_the_chosen_threshold(teacher_setup, capsys):
    from pairspace.report.curation import plot_sweep, sweep_rows

    r = teacher_setup
    evil = "<script>alert(1)</script>"
    (r / "evil.txt").write_text(f"cow\nowl\n{evil}\n")
    out = r / "evil_out"
    assert main(["curate", "--teacher", str(r / "teacher"), "--audio", str(r / "audio.parquet"),
                 "--text", str(r / "text.parquet"), "--method", "du", "ds", "--classes",
                 str(r / "evil.txt"), "--tau-du", "q0.8", "--tau-ds", "q0.5", "--text-encoder",
                 "wordllama", "--sweep", "q0.5", "q0.9", "q0.99", "--out", str(out), "-q"]) == 0
    page = (out / "report.html").read_text()
    assert evil not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "data:image/png;base64," in page and "Pairs kept per threshold" in page
    doc = json.loads((out / "curation.json").read_text())
    assert doc["settings"]["class_names"][-1] == evil
    fig = plot_sweep(doc)
    for st in doc["results"]["stats"]:
        lines = [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_gid() == f"chosen-{st['method']}"]
        assert lines and all(ln.get_xdata()[0] == st["threshold_value"] for ln in lines)
        # the sweep table marks exactly the rows at the threshold used
        marked = [r[2] for r in sweep_rows(doc) if r[0] == st["method"] and r[5] == "yes"]
        assert all(v == st["threshold_value"] for v in marked)
    # labels are known here: precision at a threshold at or above the one used, none below
    for st in doc["results"]["stats"]:
        for row in st["sweep"]:
            assert (row["precision"] is not None) == (row["value"] >= st["threshold_value"]
                                                      and row["n_pairs"] > 0)


def test_curate_user_errors(teacher_setup, capsys, tmp_path):
    r = teacher_setup
    common = ["curate", "--teacher", str(r / "teacher"), "--audio", str(r / "audio.parquet"),
              "--text", str(r / "text.parquet")]
    assert main(common + ["--method", "ds", "--out", str(tmp_path / "o")]) == 2
    assert "label names: pass --classes" in capsys.readouterr().err
    assert main(common + ["--method", "a2a", "--out", str(tmp_path / "o")]) == 2
    assert "transductive" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert main(common + ["--out", str(tmp_path / "file")]) == 2
    assert "not a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(common + ["--tau-du", "1.5", "--out", str(tmp_path / "o")])
    assert "[-1, 1]" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_improve_rejects_bad_options_before_work(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["improve", "--out", str(tmp_path / "file")]) == 2
    assert "not a folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["improve", "--extra-prob", "1.5", "--out", str(tmp_path / "o")])
    assert main(["improve", "--teacher-clips", "15", "--out", str(tmp_path / "o")]) == 2
    assert "pools" in capsys.readouterr().err


def test_improve_own_data_needs_tables_and_a_valid_split(teacher_setup, tmp_path, capsys):
    r = teacher_setup
    assert main(["improve", "--audio", str(r / "audio.parquet"), "--out", str(tmp_path / "o")]) == 2
    assert "--audio, --text and --split" in capsys.readouterr().err
    own = ["improve", "--audio", str(r / "audio.parquet"), "--text", str(r / "text.parquet")]
    assert main(own + ["--split", str(tmp_path / "none.json"), "--out", str(tmp_path / "o")]) == 2
    assert "split file not found" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{not json")
    assert main(own + ["--split", str(tmp_path / "bad.json"), "--out", str(tmp_path / "o")]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    (tmp_path / "short.json").write_text('{"teacher_pairs": []}')
    assert main(own + ["--split", str(tmp_path / "short.json"), "--out", str(tmp_path / "o")]) == 2
    assert "lacks" in capsys.readouterr().err
