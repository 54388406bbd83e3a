"""Progress bars for long work (tqdm), shared by search, permutations, embedding and training.

A bar shows only when standard error is a terminal, unless asked: ``progress=True`` in a call, or,
under the command line, ``--progress`` (:func:`shown` sets what the user asked for the whole
command, and then decides over a ``progress=True`` that a command passes; ``-q`` turns every bar
off). A ``2>log`` of a command therefore holds no carriage-return redraws.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from collections.abc import Iterable, Iterator
from typing import Any

_UNSET = object()
_CHOICE: contextvars.ContextVar[Any] = contextvars.ContextVar("pairspace_progress", default=_UNSET)


@contextlib.contextmanager
def shown(choice: bool | None) -> Iterator[None]:
    """Within the block, bars follow ``choice`` (True: always, False: never, None: on a terminal)
    whatever a caller passes, except an explicit ``progress=False``."""
    token = _CHOICE.set(choice)
    try:
        yield
    finally:
        _CHOICE.reset(token)


class _Quiet:
    """What a disabled bar does (nothing), without importing tqdm (about 40 ms of start-up)."""

    def __init__(self, iterable: Iterable[Any] | None) -> None:
        self.iterable = iterable

    def __iter__(self) -> Iterator[Any]:
        return iter(self.iterable if self.iterable is not None else ())

    def __enter__(self) -> _Quiet:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: float = 1) -> None:
        return None

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        return None

    def close(self) -> None:
        return None


def progress_bar(
    iterable: Iterable[Any] | None = None,
    *,
    total: int | None = None,
    desc: str = "",
    progress: bool | None = None,
    unit: str = "it",
) -> Any:
    """Return a tqdm bar. ``progress=None`` shows it only on an interactive terminal."""
    choice = _CHOICE.get()
    if progress is not False and choice is not _UNSET:
        progress = choice
    if progress is False or (progress is None and not _interactive()):
        return _Quiet(iterable)
    from tqdm.auto import tqdm

    return tqdm(
        iterable, total=total, desc=desc, unit=unit, disable=(None if progress is None else not progress),
        leave=False, dynamic_ncols=True,
    )


def _interactive() -> bool:
    """Whether standard error is a terminal (tqdm's own rule for ``disable=None``)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def log_info(message: str) -> None:
    """The default ``log`` callback of long studies: an INFO record of the ``pairspace`` logger.

    A library user sees nothing unless they configure :mod:`logging`; the command line shows
    these messages on standard error (nothing with ``-q``).
    """
    import logging

    logging.getLogger("pairspace").info(message)
