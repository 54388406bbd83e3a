"""The common result of every dataset loader: items, labels, class names and folds."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..manifests import Manifest
from ..templates import clean_class_name, load_class_names


@dataclass
class LabeledDataset:
    """A labelled evaluation set.

    Attributes
    ----------
    name : str
        Dataset name (``"esc50"``...).
    ids : list of str
        Unique item ids (file names).
    items : list of str or numpy.ndarray
        Absolute file paths, or an array of images (CIFAR-100: n x 32 x 32 x 3 uint8).
    labels : list of str
        The class name of each item (after cleaning or override).
    class_names : list of str
        Class names in the dataset's class-index order.
    folds : list of int or None
        Official fold of each item (ESC-50: 1-5, UrbanSound8K: 1-10, TUT 2017: 1-4).
    root : str
        Where the files were read.
    extra : dict of str to list
        Other per-item columns (``source_id``: where the recording came from, such as
        ``"freesound:<id>"``; ``fsID``; ``subset``), carried into the manifest and the table.
    """

    name: str
    ids: list[str]
    items: Any
    labels: list[str]
    class_names: list[str]
    folds: list[int] | None = None
    root: str = ""
    extra: dict[str, list[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def source_ids(self) -> list[str] | None:
        """Where each item's recording came from (``extra["source_id"]``), when the set says."""
        ids = self.extra.get("source_id")
        return None if ids is None else [str(v) for v in ids]

    def label_indices(self) -> np.ndarray:
        """Class index of each item (into ``class_names``)."""
        pos = {c: i for i, c in enumerate(self.class_names)}
        return np.array([pos[v] for v in self.labels], dtype=np.int64)

    def to_manifest(self) -> Manifest:
        """A manifest for :func:`pairspace.data.embed.embed_manifest` (folds and extras as columns)."""
        cols = dict(self.extra)
        if self.folds is not None:
            cols["fold"] = list(self.folds)
        kind = "array" if isinstance(self.items, np.ndarray) else "path"
        return Manifest(list(self.ids), self.items if kind == "array" else list(self.items), kind,
                        list(self.labels), cols, self.root)


def resolve_class_names(raw: Sequence[str], override: Sequence[str] | str | os.PathLike[str] | None
                        ) -> list[str]:
    """Cleaned class names (underscores to spaces), or an override list/file of the same length."""
    if override is None:
        names = [clean_class_name(c) for c in raw]
    else:
        names = (load_class_names(override) if isinstance(override, str | os.PathLike)
                 else [str(c) for c in override])
        if len(names) != len(raw):
            raise ValueError(f"{len(names)} override class names for {len(raw)} dataset classes")
    if len(set(names)) != len(names):
        raise ValueError("class names are not unique after cleaning; pass an override")
    return names


def require_file(path: Path, what: str) -> Path:
    """``path`` if it exists, otherwise a FileNotFoundError naming the expected layout."""
    if not path.exists():
        raise FileNotFoundError(f"{what} not found: {path}")
    return path


def check_audio_files(paths: Sequence[str], check: bool) -> None:
    """Raise naming missing audio files (when ``check``)."""
    if not check:
        return
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise FileNotFoundError(f"{len(missing)} audio files are missing, e.g. {missing[:3]}")
