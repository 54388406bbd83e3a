"""``pairspace embed --json``: the ``pairspace.embed/1`` document (validated against its shipped
schema), the table's digest as written on disk, reuse and --force told apart, no file beside the
table, and ``-q`` silence. Toy encoders (registered for the test) keep it fast and offline."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from pairspace.cli import main
from pairspace.data.table import EmbeddingTable
from pairspace.encoders import Provenance
from pairspace.envelope import validate


class Counting:
    """A deterministic toy encoder: each item's vector comes from the SHA-256 of its text (or path);
    counts the items it encoded."""

    dim = 5

    def __init__(self, name: str, scale: float = 1.0) -> None:
        self.name, self.scale, self.calls = name, float(scale), 0
        self.provenance = Provenance(name, "toy/model", "none", "", {"scale": self.scale})

    def encode(self, items, batch_size=32, progress=None):
        self.calls += len(items)
        rows = [np.frombuffer(hashlib.sha256(str(x).encode()).digest()[:self.dim], np.uint8) for x in items]
        return self.scale * np.asarray(rows, np.float32)


@pytest.fixture()
def toys(monkeypatch):
    """Register a text and an audio toy encoder; return the list of built encoders."""
    from pairspace._registry import Entry
    from pairspace.encoders import base

    built: list[Counting] = []

    def factory(name):
        def make(scale=1.0):
            built.append(Counting(name, scale))
            return built[-1]
        return make

    base.ENCODERS.names()  # load the built-in encoders first
    for name, modality in (("toy-text", "text"), ("toy-audio", "audio")):
        monkeypatch.setitem(base.ENCODERS._entries, name,
                            Entry(name, factory(name), {"modality": modality, "description": "test"}))
    return built


def _json(argv: list[str], capsys) -> dict:
    capsys.readouterr()
    assert main([*argv, "--json"]) == 0
    out = capsys.readouterr().out
    doc = validate(json.loads(out))  # nothing but the document on standard output
    assert doc["schema"] == "pairspace.embed/1" and doc["command"].startswith("pairspace embed ")
    assert doc["command"].endswith("--json")
    return doc


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_embed_json_document_reuse_and_force(tmp_path: Path, toys, capsys) -> None:
    rows = [{"id": f"s{i}", "text": t, "label": lab}
            for i, (t, lab) in enumerate([("a cat", "cat"), ("a kitten", "cat"), ("tax law", "law")])]
    m = tmp_path / "m.jsonl"
    m.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "t.parquet"
    argv = ["embed", "--encoder", "toy-text", "--input", str(m), "--out", str(out), "--option", "scale=2",
            "--batch-size", "2"]
    doc = _json(argv, capsys)
    table = EmbeddingTable.load(out)
    r = doc["results"]
    assert (r["path"], r["n"], r["d"], r["reused"], r["encoded_items"]) == (str(out), 3, 5, False, 3)
    assert r["sha256"] == _sha(out) and r["size"] == out.stat().st_size and r["failures"] == []
    np.testing.assert_array_equal(table.vectors[0], 2.0 * np.frombuffer(  # the option reached it
        hashlib.sha256(b"a cat").digest()[:5], np.uint8).astype(np.float32))
    assert doc["inputs"]["source"] == {"path": str(m), "size": m.stat().st_size, "sha256": _sha(m)}
    assert doc["inputs"]["items"] == {"n": 3, "kind": "text",
                                      "fingerprint": table.metadata["inputs_sha256"]}
    s = doc["settings"]
    assert s["encoder"] == toys[-1].provenance.to_dict() and s["options"] == {"scale": 2}
    assert (s["encoder_name"], s["batch_size"], s["chunk_size"], s["force"]) == ("toy-text", 2, 1024, False)
    # the same job again: the table is reused (nothing encoded, the file untouched) and says so
    mtime = out.stat().st_mtime_ns
    again = _json(argv, capsys)
    assert again["results"]["reused"] and again["results"]["encoded_items"] == 0 and toys[-1].calls == 0
    assert again["results"]["sha256"] == r["sha256"] and out.stat().st_mtime_ns == mtime
    # --force re-embeds
    forced = _json([*argv, "--force"], capsys)
    assert not forced["results"]["reused"] and forced["results"]["encoded_items"] == 3
    assert forced["settings"]["force"] is True
    # the document goes to standard output only: no file beside the table
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.jsonl", "t.parquet"]


def test_embed_json_of_a_folder(tmp_path: Path, toys, capsys) -> None:
    root = tmp_path / "clips"
    for label in ("dog", "cat"):
        (root / label).mkdir(parents=True)
        for i in range(2):
            (root / label / f"{i}.wav").write_bytes(b"RIFF" + bytes(10 * (i + 1)))
    out = tmp_path / "a.npz"
    doc = _json(["embed", "--encoder", "toy-audio", "--input", str(root), "--out", str(out)], capsys)
    src = doc["inputs"]["source"]
    assert src == {"path": str(root), "size": 2 * (14 + 24), "sha256": None}  # a folder: total size
    assert doc["inputs"]["items"]["kind"] == "path" and doc["results"]["n"] == 4
    assert doc["results"]["sha256"] == _sha(out) and EmbeddingTable.load(out).labels == ["cat", "cat",
                                                                                        "dog", "dog"]


def test_embed_quiet_prints_nothing_and_without_json_prints_no_document(tmp_path: Path, toys,
                                                                        capsys) -> None:
    m = tmp_path / "m.jsonl"
    m.write_text(json.dumps({"text": "a dog", "label": "x"}) + "\n")
    argv = ["embed", "--encoder", "toy-text", "--input", str(m), "--out", str(tmp_path / "o.npz")]
    capsys.readouterr()
    assert main([*argv, "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == "" and (tmp_path / "o.npz").exists()
    assert main(argv) == 0
    said = capsys.readouterr().out
    assert "up to date" in said and not said.lstrip().startswith("{")
