"""The tensors a training run reads: the two backbone tables once, and table rows per pair.

The tables are used in place (no copy when they are float32 and contiguous) and each batch gathers
its rows, so the memory above the tables is two int64 row indices per pair, not a second copy of
every pair's embeddings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..data.table import EmbeddingTable
from .config import ORACLE_LABEL, TrainConfig
from .model import DEFAULT_NAMES, as_tensor
from .split import split_pairs, split_pairs_by_class


@dataclass
class TrainData:
    """Backbone tables (``A``, ``B``), row indices of the training, extra and held-out pairs."""

    A: torch.Tensor
    B: torch.Tensor
    tr_a: torch.Tensor
    tr_b: torch.Tensor
    ex_a: torch.Tensor
    ex_b: torch.Tensor
    a_va: torch.Tensor
    b_va: torch.Tensor
    selection: str
    info: dict[str, Any] = field(default_factory=dict)
    names: tuple[str, str] = DEFAULT_NAMES
    targets: tuple[torch.Tensor, torch.Tensor] | None = None

    def run_config(self, config: TrainConfig, a: EmbeddingTable, b: EmbeddingTable) -> dict[str, Any]:
        """What identifies the run (compared when resuming; written to ``config.json``)."""
        return {"train": config.to_dict(), "d_a": a.dim, "d_b": b.dim, "names": list(self.names),
                **self.info,
                "audio_provenance": a.metadata.get("provenance"),
                "text_provenance": b.metadata.get("provenance"),
                "text_encoder": encoder_name(b.metadata),
                "selection_label": ORACLE_LABEL if self.selection == "oracle" else self.selection}


def table_rows(table: EmbeddingTable, ids: Sequence[str], name: str) -> torch.Tensor:
    """Row index of each id in ``table`` (an error lists missing ids)."""
    pos = {v: i for i, v in enumerate(table.ids)}
    missing = [i for i in ids if i not in pos]
    if missing:
        raise ValueError(f"{len(missing)} {name} ids of the pair manifest are not in the {name} table, "
                         f"e.g. {sorted(set(missing))[:5]}")
    return torch.from_numpy(np.fromiter((pos[i] for i in ids), dtype=np.int64, count=len(ids)))


def pairs_digest(pairs: Sequence[tuple[str, str]]) -> str:
    """A SHA-256 prefix of the pair list (order matters)."""
    h = hashlib.sha256()
    for a, t in pairs:
        h.update(f"{a}\t{t}\n".encode())
    return h.hexdigest()[:16]


def encoder_name(meta: dict[str, Any]) -> str | None:
    """The encoder recorded in a table's metadata (its provenance), if any."""
    prov = meta.get("provenance")
    if isinstance(prov, dict):
        return prov.get("encoder")
    return meta.get("encoder")


def resolve_selection(config: TrainConfig, a: EmbeddingTable) -> str:
    """``config.selection`` with ``"auto"`` resolved (held-out classes when ``a`` has labels)."""
    if config.selection == "auto":
        return "heldout_classes" if a.labels is not None else "val"
    return config.selection


def _split(pairs: list[tuple[str, str]], a: EmbeddingTable, config: TrainConfig,
           selection: str) -> tuple[list[int], list[int]]:
    if selection == "heldout_classes":
        if a.labels is None:
            raise ValueError("selection='heldout_classes' needs labels in the first (audio) table; "
                             "use selection='val' for an unlabeled table")
        return split_pairs_by_class(pairs, dict(zip(a.ids, a.labels, strict=True)),
                                    config.val_fraction, config.seed)
    return split_pairs(pairs, config.val_fraction, config.seed)


def prepare(a: EmbeddingTable, b: EmbeddingTable, pairs: list[tuple[str, str]],
            extra: list[tuple[str, str]] | None, config: TrainConfig) -> TrainData:
    """Map the pairs to table rows, split off the held-out pairs and drop held-out extra pairs."""
    rows_a = table_rows(a, [x for x, _ in pairs], "audio")
    rows_b = table_rows(b, [y for _, y in pairs], "text")
    selection = resolve_selection(config, a)
    tr, va = _split(pairs, a, config, selection)
    A, B = as_tensor(a.vectors), as_tensor(b.vectors)
    tr_t, va_t = torch.as_tensor(tr, dtype=torch.int64), torch.as_tensor(va, dtype=torch.int64)
    info = {"n_pairs": len(pairs), "n_train": len(tr), "n_val": len(va), "pairs_sha": pairs_digest(pairs),
            "selection": selection}
    ex_a = ex_b = torch.zeros(0, dtype=torch.int64)
    if extra:
        held = {pairs[i][0] for i in va}
        kept = [p for p in extra if p[0] not in held]
        if not kept:
            raise ValueError(f"all {len(extra)} extra pairs name held-out items; none is left")
        ex_a = table_rows(a, [x for x, _ in kept], "audio")
        ex_b = table_rows(b, [y for _, y in kept], "text")
        info.update({"n_extra": len(kept), "n_extra_dropped": len(extra) - len(kept),
                     "extra_sha": pairs_digest(extra)})
    return TrainData(A, B, rows_a[tr_t], rows_b[tr_t], ex_a, ex_b, A[rows_a[va_t]], B[rows_b[va_t]],
                     selection, info)
