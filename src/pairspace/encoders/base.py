"""The encoder protocol and registry shared by text, image and audio encoders.

An encoder turns items (strings, image paths, audio paths or waveforms) into a float32 matrix
(n x dim). Every encoder carries its provenance so an :class:`~pairspace.data.table.EmbeddingTable`
can record where its vectors came from and a cached table can be reused only when it is unchanged.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .._deps import require  # noqa: F401 - re-exported for the encoder modules
from .._progress import progress_bar
from .._registry import Registry

MODALITIES = ("text", "image", "audio")


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


ENCODERS = Registry("encoder", builtin_modules=[  # modules that register encoders when imported
    "pairspace.encoders.text",
    "pairspace.encoders.text_libs",
    "pairspace.encoders.static",
    "pairspace.encoders.image",
    "pairspace.encoders.audio",
    "pairspace.align.projected",  # the projected encoder loads align runs: registered from align
])
"""The encoder registry (:class:`pairspace._registry.Registry`); ``pairspace encoders`` lists it."""

_REGISTRY = ENCODERS  # the old name, kept for code that checks ``name in _REGISTRY``


def register(name: str, modality: str, description: str = "") -> Callable[[Callable[..., Encoder]],
                                                                          Callable[..., Encoder]]:
    """Register an encoder factory under ``name`` (a decorator); ``modality`` is text/image/audio."""
    if modality not in MODALITIES:
        raise ValueError(f"modality must be one of {', '.join(MODALITIES)}; got {modality!r}")

    def deco(factory: Callable[..., Encoder]) -> Callable[..., Encoder]:
        text = description or (factory.__doc__ or "").strip().split("\n")[0]
        return ENCODERS.register(name, factory, modality=modality, description=text)

    return deco


def get(name: str, **options: Any) -> Encoder:
    """Build the encoder registered as ``name`` with its options (``pairspace.encoders.get``)."""
    return ENCODERS.build(name, **options)


def modality_of(name: str, **options: Any) -> str:
    """The modality (``"text"``, ``"image"`` or ``"audio"``) of a registered encoder.

    An encoder registered with modality ``"backbone"`` (``projected``) takes the modality of its
    ``backbone`` option (a name or an encoder).
    """
    modality = str(ENCODERS.entry(name).meta["modality"])
    if modality != "backbone":
        return modality
    backbone = options.get("backbone")
    if isinstance(backbone, str):
        return modality_of(backbone)
    if isinstance(getattr(backbone, "modality", None), str):
        return str(backbone.modality)
    raise ValueError(f"the modality of encoder {name!r} is that of its backbone option; pass "
                     "backbone=NAME")


def available() -> list[dict[str, str]]:
    """The registered encoders: name, modality and a one-line description."""
    return [{"name": e.name, "modality": str(e.meta.get("modality", "")),
             "description": e.description} for e in ENCODERS.entries()]


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


@dataclass
class EncodeReport:
    """Embeddings of the items that could be read (rows of ``vectors``, positions ``ok``) and the
    ``failures`` (item, reason) of the ones that could not."""

    vectors: np.ndarray
    ok: list[int]
    failures: list[tuple[str, str]] = field(default_factory=list)


def _item_name(item: Any, index: int) -> str:
    return str(item) if isinstance(item, str | os.PathLike) else f"item {index}"


def encode_report_in_batches(
    prepare: Callable[[Any, int], Any], embed: Callable[[list[Any]], Any], items: Sequence[Any],
    batch_size: int, progress: bool | None, desc: str, dim: int, name: str,
    errors: tuple[type[BaseException], ...], unit: str = "item",
) -> EncodeReport:
    """Embed every item that ``prepare`` can read; the others are skipped and listed.

    ``prepare(item, index)`` decodes one item (raising one of ``errors`` when it cannot) and
    ``embed(prepared_batch)`` maps the list of decoded items of a batch to (b x dim). The progress
    bar moves once per batch.
    """
    if isinstance(items, str | os.PathLike):
        raise ValueError("items must be a sequence of items, not a single path or string")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}")
    items = list(items)
    rep = EncodeReport(np.zeros((0, dim), np.float32), [])
    chunks: list[np.ndarray] = []
    with progress_bar(total=len(items), desc=desc, progress=progress, unit=unit) as bar:
        for s in range(0, len(items), batch_size):
            ready, idx = [], []
            for i in range(s, min(s + batch_size, len(items))):
                try:
                    ready.append(prepare(items[i], i))
                    idx.append(i)
                except errors as exc:
                    rep.failures.append((_item_name(items[i], i), str(exc)))
            if ready:
                out = embed(ready)
                if hasattr(out, "detach"):
                    out = out.detach().float().cpu().numpy()
                out = np.asarray(out, dtype=np.float32)
                if out.shape != (len(ready), dim) or not np.isfinite(out).all():
                    raise ValueError(f"{name} produced an invalid output (shape {out.shape})")
                chunks.append(out)
                rep.ok.extend(idx)
            bar.update(min(batch_size, len(items) - s))
    if chunks:
        rep.vectors = np.concatenate(chunks)
    return rep


def safe_torch_load(path: str | os.PathLike[str]) -> Any:
    """``torch.load(path, weights_only=True)`` with clear errors.

    A checkpoint that holds anything but tensors and plain containers (a pickle that could run
    code) is refused as unsafe with a ValueError, never unpickled.
    """
    import pickle

    import torch

    p = os.fspath(path)
    if not os.path.isfile(p):
        raise FileNotFoundError(f"weights file not found: {p}")
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ValueError(f"refused to load {p} as unsafe: it holds pickled objects other than "
                         f"tensors, which weights_only loading does not execute ({str(exc).splitlines()[0]})"
                         ) from exc
    except (RuntimeError, EOFError, OSError) as exc:
        raise ValueError(f"could not read weights {p}: {exc}") from exc


EMBEDDINGS = ("projected", "backbone")
"""What a two-tower adapter returns: the joint-space embedding, or the backbone's before it."""


def check_embedding(embedding: str) -> str:
    """Validate the ``embedding=`` option of the CLAP adapters (``"projected"``/``"backbone"``)."""
    if embedding not in EMBEDDINGS:
        raise ValueError(f"embedding must be 'projected' (the joint space) or 'backbone' (before "
                         f"the projection); got {embedding!r}")
    return embedding


@contextmanager
def projection_input(module: Any) -> Iterator[list[Any]]:
    """Record the input of a torch ``module`` (a projection head) while the block runs.

    The adapters use it to return the backbone embedding exactly as it enters the published
    model's projection, whatever the library does around it.
    """
    seen: list[Any] = []
    handle = module.register_forward_pre_hook(lambda _m, args: seen.append(args[0].detach()))
    try:
        yield seen
    finally:
        handle.remove()


def embedding_preprocessing(embedding: str) -> dict[str, str]:
    """The provenance entry of ``embedding`` (empty for the default, so fingerprints stay)."""
    return {} if check_embedding(embedding) == "projected" else {"embedding": "backbone"}
