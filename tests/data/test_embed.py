"""Manifests and the resumable embed pipeline (reuse, resume, invalidation) and the embed CLI."""

import json

import numpy as np
import pytest

from pairspace.cli import main
from pairspace.data.embed import embed_manifest, partial_dir
from pairspace.data.manifests import Manifest, read_manifest
from pairspace.data.table import EmbeddingTable
from pairspace.encoders.base import Provenance


class CountingEncoder:
    """Deterministic toy encoder: vector from the bytes of the item; counts what it encodes."""

    name, dim = "counting", 4

    def __init__(self, fail_after=None, version="1"):
        self.calls, self.fail_after = [], fail_after
        self.provenance = Provenance("counting", "toy", "none", "", {"version": version})

    def encode(self, items, batch_size=32, progress=None):
        if self.fail_after is not None and len(self.calls) >= self.fail_after:
            raise KeyboardInterrupt("simulated interruption")
        self.calls.append(list(items))
        out = []
        for it in items:
            data = open(it, "rb").read() if str(it).startswith("/") else str(it).encode()
            h = np.frombuffer(data.ljust(4, b"\0")[:4], dtype=np.uint8).astype(np.float32)
            out.append(h + len(data))
        return np.array(out, dtype=np.float32)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "imgs"
    for cls in ("cats", "dogs"):
        (root / cls).mkdir(parents=True)
        for i in range(5):
            (root / cls / f"{cls}{i}.png").write_bytes(f"{cls} image {i}".encode())
    (root / "cats" / "notes.md").write_text("ignored")
    return root


def test_folder_manifest(folder):
    m = read_manifest(folder, modality="image")
    assert len(m) == 10 and m.kind == "path"
    assert m.ids[0] == "cats/cats0.png" and m.labels[:5] == ["cats"] * 5 and m.labels[-1] == "dogs"
    with pytest.raises(ValueError, match="no media files"):
        read_manifest(folder / "cats", modality="audio")


def test_csv_and_jsonl_manifests(tmp_path, folder):
    (tmp_path / "m.csv").write_text("path,label,fold\nimgs/cats/cats0.png,cat,1\nimgs/dogs/dogs1.png,dog,2\n")
    m = read_manifest(tmp_path / "m.csv")
    assert m.items[0] == str((folder / "cats" / "cats0.png").resolve())
    assert m.labels == ["cat", "dog"] and m.columns == {"fold": ["1", "2"]}
    lines = [{"id": "a", "text": "a photo of a cat", "label": "cat", "fold": 1},
             {"id": "b", "text": "the sound of rain", "label": "rain", "fold": 2}]
    (tmp_path / "m.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    t = read_manifest(tmp_path / "m.jsonl")
    assert t.kind == "text" and t.ids == ["a", "b"] and t.items[1] == "the sound of rain"
    assert t.columns == {"fold": [1, 2]}
    (tmp_path / "bad.csv").write_text("name\nx\n")
    with pytest.raises(ValueError, match="'path' or 'text'"):
        read_manifest(tmp_path / "bad.csv")
    (tmp_path / "missing.csv").write_text("path\nnope.png\n")
    with pytest.raises(FileNotFoundError, match="missing"):
        read_manifest(tmp_path / "missing.csv").check_files()
    with pytest.raises(FileNotFoundError):
        read_manifest(tmp_path / "nothing.csv")


def test_embed_reuse_and_invalidation(tmp_path, folder):
    m = read_manifest(folder)
    enc = CountingEncoder()
    out = tmp_path / "t.parquet"
    r1 = embed_manifest(enc, m, out, chunk_size=3)
    assert not r1.reused and r1.encoded_items == 10 and len(enc.calls) == 4
    t = EmbeddingTable.load(out)
    assert t.ids == m.ids and t.labels == m.labels and t.metadata["provenance"]["encoder"] == "counting"
    assert t.columns["path"] == m.items
    # unchanged inputs and encoder: reused, the encoder is not called
    r2 = embed_manifest(enc, read_manifest(folder), out, chunk_size=3)
    assert r2.reused and len(enc.calls) == 4
    np.testing.assert_array_equal(r2.table.vectors, t.vectors)
    # another encoder version: re-embedded
    r3 = embed_manifest(CountingEncoder(version="2"), m, out)
    assert not r3.reused and r3.encoded_items == 10
    # a changed input file: re-embedded
    (folder / "dogs" / "dogs4.png").write_bytes(b"a different, longer dog image")
    r4 = embed_manifest(CountingEncoder(version="2"), read_manifest(folder), out)
    assert not r4.reused and not np.array_equal(r4.table.vectors[-1], r3.table.vectors[-1])


def test_embed_resumes_after_interruption(tmp_path, folder):
    m = read_manifest(folder)
    out = tmp_path / "t.arrow"
    with pytest.raises(KeyboardInterrupt):
        embed_manifest(CountingEncoder(fail_after=2), m, out, chunk_size=3)
    assert not out.exists() and partial_dir(out).exists()
    enc = CountingEncoder()
    r = embed_manifest(enc, m, out, chunk_size=3)
    assert r.resumed_items == 6 and r.encoded_items == 4
    assert [len(c) for c in enc.calls] == [3, 1]  # only the two unfinished chunks
    assert not partial_dir(out).exists()
    ref = embed_manifest(CountingEncoder(), m, tmp_path / "ref.npz", chunk_size=3)
    np.testing.assert_array_equal(r.table.vectors, ref.table.vectors)
    # partial chunks of another encoder are discarded, not mixed in
    with pytest.raises(KeyboardInterrupt):
        embed_manifest(CountingEncoder(fail_after=1), m, tmp_path / "x.parquet", chunk_size=3)
    r2 = embed_manifest(CountingEncoder(version="2"), m, tmp_path / "x.parquet", chunk_size=3)
    assert r2.resumed_items == 0 and r2.encoded_items == 10


def test_array_manifest_fingerprint():
    imgs = np.zeros((3, 2, 2, 3), np.uint8)
    m = Manifest(["a", "b", "c"], imgs, "array", ["x", "y", "x"])
    fp = m.fingerprint()
    imgs2 = imgs.copy()
    imgs2[1, 0, 0, 0] = 1
    assert Manifest(["a", "b", "c"], imgs2, "array", ["x", "y", "x"]).fingerprint() != fp


def test_embed_and_encoders_cli(tmp_path, capsys):
    lines = [{"id": f"s{i}", "text": t, "label": lab} for i, (t, lab) in
             enumerate([("a cat", "cat"), ("a kitten", "cat"), ("tax law", "law")])]
    (tmp_path / "m.jsonl").write_text("\n".join(json.dumps(x) for x in lines))
    out = tmp_path / "w.parquet"
    args = ["embed", "--encoder", "wordllama", "--input", str(tmp_path / "m.jsonl"), "--out", str(out)]
    assert main(args) == 0
    t = EmbeddingTable.load(out)
    assert t.ids == ["s0", "s1", "s2"] and t.dim == 256 and t.labels == ["cat", "cat", "law"]
    assert main(args) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["encoders", "--modality", "text"]) == 0
    listing = capsys.readouterr().out
    assert "minilm" in listing and "efficientnet-lite0" not in listing
    assert main(["embed", "--encoder", "nope", "--input", str(tmp_path / "m.jsonl"), "--out",
                 str(out)]) == 2
    assert main(["embed", "--encoder", "wordllama", "--input", str(tmp_path / "none.csv"), "--out",
                 str(out)]) == 2


