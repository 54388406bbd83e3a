"""numpy formats: ``.npy`` matrices (memory-mapped) and ``.npz`` archives, never unpickled."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..._atomic import atomic_path
from ._common import ID_KEYS, VECTOR_KEYS, MatrixFile, existing_file


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


def npz_matrix(path: Path) -> MatrixFile:
    z = read_npz(path)
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
    return MatrixFile(z[vkey], ids, str(path), ".npz", ikey, [vkey])


def write_npy(path: str | os.PathLike[str], A: np.ndarray) -> Path:
    """Write one matrix to ``.npy`` atomically."""
    p = Path(path)
    with atomic_path(p) as tmp, open(tmp, "wb") as f:
        np.save(f, np.asarray(A), allow_pickle=False)
    return p


