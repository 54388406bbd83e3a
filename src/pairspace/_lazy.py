"""Lazy re-exports for the thin facade modules (``pairspace.analogy``, ``pairspace.zeroshot``, ...).

A facade names where each public name lives; the module behind it is imported only when the name is
first used (so ``import pairspace.align`` does not import torch), and the value is then kept on the
facade so later lookups are plain attribute reads (PEP 562 module ``__getattr__``).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Collection, Mapping
from typing import Any


def lazy_exports(module: str, exports: Mapping[str, str], submodules: Collection[str] = ()
                 ) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``(__all__, __getattr__, __dir__)`` of a facade module that re-exports names lazily.

    Parameters
    ----------
    module : str
        The facade's ``__name__``.
    exports : Mapping[str, str]
        Public name -> module that defines it; a module name starting with ``.`` is relative to
        ``module`` (for a package facade such as ``pairspace.align``).
    submodules : Collection[str], optional
        Subpackages of ``module`` reachable as attributes, imported on first access (the top-level
        ``pairspace`` package uses this so that ``pairspace.encoders`` works after ``import pairspace``).

    Returns
    -------
    tuple
        The sorted public names, the module-level ``__getattr__`` (raises AttributeError for any
        other name) and ``__dir__``.
    """
    names = sorted(exports)

    def __getattr__(name: str) -> Any:
        target = exports.get(name)
        if target is None and name in submodules:
            return importlib.import_module(f"{module}.{name}")
        if target is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(target, module if target.startswith(".") else None), name)
        setattr(sys.modules[module], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[module])) | set(exports) | set(submodules))

    return names, __getattr__, __dir__
