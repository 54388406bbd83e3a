"""ctypes bindings of the C kernels of the exact search (``_kernels.c``), with their numpy twins
as the fallback.

``setup.py`` builds ``pairspace.neighbors._ckernels`` when a C compiler is present (it is optional:
without one the package installs and the search runs its numpy kernels, with the same results).
The library is loaded with :mod:`ctypes`, which releases the GIL during each call, so the
refinement can run one call per core from a thread pool.

Set ``PAIRSPACE_C_KERNELS=0`` (or :data:`ENABLED` to ``False``) to use the numpy kernels.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

ENABLED = os.environ.get("PAIRSPACE_C_KERNELS", "1") != "0"
MAX_INDEX = 2**32 - 2  # the heap keys hold a row index in 32 bits (2^32 - 1 marks an empty slot)
EMPTY_KEY = 0xFF800000FFFFFFFF  # key(+inf, 2^32 - 1): an empty heap slot (EMPTY_KEY in _kernels.c)

_LIB: Any = None
_LOADED = False


def _load() -> Any:
    spec = importlib.util.find_spec(f"{__package__}._ckernels")
    if spec is None or not spec.origin or not os.path.exists(spec.origin):
        return None
    try:
        lib = ctypes.CDLL(spec.origin)
    except OSError:  # pragma: no cover - a broken build
        return None
    p, i64, c_int = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int
    lib.ps_feed.argtypes = [p, i64, i64, i64, i64, i64, i64, p, p, p, c_int, p, p, p, p]
    lib.ps_tops.argtypes = [i64, i64, p, p]
    lib.ps_finish.argtypes = [i64, i64, p, p, p]
    lib.ps_dots_f32.argtypes = [p, p, i64, p, p, i64, i64, p, p]
    for fn in (lib.ps_feed, lib.ps_tops, lib.ps_finish, lib.ps_dots_f32):
        fn.restype = None
    return lib


def library() -> Any:
    """The loaded C library, or None when it was not built or :data:`ENABLED` is false."""
    global _LIB, _LOADED
    if not ENABLED:
        return None
    if not _LOADED:
        _LIB, _LOADED = _load(), True
    return _LIB


def ptr(a: np.ndarray | None) -> int | None:
    """The data address of a C-contiguous array (``None`` passes a null pointer)."""
    if a is None:
        return None
    if not a.flags.c_contiguous:
        raise ValueError("the C kernels need C-contiguous arrays")
    return a.ctypes.data


def blas_one_thread() -> contextlib.AbstractContextManager | None:
    """A context manager that runs numpy's BLAS on one thread while it is entered
    (``threadpoolctl``), for workers that each multiply their own blocks; None when threadpoolctl
    is not installed."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency of the package
        return None

    @contextlib.contextmanager
    def one_thread() -> Iterator[None]:
        with threadpool_limits(1, user_api="blas"):  # set on entry, restored on exit
            yield

    return one_thread()


def largest_products(Q: np.ndarray, W: np.ndarray, kk: int, block_rows: int = 2048
                     ) -> tuple[np.ndarray, np.ndarray] | None:
    """The ``kk`` rows of ``W`` with the largest products ``Q @ W.T`` for every row of ``Q`` (float32),
    as ``(products, indices)`` of shape (len(Q), kk), largest first and ties to the lower index
    (the order of ``numpy.argmax``); None without the C kernels.

    Blocks of ``block_rows x block_rows`` products are fed to one heap per query (score ``-p``);
    one worker per core takes whole query blocks with a one-thread BLAS, so no heap is shared.
    """
    lib = library()
    if lib is None or W.shape[0] > MAX_INDEX:
        return None
    Q = np.ascontiguousarray(Q, dtype=np.float32)
    W = np.ascontiguousarray(W, dtype=np.float32)
    n, R = Q.shape[0], W.shape[0]
    kk = min(kk, R)
    heaps = np.full((n, kk), EMPTY_KEY, dtype=np.uint64)
    qblocks = [(s, min(n, s + block_rows)) for s in range(0, n, block_rows)]

    def work(blocks: list[tuple[int, int]]) -> None:
        scores = np.empty(block_rows * block_rows, dtype=np.float32)
        for s0, e0 in blocks:
            for s1 in range(0, R, block_rows):
                e1 = min(R, s1 + block_rows)
                P = np.matmul(Q[s0:e0], W[s1:e1].T, out=scores[: (e0 - s0) * (e1 - s1)].reshape(
                    e0 - s0, e1 - s1))
                lib.ps_feed(ptr(P), e0 - s0, e1 - s1, e1 - s1, s0, s1, kk, ptr(heaps[s0:e0]), None,
                            None, 0, None, None, None, None)

    workers = max(1, min(os.cpu_count() or 1, len(qblocks), 8))
    limits = blas_one_thread() if workers > 1 else None
    if limits is None:
        work(qblocks)
    else:
        from concurrent.futures import ThreadPoolExecutor

        with limits, ThreadPoolExecutor(workers, thread_name_prefix="pairspace-blocks") as pool:
            list(pool.map(work, [qblocks[w::workers] for w in range(workers)]))
    vals = np.empty((n, kk), dtype=np.float32)
    idx = np.empty((n, kk), dtype=np.int64)
    lib.ps_finish(n, kk, ptr(heaps), ptr(vals), ptr(idx))
    return np.negative(vals, out=vals), idx
