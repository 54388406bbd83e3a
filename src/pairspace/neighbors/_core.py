"""Row helpers shared by the exact search, the refinement and the backends.

Squared norms, the zero-row check of the cosine metric, the memory-map test, the optional torch
speed-up (imported only when a search is large enough to repay its import time), the prepared
rows whose single product gives the selection score, and the refinement's thread pool.
"""

from __future__ import annotations

import importlib
import mmap
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np


def _row_norms_sq(A: np.ndarray, block_rows: int = 4096) -> np.ndarray:
    """Squared L2 norms of the rows, in float64, blocked so a memmap is read once."""
    out = np.empty(A.shape[0], dtype=np.float64)
    for s in range(0, A.shape[0], block_rows):
        blk = np.asarray(A[s : s + block_rows], dtype=np.float64)
        out[s : s + block_rows] = np.einsum("ij,ij->i", blk, blk)
    return out


def check_nonzero_rows(A: np.ndarray, name: str = "X") -> np.ndarray:
    """Return the squared row norms, raising if a row is the zero vector (undefined cosine)."""
    sq = _row_norms_sq(A)
    zero = np.flatnonzero(sq == 0.0)
    if zero.size:
        raise ValueError(
            f"{name} has {zero.size} zero vector(s) (first row {int(zero[0])}); the cosine metric "
            "is undefined for them. Remove them or use metric='euclidean'."
        )
    return sq

def is_out_of_core(A: Any) -> bool:
    """Whether ``A`` (or the array it views) is a memory map, to be streamed rather than copied."""
    obj = A
    while obj is not None:
        if isinstance(obj, np.memmap | mmap.mmap):
            return True
        obj = getattr(obj, "base", None)
    return False


def _torch(load: bool = False) -> Any:
    """The torch module (an optional speed-up of the products and of ``topk``) when it is already
    imported, or when ``load`` and it is installed; else None. Small searches never import it."""
    torch = sys.modules.get("torch")
    if torch is None and load:
        try:
            torch = importlib.import_module("torch")
        except ImportError:  # pragma: no cover - torch is an optional extra
            return None
    return torch

def _matmul_into(Q: np.ndarray, C: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out = Q @ C.T`` through torch's BLAS when available (faster threading), else numpy."""
    torch = _torch()
    if torch is not None and Q.flags.writeable and C.flags.writeable and C.flags.c_contiguous:
        torch.mm(torch.from_numpy(Q), torch.from_numpy(C).T, out=torch.from_numpy(out))
    else:
        np.matmul(Q, C.T, out=out)
    return out


def _prepare_base(rows: np.ndarray, metric: str, dtype: np.dtype,
                  sq: np.ndarray | None = None) -> np.ndarray:
    """Database rows prepared so that ``query_prep @ base_prep.T`` is the selection score.

    ``sq`` are the rows' squared norms (float64) when already known.
    """
    if sq is None and metric != "inner":
        sq = _row_norms_sq(rows)
    if metric == "cosine":
        out = np.array(rows, dtype=dtype)
        out *= (1.0 / np.sqrt(sq)).astype(dtype)[:, None]
        return out
    if metric == "euclidean":
        out = np.empty((rows.shape[0], rows.shape[1] + 1), dtype=dtype)
        out[:, :-1] = rows
        out[:, -1] = sq
        return out
    return np.ascontiguousarray(rows, dtype=dtype)


def _prepare_queries(rows: np.ndarray, metric: str, dtype: np.dtype,
                     sq: np.ndarray | None = None) -> np.ndarray:
    """Query rows prepared to pair with :func:`_prepare_base` (smaller score = closer)."""
    if metric == "cosine":
        return -_prepare_base(rows, metric, dtype, sq)
    if metric == "euclidean":
        out = np.empty((rows.shape[0], rows.shape[1] + 1), dtype=dtype)
        out[:, :-1] = rows
        out[:, :-1] *= -2.0
        out[:, -1] = 1.0
        return out
    return -np.asarray(rows, dtype=dtype)


_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    """A small thread pool for the refinement (created on first use)."""
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, 8),
                                   thread_name_prefix="pairspace-refine")
    return _POOL
