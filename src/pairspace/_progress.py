"""Progress bars for long work (tqdm), shared by search, permutations, embedding and training."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tqdm.auto import tqdm


def progress_bar(
    iterable: Iterable[Any] | None = None,
    *,
    total: int | None = None,
    desc: str = "",
    progress: bool | None = None,
    unit: str = "it",
) -> tqdm:
    """Return a tqdm bar. ``progress=None`` shows it only on an interactive terminal."""
    return tqdm(
        iterable, total=total, desc=desc, unit=unit, disable=(None if progress is None else not progress),
        leave=False, dynamic_ncols=True,
    )
