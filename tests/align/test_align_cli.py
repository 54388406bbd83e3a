import json

import numpy as np
import pytest
import torch

from pairspace.cli import main
from pairspace.data.table import EmbeddingTable
from pairspace.encoders import Provenance, register
from pairspace.encoders.base import _REGISTRY

torch.set_num_threads(1)

rng = np.random.default_rng(0)
N_CLASSES, PER = 16, 12
PROTO = rng.normal(size=(N_CLASSES, 12))
MA, MT = rng.normal(size=(12, 20)), rng.normal(size=(12, 18))
NAMES = [f"class{c:02d}" for c in range(N_CLASSES)]


class ProtoText:
    """A text encoder that embeds a prompt by the class name it contains (test stand-in)."""

    name, dim = "test-proto", 18
    provenance = Provenance("test-proto", "synthetic")

    def encode(self, items, batch_size=32, progress=None):
        out = []
        for i, s in enumerate(items):
            c = next(k for k, n in enumerate(NAMES) if n in s)
            out.append(PROTO[c] @ MT + 0.05 * np.random.default_rng(i).normal(size=18))
        return np.asarray(out, np.float32)


if "test-proto" not in _REGISTRY:
    register("test-proto", "text")(lambda: ProtoText())


#: A two-epoch linear run without a validation split: the smallest train command.
SMALL = ["--head", "linear", "--dim", "4", "--epochs", "2", "--batch-size", "8", "--selection", "last",
         "--val-fraction", "0"]


def test_train_then_zeroshot_cli(tmp_path, capsys):
    labels = np.repeat(np.arange(N_CLASSES), PER)
    A = (PROTO[labels] + 0.3 * rng.normal(size=(len(labels), 12))) @ MA
    T = (PROTO[labels] + 0.3 * rng.normal(size=(len(labels), 12))) @ MT
    ids = [f"a{i}" for i in range(len(labels))]
    EmbeddingTable(ids, A, [NAMES[c] for c in labels]).save(tmp_path / "audio.parquet")
    EmbeddingTable([f"t{i}" for i in range(len(labels))], T, None,
                   {"provenance": ProtoText.provenance.to_dict()}).save(tmp_path / "text.parquet")
    seen = labels < 11
    (tmp_path / "pairs.csv").write_text("audio_id,text_id\n" + "".join(
        f"a{i},t{i}\n" for i in np.flatnonzero(seen)))
    EmbeddingTable([ids[i] for i in np.flatnonzero(~seen)], A[~seen],
                   [NAMES[c] for c in labels[~seen]]).save(tmp_path / "eval.npz")
    (tmp_path / "classes.txt").write_text("\n".join(NAMES[11:]) + "\n")
    (tmp_path / "templates.txt").write_text("{}\na recording of {}.\n")
    run = tmp_path / "run"
    assert main(["train", "--audio", str(tmp_path / "audio.parquet"),
                 "--text", str(tmp_path / "text.parquet"), "--pairs", str(tmp_path / "pairs.csv"),
                 "--loss", "soft", "--soft-targets", "backbone", "--selection", "val",
                 "--out", str(run), "--head", "linear", "--dim", "12",
                 "--epochs", "25", "--batch-size", "32", "--lr", "5e-3"]) == 0
    assert (run / "model.safetensors").exists() and (run / "metrics.jsonl").exists()
    page = (run / "report.html").read_text()  # the training curves, embedded
    assert (run / "training_curves.png").read_bytes()[:4] == b"\x89PNG" and "data:image/png;base64," in page
    capsys.readouterr()
    assert main(["zeroshot", "--run", str(run), "--eval", str(tmp_path / "eval.npz"), "--classes",
                 str(tmp_path / "classes.txt"), "--templates", str(tmp_path / "templates.txt"),
                 "--json"]) == 0
    doc = json.loads((run / "zeroshot.json").read_text())
    assert json.loads(capsys.readouterr().out) == doc  # --json prints the document of the file
    res = doc["results"]
    assert {"top1", "top5", "balanced_accuracy", "chance"} <= res.keys()
    assert res["chance"] == 1 / 5 and doc["inputs"]["text_encoder"]["encoder"] == "test-proto"
    assert res["top1"] >= 0.5, res["top1"]  # chance is 0.2
    # an unlabeled evaluation table is refused with a clear message
    EmbeddingTable(["x", "y"], A[:2]).save(tmp_path / "nolabels.npz")
    assert main(["zeroshot", "--run", str(run), "--eval", str(tmp_path / "nolabels.npz"), "--classes",
                 str(tmp_path / "classes.txt"), "--templates", str(tmp_path / "templates.txt")]) == 2
    assert "no labels" in capsys.readouterr().err


