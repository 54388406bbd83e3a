"""Selection kernels: the ``kk`` smallest scores of every row, ties to the lower index.

The exact search seeds each query row with the ``kk`` smallest scores of a first chunk of the
database (:func:`select_smallest_sorted`: ``torch.topk`` when torch is loaded, else
``argpartition``, with tied rows redone exactly), then compares every later chunk with the row's
current ``kk``-th score (:func:`_threshold_hits`, reading the comparison mask as 64-bit words) and
merges the few hits with a stable sort (:func:`_merge_hits`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import _core


def select_smallest(S: np.ndarray, kk: int) -> np.ndarray:
    """Indices of the ``kk`` smallest entries of every row, ties going to the lower column index.

    The result is unsorted within a row. The fast path is one ``argpartition``; only the rows whose
    boundary value is tied with an unselected entry are redone exactly.
    """
    b, n = S.shape
    if kk >= n:
        return np.broadcast_to(np.arange(n), (b, n)).copy()
    idx = np.argpartition(S, kk - 1, axis=1)[:, :kk]
    rows = np.arange(b)[:, None]
    vals = S[rows, idx]
    t = vals.max(axis=1)
    n_at_t = (S == t[:, None]).sum(axis=1)
    n_sel_at_t = (vals == t[:, None]).sum(axis=1)
    n_below = (vals < t[:, None]).sum(axis=1)
    # A tie crosses the boundary when some entry equal to t is left out, or when the selected
    # entries equal to t are not the lowest-index ones among all entries equal to t.
    for r in np.flatnonzero(n_at_t > n_sel_at_t):
        row = S[r]
        below = np.flatnonzero(row < t[r])
        at = np.flatnonzero(row == t[r])[: kk - n_below[r]]
        idx[r] = np.concatenate([below, at])
    return idx

def _lex_sorted(vals: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort every row of ``(vals, idx)`` by value, then by index."""
    order = np.lexsort((idx, vals), axis=1)
    return np.take_along_axis(vals, order, axis=1), np.take_along_axis(idx, order, axis=1)


