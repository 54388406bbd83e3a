r"""Log-mel statistics: the weight-free audio baseline (``logmel``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Provenance, library_version, register
from ._base import AudioEncoder


def mel_filterbank(
    sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None
) -> np.ndarray:
    r"""Triangular mel filters on the HTK mel scale :math:`m = 2595 \log_{10}(1 + f/700)`.

    Returns an array of shape (n_mels, n_fft // 2 + 1), equally spaced in mel between fmin and fmax.
    """
    fmax = sample_rate / 2 if fmax is None else fmax
    if not 0 <= fmin < fmax <= sample_rate / 2:
        raise ValueError(f"need 0 <= fmin < fmax <= sample_rate/2; got fmin={fmin}, fmax={fmax}")

    def mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    edges_mel = np.linspace(mel(np.array(fmin)), mel(np.array(fmax)), n_mels + 2)
    edges = 700.0 * (10.0 ** (edges_mel / 2595.0) - 1.0)
    freqs = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    lo, ce, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (freqs[None] - lo) / np.maximum(ce - lo, 1e-9)
    down = (hi - freqs[None]) / np.maximum(hi - ce, 1e-9)
    return np.maximum(0.0, np.minimum(up, down))


def log_mel(
    wave: np.ndarray, sample_rate: int, n_mels: int = 64, n_fft: int = 512, hop: int = 160
) -> np.ndarray:
    r"""Log-mel spectrogram :math:`\log(M|STFT|^2 + 10^{-6})` with a Hann window, shape (n_mels, frames)."""
    wave = np.asarray(wave, dtype=np.float64)
    if wave.shape[0] < n_fft:
        wave = np.pad(wave, (0, n_fft - wave.shape[0]))
    n_frames = 1 + (wave.shape[0] - n_fft) // hop
    idx = np.arange(n_fft)[None] + hop * np.arange(n_frames)[:, None]
    spec = np.abs(np.fft.rfft(wave[idx] * np.hanning(n_fft)[None], axis=1)) ** 2
    return np.log(mel_filterbank(sample_rate, n_fft, n_mels) @ spec.T + 1e-6)


class LogMelEncoder(AudioEncoder):
    """Weight-free baseline: mean and std over time of log-mel bands and of their time differences."""

    def __init__(
        self,
        sample_rate: int = 16000,
        duration: float = 2.0,
        n_mels: int = 64,
        n_fft: int = 512,
        hop: int = 160,
        crop: str = "center",
        pad: str = "tile",
        seed: int | None = None,
    ) -> None:
        super().__init__(sample_rate, duration, crop, pad, seed)
        if n_mels < 1 or n_fft < 8 or hop < 1:
            raise ValueError("n_mels >= 1, n_fft >= 8 and hop >= 1 are required")
        self.n_mels, self.n_fft, self.hop = n_mels, n_fft, hop
        self.name, self.dim = "logmel", 4 * n_mels
        self.provenance = Provenance(
            "logmel",
            "log-mel statistics",
            library_version("numpy"),
            "",
            {
                **self._clip_options(),
                "n_mels": n_mels,
                "n_fft": n_fft,
                "hop": hop,
                "window": "hann",
                "stats": "mean,std of logmel and of its delta",
            },
        )

    def _embed(self, batch: np.ndarray) -> np.ndarray:
        out = []
        for w in batch:
            S = log_mel(w, self.sample_rate, self.n_mels, self.n_fft, self.hop)
            D = np.diff(S, axis=1) if S.shape[1] > 1 else np.zeros_like(S)
            out.append(np.concatenate([S.mean(1), S.std(1), D.mean(1), D.std(1)]))
        return np.asarray(out, dtype=np.float32)


@register("logmel", "audio", "Log-mel statistics (weight-free audio baseline)")
def logmel(**options: Any) -> LogMelEncoder:
    """Log-mel statistics (weight-free audio baseline)."""
    return LogMelEncoder(**options)
