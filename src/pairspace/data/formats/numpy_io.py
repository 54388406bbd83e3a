"""numpy formats: ``.npy`` matrices (memory-mapped) and ``.npz`` archives, never unpickled."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..._atomic import atomic_path
from ._common import ID_KEYS, VECTOR_KEYS, FileSource, Parts, existing_file, table_metadata


def read_npy(path: str | os.PathLike[str], mmap: bool = True) -> np.ndarray:
    """A ``.npy`` matrix, memory-mapped by default, never unpickled."""
    p = existing_file(path)
    try:
        return np.load(p, mmap_mode="r" if mmap else None, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{p}: could not read as a numeric array ({exc}); ragged or object "
                         "arrays are not supported") from exc
    except Exception as exc:
        raise ValueError(f"{p}: not a readable .npy file ({exc})") from exc


def read_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Every array of a ``.npz`` archive (read into memory, never unpickled)."""
    p = existing_file(path)
    try:
        with np.load(p, allow_pickle=False) as z:
            return {k: np.asarray(z[k]) for k in z.files}
    except ValueError as exc:
        raise ValueError(f"{p}: could not read the arrays ({exc}); object or ragged arrays "
                         "are not supported") from exc
    except Exception as exc:
        raise ValueError(f"{p}: not a readable .npz archive ({exc})") from exc


def write_npz(path: str | os.PathLike[str], arrays: dict[str, Any], atomic: bool = True) -> Path:
    """Write arrays to an uncompressed ``.npz`` archive (atomically by default)."""
    p = Path(path)
    if atomic:
        with atomic_path(p) as tmp:
            return write_npz(tmp, arrays, atomic=False) and p
    with open(p, "wb") as f:
        np.savez(f, **arrays)
    return p


def npz_matrix(path: Path, z: dict[str, np.ndarray] | None = None) -> Parts:
    """Vectors and ids of an ``.npz`` archive (``z``: its arrays when already read)."""
    z = read_npz(path) if z is None else z
    keys = list(z)
    vkey = next((k for k in VECTOR_KEYS if k in keys), None)
    if vkey is None:
        twod = [k for k in keys if k not in ID_KEYS and z[k].ndim == 2]
        if len(twod) != 1:
            raise ValueError(f"{path}: cannot tell which array holds the vectors (keys "
                             f"{keys}); name it 'vectors'")
        vkey = twod[0]
    ikey = next((k for k in ID_KEYS if k in keys), None)
    ids = None
    if ikey is not None:
        arr = z[ikey]
        if arr.ndim != 1:
            raise ValueError(f"{path}: the ids ({ikey!r}) must be a 1-D array, one per row; got "
                             f"shape {arr.shape}" + (" (a single string is not a list of ids)"
                                                     if arr.ndim == 0 else ""))
        ids = [str(v) for v in arr.tolist()]
    src = FileSource(str(path), ".npz", ikey, (vkey,))
    if "has_labels" not in z:
        return Parts(z[vkey], ids, src)
    # an archive written by EmbeddingTable.save: labels, extra columns and metadata as well
    cols = json.loads(str(z["columns"])) if "columns" in z else {}
    if not isinstance(cols, dict):
        raise ValueError(f"{path}: the 'columns' entry is not a JSON object")
    labels = z["labels"].tolist() if bool(z["has_labels"]) else None
    meta = table_metadata(str(z["metadata"]), str(path)) if "metadata" in z else {}
    return Parts(z[vkey], ids, src, labels, cols, meta)


def write_npy(path: str | os.PathLike[str], A: np.ndarray) -> Path:
    """Write one matrix to ``.npy`` atomically."""
    p = Path(path)
    with atomic_path(p) as tmp, open(tmp, "wb") as f:
        np.save(f, np.asarray(A), allow_pickle=False)
    return p


