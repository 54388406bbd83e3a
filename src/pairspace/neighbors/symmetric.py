r"""Symmetric self-search: each block product of :math:`X X^\top` serves two query blocks.

A self-search compares every row with every other, and the scores are symmetric. The rows are
cut into blocks :math:`I_0, \dots, I_{m-1}` and only the blocks on and above the diagonal are
multiplied: the product :math:`P_{ab} = A_{I_a} A_{I_b}^\top` (``A`` the float32 rows, unit rows
for cosine) for :math:`a \le b` gives the scores of the queries :math:`I_a` against the database
rows :math:`I_b` (its rows) and of the queries :math:`I_b` against :math:`I_a` (its columns). That
is :math:`m(m+1)/2` products instead of :math:`m^2`: about half the flops of the full product that a
flat index (faiss ``IndexFlat``) computes. The selection score of a product :math:`p_{ij}` is
symmetric too, and smaller is closer:

- euclidean: :math:`s_{ij} = \mathrm{fl}(\mathrm{fl}(n_i + n_j) - 2 p_{ij})` with :math:`n_i` the
  squared norms rounded to float32 (the squared distance), computed after the product so that no
  augmented copy of the rows is needed and the rounding error is about half that of a product
  of augmented rows (:meth:`~pairspace.neighbors.ExactSearcher.score_bound`);
- cosine and inner: :math:`s_{ij} = -p_{ij}`.

The numpy path visits the blocks row block by row block, ``a = 0, 1, ...`` and ``b = a, a + 1, ...``,
so every query row receives its database chunks in increasing index order (first the columns of
the blocks above it, then its own row of blocks); the threshold selection of
:class:`pairspace.neighbors.selection.RowState` then breaks ties to the lower index exactly as the
one-sided search does. With the C kernels (:mod:`pairspace.neighbors.kernels`) the candidates are
heaps of ``(score, index)`` keys, for which the order of arrival does not matter: the diagonal
blocks come first and seed every query's heap in one batch from its own block (a sampled
threshold, then an exact selection of the few entries below it), so that the off-diagonal blocks
meet thresholds that are already tight; one worker per core multiplies and selects disjoint pairs
of blocks. Both paths compute the same scores and give the same candidates. Each query block's
candidates then go through the certified float64 window and refinement
(:meth:`pairspace.neighbors.ExactSearcher.search_block`). The item itself is excluded by index on
the diagonal blocks.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import kernels
from ._core import _matmul_into
from .selection import RowState

BLOCK_WORKERS: int | None = None  # threads that multiply and select blocks (None: one per core)


def symmetric_operands(X0: np.ndarray, metric: str, dtype: np.dtype,
                       sq: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The rows ``A`` whose products give the symmetric scores, in ``dtype`` (``X0`` itself, not a
    copy, when it already is a C-contiguous array of that dtype; unit rows for cosine), and the
    squared norms in ``dtype`` for euclidean (else None).

    ``sq`` are the float64 squared row norms of ``X0``.
    """
    X = np.asarray(X0)
    if metric == "cosine":
        A = np.array(X, dtype=dtype)
        A *= (1.0 / np.sqrt(sq)).astype(dtype)[:, None]
        return A, None
    A = np.ascontiguousarray(X, dtype=dtype)
    return A, (sq.astype(dtype) if metric == "euclidean" else None)


def block_scores(P: np.ndarray, n_rows: np.ndarray | None, n_cols: np.ndarray | None) -> np.ndarray:
    """The selection scores of the products ``P`` in place (see the module docstring): ``-P``, or
    ``fl(n_rows + n_cols) - 2 P`` with the squared norms of the rows and columns."""
    if n_rows is None:
        return np.negative(P, out=P)
    P *= -2.0  # exact
    P += np.add.outer(n_rows, n_cols)
    return P


def symmetric_candidates(A: np.ndarray, norms: np.ndarray | None, kk: int, block_rows: int
                         ) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
    """Yield ``(start, stop, scores, indices)`` for every query block of ``block_rows`` rows: the
    ``kk`` smallest scores of each row of the block and their indices, sorted by
    ``(score, index)``, the row itself excluded (``A, norms`` from :func:`symmetric_operands`).

    Needs ``block_rows >= kk + 1`` (the first chunk of the first block holds ``kk`` candidates
    besides the query itself).
    """
    n = A.shape[0]
    if block_rows < kk + 1:
        raise ValueError(f"symmetric blocks of {block_rows} rows cannot seed {kk} candidates")
    bounds = [(s, min(n, s + block_rows)) for s in range(0, n, block_rows)]
    lib = kernels.library()
    if lib is not None and A.dtype == np.float32 and n <= kernels.MAX_INDEX:
        yield from _candidates_c(lib, A, norms, kk, bounds)
        return
    states: list[RowState | None] = [RowState(kk) for _ in bounds]
    scores = np.empty(block_rows * block_rows, dtype=A.dtype)
    masks = np.empty(block_rows * block_rows, dtype=bool)
    for a, (s0, e0) in enumerate(bounds):
        for b in range(a, len(bounds)):
            s1, e1 = bounds[b]
            h, w = e0 - s0, e1 - s1
            S = _matmul_into(A[s0:e0], A[s1:e1], scores[: h * w].reshape(h, w))
            block_scores(S, None if norms is None else norms[s0:e0],
                         None if norms is None else norms[s1:e1])
            mask = masks[: h * w].reshape(h, w)
            if a == b:
                np.fill_diagonal(S, np.inf)  # the item itself, excluded by index
            states[a].feed(S, s1, mask)
            if a != b:
                states[b].feed(S, s0, mask, transposed=True)
        vals, idx = states[a].result()
        states[a] = None  # its memory goes as soon as the block is done
        yield s0, e0, vals, idx


