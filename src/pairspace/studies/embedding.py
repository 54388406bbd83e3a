r"""One embedding job as a result (``pairspace embed``): the table and its ``pairspace.embed/1`` document.

:func:`embed_job` reads the items (a folder, a CSV/TSV/JSONL manifest, or a dataset's own layout),
builds the registered encoder and runs :func:`pairspace.data.embed.embed_manifest`, which writes
the table, or reuses it when its metadata records the same encoder and the same inputs, or resumes
an interrupted job. The returned :class:`EmbedRun`'s ``to_dict()`` is the result envelope
(:mod:`pairspace.envelope`) that ``pairspace embed --json`` prints:

* ``inputs``: the ``source`` (the manifest file by path, size and SHA-256; a folder by path and
  total size), the ``dataset`` layout and ``class_names`` override when given, and the ``items``:
  their number, kind and the ``fingerprint`` the reuse check compares (SHA-256 of ids, items,
  labels and each file's size and modification time, or its bytes with ``hash_content``);
* ``settings``: the ``encoder`` provenance (name, model, library, weight checksum), the registry
  name and options, ``batch_size``, ``chunk_size``, ``force``, ``hash_content`` and the manifest
  columns;
* ``results``: the table file (``path``, ``size``, ``sha256`` of the bytes on disk), its rows ``n``
  and dimension ``d``, whether the existing table was ``reused``, the items encoded by this job and
  resumed from an interrupted one, and the ``failures`` (item id, reason) left out.

The document is not written beside the table: the table's own metadata is the record that the
reuse check reads, and a second file could disagree with it (see the ``pairspace embed`` help).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..envelope import Envelope, encoder_input, file_input

__all__ = ["SCHEMA", "EmbedRun", "embed_job"]

SCHEMA = "pairspace.embed/1"


@dataclass(frozen=True)
class EmbedRun:
    """An embedding job's outcome; ``to_dict()`` is its ``pairspace.embed/1`` document.

    Attributes
    ----------
    job : pairspace.data.embed.EmbedResult
        The table and what happened (reused, encoded, resumed, failures).
    settings, results : dict
        The envelope's settings and results (see the module docstring).
    envelope : Envelope
        The stamp (schema, version, time, command line, inputs).
    """

    job: Any
    settings: dict[str, Any]
    results: dict[str, Any]
    envelope: Envelope = field(default_factory=lambda: Envelope.new(SCHEMA))

    @property
    def table(self) -> Any:
        """The :class:`~pairspace.data.table.EmbeddingTable` written or reused."""
        return self.job.table

    def to_dict(self) -> dict[str, Any]:
        """The ``pairspace.embed/1`` document."""
        return self.envelope.document(self.settings, self.results)


def _manifest(source: str | os.PathLike[str], modality: str, dataset: str | None,
              class_names: str | None, item_column: str | None, label_column: str) -> Any:
    from ..data import datasets
    from ..data.manifests import read_manifest

    if dataset:
        kw = {"class_names": class_names} if class_names else {}
        return datasets.LOADERS[dataset](source, **kw).to_manifest()
    return read_manifest(source, modality=modality, item_column=item_column, label_column=label_column)


def embed_job(encoder: str, source: str | os.PathLike[str], out: str | os.PathLike[str], *,
              options: Mapping[str, Any] | None = None, dataset: str | None = None,
              class_names: str | None = None, item_column: str | None = None,
              label_column: str = "label", batch_size: int = 32, chunk_size: int = 1024,
              force: bool = False, hash_content: bool = False,
              progress: bool | None = None) -> EmbedRun:
    """Embed a folder, a manifest or a dataset's layout with a registered encoder into ``out``.

    Parameters
    ----------
    encoder : str
        A registered encoder name (:func:`pairspace.encoders.get`), built with ``options``.
    source : path-like
        A folder, a ``.csv``/``.tsv``/``.jsonl`` manifest, or the root of ``dataset``.
    out : path-like
        The table file (``.parquet``, ``.arrow`` or ``.npz``); checked before anything is read.
    dataset, class_names : str, optional
        Read ``source`` as this dataset's own layout (:data:`pairspace.data.datasets.LOADERS`),
        with a class-name override.
    item_column, label_column : str
        The manifest columns of the items and of the labels.
    batch_size, chunk_size, force, hash_content, progress
        As in :func:`pairspace.data.embed.embed_manifest`.

    Returns
    -------
    EmbedRun
    """
    from ..data.embed import check_output_file, embed_manifest
    from ..encoders import get, modality_of

    check_output_file(out)  # before reading inputs or loading a model
    options = dict(options or {})
    manifest = _manifest(source, modality_of(encoder, **options), dataset, class_names, item_column,
                         label_column)
    enc = get(encoder, **options)
    job = embed_manifest(enc, manifest, out, batch_size=batch_size, chunk_size=chunk_size,
                         force=force, progress=progress, hash_content=hash_content)
    inputs = {"source": file_input(source), "dataset": dataset, "class_names": class_names,
              "items": {"n": len(manifest), "kind": manifest.kind,
                        "fingerprint": job.table.metadata.get("inputs_sha256")}}
    settings = {"encoder": encoder_input(enc), "encoder_name": encoder, "options": options,
                "batch_size": int(batch_size), "chunk_size": int(chunk_size), "force": bool(force),
                "hash_content": bool(hash_content), "item_column": item_column,
                "label_column": label_column}
    results = {**file_input(job.path), "n": len(job.table), "d": int(job.table.dim),
               "reused": bool(job.reused), "encoded_items": int(job.encoded_items),
               "resumed_items": int(job.resumed_items),
               "failures": [[str(i), str(why)] for i, why in job.failures]}
    return EmbedRun(job, settings, results, Envelope.new(SCHEMA, inputs))
