"""Embed a manifest into an :class:`EmbeddingTable`, reusing and resuming work.

- **Reuse**: when the output table exists and its metadata records the same encoder provenance
  fingerprint and the same inputs fingerprint, it is returned without running the encoder.
- **Resume**: items are embedded in chunks; every finished chunk is written atomically to a hidden
  ``.<out name>.partial/`` folder beside the output together with the fingerprints. A later run with
  the same encoder and inputs loads the finished chunks and embeds only the rest. The folder is
  removed once the table is written (atomically).
- **Bad inputs**: an encoder with ``encode_report`` (the audio and image encoders) reports
  unreadable items instead of raising; they are left out of the table, listed in
  ``EmbedResult.failures`` and in the table's metadata, and the job goes on. A job in which every
  item failed ends with an error and writes no table.
- **One writer**: the output is locked while a job runs (an exclusive :mod:`filelock` lock on
  ``.<out name>.lock`` beside it, which also holds on a shared filesystem; the file holds the
  writer's pid); a second job on the same output is refused with an error naming that pid. The
  lock of a killed job dies with it.
- **Checked first**: the output name (format, not a folder, not under a file, a writable folder)
  is checked before any work (:func:`check_output_file`).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import _outputs
from .._atomic import atomic_write_bytes
from .._progress import progress_bar
from . import formats
from .manifests import Manifest
from .table import EmbeddingTable

TABLE_LAYOUT = "pairspace.embed_table/1"
"""The layout of the metadata an embedding job stores in its table (``metadata["layout"]``: the
encoder fingerprint, input checksum and chunking the reuse check compares). It is table metadata,
not a result document: the job's result envelope is ``pairspace.embed/1``
(:mod:`pairspace.studies.embedding`)."""


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


def _encode_chunk(encoder: Any, items: list[Any], ids: list[str], batch_size: int, bar: Any
                  ) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Vectors of a chunk with NaN rows for unreadable items, and the (id, reason) failures.

    The encoder is called once per batch, so the progress bar moves per batch, not per chunk.
    """
    vec = np.full((len(items), encoder.dim), np.nan, dtype=np.float32)
    failures: list[tuple[str, str]] = []
    for s in range(0, len(items), batch_size):
        batch = items[s : s + batch_size]
        if not hasattr(encoder, "encode_report"):
            out = np.asarray(encoder.encode(batch, batch_size=batch_size, progress=False),
                             dtype=np.float32)
            if out.shape != (len(batch), encoder.dim):
                raise ValueError(f"encoder returned shape {out.shape} for {len(batch)} items of "
                                 f"dim {encoder.dim}")
            vec[s : s + len(batch)] = out
        else:
            rep = encoder.encode_report(batch, batch_size=batch_size, progress=False)
            vec[[s + j for j in rep.ok]] = rep.vectors
            bad = sorted(set(range(len(batch))) - set(rep.ok))
            failures += [(ids[s + j], reason)
                         for j, (_, reason) in zip(bad, rep.failures, strict=True)]
        bar.update(len(batch))
    return vec, failures


def check_output_file(out: str | os.PathLike[str]) -> Path:
    """Check an output table name before any work: its format, and that it can be written.

    Raises a ValueError when ``out`` has no table suffix, is a folder, lies under a file, or its
    folder cannot be written (tested by creating and removing a temporary file there).
    """
    out = Path(out)
    formats.format_of(out, table=True)
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; give a table file name (.parquet, .arrow, .npz)")
    anc = out.parent
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if not anc.is_dir():
        raise ValueError(f"cannot write {out}: {anc} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=anc):
            pass
    except OSError as exc:
        raise ValueError(f"cannot write {out}: the folder {anc} is not writable ({exc.strerror})"
                         ) from exc
    return out


def lock_path(out: Path) -> Path:
    """The lock file of ``out`` (:func:`pairspace._outputs.lock_path`; it holds the writer's pid)."""
    return _outputs.lock_path(out)


@contextmanager
def output_lock(out: Path) -> Iterator[Path]:
    """Hold the exclusive lock of ``out`` (a :mod:`filelock` lock,
    ``pairspace._outputs.output_lock``): a second job on the same output, here or on another machine
    sharing the filesystem, is refused with the pid of the first; a lock of a killed job is no lock."""
    with _outputs.output_lock(out, owner="embed") as lock:
        yield lock


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
    out = check_output_file(out)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1; got {chunk_size}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}")
    manifest.check_files()
    with output_lock(out):
        return _embed_locked(encoder, manifest, out, batch_size, chunk_size, force, progress,
                             hash_content)


def _finished_chunks(pdir: Path, state: dict[str, Any], force: bool) -> dict[int, np.ndarray]:
    """The chunks a previous run of the same job finished (none when the job changed or
    ``force``); the partial folder is (re)started with this job's state."""
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
    return done


def _embed_locked(encoder: Any, manifest: Manifest, out: Path, batch_size: int, chunk_size: int,
                  force: bool, progress: bool | None, hash_content: bool) -> EmbedResult:
    """:func:`embed_manifest` once the output is checked and locked."""
    prov = encoder.provenance
    state = {"layout": TABLE_LAYOUT, "encoder_fingerprint": prov.fingerprint(),
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
    done = _finished_chunks(pdir, state, force)
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
            vec, bad = _encode_chunk(encoder, list(manifest.items[s:e]), manifest.ids[s:e],
                                     batch_size, bar)
            if bad:
                atomic_write_bytes(pdir / f"failures_{i:06d}.json", json.dumps(bad).encode())
            buf = io.BytesIO()
            np.save(buf, vec, allow_pickle=False)
            atomic_write_bytes(pdir / f"chunk_{i:06d}.npy", buf.getvalue())
            done[i] = vec
            encoded += e - s
    finally:
        bar.close()
    vectors = np.concatenate([done[i] for i in range(len(starts))])
    failures = [tuple(f) for p in sorted(pdir.glob("failures_*.json"))
                for f in json.loads(p.read_text())]
    keep = ~np.isnan(vectors).any(axis=1)
    if not keep.any():
        shutil.rmtree(pdir, ignore_errors=True)
        first = f"; first: {failures[0][0]}: {failures[0][1]}" if failures else ""
        raise ValueError(f"none of the {n} items could be embedded, so no table was written "
                         f"({len(failures)} failures{first})")
    meta = {"provenance": prov.to_dict(), **state,
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
