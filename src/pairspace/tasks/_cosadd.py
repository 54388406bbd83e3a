r"""Exact 3CosAdd answers without keeping a score row per question.

With the C kernels (:mod:`pairspace.neighbors.kernels`), every word is scored for every question in
blocked products whose entries go straight into a heap of the ``TOP_CANDIDATES`` best words per
question; the answer is the first of them that is not one of the question's words (the rare
question whose every kept word is excluded is scored again in full). Without them:

For unit word vectors :math:`w` and a question "a is to b as c is to ?",

.. math:: s_q(x) = \cos(x, b) - \cos(x, a) + \cos(x, c) = D_{ab}(x) + G_c(x),

with one row :math:`G_u = W w_u` per distinct question word and :math:`D_{ab} = G_b - G_a` per
distinct (a, b) pair (a set of 19,544 questions has about 900 words and 550 pairs). The question's
own words are set to :math:`-\infty` in its rows (``D_ab`` excludes a and b, ``G_c`` excludes c,
each with its case variants), so no per-candidate test is needed.

Each row gets thresholds :math:`\tau^{(1)} > \tau^{(2)} > \dots` with about ``L`` entries above
:math:`\tau^{(j)}` (levels ``LEVELS``, estimated on a strided sample of the columns; any value is a
valid threshold). At level j a question is scored exactly on the words above :math:`\tau^{(j)}_{ab}`
in its D row or above :math:`\tau^{(j)}_c` in its G row. Every other word scores at most
:math:`\tau^{(j)}_{ab} + \tau^{(j)}_c`, so a best candidate strictly above that bound is the exact
argmax over the whole vocabulary (this is the stopping rule of Fagin's threshold algorithm, Fagin,
Lotem & Naor, PODS 2001). Uncertified questions go on to the next level, and the few left after
the last level are scored against every word. Ties go to the lower row, as ``numpy.argmax``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

from .._validation import rows_per_block
from ..neighbors import kernels

LEVELS = (128, 512, 2048)  # candidates per row at each level
TOP_CANDIDATES = 8  # largest products kept per question by the C kernels (its words excluded after)
_STEP = 8  # column stride of the threshold sample


def _thresholds(M: np.ndarray, R: int) -> np.ndarray:
    """(rows x levels) thresholds, descending per row; -inf where a level covers the whole row."""
    out = np.full((M.shape[0], len(LEVELS)), -np.inf, dtype=M.dtype)
    sub = M[:, :R:_STEP]
    n = sub.shape[1]
    cols = [j for j, L in enumerate(LEVELS) if 4 * L < R]
    if cols and M.shape[0]:
        kth = [n - max(1, LEVELS[j] // _STEP) for j in cols]
        part = np.partition(sub, kth, axis=1)
        out[:, cols] = part[:, kth]
    return out


def _lists(M: np.ndarray, tau: np.ndarray, R: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per level: the columns above the threshold per row and the counts.

    Rows are padded with their own first column (a repeated candidate changes nothing), or with
    ``R`` when a row has none.
    """
    r, c = np.nonzero(M > tau[:, -1:])  # the deepest level once; the others filter it
    vals = M[r, c]
    out = []
    for j in range(tau.shape[1]):
        keep = vals > tau[r, j]
        rj, cj = r[keep], c[keep]
        counts = np.bincount(rj, minlength=M.shape[0])
        start = np.concatenate(([0], np.cumsum(counts)[:-1]))
        first = np.full(M.shape[0], R, dtype=np.int64)
        first[counts > 0] = cj[start[counts > 0]]
        pad = np.repeat(first[:, None], max(1, int(counts.max(initial=0))), axis=1)
        pad[rj, np.arange(rj.size) - start[rj]] = cj
        out.append((pad, counts))
    return out


