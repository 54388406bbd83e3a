"""The working-memory setting of pairspace: one budget instead of a ``memory_budget=`` in every call.

Every blocked computation (the kNN search, kernels on graphs, bootstrap resamples, curation scans,
analogy, zero-shot and retrieval scores, streamed tables) takes ``memory_budget=None``, which means
*the configured setting*: the bytes of scratch memory one block of rows may use. The setting starts
at :data:`DEFAULT_MEMORY_BUDGET`; :func:`set_config` changes it, :func:`config_context` changes it
for a ``with`` block, :func:`get_config` reads it. An explicit ``memory_budget=`` in a call wins
over the setting. The budget decides only how the work is cut into blocks, not what is computed:
the kNN search returns the same neighbors and distances under any budget; a matrix product over
blocks of another shape (curation cosines, zero-shot scores) may round differently in the last bit.

Two layers, the idea of scikit-learn's ``set_config(working_memory=...)`` / ``config_context``:

- :func:`set_config` sets the setting of the current thread (thread-local, as scikit-learn's): it
  lasts for everything that thread runs later, its asyncio tasks included. That is what a notebook
  needs: a kernel may run every cell as its own asyncio task, and a context variable set in one
  cell does not always reach the next (ipykernel issues 749 and 1457).
- :func:`config_context` sets a :class:`contextvars.ContextVar` that wins over it for the ``with``
  block: local to the thread *and* to the asyncio task that entered it (two tasks interleaving
  their blocks each see their own value), inherited by the tasks created inside. A
  :func:`set_config` inside the block changes the block's value and ends with it.

A new thread starts from :data:`DEFAULT_MEMORY_BUDGET` (run it in ``contextvars.copy_context()`` to
hand it the value of an enclosing :func:`config_context`). The pool threads of the search are handed
the budget resolved by the call that started them, never the setting.

This module imports only the standard library (the command line reads its names for ``--help``).
"""

from __future__ import annotations

import contextlib
import contextvars
import numbers
import re
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["DEFAULT_MEMORY_BUDGET", "config_context", "format_bytes", "get_config", "parse_bytes",
           "resolve_memory_budget", "set_config"]

DEFAULT_MEMORY_BUDGET = 256 * 2**20
"""The working memory (bytes) of every blocked computation when nothing else is configured: the
initial value of the setting that every ``memory_budget=None`` reads (kNN search, kernels on
graphs, bootstrap resamples, curation scans, analogy and retrieval scores)."""

_THREAD = threading.local()  # .memory_budget: the set_config value of each thread
_SCOPED: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "pairspace_memory_budget", default=None)  # the innermost config_context's value, if any

_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_bytes(value: Any, name: str = "memory_budget") -> int:
    """A positive number of bytes from an int or a size string.

    Parameters
    ----------
    value : int or str
        Bytes (a positive int), or a size such as ``"512MiB"``, ``"1.5GiB"``, ``"64 kB"`` or
        ``"1000000"``: binary units ``KiB``, ``MiB``, ``GiB``, ``TiB`` (powers of 1024), decimal
        ``kB``/``k``, ``MB``/``M``, ``GB``/``G``, ``TB``/``T`` (powers of 1000), ``B`` or no unit
        for bytes; case is ignored. A fractional size is rounded down to whole bytes.
    name : str
        The name the error message uses.

    Returns
    -------
    int
        The bytes, at least 1.

    Raises
    ------
    ValueError
        For a bool, a float, a number below 1 byte, an unknown unit or anything else.
    """
    if isinstance(value, str):
        m = _SIZE.match(value)
        unit = m.group(2).lower() if m else None
        if m is None or unit not in _UNITS:
            raise ValueError(f"{name} must be a positive number of bytes or a size such as '512MiB' "
                             f"or '2GB'; got {value!r}")
        size = float(m.group(1)) * _UNITS[unit] if "." in m.group(1) else int(m.group(1)) * _UNITS[unit]
        if size < 1:
            raise ValueError(f"{name} must be at least 1 byte; got {value!r}")
        return int(size)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive number of bytes; got {value!r}")
    return int(value)


