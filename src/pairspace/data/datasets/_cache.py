"""The cache of rendered datasets: one folder per parameter set, built whole or not at all."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

C = TypeVar("C")


def default_cache_dir() -> Path:
    """``$PAIRSPACE_CACHE``, else ``$XDG_CACHE_HOME/pairspace``, else ``~/.cache/pairspace``."""
    env = os.environ.get("PAIRSPACE_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "pairspace"


def chosen_classes(all_classes: Sequence[C], names: Sequence[str] | None, what: str,
                   listing: str) -> list[C]:
    """The classes named in ``names`` (all when None), in ``all_classes``' order; an unknown name
    is an error that names a few of them and the function ``listing`` that lists them all."""
    if names is None:
        return list(all_classes)
    known = {c.name for c in all_classes}  # type: ignore[attr-defined]
    bad = [c for c in names if c not in known]
    if bad:
        raise ValueError(f"unknown {what} {bad[:5]}; see {listing}")
    wanted = set(names)
    return [c for c in all_classes if c.name in wanted]  # type: ignore[attr-defined]


def cached_build(prefix: str, params: Mapping[str, Any], build: Callable[[Path], None],
                 root: str | os.PathLike[str] | None = None, force: bool = False) -> Path:
    """The cached folder ``ROOT/PREFIX-KEY`` of a rendered set, built by ``build(tmp)`` if missing.

    ``KEY`` hashes ``params`` (so every parameter set has its own folder); ``build`` writes into
    a temporary sibling folder, which replaces the cached one only once it is complete (an
    interrupted build leaves no half-written set), and ``info.json`` marks a finished set.
    """
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    base = Path(root) if root is not None else default_cache_dir()
    folder = base / f"{prefix}-{key}"
    if folder.exists() and (folder / "info.json").exists() and not force:
        return folder
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=base, prefix=f".{folder.name}."))
    try:
        build(tmp)
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder
