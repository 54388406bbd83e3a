"""Exact blocked search: ``K`` neighbors of any subset of the rows, under a memory budget.

The search has two stages per block of ``b`` query rows:

1. **Coarse selection** with BLAS matrix products in the working dtype (float32 by default). The
   database rows are *prepared* once so that one product gives a score that is smaller for closer
   rows, with no further pass over the ``b x n`` scores:

   - euclidean: ``s(q, x) = ||x||^2 - 2 <q, x>`` as ``[-2q, 1] . [x, ||x||^2]`` (the query's own
     norm is a per-row constant);
   - cosine: ``s(q, x) = -<q/||q||, x/||x||>``;
   - inner: ``s(q, x) = -<q, x>``.

   When the whole ``b x n`` block of scores fits the memory budget and ``kk = k + margin`` is
   not small, one product per block gives it and one ``torch.topk`` its ``kk`` smallest scores
   (ties to the lower index). Otherwise the database is walked in chunks of columns. The first
   chunk gives every query row its ``kk`` smallest scores exactly. Every later chunk is only
   *compared* with the row's current ``kk``-th smallest score ``t``: an entry is a candidate iff
   its score is ``< t`` (strictly: an equal score in a later chunk has a higher index and loses the
   tie). The few candidates are found through the comparison mask read as 64-bit words and merged
   with a stable sort (:mod:`pairspace.neighbors.selection`).
2. **Refinement**: a rounding-error bound on the coarse scores (see
   :meth:`ExactSearcher.search_block`) tells which candidates can still be in the top ``k`` (a
   row that needs more than its ``kk`` is searched again with more) and which can be out of order.
   Their distances are recomputed in float64 directly from the input rows, then sorted by
   ``(distance, index)`` (:mod:`pairspace.neighbors.refine`).

The item itself is always excluded by index, also when it has duplicates. No ``n x n`` matrix is
built: the scratch memory is ``b x chunk`` scores plus the ``n x k`` result. An in-memory input gets
one prepared copy in the working dtype; a :class:`numpy.memmap` input is streamed chunk by chunk.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import resolve_memory_budget, rows_per_block
from . import _core
from ._core import (
    _matmul_into,
    _prepare_base,
    _prepare_queries,
    _row_norms_sq,
    check_nonzero_rows,
    is_out_of_core,
    working_dtype,
)
from .device import device_candidates, device_copy
from .refine import _finish_coarse, candidate_width, finish_candidates, refined_distances
from .selection import RowState
from .symmetric import symmetric_candidates, symmetric_operands

DEFAULT_CHUNK_ROWS = 2048  # database rows per matrix product (b x 2048 scores stay in cache)
FIRST_CHUNK_ROWS = 2048  # database rows of the first product (fully sorted to seed the thresholds)
MAX_QUERY_BLOCK = 2048  # query rows per block for in-memory inputs (streamed inputs may use more)
FULL_WIDTH_MIN_ROWS = 512  # query rows whose whole score rows must fit the budget for one-chunk blocks
FULL_WIDTH_MIN_KK = 32  # below, chunked threshold passes beat one topk of the whole row
TORCH_MIN_WORK = 2e10  # n * n * d above which torch is imported (if installed) for the products


@dataclass
class ExactSearcher:
    """Exact blocked search of ``K`` neighbors for any subset of the rows of ``X`` (reusable).

    Build it once, then call :meth:`search` on blocks of query rows (what :func:`knn`, the dask
    backend and the recall check of approximate backends do).

    Parameters
    ----------
    X0 : numpy.ndarray, shape (n, d)
        Validated input (array or memmap).
    k : int
        Neighbors per query.
    metric : str
        ``"cosine"``, ``"euclidean"`` or ``"inner"``.
    dtype : numpy dtype
        Working dtype of the products.
    refine : bool
        Float64 refinement of ``k + margin`` candidates.
    chunk_rows : int or None
        Database rows per matrix product. ``None``: the whole database in one product per query
        block (its ``kk`` smallest scores then come from one ``torch.topk``, with no threshold
        passes and no merges) when torch is loaded, the data is in memory, at least
        ``FULL_WIDTH_MIN_ROWS`` whole rows of scores fit in ``memory_budget`` and
        ``kk >= FULL_WIDTH_MIN_KK`` (for fewer candidates the chunked threshold passes are
        faster: 1.75 s against 1.96 s for k = 10 at n = 20,000, d = 512; 3.27 s against 2.58 s for
        k = 100); else ``DEFAULT_CHUNK_ROWS``.
    stream : bool or None
        Prepare database chunks on the fly instead of keeping a prepared copy (default: only for
        memmaps, which stay out of core).
    memory_budget : int or None
        Bytes of scratch memory per query block (used to choose ``chunk_rows`` and the blocks;
        None: the configured setting, :func:`pairspace.set_config`, read when the searcher is
        built).
    exact_distances : bool
        Float64 distances for all neighbors (default); otherwise only where the float32 order is
        uncertain (the neighbors and their order are the same; see :meth:`search_block`).
    device : str or None
        A torch device (e.g. ``"cuda"``): the prepared database is copied there once and every
        query block's whole rows of scores and their ``topk`` are computed there; the certified
        window and the float64 refinement run on the CPU as for the other paths.
    symmetric : bool or None
        Self-search with symmetric block products (:mod:`pairspace.neighbors.symmetric`): half
        the flops, the same neighbors in the same order. ``None``: for in-memory data on the CPU
        with more than one block of rows (:meth:`symmetric_block_rows`). Only
        :func:`~pairspace.neighbors.api.search_all` uses it; :meth:`search` of any rows works either
        way.
    few_queries : bool
        The searcher will see a few thousand query rows, not all ``n`` (the recall checks of the
        approximate backends): the one-sided path then never imports torch, whose 1-2 s import
        does not pay there (2,000 GloVe words among 400,000: 1.22 s with torch, 1.26 s without,
        after an import of 1.4 s).
    """

    X0: np.ndarray
    k: int
    metric: str
    dtype: np.dtype = field(default_factory=lambda: np.dtype(np.float32))
    refine: bool = True
    chunk_rows: int | None = DEFAULT_CHUNK_ROWS
    stream: bool | None = None
    memory_budget: int | None = None
    exact_distances: bool = True
    device: str | None = None
    symmetric: bool | None = None
    few_queries: bool = False
    kk: int = field(default=0, init=False)
    widened: int = field(default=0, init=False)
    upcast: str | None = field(default=None, init=False)
    tied: int = field(default=0, init=False)
    _base: np.ndarray | None = field(default=None, init=False, repr=False)
    _sq: np.ndarray | None = field(default=None, init=False, repr=False)
    _scratch: threading.local = field(default_factory=threading.local, init=False, repr=False)
    _device_base: Any = field(default=None, init=False, repr=False)
    _operands: tuple[np.ndarray, np.ndarray | None] | None = field(default=None, init=False,
                                                                  repr=False)

    def __post_init__(self) -> None:
        n = self.X0.shape[0]
        self.memory_budget = resolve_memory_budget(self.memory_budget)
        self._sq = check_nonzero_rows(self.X0) if self.metric == "cosine" else _row_norms_sq(self.X0)
        self.dtype, self.upcast = working_dtype(self._sq, self.dtype)
        self.kk = candidate_width(self.k, n, self.refine)
        if self.stream is None:
            self.stream = is_out_of_core(self.X0)
        if self.symmetric is None:
            self.symmetric = (self.device is None and not self.stream
                              and n > self.symmetric_block_rows(self.memory_budget))
        elif self.symmetric and (self.device is not None or self.stream):
            raise ValueError("symmetric=True needs in-memory data on the CPU (no device, no stream)")
        work = float(n) * n * self.X0.shape[1]
        if not self.symmetric and not self.few_queries and work > TORCH_MIN_WORK:
            # worth its import time for the one-sided path: faster threaded products and topk
            # (the symmetric path is as fast with numpy's BLAS, so a fresh process skips it)
            _core._torch(load=True)
        if self.chunk_rows is None:
            whole_rows = rows_per_block(self.memory_budget, n * (self.dtype.itemsize + 1))
            full = (not self.stream and _core._torch() is not None
                    and whole_rows >= FULL_WIDTH_MIN_ROWS and self.kk >= FULL_WIDTH_MIN_KK)
            self.chunk_rows = n if full else DEFAULT_CHUNK_ROWS
        # the first chunk must hold kk candidates besides the query itself
        self.chunk_rows = int(min(n, max(self.chunk_rows, self.kk + 1)))
        if self.device is not None:
            self._device_base = device_copy(self.X0, self.metric, self.dtype, self._sq, self.device)
            self.chunk_rows = n
        elif self.symmetric:
            self._operands = symmetric_operands(self.X0, self.metric, self.dtype, self._sq)
        elif not self.stream:
            self._base = _prepare_base(np.asarray(self.X0), self.metric, self.dtype, self._sq)

    def _chunks(self, kk: int) -> Iterator[tuple[int, np.ndarray]]:
        """Prepared database chunks ``(start, rows)``. The first chunk is small (a partial sort
        gives the first thresholds of ``kk`` candidates, cheaply); the others only need a
        comparison."""
        n, c = self.X0.shape[0], self.chunk_rows
        first = n if c >= n else min(n, max(kk + 1, min(c, FIRST_CHUNK_ROWS)))
        bounds = [0, *range(first, n, c), n]
        for s, e in zip(bounds[:-1], bounds[1:], strict=True):
            if self._base is not None:
                yield s, self._base[s:e]
            else:
                yield s, _prepare_base(np.asarray(self.X0[s:e]), self.metric, self.dtype,
                                       self._sq[s:e])

    def _buffer(self, name: str, b: int, dtype: np.dtype) -> np.ndarray:
        """A ``(b, chunk_rows)`` scratch array, kept per thread and reused by the next query
        blocks (a fresh allocation of this size costs page faults on every block)."""
        buf = getattr(self._scratch, name, None)
        if buf is None or buf.shape[0] < b:
            buf = np.empty((b, self.chunk_rows), dtype=dtype)
            setattr(self._scratch, name, buf)
        return buf[:b]

    def candidates(self, q_rows: np.ndarray, kk: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``kk`` (default ``self.kk``) smallest selection scores of every query row and their
        indices, sorted by ``(score, index)``, the query itself excluded."""
        q_rows = np.asarray(q_rows, dtype=np.int64)
        b, kk = q_rows.size, self.kk if kk is None else kk
        if self._device_base is not None:
            return device_candidates(self, q_rows, kk)
        if self._base is not None and self.metric != "euclidean":
            Qp = -self._base[q_rows]
        else:
            Qp = _prepare_queries(np.asarray(self.X0[q_rows]), self.metric, self.dtype,
                                  self._sq[q_rows])
        buf = self._buffer("scores", b, self.dtype)
        state = RowState(kk)
        for c0, C in self._chunks(kk):
            w = C.shape[0]
            S = buf if w == self.chunk_rows else np.empty((b, w), dtype=self.dtype)
            _matmul_into(Qp, C, S)
            mine = np.flatnonzero((q_rows >= c0) & (q_rows < c0 + w))
            S[mine, q_rows[mine] - c0] = np.inf  # exclude the item itself by index
            m = self._buffer("mask", b, np.dtype(bool)) if w == self.chunk_rows else \
                np.empty((b, w), dtype=bool)
            state.feed(S, c0, m)
        return state.result()

    def search(self, q_rows: np.ndarray, pre: tuple[np.ndarray, np.ndarray] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """``(indices, distances)`` of shape (b, k) for the query rows ``q_rows`` (``pre``: their
        coarse candidates when already known, see :meth:`search_block`)."""
        indices, distances, widened, tied = self.search_block(q_rows, pre)
        self.widened += widened
        self.tied += tied
        return indices, distances

    def search_block(self, q_rows: np.ndarray, pre: tuple[np.ndarray, np.ndarray] | None = None
                     ) -> tuple[np.ndarray, np.ndarray, int, int]:
        r"""Like :meth:`search`, also returning the number of rows searched again with more
        candidates and the number of rows whose ``k``-th distance is tied with an item left out
        (with ``refine``; else 0), thread-safe.

        A float32 product of length :math:`m` has error at most :math:`\gamma_m \sum_i |a_i b_i|`
        with :math:`\gamma_m = m u / (1 - m u)` and :math:`u` the unit roundoff (Higham, *Accuracy
        and Stability of Numerical Algorithms*, 2002, §3.1). With that bound ``e`` on every coarse
        score (:meth:`score_bound`):

        - any item of the exact top ``k`` has a coarse score at most ``s_(k) + 2e`` (``s_(k)``: the
          ``k``-th smallest coarse score), so only that *window* of the sorted candidates matters.
          A row whose window reaches the last of its ``kk`` candidates is searched again with
          twice as many (until the window ends inside them), so every row is exact;
        - two candidates whose coarse scores differ by more than ``2e`` are in the right order. So
          the window splits at every gap wider than ``2e`` of the sorted coarse scores into groups
          whose order is certain; only the members of groups of two or more can be out of order.

        With ``exact_distances`` every window candidate gets its float64 distance; without it only
        the members of those groups do (about half of them at d = 512), which gives the same
        neighbors in the same order, the other distances keeping the working dtype's rounding.

        ``pre`` are the rows' coarse candidates ``(scores, indices)`` of the symmetric product
        (:func:`~pairspace.neighbors.symmetric.symmetric_candidates`) when already computed.
        """
        q_rows = np.asarray(q_rows, dtype=np.int64)
        qsq = self._sq[q_rows]
        if not self.refine:
            vals, cand = self._coarse(q_rows, pre)
            coarse = _finish_coarse(vals, qsq, self.metric)
            ind, dist = finish_candidates(self.X0, q_rows, cand, self.k, self.metric, coarse=coarse)
            return ind, dist, 0, 0
        gap = 2.0 * self.score_bound(q_rows, symmetric=pre is not None)[:, None]
        v, cand, inside, widened = self._window(q_rows, gap, pre)  # widened rows: one-sided gap
        if self.exact_distances:
            ind, dist, tied = finish_candidates(self.X0, q_rows, cand, self.k, self.metric,
                                                sq=self._sq, ties=True)
            return ind, dist, widened, tied
        with np.errstate(invalid="ignore"):  # inf - inf past a row's window
            link = np.diff(v, axis=1) <= gap  # neighbors in the coarse order that may be swapped
        need = np.zeros(v.shape, dtype=bool)
        need[:, 1:] = link
        need[:, :-1] |= link
        need &= inside
        dist = np.where(inside, _finish_coarse(v, qsq, self.metric), np.inf)
        refined = refined_distances(self.X0, q_rows, cand, self.metric, sq=self._sq, mask=need)
        dist[need] = refined[need]
        ind, dist, tied = finish_candidates(self.X0, q_rows, cand, self.k, self.metric,
                                            coarse=dist, ties=True)
        return ind, dist, widened, tied

    def _coarse(self, q_rows: np.ndarray, pre: tuple[np.ndarray, np.ndarray] | None
                ) -> tuple[np.ndarray, np.ndarray]:
        """The rows' coarse candidates as float64 one-sided scores (``||x||^2 - 2 <q, x>`` for
        euclidean: the symmetric squared distance less the query's squared norm) and indices."""
        if pre is None:
            vals, cand = self.candidates(q_rows)
            return vals.astype(np.float64), cand
        vals, cand = pre
        v = vals.astype(np.float64)
        if self.metric == "euclidean":
            v -= self._sq[q_rows][:, None]
        return v, cand

    def _window(self, q_rows: np.ndarray, gap: np.ndarray,
                pre: tuple[np.ndarray, np.ndarray] | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Sorted coarse candidates ``(scores in float64, indices, inside the window)``, cut to the
        widest window of the block, and the number of rows searched again with more candidates.
        Missing entries of rows whose window is narrower have index ``-1`` and score ``inf``."""
        n, k = self.X0.shape[0], self.k
        v, cand = self._coarse(q_rows, pre)
        inside = v <= v[:, k - 1 : k] + gap
        kk = v.shape[1]
        redo = np.flatnonzero(inside[:, -1]) if kk < n - 1 else np.empty(0, dtype=np.int64)
        widened = int(redo.size)
        while redo.size:
            kk = min(n - 1, 2 * kk)
            grow = ((0, 0), (0, kk - v.shape[1]))
            v = np.pad(v, grow, constant_values=np.inf)
            cand = np.pad(cand, grow, constant_values=-1)
            inside = np.pad(inside, grow, constant_values=False)
            vals, c2 = self.candidates(q_rows[redo], kk)  # one-sided products and their bound
            v[redo], cand[redo] = vals, c2
            gap[redo] = 2.0 * self.score_bound(q_rows[redo])[:, None]
            inside[redo] = v[redo] <= v[redo, k - 1 : k] + gap[redo]
            redo = redo[inside[redo, -1]] if kk < n - 1 else redo[:0]
        width = int(max(k, inside.sum(axis=1).max()))
        return v[:, :width], cand[:, :width], inside[:, :width], widened

    def score_bound(self, q_rows: np.ndarray, symmetric: bool = False) -> np.ndarray:
        r"""Bound ``e`` on the error of every coarse score of the query rows (see
        :meth:`search_block`), from the largest row norm of the data.

        One-sided products of length :math:`m = d + 2` (prepared rows): :math:`c = \gamma_m + 3u`
        times the bound of :math:`\sum_i |a_i b_i|`. The symmetric euclidean score
        :math:`\mathrm{fl}(\mathrm{fl}(n_q + n_x) - 2 \mathrm{fl}(q \cdot x))` (float32 squared
        norms :math:`n`) errs by at most :math:`2 \gamma_d \|q\| \|x\|` in the product plus
        :math:`3u (\|q\| + \|x\|)^2` in the norms, the sum and the difference; with
        :math:`2 \|q\| \|x\| \le (\|q\| + \|x\|)^2 / 2` that is
        :math:`(\gamma_d / 2 + 3u) (\|q\| + \|x\|)^2`, about half the one-sided bound
        (``symmetric``: the scores come from the symmetric products).
        """
        assert self._sq is not None
        d = self.X0.shape[1]
        u = float(np.finfo(self.dtype).eps) / 2

        def gamma(m: int) -> float:
            return m * u / (1 - m * u)

        c = (gamma(d + 2) + 3 * u) * 1.01
        xmax = float(np.sqrt(self._sq.max()))
        qn = np.sqrt(self._sq[q_rows])
        if self.metric == "euclidean" and symmetric:
            return (gamma(d) / 2 + 3 * u) * 1.01 * (qn + xmax) ** 2
        if self.metric == "euclidean":
            return c * (2.0 * qn * xmax + xmax * xmax)
        if self.metric == "cosine":
            return np.full(q_rows.size, c * 1.01)
        return c * qn * xmax

    def symmetric_block_rows(self, memory_budget: int | None = None,
                             block_size: int | None = None) -> int:
        """Rows per block of the symmetric products: ``block_size`` when given, else a square
        block of scores and its mask within ``memory_budget`` (None: the searcher's own; at most
        ``MAX_QUERY_BLOCK``); always at least ``kk + 1``."""
        if block_size is None:
            budget = self.memory_budget if memory_budget is None else memory_budget
            side = int(np.sqrt(rows_per_block(budget, self.dtype.itemsize + 1)))
            block_size = min(MAX_QUERY_BLOCK, side)
        return int(max(block_size, self.kk + 1))

    def symmetric_blocks(self, block_rows: int) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
        """The coarse candidates of every query block of the symmetric search, block by block
        (see :func:`~pairspace.neighbors.symmetric.symmetric_candidates`)."""
        if self._operands is None:
            raise ValueError("this searcher was built with symmetric=False")
        return symmetric_candidates(*self._operands, self.kk, block_rows)

    def query_block_rows(self, memory_budget: int | None = None) -> int:
        """Query rows per block under ``memory_budget`` bytes of scratch memory (None: the
        searcher's own)."""
        return query_block_rows(self.X0.shape[0], self.X0.shape[1], self.kk, self.chunk_rows,
                                self.dtype.itemsize, bool(self.stream),
                                self.memory_budget if memory_budget is None else memory_budget)


def query_block_rows(n: int, d: int, kk: int, chunk_rows: int, itemsize: int, stream: bool,
                     memory_budget: int) -> int:
    """Query rows per block of the exact search under ``memory_budget`` bytes of scratch memory.

    Per query row: a chunk of scores (working dtype) and its mask (1 byte per entry), the prepared
    query, the candidates, and for streamed inputs the gathered candidate rows (``kk x d``). The
    in-memory refinement works a few rows at a time and needs no per-row budget.
    """
    chunk = min(n, max(chunk_rows, kk + 1))
    per_row = chunk * (itemsize + 1) + (d + 1) * itemsize + kk * 24 + (kk * d * 8 if stream else 0)
    cap = 8 * MAX_QUERY_BLOCK if stream else MAX_QUERY_BLOCK
    return rows_per_block(memory_budget, per_row, n_rows=n, cap=cap)


def query_blocks(n: int, block_size: int) -> Iterator[tuple[int, int]]:
    """Yield ``(start, stop)`` blocks of ``block_size`` query rows."""
    for s in range(0, n, block_size):
        yield s, min(n, s + block_size)

