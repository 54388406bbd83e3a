"""EmbeddingTable: ids, vectors, optional labels and metadata, saved atomically.

A table is the unit that flows between encoders, alignment heads, tasks and measures. On disk it
is a parquet file (an ``id`` column, a fixed-size-list ``vector`` column, an optional ``label``
column, and the metadata as JSON in the schema's key-value metadata) or an ``.npz`` archive.
Writes go to a temporary file in the same folder followed by an atomic rename, so a crash never
leaves a half-written table.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import as_matrix

_META_KEY = b"pairspace"


@dataclass
class EmbeddingTable:
    """Embeddings of ``n`` items.

    Attributes
    ----------
    ids : list of str
        Unique item ids (file names, words, caption ids).
    vectors : numpy.ndarray, shape (n, d)
        float32 embeddings (a memmap or view is fine).
    labels : list of str or None
        Optional class label per item.
    metadata : dict
        JSON-serializable metadata: encoder provenance, source files, anything else.
    """

    ids: list[str]
    vectors: np.ndarray
    labels: list[str] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ids = [str(i) for i in self.ids]
        self.vectors = as_matrix(self.vectors, "vectors", dtype=np.float32)
        if len(self.ids) != self.vectors.shape[0]:
            raise ValueError(
                f"{len(self.ids)} ids for {self.vectors.shape[0]} vectors: they must match"
            )
        if len(set(self.ids)) != len(self.ids):
            seen: set[str] = set()
            dup = [i for i in self.ids if i in seen or seen.add(i)][:5]  # type: ignore[func-returns-value]
            raise ValueError(f"ids must be unique; duplicated: {dup}")
        if self.labels is not None:
            self.labels = [str(v) for v in self.labels]
            if len(self.labels) != len(self.ids):
                raise ValueError(f"{len(self.labels)} labels for {len(self.ids)} ids")

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        return int(self.vectors.shape[1])

    def select(self, ids: Sequence[str]) -> EmbeddingTable:
        """The rows with these ids, in this order (an error lists ids that are missing)."""
        pos = {v: i for i, v in enumerate(self.ids)}
        missing = [i for i in ids if i not in pos]
        if missing:
            raise ValueError(f"{len(missing)} ids are not in the table, e.g. {missing[:5]}")
        rows = np.fromiter((pos[i] for i in ids), dtype=np.int64, count=len(ids))
        labels = [self.labels[r] for r in rows] if self.labels is not None else None
        return EmbeddingTable(list(ids), np.asarray(self.vectors)[rows], labels,
                              dict(self.metadata))

    # ---------------------------------------------------------------- I/O
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write to ``.parquet`` or ``.npz`` atomically (temporary file, then rename)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".parquet", ".npz"):
            raise ValueError(f"unsupported table format {path.suffix!r}: use .parquet or .npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            if suffix == ".parquet":
                self._write_parquet(tmp)
            else:
                with open(tmp, "wb") as f:
                    np.savez(
                        f, ids=np.asarray(self.ids, dtype=object).astype(str),
                        vectors=np.asarray(self.vectors, dtype=np.float32),
                        labels=np.asarray(self.labels if self.labels is not None else [], dtype=str),
                        has_labels=np.asarray(self.labels is not None),
                        metadata=np.asarray(json.dumps(self.metadata, default=str)),
                    )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def _write_parquet(self, path: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        vec = np.ascontiguousarray(self.vectors, dtype=np.float32)
        flat = pa.array(vec.ravel(), type=pa.float32())
        cols = {"id": pa.array(self.ids, type=pa.string()),
                "vector": pa.FixedSizeListArray.from_arrays(flat, vec.shape[1])}
        if self.labels is not None:
            cols["label"] = pa.array(self.labels, type=pa.string())
        table = pa.table(cols).replace_schema_metadata(
            {_META_KEY: json.dumps(self.metadata, default=str).encode()}
        )
        pq.write_table(table, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> EmbeddingTable:
        """Read a table written by :meth:`save` (``.parquet`` or ``.npz``)."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"embedding table not found: {path}")
        suffix = path.suffix.lower()
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                labels = z["labels"].tolist() if bool(z["has_labels"]) else None
                return cls(z["ids"].tolist(), z["vectors"], labels, json.loads(str(z["metadata"])))
        if suffix != ".parquet":
            raise ValueError(f"unsupported table format {path.suffix!r}: use .parquet or .npz")
        import pyarrow.parquet as pq

        try:
            t = pq.read_table(path)
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise ValueError(f"could not read parquet table {path}: {exc}") from exc
        if "id" not in t.column_names or "vector" not in t.column_names:
            raise ValueError(f"{path} is not an embedding table (needs 'id' and 'vector' columns)")
        vec_col = t.column("vector").combine_chunks()
        width = vec_col.type.list_size
        vectors = vec_col.flatten().to_numpy(zero_copy_only=False).reshape(-1, width)
        meta = (t.schema.metadata or {}).get(_META_KEY, b"{}")
        labels = t.column("label").to_pylist() if "label" in t.column_names else None
        return cls(t.column("id").to_pylist(), vectors, labels, json.loads(meta))
