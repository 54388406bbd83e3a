"""Lazy re-exports for the thin facade modules (``pairspace.analogy``, ``pairspace.zeroshot``, ...).

A facade names where each public name lives; the module behind it is imported only when the name is
first used (so ``import pairspace.align`` does not import torch), and the value is then kept on the
facade so later lookups are plain attribute reads (PEP 562 module ``__getattr__``).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(module: str, exports: Mapping[str, str]
                 ) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``(__all__, __getattr__, __dir__)`` of a facade module that re-exports names lazily.

    Parameters
    ----------
    module : str
        The facade's ``__name__``.
    exports : Mapping[str, str]
        Public name -> module that defines it; a module name starting with ``.`` is relative to
        ``module`` (for a package facade such as ``pairspace.align``).

    Returns
    -------
    tuple
        The sorted public names, the module-level ``__getattr__`` (raises AttributeError for any
        other name) and ``__dir__``.
    """
    names = sorted(exports)

    def __getattr__(name: str) -> Any:
        target = exports.get(name)
        if target is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(target, module if target.startswith(".") else None), name)
        setattr(sys.modules[module], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[module])) | set(exports))

    return names, __getattr__, __dir__
