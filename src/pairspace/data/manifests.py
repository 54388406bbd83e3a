"""Manifests: the list of items to embed, from a folder or a CSV / JSONL file.

A manifest row has an ``id``, an item (a file ``path`` or a ``text``), an optional ``label`` and any
other columns (``fold``, ``caption``...), which travel into the embedding table.

- **Folder**: every media file below it, sorted; the id is the path relative to the folder and the
  label is the first sub-folder (the "one folder per class" layout) when files sit in sub-folders.
- **CSV / JSONL**: one row per item with a ``path`` or ``text`` column (or ``--item-column``); relative
  paths are resolved against the manifest's folder. ``id`` defaults to the path or the row number.
  Every row is checked, not only the first: a CSV row with too few or too many fields, a JSONL row
  that lacks a field the other rows have, and an empty item, id or label are errors that name the
  file, the line and the column (never a missing cell read as the label ``"None"``).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .formats._common import RESERVED_COLUMNS  # the columns an embedding table uses itself
from .textfiles import csv_rows, jsonl_rows

EXTENSIONS = {
    "image": (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"),
    "audio": (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aif", ".aiff"),
    "text": (".txt",),
}


@dataclass
class Manifest:
    """Items to embed.

    Attributes
    ----------
    ids : list of str
        Unique item ids.
    items : list of str or numpy.ndarray
        Absolute file paths, the texts themselves (``kind == "text"``) or an array whose first axis
        indexes the items (``kind == "array"``, e.g. CIFAR-100 images).
    kind : {"path", "text", "array"}
        What ``items`` holds.
    labels : list of str or None
        Optional class labels.
    columns : dict
        Other per-item columns.
    source : str
        Where the manifest came from.
    """

    ids: list[str]
    items: Any
    kind: str
    labels: list[str] | None = None
    columns: dict[str, list[Any]] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("path", "text", "array"):
            raise ValueError(f"manifest kind must be 'path', 'text' or 'array'; got {self.kind!r}")
        if len(self.ids) != len(self.items):
            raise ValueError(f"{len(self.ids)} ids for {len(self.items)} items")
        if len(self.items) == 0:
            raise ValueError(f"the manifest {self.source} lists no items")
        if len(set(self.ids)) != len(self.ids):
            seen: set[str] = set()
            dup = [i for i in self.ids if i in seen or seen.add(i)][:5]  # type: ignore[func-returns-value]
            raise ValueError(f"manifest ids must be unique; duplicated: {dup}")
        if self.labels is not None and len(self.labels) != len(self.ids):
            raise ValueError(f"{len(self.labels)} labels for {len(self.ids)} items")
        reserved = [c for c in self.columns if c in RESERVED_COLUMNS]
        if reserved:  # refused here, before any item is embedded, not when the table is written
            raise ValueError(f"the manifest {self.source} has a column named {reserved[0]!r}, a "
                             f"name reserved by the embedding table ({', '.join(RESERVED_COLUMNS)}); "
                             "rename it")

    def __len__(self) -> int:
        return len(self.ids)

    def check_files(self) -> None:
        """Raise naming the missing files (path manifests)."""
        if self.kind != "path":
            return
        missing = [p for p in self.items if not os.path.isfile(p)]
        if missing:
            raise FileNotFoundError(f"{len(missing)} files of the manifest are missing, e.g. {missing[:3]}")

    def fingerprint(self, content: bool = False) -> str:
        """SHA-256 of the ids, items, labels and (for files) size and modification time.

        ``content=True`` hashes the file bytes instead of size and time (slower, robust to copies).
        """
        h = hashlib.sha256()
        h.update(self.kind.encode())
        if self.kind == "array":
            arr = np.ascontiguousarray(self.items)
            h.update(f"{arr.dtype}:{arr.shape}".encode())
            h.update(memoryview(arr).cast("B"))
            h.update("\0".join(self.ids).encode())
            h.update("\0".join(self.labels or []).encode())
            return h.hexdigest()
        for i, (id_, item) in enumerate(zip(self.ids, self.items, strict=True)):
            h.update(f"{id_}\0{item}\0{self.labels[i] if self.labels else ''}\0".encode())
            if self.kind == "path":
                st = os.stat(item)
                if content:
                    with open(item, "rb") as f:
                        while block := f.read(1 << 20):
                            h.update(block)
                else:
                    h.update(f"{st.st_size}:{st.st_mtime_ns}\n".encode())
        return h.hexdigest()


def _from_folder(root: Path, modality: str | None) -> Manifest:
    exts = EXTENSIONS.get(modality or "", None) or tuple(e for v in EXTENSIONS.values() for e in v
                                                        if e != ".txt")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in exts
                   and not any(part.startswith(".") for part in p.relative_to(root).parts))
    if not files:
        raise ValueError(f"no media files ({', '.join(exts)}) found under {root}")
    ids = [p.relative_to(root).as_posix() for p in files]
    nested = all(len(p.relative_to(root).parts) > 1 for p in files)
    labels = [p.relative_to(root).parts[0] for p in files] if nested else None
    return Manifest(ids, [str(p.resolve()) for p in files], "path", labels, {}, str(root))


Row = tuple[int, dict[str, Any]]
_EXTRA = "\0extra"


def _jsonl_rows(path: Path) -> tuple[list[str], list[Row]]:
    rows = jsonl_rows(path, "manifest")
    keys: dict[str, None] = {}
    for _, row in rows:
        keys.update(dict.fromkeys(row))
    for ln, row in rows:  # every row has every field: none is silently missing
        missing = [k for k in keys if k not in row]
        if missing:
            raise ValueError(f"{path}:{ln}: no {missing[0]!r} field (other rows have it); every "
                             "row needs the same fields")
    return list(keys), rows


def _rows(path: Path) -> tuple[list[str], list[Row]]:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return _jsonl_rows(path)
    return csv_rows(path, "manifest")


def _column(rows: list[Row], col: str, path: Path) -> list[str]:
    """The cells of a required column as strings; an empty, null or non-text cell names its line.

    JSONL cells must be strings or integers: a list or an object would be embedded as its Python
    spelling (``"['a', 'dog']"``) and a float id (``1.0``) would not match the id ``1``.
    """
    out = []
    for ln, row in rows:
        v = row[col]
        if v is None or str(v).strip() == "":
            raise ValueError(f"{path}:{ln}: empty {col!r}")
        if not isinstance(v, str) and (isinstance(v, bool) or not isinstance(v, int)):
            raise ValueError(f"{path}:{ln}: {col!r} must be a string (or an integer id); got "
                             f"{type(v).__name__} {v!r}")
        out.append(str(v))
    return out


def read_manifest(path: str | os.PathLike[str], modality: str | None = None,
                  item_column: str | None = None, label_column: str | None = "label",
                  id_column: str = "id") -> Manifest:
    """Read a folder, CSV/TSV or JSONL manifest (see the module docstring).

    Every row is validated: a ragged CSV row, a JSONL row that lacks a field other rows have, and
    an empty item, id or label cell are errors that name the file, the line and the column.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"manifest not found: {p}")
    if p.is_dir():
        return _from_folder(p, modality)
    if p.suffix.lower() not in (".csv", ".tsv", ".jsonl", ".ndjson"):
        raise ValueError(f"unsupported manifest {p.name}: use a folder, .csv, .tsv or .jsonl")
    keys, rows = _rows(p)
    if not rows:
        raise ValueError(f"the manifest {p} has no rows")
    col = item_column or ("path" if "path" in keys else "text" if "text" in keys else None)
    if col is None or col not in keys:
        raise ValueError(f"{p} needs a 'path' or 'text' column (or --item-column); columns: {keys}")
    kind = "text" if (item_column is None and col == "text") or modality == "text" else "path"
    values = _column(rows, col, p)
    items = values if kind == "text" else [str((p.parent / v).resolve()) for v in values]
    if id_column in keys:
        ids = _column(rows, id_column, p)
    else:
        ids = values if kind == "path" else [str(i) for i in range(len(rows))]
    labels = _column(rows, label_column, p) if label_column and label_column in keys else None
    skip = {col, id_column, label_column}
    columns = {k: [row[k] for _, row in rows] for k in keys if k not in skip}
    return Manifest(ids, items, kind, labels, columns, str(p))
