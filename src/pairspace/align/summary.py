r"""The result of a training run and its document, ``summary.json`` (schema ``pairspace.train/1``).

:func:`pairspace.align.trainer.train` returns a :class:`TrainResult`; its ``to_dict()`` is the
result envelope (:mod:`pairspace.envelope`) that the run folder keeps as ``summary.json`` and that
``pairspace train --json`` prints:

* ``inputs``: the two backbone tables (``audio_table``, ``text_table``: rows ``n``, dimension ``d``,
  the encoder provenance recorded in the table and, when the table was read from a file, its
  ``path``, ``size`` and ``sha256``), the pair manifest (``pairs``; ``n`` pairs, their ``digest``,
  the first 16 hex digits of the SHA-256 of the ``a_id\tb_id`` lines in order, as in
  ``config.json``, and the file when one was read), ``extra_pairs`` the same or None, and the
  ``teacher`` (path and weight digest) or None;
* ``settings``: every field of the :class:`~pairspace.align.config.TrainConfig` and ``threads``
  (the torch thread count; it changes the last digits of the weights);
* ``results``: what ``summary.json`` held before it was an envelope (selection, selected epoch and
  its score, epochs run, resumed epoch, split sizes, the per-epoch history, ``status``).

A run that diverged writes the same envelope with ``results = {"status": "failed", "error": ...,
"run_dir": ...}`` (:func:`failed_document`).

This module imports no torch, so that reading a summary stays light.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..envelope import Envelope, file_input

__all__ = ["SCHEMA", "TrainResult", "failed_document", "pairs_input", "run_inputs", "table_input"]

SCHEMA = "pairspace.train/1"

PathLike = str | os.PathLike[str]


@dataclass
class TrainResult:
    """What a training run produced; ``to_dict()`` is its ``pairspace.train/1`` document.

    Attributes
    ----------
    run_dir : str
        The run folder.
    selection : str
        The model-selection rule that ran (``"oracle"`` runs carry
        :data:`~pairspace.align.config.ORACLE_LABEL`).
    best_epoch, best_score : int and float
        The selected epoch (counted from 0) and its selection score (higher is better).
    epochs_run, resumed_from : int
        Epochs in the history, and the epoch this call resumed at (0: a fresh start).
    n_train, n_val, n_extra : int
        Training pairs, held-out pairs and the extra (curated) pairs kept.
    history : list of dict
        One record per epoch (``metrics.jsonl``).
    status : {"complete", "incomplete"}
        ``"incomplete"`` after ``stop_after`` epochs of a longer run (no ``summary.json`` yet).
    settings : dict
        The envelope's settings (the configuration and the thread count).
    envelope : Envelope
        The stamp: schema, version, time, command line and inputs (:func:`run_inputs`).
    """

    run_dir: str
    selection: str
    best_epoch: int
    best_score: float
    epochs_run: int
    resumed_from: int
    n_train: int
    n_val: int
    history: list[dict[str, Any]] = field(default_factory=list)
    status: str = "complete"
    n_extra: int = 0
    settings: dict[str, Any] = field(default_factory=dict)
    envelope: Envelope = field(default_factory=lambda: Envelope.new(SCHEMA))

    RESULT_FIELDS: ClassVar[tuple[str, ...]] = (
        "run_dir", "selection", "best_epoch", "best_score", "epochs_run", "resumed_from", "n_train",
        "n_val", "history", "status", "n_extra")

    @property
    def results(self) -> dict[str, Any]:
        """The ``results`` of the document (the fields of the old flat ``summary.json``)."""
        return {name: getattr(self, name) for name in self.RESULT_FIELDS}

    def to_dict(self) -> dict[str, Any]:
        """The ``pairspace.train/1`` document (what ``summary.json`` holds)."""
        return self.envelope.document(self.settings, self.results)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> TrainResult:
        """The result a ``pairspace.train/1`` document of a finished run describes."""
        stamp = Envelope.from_dict(doc, SCHEMA)
        res = doc["results"]
        if res.get("status") == "failed":
            raise ValueError(f"{res.get('run_dir')} is a failed run: {res.get('error')}")
        return cls(**{k: res[k] for k in cls.RESULT_FIELDS}, settings=dict(doc["settings"]),
                   envelope=stamp)


def table_input(table: Any, path: PathLike | None = None) -> dict[str, Any]:
    """Provenance of a backbone table: its file (``path``, ``size``, ``sha256``; None each when it
    was not read from a file), rows ``n``, dimension ``d`` and the recorded ``encoder``."""
    where = file_input(path) if path is not None else {"path": None, "size": None, "sha256": None}
    return {**where, "n": len(table), "d": int(table.dim), "encoder": table.provenance}


def pairs_input(pairs: Sequence[tuple[str, str]], path: PathLike | None = None) -> dict[str, Any]:
    """Provenance of a pair list: its manifest file (or None each), ``n`` and the ``digest`` of
    :func:`pairspace.align.pairdata.pairs_digest`."""
    from .pairdata import pairs_digest

    where = file_input(path) if path is not None else {"path": None, "size": None, "sha256": None}
    return {**where, "n": len(pairs), "digest": pairs_digest(pairs)}


def _path_of(source: Any) -> PathLike | None:
    return source if isinstance(source, str | os.PathLike) else None


def run_inputs(audio: Any, text: Any, pairs: Any, pair_list: Sequence[tuple[str, str]],
               extra: Any = None, extra_list: Sequence[tuple[str, str]] | None = None,
               table_files: Sequence[PathLike | None] | None = None,
               teacher: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The envelope's ``inputs`` of a run.

    Parameters
    ----------
    audio, text : EmbeddingTable
        The backbone tables.
    pairs, extra : path or sequence
        The pairs (and extra pairs) as given to ``train`` (a path is recorded as a file).
    pair_list, extra_list : list of (str, str)
        The same, read.
    table_files : (path or None, path or None), optional
        The files the two tables were read from.
    teacher : dict, optional
        The teacher's description (path and weight digest).
    """
    files = tuple(table_files) if table_files is not None else (None, None)
    if len(files) != 2:
        raise ValueError(f"table_files names the audio and the text table file; got {len(files)} paths")
    return {"audio_table": table_input(audio, files[0]), "text_table": table_input(text, files[1]),
            "pairs": pairs_input(pair_list, _path_of(pairs)),
            "extra_pairs": None if extra_list is None else pairs_input(extra_list, _path_of(extra)),
            "teacher": dict(teacher) if teacher else None}


def failed_document(inputs: Mapping[str, Any], settings: Mapping[str, Any], run_dir: PathLike,
                    message: str) -> dict[str, Any]:
    """The ``pairspace.train/1`` document of a run that failed (``results.status == "failed"``)."""
    return Envelope.new(SCHEMA, inputs).document(
        settings, {"status": "failed", "error": message, "run_dir": str(run_dir)})
