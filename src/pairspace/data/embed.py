"""Embed a manifest into an :class:`EmbeddingTable`, reusing and resuming work.

- **Reuse**: when the output table exists and its metadata records the same encoder provenance
  fingerprint and the same inputs fingerprint, it is returned without running the encoder.
- **Resume**: items are embedded in chunks; every finished chunk is written atomically to a hidden
  ``.<out name>.partial/`` folder beside the output together with the fingerprints. A later run with
  the same encoder and inputs loads the finished chunks and embeds only the rest. The folder is
  removed once the table is written (atomically).
- **Bad inputs**: an encoder with ``encode_report`` (the audio encoders) reports unreadable items
  instead of raising; they are left out of the table, listed in ``EmbedResult.failures`` and in the
  table's metadata, and the job goes on.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write_bytes
from .._progress import progress_bar
from . import formats
from .manifests import Manifest
from .table import EmbeddingTable

SCHEMA = "pairspace.embed/1"


@dataclass(frozen=True)
class EmbedResult:
    """The table and what happened: ``reused`` (nothing encoded), ``resumed_items`` and the
    ``failures`` (item id, reason) of items that could not be read and were left out."""

    table: EmbeddingTable
    path: Path
    reused: bool
    encoded_items: int
    resumed_items: int
    failures: tuple[tuple[str, str], ...] = ()


def _encode_chunk(encoder: Any, items: list[Any], ids: list[str], batch_size: int
                  ) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Vectors of a chunk with NaN rows for unreadable items, and the (id, reason) failures."""
    if not hasattr(encoder, "encode_report"):
        return np.asarray(encoder.encode(items, batch_size=batch_size, progress=False),
                          dtype=np.float32), []
    rep = encoder.encode_report(items, batch_size=batch_size, progress=False)
    vec = np.full((len(items), encoder.dim), np.nan, dtype=np.float32)
    vec[rep.ok] = rep.vectors
    bad = sorted(set(range(len(items))) - set(rep.ok))
    return vec, [(ids[j], reason) for j, (_, reason) in zip(bad, rep.failures, strict=True)]


def partial_dir(out: Path) -> Path:
    """Where unfinished chunks of ``out`` are kept."""
    return out.parent / f".{out.name}.partial"


def embed_manifest(encoder: Any, manifest: Manifest, out: str | os.PathLike[str], batch_size: int = 32,
                   chunk_size: int = 1024, force: bool = False, progress: bool | None = None,
                   hash_content: bool = False) -> EmbedResult:
    """Embed every item of ``manifest`` with ``encoder`` into the table file ``out``.

    Parameters
    ----------
    encoder : Encoder
        Any object of the encoder protocol (``encode``, ``dim``, ``name``, ``provenance``).
    manifest : Manifest
        The items (see :func:`pairspace.data.manifests.read_manifest`).
    out : path-like
        Output table (``.parquet``, ``.arrow`` or ``.npz``).
    batch_size : int
        Items per encoder call.
    chunk_size : int
        Items per checkpoint (the unit of resumption).
    force : bool
        Ignore an existing table and unfinished chunks.
    progress : bool or None
        Show a progress bar (None: only on a terminal).
    hash_content : bool
        Fingerprint the input files by content rather than size and modification time.

    Returns
    -------
    EmbedResult
    """
    out = Path(out)
    formats.format_of(out, table=True)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1; got {chunk_size}")
    manifest.check_files()
    prov = encoder.provenance
    state = {"schema": SCHEMA, "encoder_fingerprint": prov.fingerprint(),
             "inputs_sha256": manifest.fingerprint(content=hash_content), "n": len(manifest),
             "chunk_size": int(chunk_size)}
    if out.exists() and not force:
        try:
            old = EmbeddingTable.load(out)
        except ValueError:
            old = None
        if old is not None and all(old.metadata.get(k) == state[k]
                                   for k in ("encoder_fingerprint", "inputs_sha256")):
            return EmbedResult(old, out, True, 0, 0,
                               tuple(tuple(f) for f in old.metadata.get("failures", [])))
    pdir = partial_dir(out)
    if force and pdir.exists():
        shutil.rmtree(pdir)
    done: dict[int, np.ndarray] = {}
    state_file = pdir / "state.json"
    if pdir.exists():
        try:
            same = json.loads(state_file.read_text()) == state
        except (OSError, json.JSONDecodeError):
            same = False
        if same:
            for f in pdir.glob("chunk_*.npy"):
                try:
                    done[int(f.stem.split("_")[1])] = np.load(f, allow_pickle=False)
                except (ValueError, OSError):
                    continue  # a damaged chunk is simply embedded again
        else:
            shutil.rmtree(pdir)
    pdir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(state_file, json.dumps(state, sort_keys=True).encode())

    n = len(manifest)
    starts = list(range(0, n, chunk_size))
    resumed = sum(min(chunk_size, n - s) for i, s in enumerate(starts) if i in done
                  and done[i].shape[0] == min(chunk_size, n - s))
    bar = progress_bar(total=n, desc=f"embed {encoder.name}", progress=progress, unit="item")
    bar.update(resumed)
    encoded = 0
    try:
        for i, s in enumerate(starts):
            e = min(n, s + chunk_size)
            if i in done and done[i].shape == (e - s, encoder.dim):
                continue
            vec, bad = _encode_chunk(encoder, list(manifest.items[s:e]), manifest.ids[s:e], batch_size)
            if vec.shape != (e - s, encoder.dim):
                raise ValueError(f"encoder returned shape {vec.shape} for {e - s} items of dim {encoder.dim}")
            if bad:
                atomic_write_bytes(pdir / f"failures_{i:06d}.json", json.dumps(bad).encode())
            buf = io.BytesIO()
            np.save(buf, vec, allow_pickle=False)
            atomic_write_bytes(pdir / f"chunk_{i:06d}.npy", buf.getvalue())
            done[i] = vec
            encoded += e - s
            bar.update(e - s)
    finally:
        bar.close()
    vectors = np.concatenate([done[i] for i in range(len(starts))])
    failures = [tuple(f) for p in sorted(pdir.glob("failures_*.json"))
                for f in json.loads(p.read_text())]
    keep = ~np.isnan(vectors).any(axis=1)
    if not keep.any():
        raise ValueError(f"no item could be embedded; first failure: {failures[:1]}")
    meta = {"schema": SCHEMA, "provenance": prov.to_dict(), **state,
            "source": manifest.source, "kind": manifest.kind,
            "failures": [list(f) for f in failures]}
    cols = dict(manifest.columns)
    if manifest.kind == "path":
        cols.setdefault("path", list(manifest.items))
    rows = np.flatnonzero(keep)
    table = EmbeddingTable(
        [manifest.ids[r] for r in rows], vectors[rows],
        [manifest.labels[r] for r in rows] if manifest.labels is not None else None, meta,
        {k: [v[r] for r in rows] for k, v in cols.items()},
    )
    table.save(out)
    shutil.rmtree(pdir, ignore_errors=True)
    return EmbedResult(table, out, False, encoded, resumed, tuple(failures))
