"""Audio input: decode, downmix, resample, and crop or tile to a fixed length.

Decoding uses ``soundfile`` (WAV, FLAC, OGG, MP3 through libsndfile) and falls back to PyAV
(``av``, FFmpeg) for everything else (M4A/AAC, OPUS in containers, video files). Channels are
averaged to mono and the signal is resampled with ``soxr`` (high quality).

Fixed-length policy (:func:`fix_length`)
----------------------------------------
A clip of ``n`` samples is brought to ``L`` samples as follows.

* ``n > L`` (too long): ``crop="center"`` keeps samples ``[s, s + L)`` with
  ``s = (n - L) // 2`` (the default, deterministic); ``crop="start"`` keeps the first ``L``
  samples; ``crop="random"`` draws ``s`` uniformly from ``[0, n - L]`` with
  ``numpy.random.default_rng(seed)``, and a seed is required so that crops are reproducible. In a
  batch, item ``i`` uses the seed ``(seed, i)`` so the crop does not depend on the batch size.
* ``n < L`` (too short): ``pad="tile"`` repeats the clip end to end and cuts at ``L`` (the
  "repeat-pad" of LAION-CLAP, default); ``pad="zeros"`` appends silence.

Bad files raise :class:`AudioReadError` (a ``ValueError``) naming the file; :func:`load_many`
collects those errors, reports them and goes on.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._progress import progress_bar

CROPS = ("center", "start", "random")
PADS = ("tile", "zeros")


class AudioReadError(ValueError):
    """An audio file is missing, empty or cannot be decoded (the message names the file)."""


def resample(wave: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample a mono float signal with soxr (returns the input when the rates agree)."""
    if sr_in <= 0 or sr_out <= 0:
        raise ValueError(f"sample rates must be positive; got {sr_in} and {sr_out}")
    wave = np.asarray(wave, dtype=np.float32)
    if sr_in == sr_out or wave.size == 0:
        return wave
    import soxr

    return np.asarray(soxr.resample(wave, sr_in, sr_out, quality="HQ"), dtype=np.float32)


def _decode_soundfile(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return data.mean(axis=1), int(sr)


def _decode_av(path: Path) -> tuple[np.ndarray, int]:
    import av

    chunks: list[np.ndarray] = []
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise AudioReadError(f"{path} has no audio stream")
        stream = container.streams.audio[0]
        sr = int(stream.rate or stream.codec_context.sample_rate)
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=sr)
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    wave = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    return wave, sr


def load_audio(path: str | os.PathLike[str], sample_rate: int | None = 16000) -> np.ndarray:
    """Decode an audio file to a mono float32 signal at ``sample_rate`` (None keeps the file's rate).

    Raises
    ------
    AudioReadError
        When the file is missing, empty (no samples), or neither soundfile nor PyAV can decode it.
    """
    wave, _ = load_audio_with_rate(path, sample_rate)
    return wave


def load_audio_with_rate(
    path: str | os.PathLike[str], sample_rate: int | None = 16000
) -> tuple[np.ndarray, int]:
    """Like :func:`load_audio` and also return the rate of the result."""
    path = Path(path)
    if not path.exists():
        raise AudioReadError(f"audio file not found: {path}")
    if path.stat().st_size == 0:
        raise AudioReadError(f"audio file is empty (0 bytes): {path}")
    errors = []
    wave = None
    sr = 0
    try:
        wave, sr = _decode_soundfile(path)
    except Exception as exc:  # libsndfile raises its own error types
        errors.append(f"soundfile: {exc}")
        try:
            wave, sr = _decode_av(path)
        except AudioReadError:
            raise
        except Exception as exc2:  # PyAV raises many FFmpeg error types
            errors.append(f"av: {exc2}")
    if wave is None:
        raise AudioReadError(f"cannot decode audio file {path} ({'; '.join(errors)})")
    if wave.size == 0:
        raise AudioReadError(f"audio file has no samples: {path}")
    if not np.isfinite(wave).all():
        raise AudioReadError(f"audio file decodes to NaN or inf samples: {path}")
    if sample_rate is not None:
        wave, sr = resample(wave, sr, int(sample_rate)), int(sample_rate)
    return wave, sr


def fix_length(
    wave: np.ndarray, n_samples: int, crop: str = "center", pad: str = "tile", seed: Any = None
) -> np.ndarray:
    """Crop or extend a mono signal to exactly ``n_samples`` (see the module docstring for the policy).

    Parameters
    ----------
    wave : numpy.ndarray, shape (n,)
        Mono signal (non-empty).
    n_samples : int
        Target length.
    crop : {"center", "start", "random"}
        Where to cut a long clip; ``"random"`` needs ``seed``.
    pad : {"tile", "zeros"}
        How to extend a short clip.
    seed : int or sequence of int, optional
        Seed of ``numpy.random.default_rng`` for random crops.
    """
    if crop not in CROPS:
        raise ValueError(f"unknown crop {crop!r}; choose one of {', '.join(CROPS)}")
    if pad not in PADS:
        raise ValueError(f"unknown pad {pad!r}; choose one of {', '.join(PADS)}")
    if n_samples < 1:
        raise ValueError(f"n_samples must be positive; got {n_samples}")
    wave = np.asarray(wave, dtype=np.float32).reshape(-1)
    n = wave.shape[0]
    if n == 0:
        raise ValueError("cannot fix the length of an empty signal")
    if n > n_samples:
        if crop == "center":
            s = (n - n_samples) // 2
        elif crop == "start":
            s = 0
        else:
            if seed is None:
                raise ValueError("crop='random' needs a seed (random crops must be reproducible)")
            s = int(np.random.default_rng(seed).integers(0, n - n_samples + 1))
        return wave[s : s + n_samples].copy()
    if n < n_samples:
        if pad == "tile":
            return np.tile(wave, -(-n_samples // n))[:n_samples].copy()
        return np.concatenate([wave, np.zeros(n_samples - n, np.float32)])
    return wave.copy()


@dataclass
class LoadReport:
    """Result of :func:`load_many`: the decoded clips and the files that failed."""

    waves: list[np.ndarray]
    ok: list[int]
    failures: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line per failure (``path: reason``)."""
        return "\n".join(f"{p}: {why}" for p, why in self.failures)


def load_many(
    paths: Sequence[str | os.PathLike[str]],
    sample_rate: int = 16000,
    duration: float | None = None,
    crop: str = "center",
    pad: str = "tile",
    seed: int | None = None,
    on_error: str = "report",
    progress: bool | None = None,
) -> LoadReport:
    """Decode many files; bad files are reported (``on_error="report"``) or raise (``"raise"``).

    With ``duration`` (seconds) every clip is brought to ``round(duration * sample_rate)`` samples by
    :func:`fix_length`; item ``i`` of a random-crop batch uses the seed ``(seed, i)``.
    """
    if on_error not in ("report", "raise"):
        raise ValueError(f"on_error must be 'report' or 'raise'; got {on_error!r}")
    rep = LoadReport([], [])
    n_target = None if duration is None else int(round(duration * sample_rate))
    if n_target is not None and n_target < 1:
        raise ValueError(f"duration must be positive; got {duration}")
    for i, p in enumerate(progress_bar(paths, desc="decode audio", progress=progress, unit="file")):
        try:
            w = load_audio(p, sample_rate)
        except AudioReadError as exc:
            if on_error == "raise":
                raise
            rep.failures.append((str(p), str(exc)))
            continue
        if n_target is not None:
            w = fix_length(w, n_target, crop, pad, None if seed is None else (seed, i))
        rep.waves.append(w)
        rep.ok.append(i)
    return rep
