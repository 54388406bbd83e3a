"""CIFAR-100 in its python pickle format (``cifar-100-python/{train,test,meta}``).

Each split is a pickled dict with ``data`` (n x 3072 uint8: the red, green and blue 32 x 32 planes of
each image, row-major), ``fine_labels``, ``coarse_labels`` and ``filenames``; ``meta`` lists the
``fine_label_names``. Class names default to the CLIP list (``resources/classnames/cifar100_clip.txt``,
the fine label names with underscores as spaces), checked against ``meta``.

The pickles are read with a restricted unpickler that only rebuilds numpy arrays and builtin
containers, so a tampered file cannot run code.
"""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..templates import clean_class_name, load_class_names
from .base import LabeledDataset, require_file, resolve_class_names

_ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR pickle")
        return super().find_class(module, name)


def _load_pickle(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            d = _SafeUnpickler(io.BufferedReader(f), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise ValueError(f"{path} is not a CIFAR-100 python pickle: {exc}") from exc
    if not isinstance(d, dict):
        raise ValueError(f"{path} is not a CIFAR-100 python pickle (no dict inside)")
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in d.items()}


def _dec(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def load_cifar100(root: str | os.PathLike[str], split: str = "test",
                  class_names: Sequence[str] | str | os.PathLike[str] | None = "cifar100_clip"
                  ) -> LabeledDataset:
    """Load a CIFAR-100 split as images (n x 32 x 32 x 3 uint8) with fine labels.

    Parameters
    ----------
    root : path-like
        The ``cifar-100-python`` folder or its parent.
    split : {"test", "train"}
    class_names : str, sequence or None
        ``"cifar100_clip"`` (default, the CLIP list), None (the cleaned ``meta`` names), or an
        override list or file (100 names in label order).
    """
    if split not in ("test", "train"):
        raise ValueError(f"split must be 'test' or 'train'; got {split!r}")
    base = Path(root)
    if (base / "cifar-100-python").is_dir():
        base = base / "cifar-100-python"
    d = _load_pickle(require_file(base / split, f"CIFAR-100 {split} split"))
    meta = _load_pickle(require_file(base / "meta", "CIFAR-100 meta file"))
    for key in ("data", "fine_labels"):
        if key not in d:
            raise ValueError(f"{base / split} has no {key!r} entry")
    raw = [_dec(v) for v in meta.get("fine_label_names", [])]
    if len(raw) != 100:
        raise ValueError(f"{base / 'meta'} lists {len(raw)} fine label names; expected 100")
    data = np.asarray(d["data"], dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(f"CIFAR data must be n x 3072 uint8; got {data.shape}")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    y = np.asarray(d["fine_labels"], dtype=np.int64)
    if y.shape != (images.shape[0],) or y.min() < 0 or y.max() > 99:
        raise ValueError("fine_labels must hold one label in 0..99 per image")
    if isinstance(class_names, str) and class_names == "cifar100_clip":
        names = load_class_names("cifar100_clip")
        cleaned = [clean_class_name(c) for c in raw]
        if cleaned != names:
            bad = next(i for i, (a, b) in enumerate(zip(cleaned, names, strict=True)) if a != b)
            raise ValueError(f"meta class {bad} is {raw[bad]!r} but the CLIP list has {names[bad]!r}")
    else:
        names = resolve_class_names(raw, class_names)
    files = d.get("filenames")
    ids = [_dec(f) for f in files] if files is not None and len(files) == len(y) else [
        f"{split}_{i:05d}" for i in range(len(y))]
    return LabeledDataset("cifar100", ids, images, [names[v] for v in y], names, None, str(base),
                          {"coarse_label": [int(v) for v in d.get("coarse_labels", [])]}
                          if len(d.get("coarse_labels", [])) == len(y) else {})
