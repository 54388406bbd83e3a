"""The public kNN API: :func:`knn`, :func:`knn_pair`, :class:`KNNResult` and the backend registry.

One search of the ``K`` nearest neighbors serves every ``k <= K`` and every kNN measure
(:func:`pairspace.nngs_curve`, mutual kNN, CKNNA, permutation tests). The default backend is the
exact blocked search of :mod:`pairspace.neighbors.exact`; the others (``"faiss"``, ``"hnsw"``,
``"ivf"``, ``"dask"``) are reached through the same :func:`knn` call, registered in
:data:`BACKENDS`, and an approximate backend always reports its measured recall.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._progress import progress_bar
from .._registry import Registry
from .._validation import as_matrix, check_metric, resolve_memory_budget
from ._core import duplicate_rows
from .exact import ExactSearcher, query_blocks

BACKENDS = Registry("kNN backend", builtin_modules=[
    "pairspace.neighbors.backends.faiss_flat",
    "pairspace.neighbors.backends.hnsw",
    "pairspace.neighbors.backends.ivf",
    "pairspace.neighbors.backends.dask_backend",
])
"""The kNN backends by name: ``fn(X, k, metric=..., dtype=..., refine=..., memory_budget=...,
block_size=..., progress=..., **options) -> KNNResult``."""

EXACT_OPTIONS = ("chunk_rows", "device", "stream", "symmetric")


TIE_WARNING_SHARE = 0.05
"""Share of the items above which :func:`knn` warns that ties decide their neighborhoods."""


class ApproximateSearchWarning(UserWarning):
    """An approximate kNN backend was used; the message carries its measured recall."""


class TiedNeighborsWarning(UserWarning):
    """Ties at the ``k``-th distance decide the neighborhoods of many items (duplicate rows,
    points on a grid): which of the tied items count as neighbors is decided by index alone."""


@dataclass(frozen=True)
class KNNResult:
    """Neighbors of every row of a point cloud.

    Attributes
    ----------
    indices : numpy.ndarray of int64, shape (n, k)
        ``indices[i]`` lists the neighbors of item ``i`` by ascending distance; ties go to the lower
        index; ``i`` itself never appears.
    distances : numpy.ndarray of float64, shape (n, k)
        Euclidean distance, cosine distance ``1 - cos`` or negated inner product ``-<x_i, x_j>``
        (so that smaller is always closer).
    metric : str
        The metric used.
    backend : str
        The search backend (``"exact"`` unless another was asked for).
    recall : float or None
        For approximate backends, the recall measured against exact search on a sample of queries,
        ``mean_i |N_approx(i) ∩ N_exact(i)| / k``; ``None`` for exact search.
    info : dict
        Backend details (dtype, sample size of the recall, index parameters, ...).
    """

    indices: np.ndarray
    distances: np.ndarray
    metric: str
    backend: str = "exact"
    recall: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of items."""
        return int(self.indices.shape[0])

    @property
    def k(self) -> int:
        """Number of neighbors per item."""
        return int(self.indices.shape[1])

    @property
    def exact(self) -> bool:
        """Whether the neighbors are exact (no approximate backend)."""
        return self.recall is None

    def truncate(self, k: int) -> KNNResult:
        """The ``k`` nearest neighbors (``k <= self.k``) without a new search."""
        if not 1 <= k <= self.k:
            raise ValueError(f"k={k} must lie in [1, {self.k}] to truncate this search")
        return KNNResult(
            self.indices[:, :k], self.distances[:, :k], self.metric, self.backend, self.recall,
            dict(self.info),
        )

    def to_dict(self) -> dict[str, Any]:
        """A small summary (no arrays)."""
        return {"n": self.n, "k": self.k, "metric": self.metric, "backend": self.backend,
                "recall": self.recall, **self.info}