def test_render_instruments_cli(tmp_path, capsys):
    assert main(["datasets", "render-instruments", "--root", str(tmp_path), "--clips-per-class", "1",
                 "--captions-per-clip", "1", "--duration", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "147" in out and "captions.csv" in out
    folder = next(tmp_path.glob("instruments-v2-*"))
    assert len(list((folder / "audio").glob("*.flac"))) == 147


def _tiny_tables(tmp_path):
    A = rng.normal(size=(24, 6))
    EmbeddingTable([f"a{i}" for i in range(24)], A).save(tmp_path / "a.npz")
    EmbeddingTable([f"t{i}" for i in range(24)], A[:, :5]).save(tmp_path / "t.npz")
    (tmp_path / "p.csv").write_text("audio_id,text_id\n" + "".join(f"a{i},t{i}\n" for i in range(24)))
    return ["--audio", str(tmp_path / "a.npz"), "--text", str(tmp_path / "t.npz"),
            "--pairs", str(tmp_path / "p.csv")]


def test_train_cli_refusals(tmp_path, capsys):
    args = _tiny_tables(tmp_path)
    small = ["--head", "linear", "--dim", "4", "--epochs", "2", "--batch-size", "8"]
    # the soft loss without a teacher names both ways out
    assert main(["train", *args, "--out", str(tmp_path / "r"), "--loss", "soft", *small]) == 2
    err = capsys.readouterr().err
    assert "--teacher RUN" in err and "--soft-targets backbone" in err
    assert not (tmp_path / "r").exists()
    # --out is checked before anything is read (the audio table does not even exist)
    (tmp_path / "file").write_text("x")
    bad = ["--audio", str(tmp_path / "missing.npz"), *args[2:]]
    assert main(["train", *bad, "--out", str(tmp_path / "file"), *small]) == 2
    assert "--out" in capsys.readouterr().err and (tmp_path / "file").read_text() == "x"
    assert main(["train", *bad, "--out", str(tmp_path / "file" / "run"), *small]) == 2
    assert "is a file" in capsys.readouterr().err
    assert main(["train", *bad, "--out", str(tmp_path / "r"), "--loss", "soft", "--teacher",
                 str(tmp_path / "no-run"), *small]) == 2
    assert "no trained model" in capsys.readouterr().err and not (tmp_path / "r").exists()
    # numeric options are validated by the parser
    for opt, value in (("--epochs", "0"), ("--lr", "-1"), ("--extra-prob", "1.5"), ("--dropout", "1")):
        with pytest.raises(SystemExit) as exc:
            main(["train", *args, "--out", str(tmp_path / "r"), opt, value])
        assert exc.value.code == 2 and opt in capsys.readouterr().err
    # a diverging run: a clear error, and the folder is marked failed
    assert main(["train", *args, "--out", str(tmp_path / "div"), *small, "--lr", "1e30",
                 "--selection", "last", "--val-fraction", "0"]) == 2
    assert "diverged" in capsys.readouterr().err and (tmp_path / "div" / "FAILED").exists()


def test_train_cli_with_teacher(tmp_path, capsys):
    args = _tiny_tables(tmp_path)
    small = SMALL
    assert main(["train", *args, "--out", str(tmp_path / "teacher"), *small]) == 0
    assert main(["train", *args, "--out", str(tmp_path / "student"), *small, "--loss", "soft",
                 "--teacher", str(tmp_path / "teacher"), "--init-from-teacher"]) == 0
    cfg = json.loads((tmp_path / "student" / "config.json").read_text())
    assert cfg["train"]["init_from_teacher"] and cfg["teacher"]["path"].endswith("model.safetensors")
    assert "trained linear heads" in capsys.readouterr().out


def test_train_quiet_prints_nothing(tmp_path, capsys):
    args = _tiny_tables(tmp_path)
    small = SMALL
    capsys.readouterr()
    assert main(["train", *args, "--out", str(tmp_path / "q"), *small, "-q"]) == 0
    out = capsys.readouterr()
    assert out.out == "" and out.err == "" and (tmp_path / "q" / "model.safetensors").exists()
    assert main(["train", *args, "--out", str(tmp_path / "loud"), *small]) == 0
    assert "trained linear heads" in capsys.readouterr().out  # the same run, not quiet, says so


def test_train_json_prints_the_summary_document(tmp_path, capsys):
    from pairspace.envelope import validate

    args = _tiny_tables(tmp_path)
    small = SMALL
    capsys.readouterr()
    assert main(["train", *args, "--out", str(tmp_path / "j"), *small, "--json"]) == 0
    out = capsys.readouterr()
    summary = tmp_path / "j" / "summary.json"
    assert out.out == summary.read_text()  # exactly the document of the file, nothing else
    doc = validate(json.loads(out.out))
    assert doc["schema"] == "pairspace.train/1" and doc["command"].startswith("pairspace train ")
    assert doc["command"].endswith("--json") and "summary.json" in out.err  # the files: stderr
    assert doc["inputs"]["audio_table"]["path"] == args[1] and doc["inputs"]["pairs"]["path"] == args[5]
    assert doc["inputs"]["text_table"]["sha256"] is not None and doc["settings"]["dim"] == 4
    assert doc["results"]["status"] == "complete" and len(doc["results"]["history"]) == 2
    assert "selection" not in out.out.splitlines()[0]  # no table
    # a failed run's summary is a valid envelope too; --json then prints nothing (the error: stderr)
    assert main(["train", *args, "--out", str(tmp_path / "div"), *small, "--lr", "1e30", "--json"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "diverged" in out.err
    failed = validate(tmp_path / "div" / "summary.json")
    assert failed["results"]["status"] == "failed" and failed["command"].endswith("--json")
