"""The run folder of a training run: checked before any work, created late, marked when it failed.

A run that diverged keeps its ``config.json`` and ``metrics.jsonl`` for diagnosis but says so: a
``FAILED`` file holds the error, ``config.json`` and ``summary.json`` (the ``pairspace.train/1``
envelope, under ``results``) carry ``status: failed``, and
no ``model.safetensors`` is written. Such a folder is neither resumed nor loaded as a model until
the run is started over (``resume=False``, ``pairspace train --restart``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .._atomic import atomic_write_bytes, write_json

RUN_FILES = ("model.safetensors", "last.safetensors", "config.json", "summary.json",
             "metrics.jsonl", "FAILED", "report.html", "training_curves.png")
"""The files a training run writes into its folder, its report included (a command's output must
never replace one)."""


def check_not_run_file(out: str | os.PathLike[str], run: str | os.PathLike[str]) -> None:
    """Refuse an output file that would replace one of the files of the run folder ``run``."""
    o, r = Path(os.path.realpath(out)), Path(os.path.realpath(run))
    if o.parent == r and o.name in RUN_FILES:
        raise ValueError(f"{out} is the run's own {o.name}; writing there would replace it: "
                         "choose another --out (default RUN/zeroshot.json)")


def mark_status_failed(out: Path, message: str) -> None:
    """Turn ``status: running`` in ``config.json`` into ``failed`` with the error, after an error
    that is not a divergence (a full disk, a bug). Best effort; a run that was not running (its
    resume was refused) is left as it was, and the run stays resumable (no ``FAILED``)."""
    try:
        cfg = json.loads((out / "config.json").read_text())
        if isinstance(cfg, dict) and cfg.get("status") == "running":
            write_json(out / "config.json", {**cfg, "status": "failed", "error": message})
    except (OSError, ValueError):
        pass


def check_out(out: Path, resume: bool) -> None:
    """Refuse a run folder that cannot be one, before any work (creates nothing)."""
    probe = out
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        where = "exists and is not a folder" if probe == out else f"lies under the file {probe}"
        raise ValueError(f"the run folder {out} {where}")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ValueError(f"the run folder {out} is not writable ({probe})")
    if resume and (out / "FAILED").exists():
        raise ValueError(f"{out} holds a failed run ({(out / 'FAILED').read_text().strip()}); "
                         "start over with --restart (resume=False) or use another --out folder")


def open_out(out: Path, resume: bool) -> None:
    """Create the folder; starting over (``resume=False``) removes a failed run's marker and the old model."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create the run folder {out}: {exc.strerror or exc}") from None
    if not resume:
        for name in ("FAILED", "model.safetensors", "summary.json"):
            (out / name).unlink(missing_ok=True)


def mark_failed(out: Path, run_cfg: dict[str, Any], message: str, summary: dict[str, Any]) -> None:
    """Write ``FAILED``, the failed status into ``config.json`` and ``summary`` (the run's
    ``pairspace.train/1`` document with ``status: failed``,
    :func:`pairspace.align.summary.failed_document`) as ``summary.json``."""
    atomic_write_bytes(out / "FAILED", (message + "\n").encode())
    write_json(out / "config.json", {**run_cfg, "status": "failed"})
    write_json(out / "summary.json", summary)


def tensorboard_writer(out: Path) -> Any:
    """A TensorBoard ``SummaryWriter`` logging to ``out/tensorboard`` (an optional dependency)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as exc:
        raise ImportError("TensorBoard logging needs the 'tensorboard' package: "
                          "pip install tensorboard") from exc
    return SummaryWriter(log_dir=str(out / "tensorboard"))
