"""One registry mechanism for encoders, measures, kNN backends, heads and losses.

A :class:`Registry` maps a name to a factory (or any object) plus a small record of metadata. Entries
are added with the :meth:`Registry.register` decorator (or called directly), looked up with
:meth:`Registry.get`, built with :meth:`Registry.build` and listed with :meth:`Registry.entries`,
which is what the command line prints. Built-in entries may live in modules that import heavy
libraries; a registry lists those modules in ``builtin_modules`` and imports them on first lookup,
so ``import pairspace`` stays light (the pattern of open_clip's single model factory).

Examples
--------
>>> HEADS = Registry("head")
>>> @HEADS.register("linear", description="one linear map")
... def linear(d_in, d_out):
...     return (d_in, d_out)
>>> HEADS.build("linear", d_in=3, d_out=2)
(3, 2)
>>> HEADS.names()
['linear']
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Entry:
    """A registered name: the object (usually a factory) and its metadata."""

    name: str
    obj: Any
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def description(self) -> str:
        """The ``description`` metadata, or the first line of the object's docstring."""
        text = self.meta.get("description") or (getattr(self.obj, "__doc__", None) or "")
        return text.strip().splitlines()[0] if text.strip() else ""


class Registry:
    """Names -> objects with metadata, one instance per kind of thing.

    Parameters
    ----------
    kind : str
        What the entries are ("encoder", "measure", "backend", "head", "loss"); used in messages.
    builtin_modules : iterable of str
        Modules imported on the first lookup; importing them registers the built-in entries.
    """

    def __init__(self, kind: str, builtin_modules: Iterable[str] = ()) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}
        self._builtin_modules = list(builtin_modules)
        self._loaded = not self._builtin_modules

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for mod in self._builtin_modules:
                importlib.import_module(mod)

    def register(self, name: str, obj: Any = None, *, replace: bool = False,
                 **meta: Any) -> Any:
        """Register ``obj`` under ``name``; without ``obj``, return a decorator that does.

        A name registered twice is an error unless ``replace=True``.
        """
        def add(o: Any) -> Any:
            if not isinstance(name, str) or not name:
                raise ValueError(f"a {self.kind} name must be a non-empty string; got {name!r}")
            if name in self._entries and not replace:
                raise ValueError(f"a {self.kind} named {name!r} is already registered")
            self._entries[name] = Entry(name, o, dict(meta))
            return o

        return add if obj is None else add(obj)

    def entry(self, name: str) -> Entry:
        """The entry of ``name``; an unknown name is an error that lists the known ones."""
        self._load()
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise ValueError(f"unknown {self.kind} {name!r}; choose one of "
                             f"{', '.join(self.names())}") from None

    def get(self, name: str) -> Any:
        """The object registered as ``name``."""
        return self.entry(name).obj

    def build(self, name: str, /, *args: Any, **options: Any) -> Any:
        """Call the factory registered as ``name`` with ``args`` and ``options``."""
        factory: Callable[..., Any] = self.get(name)
        return factory(*args, **options)

    def names(self) -> list[str]:
        """Registered names, sorted."""
        self._load()
        return sorted(self._entries)

    def entries(self) -> list[Entry]:
        """Registered entries, sorted by name (what the command line lists)."""
        return [self._entries[n] for n in self.names()]

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        """Registered names, sorted."""
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())
