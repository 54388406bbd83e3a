"""Adapters of published audio towers: transformers ClapModel, LAION-CLAP, Microsoft CLAP, PANNs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..._deps import require
from ..base import (
    Provenance,
    check_embedding,
    embedding_preprocessing,
    file_sha256,
    library_version,
    module_sha256,
    projection_input,
    register,
)
from ._base import CallableAudioEncoder


def before_projection(projection: Any, run: Any, name: str) -> Any:
    """What enters ``projection`` while ``run()`` embeds a batch (the backbone embedding).

    Raises a ValueError when the library never called that module (then the backbone embedding
    cannot be read this way).
    """
    import torch

    with projection_input(projection) as seen:
        run()
    if not seen:
        raise ValueError(f"{name}: the projection module was not called, so the embedding before "
                         "it cannot be read")
    return torch.cat([t.reshape(t.shape[0], -1) for t in seen]).float().cpu()


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
    embedding: str = "projected",
    **clip: Any,
) -> CallableAudioEncoder:
    """Audio tower of a transformers ClapModel (LAION CLAP on the hub).

    ``model``/``feature_extractor`` may be given (a model built in memory); otherwise they are loaded
    with ``ClapModel.from_pretrained(model_id)`` and ``ClapFeatureExtractor.from_pretrained(model_id)``.
    Clips are cut to ``duration`` seconds at the extractor's rate (48 kHz) by pairspace, so the
    extractor's own random truncation never triggers. ``embedding="backbone"`` returns the audio
    model's pooled output before ``audio_projection`` (``audio_model(...).pooler_output``) instead
    of the joint-space embedding.
    """
    check_embedding(embedding)
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
            if embedding == "backbone":
                return model.audio_model(**inputs).pooler_output
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
            },
            **embedding_preprocessing(embedding),
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
    embedding: str = "projected",
    **clip: Any,
) -> CallableAudioEncoder:
    """Audio tower of LAION-CLAP (laion_clap package): 48 kHz, 10-s clips, int16-quantized input.

    ``checkpoint=None`` loads the package's default checkpoint (downloaded by ``load_ckpt``);
    ``model`` may be an already built ``CLAP_Module``. ``embedding="backbone"`` returns the audio
    branch's embedding as it enters ``model.model.audio_projection`` (read with a forward hook).
    """
    check_embedding(embedding)
    if model is None:
        lc = require("laion_clap", "clap")
        model = lc.CLAP_Module(enable_fusion=enable_fusion, amodel=amodel)
        model.load_ckpt(checkpoint) if checkpoint else model.load_ckpt()

    def embed(batch: np.ndarray) -> Any:
        def run() -> Any:
            return model.get_audio_embedding_from_data(x=int16_roundtrip(batch), use_tensor=False)

        if embedding == "backbone":
            return before_projection(model.model.audio_projection, run, "laion-clap-audio")
        return run()

    sha = file_sha256([checkpoint]) if checkpoint and Path(checkpoint).exists() else ""
    prov = Provenance(
        "laion-clap-audio",
        checkpoint or f"laion_clap default ({amodel})",
        library_version("laion_clap"),
        sha,
        {"quantization": "int16 round trip", "enable_fusion": enable_fusion,
         **embedding_preprocessing(embedding)},
    )
    return CallableAudioEncoder("laion-clap-audio", embed, 48000, duration, prov, **clip)


@register("msclap-audio", "audio", "Audio tower of Microsoft CLAP (msclap package)")
def msclap_audio(
    version: str = "2023", model: Any = None, use_cuda: bool = False, embedding: str = "projected",
    **clip: Any
) -> CallableAudioEncoder:
    """Audio tower of Microsoft CLAP (msclap): the sample rate and clip length come from the model.

    Microsoft CLAP repeat-pads short clips and crops long ones to ``args.duration`` seconds at
    ``args.sampling_rate`` (44.1 kHz; 5 s for 2022, 7 s for 2023); pairspace applies the same policy
    (centre crop by default, ``crop="random", seed=...`` for the original random crop).
    ``embedding="backbone"`` returns the audio encoder's embedding as it enters
    ``model.clap.audio_encoder.projection`` (read with a forward hook).
    """
    check_embedding(embedding)
    torch = require("torch", "torch")
    if model is None:
        ms = require("msclap", "clap")
        model = ms.CLAP(version=version, use_cuda=use_cuda)
    sr = int(model.args.sampling_rate)
    duration = float(clip.pop("duration", model.args.duration))

    def embed(batch: np.ndarray) -> Any:
        def run() -> Any:
            with torch.no_grad():
                return model._get_audio_embeddings(torch.from_numpy(batch[:, None, :]))

        if embedding == "backbone":
            return before_projection(model.clap.audio_encoder.projection, run, "msclap-audio")
        return run()

    prov = Provenance(
        "msclap-audio", f"msclap {version}", library_version("msclap"), "",
        {"version": version, **embedding_preprocessing(embedding)},
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
