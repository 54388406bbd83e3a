"""The kept neighbor lists of many paired spaces and the pair merge (see
:mod:`pairspace.measures.many` for the measures and the method)."""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import as_matrix, resolve_k, resolve_memory_budget, rows_per_block
from .knn_measures import centered_kernel_on_graph
from .nngs import nngs_chance, normalize

GRAPH_BUDGET = 1 << 30
"""Bytes of neighbor lists kept in memory by :func:`pairspace.search_spaces`; above it they are
spilled to a temporary memmap (8 bytes per entry: the sorted id and its rank, int32 each)."""

MERGE_BUDGET = 16 * 2**20
"""Scratch bytes of one row block of a pair merge."""

_NNGS_KINDS = ("nngs", "mutual_knn")


# ---------------------------------------------------------------- the kept graphs
class SpaceGraphs:
    r"""The neighbor lists of ``M`` paired spaces, one search each, and the pairwise measures.

    Build it with :func:`search_spaces`. The lists are stored row-sorted by neighbor id with each
    entry's rank (nearest first = 0), as two ``(M, n, K)`` int32 arrays that live in memory or, above
    ``graph_budget``, in a temporary memmap removed by :meth:`close` (or when the object is
    collected).

    Attributes
    ----------
    names : list of str
        Space names.
    n, K : int
        Items, and the width of every kept list (the largest ``k`` available).
    metrics : list of str
        Distance of each space's search.
    recall : list of float or None
        Measured recall of an approximate backend per space (None: exact search).
    spilled : pathlib.Path or None
        The temporary folder of the memmaps, when spilled.
    """

    def __init__(self, names: list[str], spaces: list[Any], K: int, metrics: list[str],
                 ids: list[str] | None = None, sources: dict[str, str] | None = None,
                 graph_budget: int = GRAPH_BUDGET, spill_dir: str | os.PathLike[str] | None = None,
                 merge_budget: int = MERGE_BUDGET, **search: Any) -> None:
        from ..neighbors import knn

        M = len(spaces)
        self.names, self.metrics, self.ids = list(names), list(metrics), ids
        self.sources = dict(sources or {})
        self.spaces = [as_matrix(s, nm, dtype=None) if not isinstance(s, np.memmap) else s
                       for s, nm in zip(spaces, names, strict=True)]
        self.n = int(self.spaces[0].shape[0])
        if self.n < 3:
            raise ValueError(f"paired spaces need at least 3 rows; got {self.n}")
        self.K = resolve_k(K, self.n, "k_max")
        self.merge_budget = int(merge_budget)
        shape = (M, self.n, self.K)
        need = 2 * 4 * M * self.n * self.K
        self.spilled: Path | None = None
        if need > graph_budget:
            self.spilled = Path(tempfile.mkdtemp(prefix="pairspace-graphs-", dir=spill_dir))
            self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.spilled), True)
            self.sorted_ids = np.lib.format.open_memmap(self.spilled / "ids.npy", "w+", np.int32, shape)
            self.ranks = np.lib.format.open_memmap(self.spilled / "ranks.npy", "w+", np.int32, shape)
        else:
            self.sorted_ids = np.empty(shape, np.int32)
            self.ranks = np.empty(shape, np.int32)
        search.setdefault("exact_distances", False)  # the measures read only the order
        # one budget for the searches and the storage blocks (None: the configured setting)
        search["memory_budget"] = self.memory_budget = resolve_memory_budget(search.get("memory_budget"))
        self.recall: list[float | None] = []
        self.search_info: list[dict[str, Any]] = []
        for s in range(M):
            res = knn(self.spaces[s], self.K, self.metrics[s], **search)
            self.recall.append(res.recall)
            self.search_info.append(res.to_dict())
            self._keep(s, res.indices)
            del res
        self._kernels: dict[tuple[int, int], tuple[np.ndarray, float]] = {}

    # -- storage
    def _keep(self, s: int, idx: np.ndarray) -> None:
        """Store one space's nearest-first lists as (sorted ids, ranks), in row blocks."""
        rows = rows_per_block(self.memory_budget, 24 * self.K, self.n)
        for a in range(0, self.n, rows):
            blk = np.asarray(idx[a : a + rows])
            order = np.argsort(blk, axis=1, kind="stable")
            self.sorted_ids[s, a : a + rows] = np.take_along_axis(blk, order, axis=1)
            self.ranks[s, a : a + rows] = order

    def neighbors(self, s: int, k: int | None = None, rows: slice = slice(None)) -> np.ndarray:
        """The nearest-first neighbor lists (int64, ``(rows, k)``) of space ``s``, rebuilt."""
        k = self.K if k is None else int(k)
        ids = np.asarray(self.sorted_ids[s, rows], dtype=np.int64)
        rk = np.asarray(self.ranks[s, rows])
        out = np.empty_like(ids)
        np.put_along_axis(out, rk, ids, axis=1)
        return out[:, :k]

    def close(self) -> None:
        """Remove the spilled memmaps (a no-op for in-memory lists)."""
        if self.spilled is not None:
            self.sorted_ids = self.ranks = None  # type: ignore[assignment]
            self._finalizer()

    def __enter__(self) -> SpaceGraphs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def M(self) -> int:
        """Number of spaces."""
        return len(self.names)

    def pairs(self) -> Iterator[tuple[int, int]]:
        """The ``M (M - 1) / 2`` unordered pairs ``a < b``."""
        for a in range(self.M):
            for b in range(a + 1, self.M):
                yield a, b

    def resolve(self, k: int | float) -> int:
        """A neighborhood size resolved against ``n`` and checked against the kept width ``K``."""
        kk = resolve_k(k, self.n)
        if kk > self.K:
            raise ValueError(f"k={kk} exceeds the width of the kept searches (k_max={self.K}); "
                             "search again with a larger k_max")
        return kk

    # -- the merge
    def _merge_blocks(self, a: int, b: int) -> Iterator[tuple[int, int, np.ndarray, np.ndarray,
                                                              np.ndarray, np.ndarray]]:
        """Per row block ``[s, e)``: the shared entries' row (block-relative), the largest of their
        two ranks, and their positions in the sorted layout of ``a`` and of ``b``."""
        n, K = self.n, self.K
        rows = rows_per_block(self.merge_budget, 64 * K, n)
        for s in range(0, n, rows):
            e = min(n, s + rows)
            m = e - s
            base = (np.arange(m, dtype=np.int64) * n)[:, None]
            ka = (base + self.sorted_ids[a, s:e]).ravel()
            kb = (base + self.sorted_ids[b, s:e]).ravel()
            both = np.concatenate([ka, kb])
            order = np.argsort(both, kind="stable")  # two sorted runs: a linear merge
            srt = both[order]
            dup = np.flatnonzero(srt[1:] == srt[:-1])
            pa = order[dup]  # from a (stable: a's entry first)
            pb = order[dup + 1] - ka.size
            ra = np.asarray(self.ranks[a, s:e]).ravel()[pa]
            rb = np.asarray(self.ranks[b, s:e]).ravel()[pb]
            yield s, e, pa // K, np.maximum(ra, rb), pa, pb

    def _counts(self, a: int, b: int) -> Iterator[tuple[int, int, np.ndarray]]:
        """Overlap counts ``c_i(k)`` for every ``k <= K`` (int32, ``(rows, K)``) per row block."""
        K = self.K
        for s, e, row, last, _, _ in self._merge_blocks(a, b):
            hist = np.bincount(row * K + last, minlength=(e - s) * K).reshape(e - s, K)
            yield s, e, np.cumsum(hist, axis=1, dtype=np.int32)

    def overlap_counts(self, a: int, b: int) -> np.ndarray:
        """``c_i(k)`` of spaces ``a`` and ``b`` for every ``k <= K``: int32, ``(n, K)``."""
        out = np.empty((self.n, self.K), np.int32)
        for s, e, c in self._counts(a, b):
            out[s:e] = c
        return out

    def knn_matrices(self, ks: Sequence[int] | np.ndarray,
                     kinds: Sequence[str] = _NNGS_KINDS) -> dict[str, np.ndarray]:
        """NNGS and mutual kNN, ``(len(ks), M, M)`` each, from one merge per pair."""
        ks = np.asarray([self.resolve(int(k)) for k in ks], dtype=np.int64)
        unknown = set(kinds) - set(_NNGS_KINDS)
        if unknown:
            raise ValueError(f"unknown kinds {sorted(unknown)}; choose from {_NNGS_KINDS}")
        out = {kind: np.empty((ks.size, self.M, self.M)) for kind in kinds}
        for v in out.values():
            v[:, np.arange(self.M), np.arange(self.M)] = 1.0
        kf = ks.astype(np.float64)[None, :]
        for a, b in self.pairs():
            sums = {kind: np.zeros(ks.size) for kind in kinds}
            for _, _, c in self._counts(a, b):
                cc = c[:, ks - 1].astype(np.float64)
                if "nngs" in sums:
                    sums["nngs"] += (cc / (2.0 * kf - cc)).sum(axis=0)
                if "mutual_knn" in sums:
                    sums["mutual_knn"] += (cc / kf).sum(axis=0)
            for kind, v in sums.items():
                out[kind][:, a, b] = out[kind][:, b, a] = v / self.n
        return out

    def nngs(self, ks: int | float | Sequence[int | float]) -> np.ndarray:
        """NNGS matrices: ``(M, M)`` for one ``k``, ``(len(ks), M, M)`` for a sequence."""
        scalar = np.ndim(ks) == 0
        kk = [self.resolve(ks)] if scalar else [self.resolve(_item(v)) for v in ks]
        if not kk:
            raise ValueError("ks is empty")
        v = self.knn_matrices(kk, ("nngs",))["nngs"]
        return v[0] if scalar else v

    def mutual_knn(self, ks: int | float | Sequence[int | float]) -> np.ndarray:
        """Mutual kNN matrices (shapes as :meth:`nngs`)."""
        scalar = np.ndim(ks) == 0
        kk = [self.resolve(ks)] if scalar else [self.resolve(_item(v)) for v in ks]
        if not kk:
            raise ValueError("ks is empty")
        v = self.knn_matrices(kk, ("mutual_knn",))["mutual_knn"]
        return v[0] if scalar else v

    def spectrum(self, ks: int | float | Sequence[int | float] | None = None,
                 chance: str = "exact") -> NNGSMatrix:
        """NNGS, its chance level and the normalized spectrum at every ``k`` in ``ks``.

        ``ks``: an int ``K`` (or fraction) means ``1..K``; a sequence lists the sizes (sorted,
        unique); None means ``1..K`` of the kept searches.
        """
        from .nngs import resolve_ks

        kv = np.arange(1, self.K + 1) if ks is None else resolve_ks(ks, self.n)
        for k in kv:
            self.resolve(int(k))
        vals = self.knn_matrices(kv, ("nngs",))["nngs"]
        ch = nngs_chance(self.n, kv, method=chance)
        return NNGSMatrix(tuple(self.names), kv, vals, ch, normalize(vals, ch[:, None, None]),
                          self.n, tuple(self.metrics), chance, tuple(self.recall))

    # -- CKNNA
    def _kernel(self, s: int, k: int) -> tuple[np.ndarray, float]:
        r"""Centered linear kernel of space ``s`` on its top-``k`` lists, in the sorted layout
        (0 where the rank is ``>= k``), and :math:`\mathrm{Align}(K, K)`."""
        key = (s, k)
        if key not in self._kernels:
            kx = centered_kernel_on_graph(self.spaces[s], self.neighbors(s, k))
            rk = np.asarray(self.ranks[s])
            lay = np.where(rk < k, np.take_along_axis(kx, np.minimum(rk, k - 1), axis=1), 0.0)
            self._kernels[key] = (lay, float(np.sum(kx * kx)))
        return self._kernels[key]

    def cknna(self, k: int | float) -> np.ndarray:
        """CKNNA matrix ``(M, M)`` at one ``k`` (see :func:`pairspace.cknna`)."""
        kk = self.resolve(k)
        out = np.eye(self.M)
        for a, b in self.pairs():
            la, na = self._kernel(a, kk)
            lb, nb = self._kernel(b, kk)
            if na <= 0.0 or nb <= 0.0:
                raise ValueError("CKNNA is undefined: a space has zero centered kernel on its kNN "
                                 f"graph ({self.names[a] if na <= 0 else self.names[b]}: constant "
                                 "features?)")
            num = 0.0
            for s, e, _, last, pa, pb in self._merge_blocks(a, b):
                keep = last < kk
                num += float(np.sum(la[s:e].ravel()[pa[keep]] * lb[s:e].ravel()[pb[keep]]))
            out[a, b] = out[b, a] = num / np.sqrt(na * nb)
        return out

    def linear_cka(self) -> np.ndarray:
        """Linear CKA matrix ``(M, M)`` of the searched spaces (see
        :func:`pairspace.linear_cka_matrix`)."""
        return linear_cka_of(self.spaces, self.names)

    def to_dict(self) -> dict[str, Any]:
        """A small summary (no arrays)."""
        return {"names": self.names, "n": self.n, "k_max": self.K, "metrics": self.metrics,
                "recall": self.recall, "spilled": self.spilled is not None,
                "dims": [int(s.shape[1]) for s in self.spaces], "sources": self.sources}


