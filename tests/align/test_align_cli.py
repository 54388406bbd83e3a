import json

import numpy as np
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
    assert main(["zeroshot", "--run", str(run), "--eval", str(tmp_path / "eval.npz"), "--classes",
                 str(tmp_path / "classes.txt"), "--templates", str(tmp_path / "templates.txt")]) == 0
    res = json.loads((run / "zeroshot.json").read_text())
    assert {"top1", "top5", "balanced_accuracy", "chance"} <= res.keys()
    assert res["chance"] == 1 / 5 and res["text_encoder"] == "test-proto"
    assert res["top1"] >= 0.5, res["top1"]  # chance is 0.2
    assert '"top1"' in capsys.readouterr().out
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