def _row_lists(A: np.ndarray, W: np.ndarray, own: np.ndarray, variants: dict[int, np.ndarray],
               memory_budget: int) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """Thresholds and level lists of the score rows ``A @ W.T``, computed a few rows at a time.

    ``own[:, r]`` are the columns set to -inf in row ``r`` (the question words the row belongs to,
    with their case variants). Only the thresholds and the lists are kept, never the rows.
    """
    n, R = A.shape[0], W.shape[0]
    tau = np.empty((n, len(LEVELS)), dtype=W.dtype)
    parts: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in LEVELS]
    step = rows_per_block(memory_budget, 8 * R, n_rows=n, cap=256)
    buf = np.empty((step, R), dtype=W.dtype)  # one buffer: no fresh pages per block
    for s in range(0, n, step):
        M = np.matmul(A[s : s + step], W.T, out=buf[: min(step, n - s)])
        rows = np.arange(M.shape[0])
        for w in own[:, s : s + step]:
            M[rows, w] = -np.inf
            for i in np.flatnonzero(np.isin(w, list(variants))).tolist() if variants else ():
                M[i, variants[int(w[i])]] = -np.inf
        tau[s : s + M.shape[0]] = _thresholds(M, R)
        for j, part in enumerate(_lists(M, tau[s : s + M.shape[0]], R)):
            parts[j].append(part)
    lists = []
    for chunks in parts:
        width = max(p.shape[1] for p, _ in chunks)
        pad = np.concatenate([np.concatenate([p, np.repeat(p[:, :1], width - p.shape[1], axis=1)], axis=1)
                              for p, _ in chunks])
        lists.append((pad, np.concatenate([c for _, c in chunks])))
    return tau, lists