def _item(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


@dataclass(frozen=True)
class NNGSMatrix:
    """NNGS of every pair of ``M`` spaces against ``k``, with the chance level.

    Attributes
    ----------
    names : tuple of str
        Space names (the order of the matrix rows).
    k : numpy.ndarray of int, shape (K,)
        Neighborhood sizes.
    nngs : numpy.ndarray, shape (K, M, M)
        NNGS of every pair at every ``k`` (symmetric, 1 on the diagonal).
    chance : numpy.ndarray, shape (K,)
        Chance level :math:`E[J](k)` (:func:`pairspace.nngs_chance`).
    normalized : numpy.ndarray, shape (K, M, M)
        ``(nngs - chance) / (1 - chance)``: the normalized spectrum (NaN at ``k = n - 1``).
    n : int
        Number of items.
    metrics : tuple of str
        Distance of each space.
    chance_method : str
        ``"exact"`` or ``"approx"``.
    recall : tuple
        Measured recall of an approximate search per space (None: exact).
    """

    names: tuple[str, ...]
    k: np.ndarray
    nngs: np.ndarray
    chance: np.ndarray
    normalized: np.ndarray
    n: int
    metrics: tuple[str, ...]
    chance_method: str
    recall: tuple[float | None, ...]

    def _pos(self, k: int) -> int:
        hit = np.flatnonzero(self.k == k)
        if hit.size == 0:
            raise ValueError(f"k={k} is not in this spectrum (k from {self.k.min()} to {self.k.max()})")
        return int(hit[0])

    def at(self, k: int) -> np.ndarray:
        """The ``(M, M)`` NNGS matrix at one ``k``."""
        return self.nngs[self._pos(k)]

    def normalized_at(self, k: int) -> np.ndarray:
        """The ``(M, M)`` normalized NNGS matrix at one ``k``."""
        return self.normalized[self._pos(k)]

    def pair(self, a: str | int, b: str | int) -> dict[str, np.ndarray]:
        """One pair's spectrum: ``{"k", "nngs", "chance", "normalized"}`` (arrays over ``k``)."""
        i, j = (self.names.index(v) if isinstance(v, str) else int(v) for v in (a, b))
        return {"k": self.k, "nngs": self.nngs[:, i, j], "chance": self.chance,
                "normalized": self.normalized[:, i, j]}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN becomes None)."""
        def clean(a: np.ndarray) -> Any:
            if a.ndim == 0:
                return float(a) if np.isfinite(a) else None
            return [clean(v) for v in a]

        return {"names": list(self.names), "n": self.n, "metrics": list(self.metrics),
                "chance_method": self.chance_method, "k": [int(v) for v in self.k],
                "nngs": clean(self.nngs), "chance": clean(self.chance),
                "normalized": clean(self.normalized), "recall": list(self.recall)}


def linear_cka_of(mats: Sequence[Any], names: Sequence[str]) -> np.ndarray:
    r"""Linear CKA of every pair of paired matrices, ``(M, M)``, each centered once (see
    :func:`pairspace.linear_cka_matrix`): each pair costs one cross product :math:`\tilde B^\top
    \tilde A`."""
    M = len(mats)
    out = np.eye(M)
    cs = []
    for s in range(M):
        A = as_matrix(mats[s], names[s], dtype=np.float64)
        A = A - A.mean(axis=0)
        scale = float(np.abs(A).max())
        if scale == 0.0:
            raise ValueError(f"linear CKA is undefined: space {names[s]!r} has constant features")
        A = A / scale
        cs.append((A, float(np.linalg.norm(A.T @ A if A.shape[1] <= A.shape[0] else A @ A.T))))
    for a in range(M):
        for b in range(a + 1, M):
            (A, na), (B, nb) = cs[a], cs[b]
            out[a, b] = out[b, a] = float(np.linalg.norm(B.T @ A) ** 2 / (na * nb))
    return out
