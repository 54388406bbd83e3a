"""The file of ``pairspace zeroshot``: the ``pairspace.zeroshot/2`` document, written as made."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .._atomic import write_json


def write_zeroshot(result: Any, path: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``result.to_dict()`` (a :class:`~pairspace.studies.zeroshot.ZeroShotResult`) to ``path``
    atomically; returns ``{"json": path}``."""
    return {"json": write_json(path, result.to_dict())}
