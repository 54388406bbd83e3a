r"""The one result envelope of every JSON document pairspace writes.

Every study returns a typed result object whose ``to_dict()`` is one document of this shape::

    {"schema": "pairspace.NAME/INT",      # which layout; INT grows when the layout changes
     "pairspace_version": "0.1.0",        # the package that computed it
     "created": "2026-12-07T07:00:00Z",   # when the result object was made (UTC)
     "command": "pairspace compare ...",  # the command line that asked for it (None from Python)
     "inputs": {...},                     # files (path, size, sha256) or encoder provenance
     "settings": {...},                   # every parameter that changes a number
     "results": {...}}                    # the numbers

The study builds the document; nothing downstream (the command line, a report writer) edits it. A
JSON Schema (draft 2020-12) of each schema id ships inside the package as
``pairspace/resources/schemas/NAME-INT.json`` (:func:`schema_file`), and :func:`validate` checks a
document against it (the tests validate what every command writes). This module imports only the
standard library (``jsonschema`` is imported by :func:`validate` alone), so any layer may use it.

The ``command`` field comes from :func:`invocation`: ``pairspace.cli.main`` records the command line
once, and each result object made while it runs reads it (the CLI never touches a result).

References
----------
CLIP_benchmark (LAION): one versioned JSON result document per evaluation task.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import hashlib
import json
import os
import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Envelope", "current_command", "encoder_input", "envelope", "file_input",
           "invocation", "load_schema", "parse_schema_id", "schema_file", "schema_id", "validate"]

_SCHEMA_ID = re.compile(r"^pairspace\.([a-z][a-z0-9_]*)/([1-9][0-9]*)$")
_COMMAND: contextvars.ContextVar[str | None] = contextvars.ContextVar("pairspace_command", default=None)
#: Files larger than this are described by path and size only (hashing would read them whole).
HASH_LIMIT_BYTES = 1 << 30
_ENVELOPE_KEYS = ("schema", "pairspace_version", "created", "command", "inputs", "settings", "results")


def schema_id(name: str, version: int) -> str:
    """``"pairspace.NAME/INT"``, checked (NAME: lower-case letters, digits, underscores)."""
    sid = f"pairspace.{name}/{int(version)}"
    parse_schema_id(sid)
    return sid


def parse_schema_id(sid: str) -> tuple[str, int]:
    """``("NAME", INT)`` of ``"pairspace.NAME/INT"``; anything else is a ValueError."""
    m = _SCHEMA_ID.match(str(sid))
    if m is None:
        raise ValueError(f"not a pairspace schema id: {sid!r} (expected 'pairspace.NAME/INT')")
    return m.group(1), int(m.group(2))


@contextlib.contextmanager
def invocation(argv: Sequence[str] | str | None) -> Iterator[None]:
    """Record the command line (``["compare", "x.npy", ...]`` or a string) for the results made
    inside the ``with`` block; ``pairspace.cli.main`` wraps every command in it."""
    text = argv if isinstance(argv, str) or argv is None else shlex.join(["pairspace", *argv])
    token = _COMMAND.set(text)
    try:
        yield
    finally:
        _COMMAND.reset(token)


def current_command() -> str | None:
    """The command line recorded by :func:`invocation`, or None (a call from Python)."""
    return _COMMAND.get()


def _version() -> str:
    from . import __version__

    return __version__


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Envelope:
    """The stamp of one result: who made it, when, from what and how (everything but the numbers).

    A study result object holds one, made when the result is made (:meth:`new`), and passes its own
    ``settings`` and ``results`` to :meth:`document`.

    Attributes
    ----------
    schema : str
        ``"pairspace.NAME/INT"``.
    inputs : dict
        What the result was computed from (:func:`file_input`, :func:`encoder_input`, sizes).
    pairspace_version, created, command : str
        Filled by :meth:`new`.
    """

    schema: str
    inputs: dict[str, Any] = field(default_factory=dict)
    pairspace_version: str = ""
    created: str = ""
    command: str | None = None

    @classmethod
    def new(cls, schema: str, inputs: Mapping[str, Any] | None = None) -> Envelope:
        """An envelope stamped now, with this package's version and the current command line."""
        parse_schema_id(schema)
        return cls(schema, dict(inputs or {}), _version(), _now(), current_command())

    def document(self, settings: Mapping[str, Any], results: Any) -> dict[str, Any]:
        """The full document: this stamp around ``settings`` and ``results``."""
        return {"schema": self.schema, "pairspace_version": self.pairspace_version,
                "created": self.created, "command": self.command, "inputs": dict(self.inputs),
                "settings": dict(settings), "results": results}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], schema: str | None = None) -> Envelope:
        """The stamp of a document (checked: every envelope key present, the schema id as expected).

        Parameters
        ----------
        doc : mapping
            A document written by ``to_dict()``.
        schema : str, optional
            The schema id it must carry (a name without ``/INT`` accepts any version of it).
        """
        missing = [k for k in _ENVELOPE_KEYS if k not in doc]
        if missing:
            raise ValueError(f"not a pairspace result document: missing {missing}")
        name, _ = parse_schema_id(doc["schema"])
        if schema is not None and doc["schema"] != schema and f"pairspace.{name}" != schema:
            raise ValueError(f"expected a {schema} document; got {doc['schema']}")
        return cls(doc["schema"], dict(doc["inputs"]), doc["pairspace_version"], doc["created"],
                   doc["command"])


