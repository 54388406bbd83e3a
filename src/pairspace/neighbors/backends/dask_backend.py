"""``backend="dask"``: exact blocked search with query blocks as tasks on a Dask cluster.

Every task searches one block of query rows against all rows with
:class:`pairspace.neighbors.ExactSearcher` (the same code as ``backend="exact"``), so the merged
result is identical to exact search. A worker builds its searcher once per search and reuses it for
all the blocks it runs.

Data reach the workers in one of two ways:

- a memory-mapped ``.npy`` file (``pairspace.knn("big.npy", ...)`` or an ``np.load(...,
  mmap_mode="r")`` array) is sent as its *path*: each worker maps the file itself. On a
  multi-machine cluster the path must be visible to every worker (a shared filesystem);
- any other array is scattered to every worker once (``client.scatter(X, broadcast=True)``).

Without a ``client`` a :class:`dask.distributed.LocalCluster` is started for the call and closed
afterwards. To use a real cluster, start a scheduler and workers (``dask scheduler`` and ``dask
worker tcp://scheduler:8786`` on each machine, or dask-jobqueue / dask-kubernetes) and pass
``client=Client("tcp://scheduler:8786")``.
"""

from __future__ import annotations

import os
import threading
import uuid
from typing import Any

import numpy as np

from ..._deps import require
from ..._progress import progress_bar
from ..._validation import resolve_memory_budget
from .._core import is_out_of_core
from ..api import BACKENDS, KNNResult, tie_info, validate_input
from ..exact import DEFAULT_CHUNK_ROWS, ExactSearcher, query_block_rows, query_blocks
from ..refine import candidate_width

_CACHE: dict[str, ExactSearcher] = {}
_LOCK = threading.Lock()


def _open_on_worker(data: Any) -> np.ndarray:
    """The matrix on a worker: an array, or ``("npy", path, dtype, shape, offset)``."""
    if isinstance(data, tuple) and data and data[0] == "npy":
        _, path, dtype, shape, offset = data
        return np.memmap(path, dtype=np.dtype(dtype), mode="r", shape=tuple(shape), offset=offset)
    return data


def _search_task(data: Any, token: str, k: int, metric: str, dtype: str, refine: bool,
                 chunk_rows: int, memory_budget: int, start: int, stop: int
                 ) -> tuple[int, np.ndarray, np.ndarray, int, int]:
    """One query block on a worker (the searcher is built once per worker and search)."""
    with _LOCK:
        searcher = _CACHE.get(token)
        if searcher is None:
            _CACHE.clear()  # one search at a time per worker keeps memory bounded
            searcher = ExactSearcher(_open_on_worker(data), k, metric, np.dtype(dtype), refine,
                                     chunk_rows, memory_budget=memory_budget, symmetric=False)
            _CACHE[token] = searcher
    ind, dist, widened, tied = searcher.search_block(np.arange(start, stop))
    return start, ind, dist, widened, tied


def _release(token: str) -> None:
    """Drop a finished search's cached searcher on a worker."""
    with _LOCK:
        _CACHE.pop(token, None)


def _file_reference(X0: np.ndarray) -> tuple[Any, ...] | None:
    """``("npy", path, dtype, shape, offset)`` when ``X0`` maps an existing file, else None."""
    obj: Any = X0
    while obj is not None and not isinstance(obj, np.memmap):
        obj = getattr(obj, "base", None)
    if obj is None or obj.filename is None or not os.path.exists(obj.filename):
        return None
    if obj.shape != X0.shape or not X0.flags.c_contiguous or obj.dtype != X0.dtype:
        return None
    return ("npy", str(obj.filename), X0.dtype.str, tuple(X0.shape), int(obj.offset))


@BACKENDS.register("dask", description="exact search, query blocks as Dask tasks")
def knn_dask(X: Any, k: int, *, metric: str = "cosine", dtype: Any = np.float32,
             refine: bool = True, memory_budget: int | None = None,
             block_size: int | None = None, progress: bool | None = None, client: Any = None,
             n_workers: int | None = None, threads_per_worker: int = 1, processes: bool = False,
             chunk_rows: int = DEFAULT_CHUNK_ROWS) -> KNNResult:
    """Exact kNN with query blocks as Dask tasks; the result equals ``backend="exact"``.

    Parameters
    ----------
    X, k, metric, dtype, refine, memory_budget, progress
        As in :func:`pairspace.knn`.
    block_size : int, optional
        Query rows per task (default: what ``memory_budget`` allows on one worker).
    client : dask.distributed.Client, optional
        A client of an existing cluster. Without it a LocalCluster is started for this call.
    n_workers, threads_per_worker, processes
        Shape of that LocalCluster (default: one worker per core, one thread each, threads in this
        process).
    chunk_rows : int
        Database rows per matrix product on the workers.

    Returns
    -------
    KNNResult
        ``backend="dask"``; ``info["n_tasks"]`` tasks.
    """
    distributed = require("dask.distributed", "scale")
    X0, k, dtype = validate_input(X, k, dtype)
    n = X0.shape[0]
    memory_budget = resolve_memory_budget(memory_budget)  # the caller's: workers do not share it
    if block_size is None:
        block_size = query_block_rows(n, X0.shape[1], candidate_width(k, n, refine), chunk_rows,
                                      dtype.itemsize, is_out_of_core(X0), memory_budget)
    blocks = list(query_blocks(n, int(block_size)))
    own_cluster = client is None
    cluster = None
    if own_cluster:
        cluster = distributed.LocalCluster(
            n_workers=n_workers or (os.cpu_count() or 1), threads_per_worker=threads_per_worker,
            processes=processes, dashboard_address=None)
        client = distributed.Client(cluster)
    token = uuid.uuid4().hex
    indices = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k), dtype=np.float64)
    widened = tied = 0
    try:
        ref = _file_reference(X0)
        data = ref if ref is not None else client.scatter(np.asarray(X0), broadcast=True)
        futures = [client.submit(_search_task, data, token, k, metric, dtype.name, refine,
                                 chunk_rows, memory_budget, s, e, pure=False) for s, e in blocks]
        bar = progress_bar(total=len(futures), desc=f"kNN search (dask, {metric})",
                           progress=progress, unit="task")
        for fut in distributed.as_completed(futures):
            s, ind, dist, unc, tie = fut.result()
            indices[s : s + ind.shape[0]] = ind
            distances[s : s + ind.shape[0]] = dist
            widened += unc
            tied += tie
            bar.update(1)
        bar.close()
        client.run(_release, token)
    finally:
        if own_cluster:
            client.close()
            cluster.close()
    return KNNResult(indices, distances, metric, "dask", None,
                     {"dtype": dtype.name, "refine": refine, "n_tasks": len(blocks),
                      "widened_rows": widened, **tie_info(X0, tied if refine else None)})