def select_smallest_sorted(S: np.ndarray, kk: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``kk`` smallest entries of every row as ``(values, column indices)``, sorted by
    ``(value, index)``, ties going to the lower index.

    Uses ``torch.topk`` (several times faster than ``argpartition``) when torch is installed; a row
    whose ``kk``-th and ``(kk+1)``-th values are equal is redone exactly with :func:`select_smallest`.
    """
    b, n = S.shape
    torch = _core._torch()
    if torch is None or kk >= n or not S.flags.c_contiguous or not S.flags.writeable:
        idx = select_smallest(S, kk)
        return _lex_sorted(np.take_along_axis(S, idx, axis=1), idx.astype(np.int64))
    vals_t, idx_t = torch.topk(torch.from_numpy(S), kk + 1, dim=1, largest=False, sorted=True)
    return _exact_topk(vals_t.numpy(), idx_t.numpy(), kk, lambda rows: S[rows])


def _exact_topk(vals: np.ndarray, idx: np.ndarray, kk: int,
                score_rows: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The ``kk`` smallest ``(value, index)`` pairs from a ``topk`` of ``kk + 1`` sorted by value.

    A row whose ``kk``-th and ``(kk+1)``-th values are equal is redone with :func:`select_smallest`
    on its full scores (``score_rows(rows)``); the rows holding equal values are reordered by index
    (``topk`` orders ties arbitrarily).
    """
    tied = np.flatnonzero(vals[:, kk - 1] == vals[:, kk])
    vals, idx = vals[:, :kk].copy(), idx[:, :kk].astype(np.int64)
    if tied.size:
        S = score_rows(tied)
        sel = select_smallest(S, kk)
        vals[tied], idx[tied] = _lex_sorted(np.take_along_axis(S, sel, axis=1), sel)
    equal = np.flatnonzero((vals[:, 1:] == vals[:, :-1]).any(axis=1))
    if equal.size:
        vals[equal], idx[equal] = _lex_sorted(vals[equal], idx[equal])
    return vals, idx


def _mask_hits(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a sparse 2-D boolean mask, reading it as 64-bit words (much faster)."""
    b, w = mask.shape
    if w % 8 or not mask.flags.c_contiguous:
        return np.nonzero(mask)
    words = np.flatnonzero(mask.view(np.uint64).ravel() != 0)  # != 0 first: 3x faster
    sub_r, sub_j = np.nonzero(mask.reshape(-1, 8)[words])
    flat = words[sub_r] * 8 + sub_j
    return flat // w, flat % w


def _threshold_hits(S: np.ndarray, t: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero(S < t)`` for a per-row threshold column ``t`` (or a per-column row ``t``), in
    row slices of about 2 MiB so that the comparison and the word scan of its mask stay in cache."""
    b = S.shape[0]
    step = max(1, 2**19 // max(1, S.shape[1]))
    per_row = t.shape[0] == b  # else one threshold per column (a row vector)
    rs, js = [], []
    for s in range(0, b, step):
        e = min(b, s + step)
        np.less(S[s:e], t[s:e] if per_row else t, out=mask[s:e])
        r, j = _mask_hits(mask[s:e])
        rs.append(r + s)
        js.append(j)
    return np.concatenate(rs), np.concatenate(js)


def _merge_hits(best_v: np.ndarray, best_i: np.ndarray, r: np.ndarray, v: np.ndarray,
                j: np.ndarray) -> None:
    """Merge new candidates ``(row r, value v, index j)`` into the per-row sorted
    ``(best_v, best_i)``, in place. Within a row, the new candidates must come after the current
    ones in index order and, among equal values, in index order."""
    kk = best_v.shape[1]
    rows, start, counts = np.unique(r, return_index=True, return_counts=True)
    width = kk + int(counts.max())
    mv = np.full((rows.size, width), np.inf, dtype=best_v.dtype)
    mi = np.zeros((rows.size, width), dtype=np.int64)
    mv[:, :kk] = best_v[rows]
    mi[:, :kk] = best_i[rows]
    slot = kk + np.arange(r.size) - np.repeat(start, counts)
    pos = np.repeat(np.arange(rows.size), counts)
    mv[pos, slot] = v
    mi[pos, slot] = j
    # A stable sort by value keeps the current entries (lower indices) ahead of equal new ones.
    order = np.argsort(mv, axis=1, kind="stable")[:, :kk]
    best_v[rows] = np.take_along_axis(mv, order, axis=1)
    best_i[rows] = np.take_along_axis(mi, order, axis=1)


def _merge_pending(best_v: np.ndarray, best_i: np.ndarray,
                   pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
    """Merge hits of several chunks (in chunk order) into ``(best_v, best_i)``, in place."""
    r = np.concatenate([p[0] for p in pending])
    order = np.argsort(r, kind="stable")  # by row; chunk (index) order kept within a row
    _merge_hits(best_v, best_i, r[order], np.concatenate([p[1] for p in pending])[order],
                np.concatenate([p[2] for p in pending])[order])

def _smallest_by_value_then_index(vals: np.ndarray, idx: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` smallest ``(value, index)`` pairs of every row, in that order.

    A stable argsort (fast on nearly sorted rows); only rows with equal values among their first
    ``k + 1`` are redone with a lexsort, so that those ties go to the lower index.
    """
    order = np.argsort(vals, axis=1, kind="stable")
    head = np.take_along_axis(vals, order[:, : k + 1], axis=1)
    tied = np.flatnonzero((head[:, 1:] == head[:, :-1]).any(axis=1))
    if tied.size:
        order[tied] = np.lexsort((idx[tied], vals[tied]), axis=1)
    return order[:, :k]


@dataclass
class RowState:
    """The running ``kk`` smallest ``(score, index)`` pairs of a block of query rows.

    Chunks of scores against database rows are fed in increasing database order
    (:meth:`feed`). The first chunk is selected exactly; every later one is only compared with
    each row's current ``kk``-th score ``t``: an entry is a candidate iff its score is ``< t``
    (an equal score in a later chunk has a higher index and loses the tie). Hits wait in
    ``pending`` and are merged once they rival the kept candidates in number (a merge re-sorts
    all ``kk`` kept entries); comparing with a stale threshold stays exact, as it is never below
    the current one.
    """

    kk: int
    best_v: np.ndarray | None = None
    best_i: np.ndarray | None = None
    pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    n_pending: int = 0

    def feed(self, S: np.ndarray, c0: int, mask: np.ndarray, transposed: bool = False) -> None:
        """Scores ``S`` of the query rows (its rows; its columns when ``transposed``) against the
        database rows ``c0, c0 + 1, ...``; ``mask`` is boolean scratch of the shape of ``S``."""
        T = S.T if transposed else S
        b, w = T.shape
        kk = self.kk
        if self.best_v is None:
            self.best_v, best_i = select_smallest_sorted(np.ascontiguousarray(T), kk)
            self.best_i = best_i.astype(np.int64) + c0
            return
        t = self.best_v[:, -1]
        if transposed:
            j, r = _threshold_hits(S, t[None, :], mask)
        else:
            r, j = _threshold_hits(S, t[:, None], mask)
        if r.size > 4 * b * kk:  # many hits (adversarial order): select within the chunk first
            cv, ci = select_smallest_sorted(np.ascontiguousarray(T), min(kk, w))
            r = np.repeat(np.arange(b), cv.shape[1])
            v, j = cv.ravel(), ci.ravel().astype(np.int64)
            keep = v < np.repeat(t, cv.shape[1])
            r, v, j = r[keep], v[keep], j[keep]
        else:
            v = T[r, j]
        if r.size:
            self.pending.append((r, v, j + c0))
            self.n_pending += r.size
        if self.n_pending >= b * kk:
            self.flush()

    def flush(self) -> None:
        """Merge the pending hits into the kept candidates."""
        if self.pending:
            _merge_pending(self.best_v, self.best_i, self.pending)
        self.pending, self.n_pending = [], 0

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """The ``kk`` smallest ``(scores, indices)`` of every row, sorted by ``(score, index)``."""
        assert self.best_v is not None and self.best_i is not None
        self.flush()
        return self.best_v, self.best_i
