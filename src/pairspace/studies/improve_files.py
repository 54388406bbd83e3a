"""The improve experiment on a user's files (``pairspace improve --audio --text --split``).

The command line passes the three paths; this module reads and checks them (the split with the
checked JSON reader, naming the file), picks the text encoder the text table records, and runs
:func:`pairspace.studies.improve.improve_study` with the audio demo's head configuration.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from .._progress import log_info
from .improve import ImproveData, ImproveResult, improve_study


def read_split(path: str | os.PathLike[str]) -> ImproveData:
    """An :class:`ImproveData` split from its JSON file (the ``split-<seed>.json`` that
    ``pairspace improve`` writes, or one written by hand); errors name the file."""
    from ..data.textfiles import read_json_object

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"split file not found: {p}")
    lists = tuple(f.name for f in fields(ImproveData) if f.name != "description")
    return ImproveData.from_dict(read_json_object(p, "split file", lists))


def improve_files(audio: str | os.PathLike[str], text: str | os.PathLike[str],
                  split: str | os.PathLike[str], out: str | os.PathLike[str], *,
                  text_encoder: str | None = None, epochs: int | None = None,
                  seeds: Sequence[int] = (0, 1, 2), thresholds: Mapping[str, Any] | None = None,
                  progress: bool | None = None, log: Callable[[str], None] = log_info,
                  **options: Any) -> ImproveResult:
    """Run the experiment on two embedding tables and one split.

    Parameters
    ----------
    audio, text : path
        Embedding tables holding every id of the split.
    split : path
        The split (:func:`read_split`).
    out : path
        Folder of the training runs (``out/own/seed<s>/``).
    text_encoder : str, optional
        Registered name of the text table's encoder (default: the one the table records).
    epochs : int, optional
        Teacher epochs (default: the audio demo's).
    seeds, thresholds, progress, log, options
        As :func:`~pairspace.studies.improve.improve_study` (``losses``, ``methods``,
        ``extra_prob``, ``a2a_top_k``, ``student_epochs``...).
    """
    import torch

    from ..data.table import EmbeddingTable
    from ..encoders import get
    from .audio_demo import DEMO_CONFIG

    torch.set_num_threads(1)
    data = read_split(split)
    a, t = EmbeddingTable.load(audio), EmbeddingTable.load(text)
    enc = text_encoder or (t.provenance or {}).get("encoder")
    if not enc:
        raise ValueError("the text table does not record its encoder; pass --text-encoder")
    cfg = DEMO_CONFIG if epochs is None else type(DEMO_CONFIG)(**{**DEMO_CONFIG.to_dict(),
                                                                 "epochs": int(epochs)})
    return improve_study(a, t, data, get(enc), Path(out) / "own", config=cfg, seeds=seeds,
                         thresholds=thresholds, progress=progress, log=log, setting="own",
                         encoders={"audio": str(audio), "text": str(text)}, **options)