def test_embed_cli_reads_a_dataset_layout(tmp_path, monkeypatch):
    """--dataset cifar100 embeds the image array with labels (toy encoder registered for the test)."""
    from test_datasets import write_cifar

    from pairspace.encoders import base

    images, fine = write_cifar(tmp_path / "c", n=4)

    class Mean:
        name, dim = "mean-pixel", 3
        provenance = Provenance("mean-pixel", "toy")

        def encode(self, items, batch_size=32, progress=None):
            return np.array([np.asarray(x, np.float32).mean((0, 1)) for x in items])

    from pairspace._registry import Entry

    base.ENCODERS.names()  # load the built-in encoders first
    monkeypatch.setitem(base.ENCODERS._entries, "mean-pixel",
                        Entry("mean-pixel", lambda: Mean(), {"modality": "image", "description": "test"}))
    out = tmp_path / "c.parquet"
    assert main(["embed", "--encoder", "mean-pixel", "--dataset", "cifar100", "--input",
                 str(tmp_path / "c"), "--out", str(out)]) == 0
    t = EmbeddingTable.load(out)
    np.testing.assert_allclose(t.vectors, images.astype(np.float32).mean((1, 2)), rtol=1e-6)
    assert t.labels == ["apple", "aquarium fish", "worm", "lawn mower"]
    assert "path" not in t.columns


def test_embed_skips_unreadable_audio_and_lists_it(tmp_path, capsys):
    """A bad file does not stop the job: it is left out, listed, and kept in the metadata."""
    sf = pytest.importorskip("soundfile")
    root = tmp_path / "clips"
    root.mkdir()
    t = np.arange(8000) / 16000
    for i in range(4):
        sf.write(root / f"tone{i}.wav", 0.3 * np.sin(2 * np.pi * (220 + 110 * i) * t), 16000)
    (root / "broken.wav").write_bytes(b"RIFF not really a wave file")
    out = tmp_path / "audio.parquet"
    assert main(["embed", "--encoder", "logmel", "--input", str(root), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "broken.wav" in err and "1 item(s) could not be read" in err
    table = EmbeddingTable.load(out)
    assert len(table) == 4 and not any("broken" in i for i in table.ids)
    assert np.isfinite(table.vectors).all()
    assert [f[0] for f in table.metadata["failures"]] == [i for i in read_manifest(root).ids
                                                          if "broken" in i]
    # The cached table is reused and still reports the failure.
    assert main(["embed", "--encoder", "logmel", "--input", str(root), "--out", str(out)]) == 0
    assert "broken.wav" in capsys.readouterr().err
