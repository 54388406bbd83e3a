"""Text adapters of non-transformers libraries: LAION-CLAP, Microsoft CLAP and WordLlama.

Each wraps the library's own text call in a :class:`CallableTextEncoder`; the CLAP towers can
return the backbone embedding before the projection (``embedding="backbone"``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._deps import require
from . import base
from .text import _check_texts


class CallableTextEncoder:
    """A text encoder around a plain function ``texts -> array`` (non-torch libraries)."""

    def __init__(self, name: str, fn: Callable[[list[str]], Any], dim: int,
                 provenance: base.Provenance) -> None:
        self.name = name
        self._fn = fn
        self.dim = int(dim)
        self.provenance = provenance

    def encode(self, items: Sequence[Any], batch_size: int = 64,
               progress: bool | None = None) -> np.ndarray:
        """Embed ``items`` into a float32 array (len(items) x dim)."""
        return base.encode_in_batches(self._fn, _check_texts(items), batch_size, progress,
                                 f"encode {self.name}")


def _before(projection: Any, fn: Callable[[list[str]], Any], name: str) -> Callable[[list[str]], Any]:
    """``fn`` changed to return what enters ``projection`` (the backbone text embedding)."""
    import torch

    def embed(batch: list[str]) -> Any:
        with base.projection_input(projection) as seen:
            fn(batch)
        if not seen:
            raise ValueError(f"{name}: the projection module was not called, so the embedding "
                             "before it cannot be read")
        return torch.cat([t.reshape(t.shape[0], -1) for t in seen]).float().cpu().numpy()[: len(batch)]

    return embed


@base.register("laion-clap-text", "text")
def laion_clap_text(checkpoint: str | None = None, amodel: str = "HTSAT-tiny",
                    enable_fusion: bool = False, device: str | None = None, model: Any = None,
                    embedding: str = "projected") -> CallableTextEncoder:
    """Text tower of LAION-CLAP (``laion_clap``; default checkpoint downloaded by the library).

    ``model`` may be an already built ``CLAP_Module``. ``embedding="backbone"`` returns the text
    branch's pooled output as it enters ``model.model.text_projection`` (read with a forward hook).
    """
    base.check_embedding(embedding)
    if model is None:
        lc = require("laion_clap", "clap")
        model = lc.CLAP_Module(enable_fusion=enable_fusion, amodel=amodel, device=base.resolve_device(device))
        model.load_ckpt(checkpoint) if checkpoint else model.load_ckpt()
    prov = base.Provenance("laion-clap-text", checkpoint or f"laion_clap default ({amodel})",
                           base.library_version("laion_clap", "torch"), base.module_sha256(model),
                           {"tower": "text", "enable_fusion": enable_fusion,
                            **base.embedding_preprocessing(embedding)})

    def embed(batch: list[str]) -> np.ndarray:
        # laion_clap squeezes a batch of one text: embed it twice and keep one row
        out = model.get_text_embedding(batch if len(batch) > 1 else batch * 2, use_tensor=False)
        return np.asarray(out)[: len(batch)]

    if embedding == "backbone":
        embed = _before(model.model.text_projection, embed, "laion-clap-text")
    dim = int(np.asarray(embed(["a sound"])).shape[-1])
    return CallableTextEncoder("laion-clap-text", embed, dim, prov)


@base.register("msclap-text", "text")
def msclap_text(version: str = "2023", device: str | None = None, model: Any = None,
                embedding: str = "projected") -> CallableTextEncoder:
    """Text tower of Microsoft CLAP (``msclap``; weights downloaded by the library).

    ``model`` may be an already built ``msclap.CLAP``. ``embedding="backbone"`` returns the
    caption encoder's pooled output as it enters ``model.clap.caption_encoder.projection``.
    """
    base.check_embedding(embedding)
    if model is None:
        ms = require("msclap", "clap")
        model = ms.CLAP(version=version, use_cuda=base.resolve_device(device).startswith("cuda"))

    def embed(batch: list[str]) -> Any:
        return model.get_text_embeddings(batch).detach().cpu()

    if embedding == "backbone":
        embed = _before(model.clap.caption_encoder.projection, embed, "msclap-text")
    probe = np.asarray(embed(["a sound"]))
    prov = base.Provenance("msclap-text", f"msclap {version}", base.library_version("msclap", "torch"),
                           base.module_sha256(model.clap),
                           {"tower": "text", **base.embedding_preprocessing(embedding)})
    return CallableTextEncoder("msclap-text", embed, probe.shape[1], prov)


@base.register("wordllama", "text")
def wordllama(config: str = "l2_supercat", dim: int = 256, normalize: bool = False) -> CallableTextEncoder:
    """WordLlama token-embedding text encoder (weights ship inside the package; no download)."""
    wl = require("wordllama", "text")
    root = Path(wl.__file__).parent
    weights = root / "weights" / f"{config}_{dim}.safetensors"
    try:
        model = wl.WordLlama.load(config=config, dim=dim, disable_download=True)
    except FileNotFoundError:
        # wordllama looks for its tokenizer under "tokenizer/" but ships it under "tokenizers/":
        # assemble the model from the packaged files directly.
        tok_file = root / "tokenizers" / f"{config}_tokenizer_config.json"
        if not (weights.exists() and tok_file.exists()):
            raise
        from safetensors import safe_open
        from wordllama.inference import WordLlamaInference

        with safe_open(str(weights), framework="np", device="cpu") as f:
            embedding = f.get_tensor("embedding.weight")
        model = WordLlamaInference(embedding, wl.WordLlama.load_tokenizer(tok_file))
    sha = base.file_sha256([weights]) if weights.exists() else ""
    prov = base.Provenance("wordllama", f"{config}_{dim}", base.library_version("wordllama"), sha,
                           {"normalize": bool(normalize)})
    return CallableTextEncoder("wordllama", lambda b: model.embed(b, norm=normalize), dim, prov)