def validate_input(X: Any, k: Any, dtype: Any = np.float32) -> tuple[np.ndarray, int, np.dtype]:
    """Shared argument checks of every backend: ``(X0, k, dtype)``.

    ``X`` may be an array, memmap, torch tensor, nested list, or a path to a ``.npy`` or parquet
    file (opened out of core by :func:`pairspace.neighbors.outofcore.open_matrix`).
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64; got {dtype}")
    if isinstance(X, str | os.PathLike):
        from .outofcore import open_matrix

        X = open_matrix(X)
    X0 = as_matrix(X, "X", dtype=None)
    n = X0.shape[0]
    if n < 2:
        raise ValueError(f"kNN search needs at least 2 rows; got {n}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= n - 1:
        raise ValueError(f"k={k!r} is out of range: it must be an int in [1, n-1] = [1, {n - 1}]")
    return X0, int(k), dtype


def knn(
    X: Any,
    k: int,
    metric: str = "cosine",
    *,
    dtype: Any = np.float32,
    refine: bool = True,
    exact_distances: bool = True,
    memory_budget: int | None = None,
    block_size: int | None = None,
    backend: str = "exact",
    progress: bool | None = None,
    **backend_options: Any,
) -> KNNResult:
    """The ``k`` nearest neighbors of every row of ``X`` among the other rows.

    Parameters
    ----------
    X : array-like or path, shape (n, d)
        Point cloud: numpy array, memmap (streamed, never loaded whole), torch tensor, nested list,
        or the path of a ``.npy`` file or a parquet file with a ``vector`` column (read in batches;
        see :func:`pairspace.open_matrix`). NaN/inf are rejected.
    k : int
        Number of neighbors, ``1 <= k <= n - 1``.
    metric : {"cosine", "euclidean", "inner"}
        ``"cosine"``: ``1 - <x, y> / (||x|| ||y||)`` (zero rows are rejected); ``"euclidean"``:
        ``||x - y||``; ``"inner"``: largest inner product first (distance ``-<x, y>``).
    dtype : numpy dtype
        Working dtype of the matrix products, float32 (default) or float64.
    refine : bool
        Recompute the candidates' distances in float64 and sort by ``(distance, index)``
        (default). Without it, the working-dtype scores decide the order.
    exact_distances : bool
        With ``refine``: float64 distances for all ``k`` neighbors (default). ``False`` refines
        only the candidates whose order the working dtype leaves uncertain: the same neighbors in
        the same order, about twice as fast to finish, the other distances keeping the working
        dtype's rounding (what the kNN measures use, as they read only the order). Only the
        exact backend uses it.
    memory_budget : int or None
        Bytes of scratch memory per block of query rows (None: the configured setting,
        :func:`pairspace.set_config`; 256 MiB unless changed). Any budget gives the same result.
    block_size : int, optional
        Fixed number of query rows per block (overrides the budget).
    backend : str
        ``"exact"`` (default), ``"faiss"`` (exact flat index), ``"hnsw"`` (approximate, with
        measured recall), ``"ivf"`` (approximate: k-means lists, probes chosen for
        ``target_recall``, measured recall), ``"dask"`` (exact, query blocks as tasks on a
        cluster), or another registered backend (see :func:`register_backend`).
    progress : bool or None
        Show a progress bar (``None``: only on an interactive terminal).
    **backend_options
        Options of the backend (for the exact one see :func:`knn_exact`).

    Returns
    -------
    KNNResult
        ``indices`` and ``distances`` of shape (n, k), nearest first. An approximate backend sets
        ``recall`` and emits an :class:`ApproximateSearchWarning` naming it.

    Examples
    --------
    >>> import numpy as np, pairspace
    >>> res = pairspace.knn(np.arange(8.0)[:, None], 1, metric="euclidean")
    >>> res.indices.ravel().tolist()
    [1, 0, 1, 2, 3, 4, 5, 6]
    """
    check_metric(metric)
    memory_budget = resolve_memory_budget(memory_budget)  # backends always get an int
    fn = BACKENDS.get(backend)
    if backend == "exact":
        backend_options["exact_distances"] = exact_distances
    res = fn(X, k, metric=metric, dtype=dtype, refine=refine, memory_budget=memory_budget,
             block_size=block_size, progress=progress, **backend_options)
    if res.recall is not None:
        warnings.warn(
            f"approximate kNN search (backend {backend!r}): recall@{res.k} = {res.recall:.4f}, "
            f"measured against exact search on {res.info.get('recall_sample', '?')} sampled "
            "queries; every measure built on this search inherits the approximation",
            ApproximateSearchWarning, stacklevel=2,
        )
    _warn_ties(res)
    return res


def _warn_ties(res: KNNResult) -> None:
    """Warn with :class:`TiedNeighborsWarning` when more than ``TIE_WARNING_SHARE`` of the items
    have a tie at their ``k``-th distance."""
    tied = res.info.get("tied_rows")
    if tied is None or tied <= TIE_WARNING_SHARE * res.n:
        return
    dup = res.info.get("duplicate_rows")
    warnings.warn(
        f"ties at the k-th distance (k={res.k}, {res.metric}) decide the neighborhoods of {tied} "
        f"of {res.n} items ({tied / res.n:.1%}"
        + (f"; {dup} rows duplicate an earlier row" if dup else "")
        + "): which tied items count as neighbors is decided by their index alone, so every "
        "measure built on this search partly reflects the tie-breaking. Remove duplicate rows "
        "or check the data", TiedNeighborsWarning, stacklevel=3)


def tie_info(X0: np.ndarray, tied: int | None, sq: np.ndarray | None = None) -> dict[str, int]:
    """``{"duplicate_rows": ..., "tied_rows": ...}`` for :attr:`KNNResult.info` (``tied_rows``
    only when known: the number of items whose ``k``-th distance is shared by an item left out)."""
    info = {"duplicate_rows": duplicate_rows(X0, sq)}
    if tied is not None:
        info["tied_rows"] = int(tied)
    return info


@BACKENDS.register("exact", description="exact blocked search (the default)")
def knn_exact(X: Any, k: int, *, metric: str = "cosine", dtype: Any = np.float32,
              refine: bool = True, exact_distances: bool = True,
              memory_budget: int | None = None, block_size: int | None = None,
              progress: bool | None = None, **options: Any) -> KNNResult:
    """``backend="exact"``: the blocked exact search of :class:`ExactSearcher`.

    Parameters
    ----------
    X, k, metric, dtype, refine, exact_distances, memory_budget, block_size, progress
        As in :func:`knn`.
    **options
        ``chunk_rows`` (database rows per product; default: the whole database when torch is
        installed and enough whole rows of scores fit in ``memory_budget``, see
        :class:`ExactSearcher`), ``stream`` (``True``: no prepared copy of the data, each block
        prepares its chunks again; the default for memmaps) and ``device`` (a torch device such
        as ``"cuda"``: the products and the selection run there, the float64 refinement on the
        CPU) and ``symmetric`` (``None``: symmetric block products, half the flops, for in-memory
        data on the CPU with more than one block of rows; ``True``/``False`` to force it).
    """
    unknown = set(options) - set(EXACT_OPTIONS)
    if unknown:
        raise TypeError(f"unexpected options for the exact backend: {sorted(unknown)}")
    X0, k, dtype = validate_input(X, k, dtype)
    memory_budget = resolve_memory_budget(memory_budget)
    chunk_rows, device = options.get("chunk_rows"), options.get("device")
    searcher = ExactSearcher(X0, k, metric, dtype, refine,
                             None if chunk_rows is None else int(chunk_rows),
                             options.get("stream"), memory_budget, exact_distances,
                             None if device is None else str(device), options.get("symmetric"))
    return search_all(searcher, "exact", memory_budget, block_size, progress)


def search_all(searcher: ExactSearcher, backend: str, memory_budget: int | None,
               block_size: int | None, progress: bool | None) -> KNNResult:
    """Run ``searcher`` over every query block and assemble the :class:`KNNResult`
    (``memory_budget`` None: the searcher's own)."""
    n = searcher.X0.shape[0]
    indices = np.empty((n, searcher.k), dtype=np.int64)
    distances = np.empty((n, searcher.k), dtype=np.float64)
    if searcher.symmetric:
        b = searcher.symmetric_block_rows(memory_budget, block_size)
        blocks = searcher.symmetric_blocks(b)
    else:
        b = block_size if block_size is not None else searcher.query_block_rows(memory_budget)
        blocks = ((s, e, None) for s, e in query_blocks(n, int(b)))
    for s, e, *pre in progress_bar(blocks, total=-(-n // int(b)), progress=progress,
                                   desc=f"kNN search ({searcher.metric})", unit="block"):
        pair = None if pre[0] is None else (pre[0], pre[1])
        indices[s:e], distances[s:e] = searcher.search(np.arange(s, e), pair)
    info = {"dtype": searcher.dtype.name, "refine": searcher.refine,
            "widened_rows": searcher.widened, "symmetric": bool(searcher.symmetric)}
    if searcher.device is not None:
        info["device"] = searcher.device
    if searcher.upcast is not None:
        info["upcast"] = searcher.upcast
    info.update(tie_info(searcher.X0, searcher.tied if searcher.refine else None, searcher._sq))
    return KNNResult(indices, distances, searcher.metric, backend, None, info)


def register_backend(name: str, fn: Callable[..., KNNResult]) -> None:
    """Register a kNN backend ``fn(X, k, metric=..., dtype=..., refine=..., memory_budget=...,
    block_size=..., progress=..., **options)`` (replacing one of the same name).

    A backend returns a :class:`KNNResult`; approximate backends must set ``recall``.
    """
    BACKENDS.register(name, fn, replace=True)


def get_backend(name: str) -> Callable[..., KNNResult]:
    """The registered backend ``name`` (the built-in ones are imported on first use)."""
    return BACKENDS.get(name)


def knn_pair(
    X: Any, Y: Any, k: int, metric: str = "cosine", metric_y: str | None = None, **options: Any
) -> tuple[KNNResult, KNNResult]:
    """One neighbor search per space of a paired embedding (the graphs every kNN measure uses).

    The measures read only the neighbors' order, so ``exact_distances`` defaults to ``False``
    here (see :func:`knn`); the other ``options`` go to :func:`knn` as they are.
    """
    options.setdefault("exact_distances", False)
    search = sys.modules[__package__].knn  # the package's name, so a patched knn is the one used
    return search(X, k, metric, **options), search(Y, k, metric_y or metric, **options)