def _candidates_c(lib: object, A: np.ndarray, norms: np.ndarray | None, kk: int,
                  bounds: list[tuple[int, int]]) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
    """:func:`symmetric_candidates` with the heaps of the C kernels (float32 scores).

    Workers (one per core, at most one per pair of blocks) take the diagonal blocks first (they
    seed every heap), then the blocks above the diagonal; each multiplies its own blocks with a
    one-thread BLAS and feeds them to the heaps itself, so that products and selection keep every
    core busy, and two pairs that share a query block never run at once (:class:`_PairQueue`), so
    no heap is written by two threads. A query block is yielded as soon as its last pair is done,
    while the workers go on with the others (its refinement overlaps their products).
    """
    n, b, m = A.shape[0], bounds[0][1] - bounds[0][0], len(bounds)
    heaps = np.empty((n, kk), dtype=np.uint64)
    tops = np.empty(n, dtype=np.float32)  # the top score of every heap, for the column queries
    ptr = kernels.ptr
    limits = kernels.blas_one_thread()
    workers = 1 if limits is None else max(1, min(BLOCK_WORKERS or os.cpu_count() or 1, m // 2, 8))
    queue = _PairQueue(m)

    def feed(pair: tuple[int, int], scores: np.ndarray, tmp: np.ndarray, buf: np.ndarray) -> None:
        (s0, e0), (s1, e1) = bounds[pair[0]], bounds[pair[1]]
        h, w = e0 - s0, e1 - s1
        S = np.matmul(A[s0:e0], A[s1:e1].T, out=scores[: h * w].reshape(h, w))
        nr, nc = (None, None) if norms is None else (ptr(norms[s0:e0]), ptr(norms[s1:e1]))
        if pair[0] == pair[1]:
            lib.ps_feed(ptr(S), h, h, h, s0, s0, kk, ptr(heaps[s0:e0]), None, None, 1, nr, nc,
                        ptr(tmp), ptr(buf))
            lib.ps_tops(h, kk, ptr(heaps[s0:e0]), ptr(tops[s0:e0]))
        else:
            lib.ps_feed(ptr(S), h, w, w, s0, s1, kk, ptr(heaps[s0:e0]), ptr(heaps[s1:e1]),
                        ptr(tops[s1:e1]), 0, nr, nc, None, None)

    def work() -> None:
        try:
            scores = np.empty(b * b, dtype=np.float32)
            tmp, buf = np.empty(b, dtype=np.uint64), np.empty(b, dtype=np.float32)
            while (pair := queue.take()) is not None:
                feed(pair, scores, tmp, buf)
                queue.done(pair)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            queue.fail(exc)

    with contextlib.ExitStack() as stack:
        if workers > 1:
            stack.enter_context(limits)
        pool = stack.enter_context(ThreadPoolExecutor(workers, thread_name_prefix="pairspace-blocks"))
        stack.callback(queue.cancel)  # runs first: an early close stops the workers
        for _ in range(workers):
            pool.submit(work)
        for a, (s0, e0) in enumerate(bounds):
            queue.wait_block(a)
            vals = np.empty((e0 - s0, kk), dtype=np.float32)
            idx = np.empty((e0 - s0, kk), dtype=np.int64)
            lib.ps_finish(e0 - s0, kk, ptr(heaps[s0:e0]), ptr(vals), ptr(idx))
            yield s0, e0, vals, idx


class _PairQueue:
    """The block pairs of a symmetric search, handed to workers in order: the diagonal pairs
    ``(a, a)`` first, the others only once every diagonal pair is done, and never two pairs that
    share a block at once. It counts the pairs left per block, so that a consumer can wait for a
    block to be complete."""

    def __init__(self, m: int) -> None:
        self.pending = [(a, a) for a in range(m)] + [(a, c) for a in range(m) for c in range(a + 1, m)]
        self.busy: set[int] = set()
        self.seeding = m  # diagonal pairs not done yet
        self.left = [m] * m  # pairs not done, per block
        self.error: BaseException | None = None
        self.cancelled = False
        self.cond = threading.Condition()

    def take(self) -> tuple[int, int] | None:
        """The first pending pair that may run now (waiting for one), or None when none is left."""
        with self.cond:
            while self.pending and not self.cancelled:
                for i, (a, c) in enumerate(self.pending):
                    if a != c and self.seeding:
                        break  # the off-diagonal pairs wait for every seed
                    if a not in self.busy and c not in self.busy:
                        self.busy.update((a, c))
                        return self.pending.pop(i)
                self.cond.wait()
            return None

    def done(self, pair: tuple[int, int]) -> None:
        with self.cond:
            self.busy.difference_update(pair)
            self.seeding -= pair[0] == pair[1]
            for blk in set(pair):
                self.left[blk] -= 1
            self.cond.notify_all()

    def wait_block(self, a: int) -> None:
        """Wait until every pair of block ``a`` is done (re-raising a worker's error)."""
        with self.cond:
            self.cond.wait_for(lambda: self.left[a] == 0 or self.error is not None)
            if self.error is not None:
                raise self.error

    def fail(self, exc: BaseException) -> None:
        with self.cond:
            self.error, self.cancelled = exc, True
            self.cond.notify_all()

    def cancel(self) -> None:
        with self.cond:
            self.cancelled = True
            self.cond.notify_all()