def format_bytes(n: int) -> str:
    """``n`` bytes as the shortest exact size string :func:`parse_bytes` reads back
    (``268435456`` -> ``"256MiB"``, ``1000`` -> ``"1000"``)."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n % size == 0:
            return f"{n // size}{unit}"
    return str(int(n))


def get_config() -> dict[str, int]:
    """The current settings: ``{"memory_budget": bytes}`` (a new dict; changing it changes nothing).

    Examples
    --------
    >>> import pairspace
    >>> with pairspace.config_context(memory_budget="64MiB"):
    ...     pairspace.get_config()
    {'memory_budget': 67108864}
    """
    return {"memory_budget": _current()}


def _current() -> int:
    scoped = _SCOPED.get()
    return scoped if scoped is not None else getattr(_THREAD, "memory_budget", DEFAULT_MEMORY_BUDGET)


def set_config(memory_budget: int | str | None = None) -> None:
    """Change the settings of the current thread from now on (inside a :func:`config_context`
    block: until the block ends).

    Parameters
    ----------
    memory_budget : int, str or None
        Bytes of scratch memory one block of a blocked computation may use, as an int or a size
        string (``"512MiB"``, see :func:`pairspace._config.parse_bytes`); read by every
        ``memory_budget=None``. None leaves the setting as it is. It bounds the blocks (a block
        holds at least one row, so a budget below one row's scratch processes one row at a time);
        smaller blocks are slower, not less exact.

    Raises
    ------
    ValueError
        For a value that is not a positive number of bytes (the setting is left unchanged).

    See Also
    --------
    config_context : the same for a ``with`` block only.
    """
    if memory_budget is None:
        return
    value = parse_bytes(memory_budget)
    if _SCOPED.get() is not None:
        _SCOPED.set(value)  # the block's value: its exit restores the one before it
    else:
        _THREAD.memory_budget = value


@contextlib.contextmanager
def config_context(memory_budget: int | str | None = None) -> Iterator[None]:
    """Change the settings inside a ``with`` block; the old ones come back when it ends (also on
    an exception). The value is local to the thread and the asyncio task that enters the block.

    Parameters
    ----------
    memory_budget : int, str or None
        As in :func:`set_config` (None: keep the current setting).

    Examples
    --------
    >>> import numpy as np, pairspace
    >>> X = np.random.default_rng(0).normal(size=(300, 8))
    >>> with pairspace.config_context(memory_budget="64KiB"):   # many small blocks
    ...     small = pairspace.knn(X, 5)
    >>> bool((small.indices == pairspace.knn(X, 5).indices).all())
    True
    """
    value = _current() if memory_budget is None else parse_bytes(memory_budget)  # checked first
    token = _SCOPED.set(value)
    try:
        yield
    finally:
        _SCOPED.reset(token)


def resolve_memory_budget(memory_budget: int | None, cap: int | None = None) -> int:
    """The bytes a blocked computation works with: ``memory_budget``, or the setting for None.

    Every public function with a ``memory_budget=None`` parameter calls this once, at its start, and
    hands the int down (so pool threads, which do not share the caller's setting, see the caller's
    budget).

    Parameters
    ----------
    memory_budget : int or None
        An explicit budget (checked as in :func:`parse_bytes`: a positive int, or a size string),
        or None for the setting of :func:`get_config`.
    cap : int, optional
        Upper bound applied to the setting only (never to an explicit value): the blocks sized for
        the CPU cache (:data:`pairspace._validation.CACHE_BLOCK_BYTES`) stay that small under a
        large setting and shrink under a smaller one.
    """
    if memory_budget is None:
        value = _current()
        return value if cap is None else min(value, int(cap))
    return parse_bytes(memory_budget)
