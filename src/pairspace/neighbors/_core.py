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

# Largest squared row norms each working dtype handles: the scores (about ||x||^2 + 2 |q| |x|)
# stay finite, and the products stay far above the underflow threshold, so the error bound of
# ExactSearcher.score_bound holds (float32 spans about 1e-38 to 3e38, float64 1e-308 to 1e308).
NORM2_RANGE = {np.dtype(np.float32): (2.0**-60, 2.0**100), np.dtype(np.float64): (2.0**-900, 2.0**1000)}


def _row_norms_sq(A: np.ndarray, block_rows: int = 4096) -> np.ndarray:
    """Squared L2 norms of the rows, in float64 (``einsum`` casts small buffers as it goes, so no
    float64 copy of a block is allocated), blocked so a memmap is read once."""
    out = np.empty(A.shape[0], dtype=np.float64)
    with np.errstate(over="ignore"):  # an overflow gives inf, refused by working_dtype
        for s in range(0, A.shape[0], block_rows):
            blk = np.asarray(A[s : s + block_rows])
            out[s : s + block_rows] = np.einsum("ij,ij->i", blk, blk, dtype=np.float64)
    return out


def working_dtype(sq: np.ndarray, dtype: np.dtype, name: str = "X") -> tuple[np.dtype, str | None]:
    r"""The dtype of the products for data of squared row norms ``sq``, and why it was changed.

    The products are computed in ``dtype`` when the largest squared norm
    :math:`\max_i \|x_i\|^2` lies in its range (:data:`NORM2_RANGE`); float32 data whose values
    are too large (near 1e19 the float32 products overflow) or too small (they underflow) is
    searched in float64 instead, which gives the same neighbors. Beyond float64's range the
    search is refused: scale the data (neighborhoods do not change under scaling).
    """
    dtype = np.dtype(dtype)
    top = float(sq.max()) if sq.size else 0.0
    lo64, hi64 = NORM2_RANGE[np.dtype(np.float64)]
    if not np.isfinite(top) or top > hi64 or 0.0 < top < lo64:
        raise ValueError(
            f"{name} has a largest row norm of "
            f"{f'{np.sqrt(top):.3g}' if np.isfinite(top) else 'over 1.3e154'}, outside [{np.sqrt(lo64):.1e}, "
            f"{np.sqrt(hi64):.1e}]: its products overflow or underflow even in float64; rescale "
            "the data (kNN neighborhoods do not change under scaling)")
    lo, hi = NORM2_RANGE[dtype]
    if top == 0.0 or lo <= top <= hi:
        return dtype, None
    return np.dtype(np.float64), (
        f"computed in float64: the largest row norm {np.sqrt(top):.3g} is outside the range "
        f"[{np.sqrt(lo):.1e}, {np.sqrt(hi):.1e}] where {dtype.name} products neither overflow "
        "nor underflow")


def require_float32_range(sq: np.ndarray, backend: str, name: str = "X") -> None:
    """Refuse data whose products overflow or underflow float32 in an index that only computes in
    float32 (faiss, hnswlib)."""
    dtype, reason = working_dtype(sq, np.dtype(np.float32), name)
    if reason is not None:
        raise ValueError(f"backend {backend!r} computes in float32, but {reason.split(': ', 1)[1]}; "
                         "use backend='exact' (it switches to float64) or rescale the data")


def check_nonzero_rows(A: np.ndarray, name: str = "X") -> np.ndarray:
    """Return the squared row norms, raising if a row is the zero vector (undefined cosine)."""
    sq = _row_norms_sq(A)
    zero = np.flatnonzero(sq == 0.0)
    if zero.size:
        tiny = [int(r) for r in zero[:1000] if np.any(np.asarray(A[int(r)]) != 0)]
        if tiny:  # the squares of entries below ~1e-162 underflow: not a zero vector
            peak = float(np.max(np.abs(np.asarray(A[tiny[0]], dtype=np.float64))))
            raise ValueError(
                f"{name} has row(s) whose squared norm underflows to 0 although they are not zero "
                f"(first row {tiny[0]}, largest entry {peak:.3g}); the cosine metric is "
                "scale-invariant, so rescale the data (e.g. divide by its largest absolute value)")
        raise ValueError(
            f"{name} has {zero.size} zero vector(s) (first row {int(zero[0])}); the cosine metric "
            "is undefined for them. Remove them or use metric='euclidean'."
        )
    return sq

def duplicate_rows(A: np.ndarray, sq: np.ndarray | None = None) -> int:
    """Number of rows equal to an earlier row, :math:`n - |\\{\text{distinct rows}\\}|`.

    Equal rows have bit-identical float64 squared norms ``sq``, so only the rows whose norm is
    shared are compared (nothing is compared on generic data).
    """
    sq = _row_norms_sq(A) if sq is None else sq
    order = np.argsort(sq, kind="stable")
    s = sq[order]
    same = np.zeros(s.size, dtype=bool)
    same[1:] = s[1:] == s[:-1]
    same[:-1] |= same[1:]
    if not same.any():
        return 0
    rows = np.sort(order[same])
    sub = np.asarray(A[rows], dtype=np.float64) + 0.0  # -0.0 becomes 0.0
    return int(rows.size - np.unique(sub, axis=0).shape[0])


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