def envelope(schema: str, *, inputs: Mapping[str, Any] | None = None,
             settings: Mapping[str, Any] | None = None, results: Any = None) -> dict[str, Any]:
    """A document stamped now: ``Envelope.new(schema, inputs).document(settings, results)``."""
    return Envelope.new(schema, inputs).document(settings or {}, results)


def file_input(path: str | os.PathLike[str], hash_limit: int = HASH_LIMIT_BYTES) -> dict[str, Any]:
    """Provenance of an input file: ``path``, ``size`` (bytes) and ``sha256`` (None above
    ``hash_limit`` bytes, or for a folder: ``size`` is then the sum over its files)."""
    p = Path(path)
    if p.is_dir():
        size = sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
        return {"path": str(path), "size": size, "sha256": None}
    size = p.stat().st_size
    digest = None
    if size <= hash_limit:
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest()
    return {"path": str(path), "size": size, "sha256": digest}


def encoder_input(encoder: Any) -> dict[str, Any]:
    """Provenance of an encoder (its ``provenance.to_dict()``, a dict passes through), or
    ``{"name": ...}`` for an object without one."""
    if isinstance(encoder, Mapping):
        return dict(encoder)
    prov = getattr(encoder, "provenance", None)
    if prov is not None and hasattr(prov, "to_dict"):
        return prov.to_dict()
    return {"name": getattr(encoder, "name", type(encoder).__name__)}


def schema_file(sid: str) -> Path:
    """The shipped JSON Schema of ``"pairspace.NAME/INT"``: ``resources/schemas/NAME-INT.json``."""
    name, version = parse_schema_id(sid)
    return Path(__file__).resolve().parent / "resources" / "schemas" / f"{name}-{version}.json"


def load_schema(sid: str) -> dict[str, Any]:
    """The shipped JSON Schema of a schema id (FileNotFoundError names the missing file)."""
    path = schema_file(sid)
    if not path.is_file():
        raise FileNotFoundError(f"no JSON Schema ships for {sid}: {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def validate(doc: Mapping[str, Any] | str | os.PathLike[str]) -> dict[str, Any]:
    """Check a document (or a JSON file) against the shipped schema of its own ``schema`` id.

    Returns
    -------
    dict
        The document.

    Raises
    ------
    ValueError
        Naming the first place where the document breaks its schema.
    """
    import jsonschema

    if not isinstance(doc, Mapping):
        doc = json.loads(Path(doc).read_text(encoding="utf-8"))
    sid = doc.get("schema") if isinstance(doc, Mapping) else None
    schema = load_schema(str(sid))
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: e.path)
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "(top)"
        raise ValueError(f"{sid} document breaks its schema at {where}: {e.message}")
    return dict(doc)