def _grouped(V: np.ndarray, Wx: np.ndarray, keys: np.ndarray, Q: np.ndarray, t: np.ndarray,
             group: np.ndarray, lists: np.ndarray, counts: np.ndarray, exclude: tuple[int, ...],
             memory_budget: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Best candidate of each question ``t`` among the list of its group (its D or its G row).

    The questions of one group share the candidate list, so their scores
    :math:`v_q \cdot w_x` are one small matrix product per group (batched over groups).
    """
    best = np.full(t.size, -np.inf, dtype=V.dtype)
    arg = np.zeros(t.size, dtype=np.int64)
    order = np.argsort(group[t], kind="stable")
    ug, first, size = np.unique(group[t[order]], return_index=True, return_counts=True)
    gid = np.repeat(np.arange(ug.size), size)  # group of each question, in ``order``
    rank = np.arange(t.size) - first[gid]  # its position in the group
    by_size = np.argsort(-size, kind="stable")
    d = V.shape[1]
    s = 0
    while s < ug.size:
        maxq, wid = int(size[by_size[s]]), max(1, int(counts[ug[by_size[s:]]].max()))
        step = rows_per_block(memory_budget, 4 * wid * (d + 4 * maxq))
        gsel = by_size[s : s + step]
        s += gsel.size
        QP = np.full((gsel.size, maxq), -1, dtype=np.int64)  # -1: the zero padding query
        slot = np.full(ug.size, -1, dtype=np.int64)
        slot[gsel] = np.arange(gsel.size)
        member = slot[gid] >= 0
        QP[slot[gid[member]], rank[member]] = order[member]
        C = lists[ug[gsel], :wid]
        tq = np.where(QP >= 0, t[QP], V.shape[0] - 1)
        S = np.matmul(V[tq], Wx[C].transpose(0, 2, 1))
        K = keys[C][:, None, :]
        mask = K == Q[tq, exclude[0]][:, :, None]
        for j in exclude[1:]:
            mask |= K == Q[tq, j][:, :, None]
        if (C == Wx.shape[0] - 1).any():  # rows without candidates
            mask |= (C == Wx.shape[0] - 1)[:, None, :]
        np.putmask(S, mask, -np.inf)
        pos = S.argmax(axis=2)  # the lists are sorted: the first maximum is the lowest row
        ok = QP >= 0
        idx = QP[ok]
        best[idx] = np.take_along_axis(S, pos[:, :, None], axis=2)[:, :, 0][ok]
        arg[idx] = np.take_along_axis(C, pos, axis=1)[ok]
    return best, arg


def answer(W: np.ndarray, Q: np.ndarray, key_of_row: np.ndarray, variants: dict[int, np.ndarray],
           memory_budget: int) -> np.ndarray:
    """The 3CosAdd answer row of every question of ``Q`` (rows of key indices ``a b c d``).

    ``W`` holds the unit rows of the candidate vocabulary; ``key_of_row`` the key row of every row
    and ``variants`` the later rows of each key's case variants. The candidate lists of ``Q``'s
    rows must fit the memory budget (the caller splits the questions).
    """
    R, d = W.shape
    V = np.empty((Q.shape[0] + 1, d), dtype=W.dtype)  # the query vectors and a zero padding row
    np.subtract(W[Q[:, 1]], W[Q[:, 0]], out=V[:-1])
    V[:-1] += W[Q[:, 2]]
    V[-1] = 0
    pred = np.full(Q.shape[0], -1, dtype=np.int64)
    top = kernels.largest_products(V[:-1], W, TOP_CANDIDATES)
    if top is not None:  # the C heaps: every word scored, no score row kept
        todo = _first_allowed(top[1], Q, variants, pred)
    elif LEVELS:
        todo = _certified(W, Q, V, key_of_row, variants, memory_budget, pred)
    else:
        todo = np.arange(Q.shape[0])
    step = rows_per_block(memory_budget, 4 * R)
    for s in range(0, todo.size, step):  # every word for the questions left
        t = todo[s : s + step]
        S = V[t] @ W.T
        _exclude(S, Q[t], variants)
        pred[t] = np.argmax(S, axis=1)
    return pred


def _certified(W: np.ndarray, Q: np.ndarray, V: np.ndarray, key_of_row: np.ndarray,
               variants: dict[int, np.ndarray], memory_budget: int, pred: np.ndarray) -> np.ndarray:
    """Answer (into ``pred``) the questions certified at some level; return the others."""
    R, d = W.shape
    words, inv = np.unique(Q[:, :3], return_inverse=True)  # one G row per distinct word ...
    inv = inv.reshape(-1, 3)
    pairs, pinv = np.unique(inv[:, :2], axis=0, return_inverse=True)  # ... one D row per (a, b)
    pinv, ci = pinv.ravel(), inv[:, 2]
    tG, listsG = _row_lists(W[words], W, words[None, :], variants, memory_budget)
    tD, listsD = _row_lists(W[words[pairs[:, 1]]] - W[words[pairs[:, 0]]], W, words[pairs].T,
                            variants, memory_budget)
    Qx = np.vstack([Q, np.full((1, Q.shape[1]), -3, dtype=Q.dtype)])  # the padding question
    Wx = np.vstack([W, np.zeros((1, d), dtype=W.dtype)])  # row R: the padding of the lists
    keys = np.append(key_of_row, -2)
    margin = 64 * d * np.finfo(W.dtype).eps  # float rounding between the bound and the scores
    todo = np.arange(Q.shape[0])
    for j in range(len(LEVELS)):
        (LD, nD), (LG, nG) = listsD[j], listsG[j]
        with kernels.blas_one_thread() or contextlib.nullcontext():  # many small products
            bD, aD = _grouped(V, Wx, keys, Qx, todo, pinv, LD, nD, (2,), memory_budget)
            bG, aG = _grouped(V, Wx, keys, Qx, todo, ci, LG, nG, (0, 1), memory_budget)
        best = np.maximum(bD, bG)
        arg = np.where(bD > bG, aD, np.where(bG > bD, aG, np.minimum(aD, aG)))
        ok = best > tD[pinv[todo], j] + tG[ci[todo], j] + margin
        pred[todo[ok]] = arg[ok]
        todo = todo[~ok]
        if not todo.size:
            break
    return todo


def _first_allowed(top: np.ndarray, q: np.ndarray, variants: dict[int, np.ndarray],
                   pred: np.ndarray) -> np.ndarray:
    """Answer (into ``pred``) each question with its first candidate of ``top`` (the rows of the
    largest scores, best first, ties to the lower row) that is none of its words a, b, c or their
    case variants; return the questions whose candidates all are."""
    banned = (top[:, :, None] == q[:, None, :3]).any(axis=2)
    for t, rows in _variant_rows(q, variants):
        banned[t] |= np.isin(top[t], rows)
    ok = ~banned
    has = ok.any(axis=1)
    first = np.argmax(ok, axis=1)
    pred[has] = top[has, first[has]]
    return np.flatnonzero(~has)


def _exclude(S: np.ndarray, q: np.ndarray, variants: dict[int, np.ndarray]) -> None:
    """Set the scores of each question's a, b, c (and their case variants) to -inf, in place."""
    rows = np.arange(q.shape[0])
    for j in range(3):
        S[rows, q[:, j]] = -np.inf
    for t, later in _variant_rows(q, variants):
        S[t, later] = -np.inf


def _variant_rows(q: np.ndarray, variants: dict[int, np.ndarray]) -> Iterator[tuple[int, np.ndarray]]:
    """``(question, rows)`` for every word a, b or c of a question that has case variants."""
    if not variants:
        return
    for t in np.flatnonzero(np.isin(q[:, :3], list(variants)).any(axis=1)).tolist():
        for key in q[t, :3].tolist():
            if key in variants:
                yield t, variants[key]
