"""The encoder protocol and registry shared by text, image and audio encoders.

An encoder turns items (strings, image paths, audio paths or waveforms) into a float32 matrix
(n x dim). Every encoder carries its provenance so an :class:`~pairspace.data.table.EmbeddingTable`
can record where its vectors came from and a cached table can be reused only when it is unchanged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .._deps import require  # noqa: F401 - re-exported for the encoder modules
from .._progress import progress_bar


@dataclass(frozen=True)
class Provenance:
    """Where embeddings came from: enough to decide whether a cached table is still valid.

    Attributes
    ----------
    encoder : str
        Registry name of the encoder (``"minilm"``, ``"whisper"``, ...).
    model_id : str
        Model identifier (a hub id or a local path).
    library : str
        Library and version that ran the model (``"sentence-transformers 3.0.1"``).
    weights_sha256 : str
        Checksum of the weights (``""`` for weight-free encoders).
    preprocessing : dict
        Every option that changes the vectors (sample rate, crop policy, pooling, normalization).
    """

    encoder: str
    model_id: str
    library: str = ""
    weights_sha256: str = ""
    preprocessing: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return asdict(self)

    def fingerprint(self) -> str:
        """A stable hash of the provenance (compared when reusing a cached table)."""
        import json

        blob = json.dumps(self.to_dict(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


@runtime_checkable
class Encoder(Protocol):
    """What every encoder provides."""

    name: str
    dim: int
    provenance: Provenance

    def encode(self, items: Sequence[Any], batch_size: int = 32,
               progress: bool | None = None) -> np.ndarray:
        """Embed ``items`` into a float32 array of shape (len(items), dim)."""
        ...


_REGISTRY: dict[str, tuple[Callable[..., Encoder], str, str]] = {}


def register(name: str, modality: str, description: str = "") -> Callable[[Callable[..., Encoder]],
                                                                          Callable[..., Encoder]]:
    """Register an encoder factory under ``name`` (a decorator)."""

    def deco(factory: Callable[..., Encoder]) -> Callable[..., Encoder]:
        if name in _REGISTRY:
            raise ValueError(f"encoder {name!r} is already registered")
        _REGISTRY[name] = (factory, modality, description or (factory.__doc__ or "").strip()
                           .split("\n")[0])
        return factory

    return deco


def get(name: str, **options: Any) -> Encoder:
    """Build the encoder registered as ``name`` with its options."""
    _load_builtin()
    if name not in _REGISTRY:
        raise ValueError(f"unknown encoder {name!r}; available: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name][0](**options)


def available() -> list[dict[str, str]]:
    """The registered encoders: name, modality and a one-line description."""
    _load_builtin()
    return [{"name": k, "modality": m, "description": d}
            for k, (_, m, d) in sorted(_REGISTRY.items())]


_BUILTIN_MODULES: list[str] = [  # modules that register encoders when imported
    "pairspace.encoders.text",
    "pairspace.encoders.image",
    "pairspace.encoders.audio",
]


def _load_builtin() -> None:
    import importlib

    for mod in _BUILTIN_MODULES:
        importlib.import_module(mod)


def file_sha256(paths: Iterable[str], chunk: int = 1 << 20) -> str:
    """SHA-256 over the bytes of several files (weights checksums for provenance)."""
    h = hashlib.sha256()
    for p in sorted(str(x) for x in paths):
        with open(p, "rb") as f:
            while block := f.read(chunk):
                h.update(block)
    return h.hexdigest()


def module_sha256(module: Any) -> str:
    """SHA-256 over a torch module's state dict (names, dtypes, shapes and bytes, in name order).

    Used as the weights checksum of models held in memory (hub downloads, random test models).
    """
    import torch

    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        t = t.detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def library_version(*modules: str) -> str:
    """``"name version"`` strings of the libraries that run a model (provenance)."""
    from importlib import metadata

    out = []
    for m in modules:
        try:
            out.append(f"{m} {metadata.version(m)}")
        except metadata.PackageNotFoundError:
            out.append(m)
    return ", ".join(out)


def resolve_device(device: str | None) -> str:
    """``device`` or, when None, ``"cuda"`` if available and ``"cpu"`` otherwise."""
    if device is not None:
        return str(device)
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def encode_in_batches(fn: Callable[[list[Any]], Any], items: Sequence[Any], batch_size: int,
                      progress: bool | None, desc: str) -> np.ndarray:
    """Apply ``fn`` to consecutive batches and stack the float32 results (with a progress bar).

    ``fn`` maps a list of items to an array-like (a torch tensor is fine) of shape (len(batch), d).
    """
    if isinstance(items, str):
        raise ValueError("items must be a sequence of items, not a single string")
    items = list(items)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}")
    if not items:
        raise ValueError("no items to encode")
    chunks = []
    bar = progress_bar(total=len(items), desc=desc, progress=progress, unit="item")
    try:
        for s in range(0, len(items), batch_size):
            batch = items[s : s + batch_size]
            out = fn(batch)
            if hasattr(out, "detach"):
                out = out.detach().float().cpu().numpy()
            arr = np.asarray(out, dtype=np.float32)
            if arr.ndim != 2 or arr.shape[0] != len(batch):
                raise ValueError(f"encoder returned shape {arr.shape} for a batch of {len(batch)}")
            chunks.append(arr)
            bar.update(len(batch))
    finally:
        bar.close()
    out = np.concatenate(chunks, axis=0)
    if not np.isfinite(out).all():
        raise ValueError("the encoder produced NaN or inf values")
    return out
