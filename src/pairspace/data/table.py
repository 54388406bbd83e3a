"""EmbeddingTable: ids, vectors, optional labels and metadata, saved atomically.

A table is the unit that flows between encoders, alignment heads, tasks and measures. On disk it
is a parquet file (an ``id`` column, a fixed-size-list ``vector`` column, an optional ``label``
column, optional extra per-item columns such as ``fold`` or ``path``, and the metadata as JSON in the
schema's key-value metadata), an uncompressed Arrow IPC file (``.arrow``, the same columns, which
:meth:`EmbeddingTable.load` can memory-map so the vectors are a zero-copy read-only view of the
file) or an ``.npz`` archive. Writes go to a temporary file in the same folder followed by an atomic
rename, so a crash never leaves a half-written table.

The metadata records where the vectors came from: ``metadata["provenance"]`` holds the encoder's
:class:`~pairspace.encoders.base.Provenance` and ``metadata["inputs_sha256"]`` a checksum of the
inputs, which ``pairspace embed`` compares before reusing a table.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_path
from .._validation import as_matrix
from . import formats
from .manifests import RESERVED_COLUMNS

_META_KEY = b"pairspace"
_RESERVED = RESERVED_COLUMNS


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
    columns : dict of str to list
        Extra per-item columns (``fold``, ``path``, ``caption``...), each of length n, holding
        strings, integers or floats.
    """

    ids: list[str]
    vectors: np.ndarray
    labels: list[str] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, list[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ids = _cells(self.ids, "id")
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
            self.labels = _cells(self.labels, "label")
            if len(self.labels) != len(self.ids):
                raise ValueError(f"{len(self.labels)} labels for {len(self.ids)} ids")
        cols = {}
        for name, values in dict(self.columns).items():
            if name in _RESERVED:
                raise ValueError(f"column name {name!r} is reserved (id, vector, label)")
            values = np.asarray(values).tolist() if isinstance(values, np.ndarray) else list(values)
            if len(values) != len(self.ids):
                raise ValueError(f"column {name!r} has {len(values)} values for {len(self.ids)} ids")
            cols[str(name)] = values
        self.columns = cols

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
        return self.take(rows)

    def take(self, rows: Sequence[int] | np.ndarray) -> EmbeddingTable:
        """The rows at these positions (a boolean mask is accepted too)."""
        rows = np.asarray(rows)
        if rows.dtype == bool:
            if rows.shape != (len(self),):
                raise ValueError(f"a boolean mask needs {len(self)} entries; got {rows.shape}")
            rows = np.flatnonzero(rows)
        rows = rows.astype(np.int64)
        labels = [self.labels[r] for r in rows] if self.labels is not None else None
        cols = {k: [v[r] for r in rows] for k, v in self.columns.items()}
        return EmbeddingTable([self.ids[r] for r in rows], np.asarray(self.vectors)[rows], labels,
                              dict(self.metadata), cols)

    def where(self, column: str, values: str | Sequence[str]) -> EmbeddingTable:
        """The rows whose ``column`` (``label``, ``id`` or an extra column) is one of ``values``.

        Values are compared as strings, so ``where("fold", "1")`` matches an integer fold 1. An
        unknown column, or a selection with no row, is an error.
        """
        wanted = {str(values)} if isinstance(values, str) else {str(v) for v in values}
        if column == "id":
            cells: Sequence[Any] = self.ids
        elif column == "label":
            if self.labels is None:
                raise ValueError("this table has no labels")
            cells = self.labels
        elif column in self.columns:
            cells = self.columns[column]
        else:
            raise ValueError(f"no column {column!r}; columns: id, label, "
                             f"{', '.join(sorted(self.columns)) or '(no extra columns)'}")
        mask = np.fromiter((str(v) in wanted for v in cells), dtype=bool, count=len(self))
        if not mask.any():
            raise ValueError(f"no row has {column} in {sorted(wanted)[:5]}")
        return self.take(mask)

    @property
    def provenance(self) -> dict[str, Any] | None:
        """The encoder provenance recorded in the metadata (a dict), if any."""
        return self.metadata.get("provenance")

    def class_names(self) -> list[str]:
        """The distinct labels in order of first appearance (an error when there are no labels)."""
        if self.labels is None:
            raise ValueError("this table has no labels")
        return list(dict.fromkeys(self.labels))

    @classmethod
    def concat(cls, tables: Sequence[EmbeddingTable], metadata: dict[str, Any] | None = None
               ) -> EmbeddingTable:
        """Rows of several tables with the same dimension and columns, in order."""
        if not tables:
            raise ValueError("no tables to concatenate")
        dims = {t.dim for t in tables}
        if len(dims) != 1:
            raise ValueError(f"tables have different dimensions: {sorted(dims)}")
        keys = {tuple(sorted(t.columns)) for t in tables}
        if len(keys) != 1:
            raise ValueError(f"tables have different columns: {sorted(keys)}")
        has_labels = {t.labels is not None for t in tables}
        if len(has_labels) != 1:
            raise ValueError("either every table or none must have labels")
        labels = sum((t.labels for t in tables), []) if tables[0].labels is not None else None
        cols = {k: sum((t.columns[k] for t in tables), []) for k in tables[0].columns}
        return cls(sum((t.ids for t in tables), []),
                   np.concatenate([np.asarray(t.vectors) for t in tables]), labels,
                   dict(tables[0].metadata if metadata is None else metadata), cols)

    # ---------------------------------------------------------------- I/O
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write to ``.parquet``, ``.arrow`` or ``.npz`` atomically (temporary file, then rename)."""
        path = Path(path)
        suffix = formats.format_of(path, table=True)
        with atomic_path(path) as tmp:
            if suffix in (".parquet", ".arrow"):
                self._write_arrow(tmp, suffix)
            else:
                formats.write_npz(tmp, {
                    "ids": np.asarray(self.ids, dtype=object).astype(str),
                    "vectors": np.asarray(self.vectors, dtype=np.float32),
                    "labels": np.asarray(self.labels if self.labels is not None else [], dtype=str),
                    "has_labels": np.asarray(self.labels is not None),
                    "metadata": np.asarray(json.dumps(self.metadata, default=str)),
                    "columns": np.asarray(json.dumps(self.columns, default=str)),
                }, atomic=False)
        return path

    def to_arrow(self) -> Any:
        """The table as a ``pyarrow.Table`` (metadata as JSON in the schema metadata)."""
        import pyarrow as pa

        vec = np.ascontiguousarray(self.vectors, dtype=np.float32)
        flat = pa.array(vec.ravel(), type=pa.float32())
        cols = {"id": pa.array(self.ids, type=pa.string()),
                "vector": pa.FixedSizeListArray.from_arrays(flat, vec.shape[1])}
        if self.labels is not None:
            cols["label"] = pa.array(self.labels, type=pa.string())
        for name, values in self.columns.items():
            try:
                cols[name] = pa.array(values)
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                raise ValueError(f"column {name!r} mixes types or holds unsupported values: {exc}") from exc
        return pa.table(cols).replace_schema_metadata(
            {_META_KEY: json.dumps(self.metadata, default=str).encode()}
        )

    def _write_arrow(self, path: str, suffix: str) -> None:
        formats.write_arrow(self.to_arrow(), path, suffix, atomic=False)

    @classmethod
    def load(cls, path: str | os.PathLike[str], mmap: bool = False) -> EmbeddingTable:
        """Read a table written by :meth:`save` (``.parquet``, ``.arrow`` or ``.npz``).

        With ``mmap=True`` an ``.arrow`` file is memory-mapped and ``vectors`` is a read-only
        zero-copy view of it (the file is read lazily); the other formats are read into memory.
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"embedding table not found: {path}")
        suffix = formats.format_of(path, table=True)
        try:
            if suffix == ".npz":
                z = formats.read_npz(path)
                labels = z["labels"].tolist() if bool(z["has_labels"]) else None
                cols = json.loads(str(z["columns"])) if "columns" in z else {}
                if not isinstance(cols, dict):
                    raise ValueError("the 'columns' entry is not a JSON object")
                return cls(z["ids"].tolist(), z["vectors"], labels,
                           _metadata(str(z["metadata"]), str(path)), cols)
            t = formats.read_arrow(path, mmap=mmap)
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"could not read table {path}: {exc}") from exc
        return cls.from_arrow(t, str(path))

    @classmethod
    def from_arrow(cls, t: Any, source: str = "arrow table") -> EmbeddingTable:
        """Build a table from a ``pyarrow.Table`` with ``id`` and ``vector`` columns."""
        if "id" not in t.column_names or "vector" not in t.column_names:
            raise ValueError(f"{source} is not an embedding table (needs 'id' and 'vector' columns)")
        vectors = formats.list_column_matrix(t.column("vector"), source, "vector", zero_copy=True)
        meta = _metadata((t.schema.metadata or {}).get(_META_KEY, b"{}"), source)
        labels = t.column("label").to_pylist() if "label" in t.column_names else None
        cols = {c: t.column(c).to_pylist() for c in t.column_names if c not in _RESERVED}
        try:
            return cls(t.column("id").to_pylist(), vectors, labels, meta, cols)
        except ValueError as exc:
            raise ValueError(f"{source}: {exc}") from None


def _cells(values: Any, what: str) -> list[str]:
    """Ids or labels as strings; a missing value (None or NaN) is an error naming its row.

    ``str(None)`` would turn a null into the id or class ``"None"``; a real string ``"None"`` is
    kept as it is.
    """
    out = []
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and v != v):
            raise ValueError(f"the {what} of row {i} is missing (null); every row needs a {what}")
        out.append(str(v))
    return out


def _metadata(raw: bytes | str, source: str) -> dict[str, Any]:
    """The table metadata (JSON text) as a dict, or an error naming the file."""
    try:
        meta = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{source}: the table metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{source}: the table metadata must be a JSON object; got "
                         f"{type(meta).__name__}")
    return meta
