r"""Blocked cosine scans for pseudo-pair curation (never a full ``|audio| x |text|`` matrix).

The cosine of rows :math:`a_i` and :math:`b_j` is computed as

.. math:: s_{ij} = \frac{\langle a_i, b_j \rangle}{\lVert a_i \rVert_2 \, \lVert b_j \rVert_2}

from the raw vectors, one block of rows of ``A`` at a time, so every entry is the same number
whatever the block size (for small-integer vectors it is exact, which the tests use to put pairs
exactly on a threshold). Blocks are sized with :func:`pairspace._validation.rows_per_block`.

Quantile thresholds are exact order statistics of all :math:`|A| \cdot |B|` similarities, found
without storing them: each pass bins the values still in play into 256 bins (recording each bin's
count, minimum and maximum), keeps the bin holding the wanted rank, and a final pass collects the
values of that bin once they fit in the memory budget (or stops early when a bin holds a single
repeated value, an exact tie).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from .._progress import progress_bar
from .._validation import as_matrix, resolve_memory_budget, rows_per_block

_NBINS = 256


def prepare(X: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A float64 matrix and its row norms; an all-zero row is an error (no direction)."""
    M = as_matrix(getattr(X, "vectors", X), name, dtype=np.float64)
    norms = np.linalg.norm(M, axis=1)
    bad = np.flatnonzero(norms == 0)
    if bad.size:
        raise ValueError(f"{name} has {bad.size} all-zero row(s) (first row {int(bad[0])}); "
                         "their cosine similarity is undefined")
    return M, norms


