"""The device path: products and ``topk`` on a torch device (e.g. ``"cuda"``).

The prepared database is copied to the device once; each query block's whole rows of scores and
their ``topk`` are computed there. The certified window and the float64 refinement run on the CPU,
exactly as for the other paths (:meth:`pairspace.neighbors.ExactSearcher.search_block`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _core
from ._core import _prepare_base, _prepare_queries
from .selection import _exact_topk

DEVICE_COPY_ROWS = 65536


def device_copy(X0: np.ndarray, metric: str, dtype: np.dtype, sq: np.ndarray, device: str) -> Any:
    """The prepared database as a torch tensor on ``device`` (copied in pieces of 65,536 rows)."""
    torch = _core._torch(load=True)
    if torch is None:
        raise ValueError("device=... needs PyTorch; install pairspace[torch]")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but CUDA is not available")
    step = DEVICE_COPY_ROWS
    pieces = [torch.from_numpy(_prepare_base(np.asarray(X0[s : s + step]), metric, dtype,
                                             sq[s : s + step])).to(dev)
              for s in range(0, X0.shape[0], step)]
    return torch.cat(pieces)


def device_candidates(searcher: Any, q_rows: np.ndarray, kk: int) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`ExactSearcher.candidates` with the products and ``topk`` on the torch device."""
    torch = _core._torch()
    base = searcher._device_base
    Qp = _prepare_queries(np.asarray(searcher.X0[q_rows]), searcher.metric, searcher.dtype,
                          searcher._sq[q_rows])
    S = torch.from_numpy(Qp).to(base.device) @ base.T
    S[torch.arange(q_rows.size, device=base.device),
      torch.from_numpy(q_rows).to(base.device)] = float("inf")  # the item itself
    vals, idx = torch.topk(S, kk + 1, dim=1, largest=False, sorted=True)  # kk + 1 <= n
    return _exact_topk(vals.cpu().numpy(), idx.cpu().numpy(), kk,
                       lambda rows: S[torch.from_numpy(rows).to(base.device)].cpu().numpy())
