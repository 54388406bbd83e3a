"""Optional dependencies: import them where they are used, with an error naming the extra."""

from __future__ import annotations

import importlib
from typing import Any


def require(module: str, extra: str) -> Any:
    """Import an optional dependency, or raise an ImportError naming the extra to install.

    Examples
    --------
    >>> require("math", "none").sqrt(4.0)
    2.0
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"this feature needs the optional package {module!r}: pip install 'pairspace[{extra}]'"
        ) from exc
