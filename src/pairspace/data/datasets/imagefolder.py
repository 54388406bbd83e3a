"""An image folder with one sub-folder per class (``root/<class>/<image>``)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..manifests import read_manifest
from .base import LabeledDataset, resolve_class_names


def load_image_folder(root: str | os.PathLike[str],
                      class_names: Sequence[str] | str | os.PathLike[str] | None = None) -> LabeledDataset:
    """Every image below ``root``; the label is its first sub-folder (sorted = class index order).

    ``class_names`` overrides the cleaned folder names (same count, sorted-folder order).
    """
    m = read_manifest(root, modality="image")
    if m.labels is None:
        raise ValueError(f"{root} has images outside class sub-folders; expected root/<class>/<image>")
    raw = sorted(set(m.labels))
    names = resolve_class_names(raw, class_names)
    rename = dict(zip(raw, names, strict=True))
    return LabeledDataset("image_folder", m.ids, m.items, [rename[v] for v in m.labels], names, None,
                          str(root))
