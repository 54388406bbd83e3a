"""Issue-14 defects of the embed job: unreadable images, all-failed jobs, one writer per output,
the output checked before any work, per-batch progress, unsafe weights refused."""

import os
import subprocess
import sys

import numpy as np
import pytest

from pairspace.cli import main
from pairspace.data import embed as embed_mod
from pairspace.data.embed import check_output_file, embed_manifest, lock_path, partial_dir
from pairspace.data.manifests import Manifest, read_manifest
from pairspace.data.table import EmbeddingTable
from pairspace.encoders.base import Provenance

torch = pytest.importorskip("torch")
Image = pytest.importorskip("PIL.Image")


class TextLen:
    """Toy text encoder that records its calls."""

    name, dim = "textlen", 2

    def __init__(self, hook=None):
        self.calls, self.hook = [], hook
        self.provenance = Provenance("textlen", "toy")

    def encode(self, items, batch_size=32, progress=None):
        self.calls.append(list(items))
        if self.hook is not None:
            self.hook()
        return np.array([[len(t), t.count("a")] for t in items], dtype=np.float32)


def texts(n=10):
    return Manifest([f"t{i}" for i in range(n)], [f"text {'a' * i}" for i in range(n)], "text")


def tiny_clip_image():
    from transformers import CLIPConfig, CLIPModel

    from pairspace.encoders import get

    torch.manual_seed(0)
    cfg = CLIPConfig(text_config=dict(hidden_size=32, intermediate_size=37, num_hidden_layers=1,
                                      num_attention_heads=2),
                     vision_config=dict(image_size=32, patch_size=8, hidden_size=32,
                                        intermediate_size=37, num_hidden_layers=1,
                                        num_attention_heads=2),
                     projection_dim=16)
    return get("clip-image", model_id="tiny-random", model=CLIPModel(cfg))


def test_an_unreadable_image_is_skipped_and_listed(tmp_path):
    root = tmp_path / "imgs" / "cls"
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(root / f"ok{i}.png")
    (root / "broken.png").write_bytes(b"\x89PNG this is not an image")
    enc = tiny_clip_image()
    m = read_manifest(tmp_path / "imgs", modality="image")
    out = tmp_path / "imgs.parquet"
    res = embed_manifest(enc, m, out, batch_size=2)
    assert [f[0] for f in res.failures] == ["cls/broken.png"]
    assert "could not read image" in res.failures[0][1]
    t = EmbeddingTable.load(out)
    assert t.ids == ["cls/ok0.png", "cls/ok1.png", "cls/ok2.png"]
    assert t.metadata["failures"][0][0] == "cls/broken.png"
    np.testing.assert_allclose(t.vectors, enc.encode([str(root / f"ok{i}.png") for i in range(3)]),
                               rtol=1e-5, atol=1e-6)
    assert not partial_dir(out).exists() and not lock_path(out).exists()
    # a job in which every item failed: an error, no table, no partial folder
    (tmp_path / "bad" / "x").mkdir(parents=True)
    for i in range(2):
        (tmp_path / "bad" / "x" / f"b{i}.png").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="none of the 2 items could be embedded.*no table"):
        embed_manifest(enc, read_manifest(tmp_path / "bad", modality="image"), tmp_path / "b.parquet")
    assert not (tmp_path / "b.parquet").exists() and not partial_dir(tmp_path / "b.parquet").exists()


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    out = tmp_path / "t.parquet"
    seen = {}

    def second_job():  # runs inside the first job, which holds the lock
        seen["lock"] = lock_path(out).read_text().strip()
        pid = os.getpid()
        with pytest.raises(ValueError, match=rf"written by another pairspace job \(pid {pid}\)"):
            embed_manifest(TextLen(), texts(), out)

    res = embed_manifest(TextLen(hook=second_job), texts(), out, chunk_size=4)
    assert seen["lock"] == str(os.getpid()) and len(res.table) == 10
    assert not lock_path(out).exists()
    # a lock left by a process that is gone is stale and taken over
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock_path(out).write_text(f"{dead.pid}\n")
    assert len(embed_manifest(TextLen(), texts(), out, force=True).table) == 10
    assert not lock_path(out).exists()


def test_a_bad_output_is_refused_before_any_work(tmp_path, capsys):
    enc = TextLen()
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir.parquet").mkdir()
    for out, msg in [(tmp_path / "afile" / "t.parquet", "is a file, not a folder"),
                     (tmp_path / "afile" / "deeper" / "t.parquet", "is a file, not a folder"),
                     (tmp_path / "adir.parquet", "is a folder"),
                     (tmp_path / "t.csv", "unsupported table format")]:
        with pytest.raises(ValueError, match=msg):
            embed_manifest(enc, texts(), out)
    assert enc.calls == []
    (tmp_path / "m.jsonl").write_text('{"text": "a cat"}\n')
    rc = main(["embed", "--encoder", "minilm", "--input", str(tmp_path / "m.jsonl"),
               "--out", str(tmp_path / "afile" / "t.parquet")])
    assert rc == 2 and "is a file, not a folder" in capsys.readouterr().err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_output_folder_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(ValueError, match="not writable"):
            check_output_file(ro / "t.parquet")
    finally:
        ro.chmod(0o700)


def test_batch_size_zero_is_refused_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["embed", "--encoder", "minilm", "--input", "x.jsonl", "--out",
              str(tmp_path / "x.parquet"), "--batch-size", "0"])
    assert "must be a positive integer (>= 1)" in capsys.readouterr().err


def test_progress_moves_per_batch_not_per_chunk(tmp_path, monkeypatch):
    updates = []

    class Bar:
        def update(self, k):
            updates.append(k)

        def close(self):
            pass

    monkeypatch.setattr(embed_mod, "progress_bar", lambda **kw: Bar())
    embed_manifest(TextLen(), texts(10), tmp_path / "t.parquet", batch_size=3)  # one 1024 chunk
    assert [u for u in updates if u] == [3, 3, 3, 1]


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_a_malicious_pth_is_refused_as_unsafe(tmp_path):
    from pairspace.encoders.base import safe_torch_load

    path = tmp_path / "evil.pth"
    torch.save({"weight": _Evil()}, path)
    with pytest.raises(ValueError, match="refused to load .*evil.pth as unsafe"):
        safe_torch_load(path)
    torch.save({"w": torch.ones(2)}, tmp_path / "ok.pth")
    assert safe_torch_load(tmp_path / "ok.pth")["w"].tolist() == [1.0, 1.0]
    with pytest.raises(FileNotFoundError):
        safe_torch_load(tmp_path / "missing.pth")
    pytest.importorskip("efficientnet_lite_pytorch")
    from pairspace.encoders import get

    with pytest.raises(ValueError, match="unsafe"):
        get("efficientnet-lite0", weights=str(path))