def cosine_blocks(A: np.ndarray, na: np.ndarray, B: np.ndarray, nb: np.ndarray,
                  memory_budget: int | None = None, progress: bool | None = None,
                  desc: str = "cosine") -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start, S)`` with ``S = cos(A[start:start+b], B)`` for consecutive row blocks of
    at most ``memory_budget`` bytes (None: the configured setting, :func:`pairspace.set_config`)."""
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"the two tables must live in one space; got dimensions {A.shape[1]} and "
                         f"{B.shape[1]} (project both with the teacher first)")
    b = rows_per_block(resolve_memory_budget(memory_budget), 24 * max(1, B.shape[0]),
                       n_rows=A.shape[0])
    starts = range(0, A.shape[0], b)
    bar = progress_bar(starts, total=len(starts), desc=desc, progress=progress, unit="block")
    try:
        for s in bar:
            S = A[s:s + b] @ B.T
            S /= na[s:s + b, None] * nb[None, :]
            yield s, S
    finally:
        bar.close()


def _member(v: np.ndarray, levels: Sequence[tuple[float, float, int]]) -> np.ndarray:
    """Values of ``v`` that fall in the chosen bin at every level."""
    for lo, hi, b in levels:
        v = v[_bin(v, lo, hi) == b]
    return v


def _bin(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
    if hi <= lo:
        return np.zeros(v.shape, dtype=np.int64)
    idx = np.floor((v - lo) * (_NBINS / (hi - lo)))
    return np.clip(idx, 0, _NBINS - 1).astype(np.int64)


def order_statistics(scan: Callable[[], Iterator[np.ndarray]], n_total: int, ranks: Sequence[int],
                     memory_budget: int | None = None) -> dict[int, float]:
    """Exact order statistics (0-based ranks of the ascending order) of the values ``scan()`` yields.

    ``scan`` is called once per pass and yields 1-D float64 blocks that together hold all
    ``n_total`` values. At most ``memory_budget / 8`` values are held at once (None: the
    configured setting, :func:`pairspace.set_config`).
    """
    cap = max(_NBINS, resolve_memory_budget(memory_budget) // 8)
    state = {int(r): {"levels": [], "below": 0, "count": n_total, "lo": -1.5, "hi": 1.5}
             for r in ranks}
    out: dict[int, float] = {}
    for r in state:
        if not 0 <= r < n_total:
            raise ValueError(f"rank {r} is out of range for {n_total} values")
    while len(out) < len(state):
        pending = [r for r in state if r not in out]
        hist = {r: (np.zeros(_NBINS, np.int64), np.full(_NBINS, np.inf), np.full(_NBINS, -np.inf))
                for r in pending if state[r]["count"] > cap}
        got: dict[int, list[np.ndarray]] = {r: [] for r in pending if r not in hist}
        for v in scan():
            for r in pending:
                st = state[r]
                m = _member(v, st["levels"])
                if r in got:
                    got[r].append(m)
                    continue
                idx = _bin(m, st["lo"], st["hi"])
                cnt, mn, mx = hist[r]
                cnt += np.bincount(idx, minlength=_NBINS)
                np.minimum.at(mn, idx, m)
                np.maximum.at(mx, idx, m)
        for r, parts in got.items():
            vals = np.sort(np.concatenate(parts)) if parts else np.zeros(0)
            out[r] = float(vals[r - state[r]["below"]])
        for r, (cnt, mn, mx) in hist.items():
            st = state[r]
            cum = np.cumsum(cnt)
            b = int(np.searchsorted(cum, r - st["below"], side="right"))
            st["below"] += int(cum[b - 1]) if b > 0 else 0
            st["count"] = int(cnt[b])
            st["levels"].append((st["lo"], st["hi"], b))
            st["lo"], st["hi"] = float(mn[b]), float(mx[b])
            if mn[b] == mx[b]:  # one repeated value: an exact tie fills the bin
                out[r] = float(mn[b])
    return out


def quantiles(scan: Callable[[], Iterator[np.ndarray]], n_total: int, qs: Sequence[float],
              memory_budget: int | None = None) -> list[float]:
    r"""Exact quantiles (numpy's default ``linear`` method) of the values ``scan()`` yields.

    .. math:: Q(q) = v_{(\lfloor h \rfloor)} + (h - \lfloor h \rfloor)
              \bigl(v_{(\lceil h \rceil)} - v_{(\lfloor h \rfloor)}\bigr), \quad h = q (n - 1)

    with :math:`v_{(r)}` the order statistics (0-based), as ``numpy.quantile``; at most
    ``memory_budget / 8`` values are held at once (None: the configured setting).
    """
    if n_total < 1:
        raise ValueError("a quantile threshold needs at least one similarity value")
    pos = [n_total * q - q for q in qs]  # numpy's virtual index of the linear method
    ranks = sorted({int(math.floor(h)) for h in pos} | {int(math.ceil(h)) for h in pos})
    stats = order_statistics(scan, n_total, ranks, memory_budget)
    res = []
    for h in pos:
        lo, hi = stats[int(math.floor(h))], stats[int(math.ceil(h))]
        t = h - math.floor(h)
        res.append(hi - (hi - lo) * (1 - t) if t >= 0.5 else lo + (hi - lo) * t)  # numpy's lerp
    return res


def parse_threshold(spec: float | str) -> tuple[str, float]:
    """``0.75`` -> ``("value", 0.75)``; ``"q0.99"`` -> ``("quantile", 0.99)`` (validated)."""
    if isinstance(spec, str):
        s = spec.strip().lower()
        if s.startswith("q"):
            try:
                q = float(s[1:])
            except ValueError:
                raise ValueError(f"a quantile threshold is written q<fraction>, e.g. q0.99; got {spec!r}") \
                    from None
            if not 0.0 <= q <= 1.0:
                raise ValueError(f"quantile threshold {spec!r} must lie in [0, 1]")
            return "quantile", q
        try:
            spec = float(s)
        except ValueError:
            raise ValueError(f"threshold {spec!r} is neither a number nor a quantile like q0.99") from None
    if isinstance(spec, bool) or not isinstance(spec, int | float) or not np.isfinite(spec):
        raise ValueError(f"threshold must be a finite number or a quantile like 'q0.99'; got {spec!r}")
    if not -1.0 <= float(spec) <= 1.0:
        raise ValueError(f"a cosine threshold must lie in [-1, 1]; got {spec}")
    return "value", float(spec)


def resolve_thresholds(specs: Sequence[float | str], values: Any, n_total: int,
             memory_budget: int) -> list[float]:
    """Threshold values: numbers as given; quantiles of ``values`` (an array, or a ``scan`` callable)."""
    parsed = [parse_threshold(s) for s in specs]
    qs = [q for kind, q in parsed if kind == "quantile"]
    if qs:
        if callable(values):
            qv = iter(quantiles(values, n_total, qs, memory_budget))
        else:
            qv = iter(np.quantile(np.asarray(values, dtype=np.float64), qs).tolist())
    return [float(next(qv)) if kind == "quantile" else v for kind, v in parsed]


def sweep_rows(specs: Sequence[float | str], vals: Sequence[float],
                counts: Sequence[int]) -> list[dict[str, Any]]:
    """The rows of a threshold sweep: the threshold as given, its value, the pairs kept."""
    return [{"threshold": s, "value": v, "n_pairs": int(c)} for s, v, c in zip(specs, vals, counts,
                                                                               strict=True)]


def best_match(X: Any, Y: Any, names: tuple[str, str], memory_budget: int,
                progress: bool | None, desc: str) -> tuple[np.ndarray, np.ndarray]:
    """For each row of X: its best cosine to any row of Y and that row (ties: lower index)."""
    Xm, nx = prepare(X, names[0])
    Ym, ny = prepare(Y, names[1])
    best = np.empty(Xm.shape[0])
    arg = np.empty(Xm.shape[0], dtype=np.int64)
    for s, S in cosine_blocks(Xm, nx, Ym, ny, memory_budget, progress, desc):
        j = np.argmax(S, axis=1)
        arg[s:s + S.shape[0]] = j
        best[s:s + S.shape[0]] = S[np.arange(S.shape[0]), j]
    return best, arg


def _cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


def pair_scan(A: Any, B: Any, tau: float | str | None, top_k: int | None,
              sweep: Sequence[float | str], memory_budget: int, progress: bool | None,
              names: tuple[str, str], desc: str) -> tuple[Any, ...]:
    """Pairs of rows of ``A`` and ``B`` with cosine >= tau (or each A row's top_k), and the sweep."""
    Am, na = prepare(A, names[0])
    Bm, nb = prepare(B, names[1])
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int | np.integer)
                              or not 1 <= top_k <= Bm.shape[0]):
        raise ValueError(f"top_k must be an int in [1, {Bm.shape[0]}] (the number of texts); got {top_k!r}")
    if top_k is None and tau is None:
        raise ValueError("give a threshold tau or top_k")
    specs = ([] if tau is None or top_k is not None else [tau]) + list(sweep)

    def scan() -> Iterator[np.ndarray]:
        for _, S in cosine_blocks(Am, na, Bm, nb, memory_budget, progress, desc + " (quantiles)"):
            yield S.ravel()

    vals = resolve_thresholds(specs, scan, Am.shape[0] * Bm.shape[0], memory_budget)
    thr = vals[0] if tau is not None and top_k is None else None
    counts = np.zeros(len(vals), dtype=np.int64)
    ai, ti, sim = [], [], []
    for s, S in cosine_blocks(Am, na, Bm, nb, memory_budget, progress, desc):
        counts += np.array([np.count_nonzero(S >= v) for v in vals], dtype=np.int64)
        if thr is not None:
            r, c = np.nonzero(S >= thr)  # row-major: sorted by audio, then text
        else:
            order = np.argsort(-S, axis=1, kind="stable")[:, :top_k]  # ties: lower text index
            order.sort(axis=1)
            r = np.repeat(np.arange(S.shape[0]), top_k)
            c = order.ravel()
        ai.append(r + s)
        ti.append(c)
        sim.append(S[r, c])
    return (_cat(ai, np.int64), _cat(ti, np.int64), _cat(sim, np.float64), thr,
            sweep_rows(specs, vals, counts)[0 if thr is None else 1:], (Am.shape[0], Bm.shape[0]))
