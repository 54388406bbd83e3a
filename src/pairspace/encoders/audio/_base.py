"""Shared machinery of the audio encoders: decoding, fixed-length clips, batching, failure reports."""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ...data.audio import AudioReadError, fix_length, load_audio
from ..base import EncodeReport, Provenance, encode_report_in_batches


class AudioEncoder:
    """Shared machinery: decoding, fixed-length clips, batching, progress and failure reports.

    Subclasses set ``name``, ``dim``, ``provenance`` and implement ``_embed(batch)`` mapping a
    (b x n_samples) float32 array to (b x dim).
    """

    name: str = "audio"
    dim: int = 0
    provenance: Provenance

    def __init__(
        self,
        sample_rate: int,
        duration: float,
        crop: str = "center",
        pad: str = "tile",
        seed: int | None = None,
    ) -> None:
        if duration is None or duration <= 0:
            raise ValueError(f"duration must be a positive number of seconds; got {duration}")
        self.sample_rate = int(sample_rate)
        self.duration = float(duration)
        self.n_samples = int(round(self.duration * self.sample_rate))
        fix_length(np.ones(1, np.float32), 1, crop, pad, seed if seed is not None else 0)  # validates
        if crop == "random" and seed is None:
            raise ValueError("crop='random' needs a seed (random crops must be reproducible)")
        self.crop, self.pad, self.seed = crop, pad, seed

    def _clip_options(self) -> dict[str, Any]:
        return {
            "sample_rate": self.sample_rate,
            "duration": self.duration,
            "crop": self.crop,
            "pad": self.pad,
            "seed": self.seed,
            "mono": "mean of channels",
            "resampler": "soxr HQ",
        }

    def _clip(self, item: Any, index: int) -> np.ndarray:
        if isinstance(item, str | os.PathLike):
            wave = load_audio(item, self.sample_rate)
        else:
            wave = np.asarray(item, dtype=np.float32)
            if wave.ndim != 1 or wave.size == 0 or not np.isfinite(wave).all():
                raise AudioReadError(
                    f"item {index} is not a non-empty, finite mono waveform (shape {wave.shape})"
                )
        # random crops: a file's crop depends on the seed and its path only (not on batching or
        # chunking); a waveform's on its position in ``items``
        key = zlib.crc32(str(item).encode()) if isinstance(item, str | os.PathLike) else index
        seed = None if self.seed is None else (self.seed, key)
        return fix_length(wave, self.n_samples, self.crop, self.pad, seed)

    def _embed(self, batch: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def encode_report(
        self, items: Sequence[Any], batch_size: int = 32, progress: bool | None = None
    ) -> EncodeReport:
        """Embed every readable item; unreadable files are listed in ``failures`` and skipped."""
        return encode_report_in_batches(
            self._clip, lambda waves: self._embed(np.stack(waves)), items, batch_size, progress,
            f"embed audio ({self.name})", self.dim, self.name, (AudioReadError,), unit="clip")

    def encode(self, items: Sequence[Any], batch_size: int = 32, progress: bool | None = None) -> np.ndarray:
        """Embed ``items`` into a float32 array (n x dim); the first bad file raises AudioReadError."""
        rep = self.encode_report(items, batch_size, progress)
        if rep.failures:
            path, why = rep.failures[0]
            more = f" (and {len(rep.failures) - 1} more)" if len(rep.failures) > 1 else ""
            raise AudioReadError(f"{why}{more}")
        if not rep.ok:
            raise ValueError("no items to encode")
        return rep.vectors


# ------------------------------------------------------------------ adapters of CLAP and PANNs towers
class CallableAudioEncoder(AudioEncoder):
    """An audio tower behind a function ``embed(batch (b x n_samples) float32) -> (b x dim)``."""

    def __init__(
        self,
        name: str,
        embed: Callable[[np.ndarray], Any],
        sample_rate: int,
        duration: float,
        provenance: Provenance,
        dim: int | None = None,
        crop: str = "center",
        pad: str = "tile",
        seed: int | None = None,
    ) -> None:
        super().__init__(sample_rate, duration, crop, pad, seed)
        self.name, self._fn = name, embed
        self.dim = (
            int(dim)
            if dim is not None
            else int(self._embed(np.zeros((1, self.n_samples), np.float32)).shape[1])
        )
        self.provenance = Provenance(
            provenance.encoder,
            provenance.model_id,
            provenance.library,
            provenance.weights_sha256,
            {**self._clip_options(), **provenance.preprocessing},
        )

    def _embed(self, batch: np.ndarray) -> np.ndarray:
        out = self._fn(batch)
        if hasattr(out, "detach"):
            out = out.detach().float().cpu().numpy()
        return np.asarray(out, dtype=np.float32)
