"""Manifests: the list of items to embed, from a folder or a CSV / JSONL file.

A manifest row has an ``id``, an item (a file ``path`` or a ``text``), an optional ``label`` and any
other columns (``fold``, ``caption``...), which travel into the embedding table.

- **Folder**: every media file below it, sorted; the id is the path relative to the folder and the
  label is the first sub-folder (the "one folder per class" layout) when files sit in sub-folders.
- **CSV / JSONL**: one row per item with a ``path`` or ``text`` column (or ``--item-column``); relative
  paths are resolved against the manifest's folder. ``id`` defaults to the path or the row number.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

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


def _rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        rows = []
        with open(path, encoding="utf-8") as f:
            for ln, line in enumerate(f, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise ValueError(f"{path}:{ln}: invalid JSON ({exc})") from exc
        return rows
    delim = "\t" if path.suffix.lower() == ".tsv" else ","
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=delim))


def read_manifest(path: str | os.PathLike[str], modality: str | None = None,
                  item_column: str | None = None, label_column: str | None = "label",
                  id_column: str = "id") -> Manifest:
    """Read a folder, CSV/TSV or JSONL manifest (see the module docstring)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"manifest not found: {p}")
    if p.is_dir():
        return _from_folder(p, modality)
    if p.suffix.lower() not in (".csv", ".tsv", ".jsonl", ".ndjson"):
        raise ValueError(f"unsupported manifest {p.name}: use a folder, .csv, .tsv or .jsonl")
    rows = _rows(p)
    if not rows:
        raise ValueError(f"the manifest {p} has no rows")
    keys = list(rows[0])
    col = item_column or ("path" if "path" in keys else "text" if "text" in keys else None)
    if col is None or col not in keys:
        raise ValueError(f"{p} needs a 'path' or 'text' column (or --item-column); columns: {keys}")
    kind = "text" if (item_column is None and col == "text") or modality == "text" else "path"
    items: list[str] = []
    for r, row in enumerate(rows):
        v = row.get(col)
        if v is None or str(v) == "":
            raise ValueError(f"{p}: row {r + 1} has an empty {col!r}")
        items.append(str(v) if kind == "text" else str((p.parent / str(v)).resolve()))
    if id_column in keys:
        ids = [str(row[id_column]) for row in rows]
    else:
        ids = [str(row[col]) for row in rows] if kind == "path" else [str(i) for i in range(len(rows))]
    labels = [str(row[label_column]) for row in rows] if label_column and label_column in keys else None
    skip = {col, id_column, label_column}
    columns = {k: [row.get(k) for row in rows] for k in keys if k not in skip}
    return Manifest(ids, items, kind, labels, columns, str(p))
