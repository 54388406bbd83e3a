"""Prompt-template sets and class-name lists shipped as package data (``pairspace/resources``).

Template sets are JSON files ``{"name", "description", "templates": [{"text", "group"}, ...]}``;
each text holds one ``{}`` placeholder for the class name and the group labels the template family
(used to colour plots). Class-name lists are text files with one name per line.

Names and files are never confused: a **shipped name** (``cifar100_clip``, ``audio``, ``a+b`` of
shipped names) always means the shipped set, whatever sits in the working folder; a **file** is
given as a path, that is with a suffix (``my_templates.json``, ``names.txt``), a folder part
(``./cifar100_clip``, ``lists/names``) or as a ``pathlib.Path``. Anything else is an error that
lists the shipped names. The loaded object records which source was used (``source``).

Shipped sets: ``cifar100_clip`` (the 18 CIFAR templates of CLIP), ``cifar100_clip_not`` (the same
with a leading ``"not "``), ``audio`` (CLAP-style ``"this is a sound of {}."`` and variations),
``audio_not``, ``nngs53`` (the 53 templates of the NNGS paper's zero-shot study, arXiv 2411.08687:
the 18 CLIP CIFAR templates, their 18 negations and 17 film and music lines, grouped ``positive``,
``negation`` and ``film-music``); class names ``cifar100_clip`` (the CLIP CIFAR-100 list).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .textfiles import read_text

_PKG = "pairspace.resources"


@dataclass(frozen=True)
class TemplateSet:
    """Named prompt templates with one group label each."""

    name: str
    templates: tuple[str, ...]
    groups: tuple[str, ...]
    description: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if len(self.templates) != len(self.groups):
            raise ValueError(f"{len(self.templates)} templates for {len(self.groups)} groups")
        if not self.templates:
            raise ValueError(f"template set {self.name!r} is empty")
        for t in self.templates:
            check_template(t, f"set {self.name!r}" + (f" ({self.source})" if self.source else ""))

    def __len__(self) -> int:
        return len(self.templates)

    def __add__(self, other: TemplateSet) -> TemplateSet:
        return TemplateSet(f"{self.name}+{other.name}", self.templates + other.templates,
                           self.groups + other.groups,
                           "; ".join(filter(None, (self.description, other.description))),
                           " + ".join(filter(None, (self.source, other.source))))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary in the on-disk format."""
        return {"name": self.name, "description": self.description,
                "templates": [{"text": t, "group": g} for t, g in zip(self.templates, self.groups,
                                                                      strict=True)]}


def available_template_sets() -> list[str]:
    """Names of the template sets shipped with pairspace."""
    return _shipped("templates", ".json")


def available_class_lists() -> list[str]:
    """Names of the class-name lists shipped with pairspace."""
    return _shipped("classnames", ".txt")


def _shipped(folder: str, suffix: str) -> list[str]:
    root = resources.files(_PKG).joinpath(folder)
    return sorted(p.name[: -len(suffix)] for p in root.iterdir() if p.name.endswith(suffix))


def is_path_like(name_or_path: str | os.PathLike[str]) -> bool:
    """Whether a user string names a file: a ``Path``, or a string with a suffix or a folder part.

    ``"cifar100_clip"`` is a name; ``"./cifar100_clip"``, ``"t.json"``, ``"lists/names"`` and
    ``"~/t.txt"`` are paths.
    """
    if isinstance(name_or_path, os.PathLike):
        return True
    s = str(name_or_path)
    return (bool(Path(s).suffix) or "/" in s or os.sep in s or (os.altsep or "/") in s
            or s.startswith("~") or s in (".", ".."))


def _read_user_file(path: Path, kind: str) -> str:
    p = path.expanduser()
    if p.is_dir():
        raise ValueError(f"{kind} file {p} is a folder, not a file")
    if not p.is_file():
        raise FileNotFoundError(f"{kind} file not found: {p}")
    return read_text(p, f"{kind} file")


def check_template(t: Any, where: str = "") -> str:
    """A template with exactly one ``{}`` (or ``{c}``) placeholder, checked as ``str.format`` reads it.

    ``"a {{}} sound"`` (escaped braces: no placeholder), ``"a {} of a {}"`` (two), ``"a {name}"``
    (a named field) and a stray ``{`` or ``}`` are refused with the template and where it came
    from, so a set never yields identical prompts or an ``IndexError`` later.
    """
    import string

    where = f" in {where}" if where else ""
    if not isinstance(t, str):
        raise ValueError(f"template {t!r}{where} is not text")
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(t) if f is not None]
    except ValueError as exc:
        raise ValueError(f"template {t!r}{where} has an unmatched brace ({exc}); write a literal "
                         "brace as {{ or }}") from None
    if fields not in ([""], ["0"], ["c"]):
        what = ("no '{}' placeholder (escaped braces {{}} are literal text)" if not fields
                else f"{len(fields)} placeholders {['{' + f + '}' for f in fields]}")
        raise ValueError(f"template {t!r}{where} has {what}; it needs exactly one '{{}}' "
                         "placeholder for the class name")
    return t


def _looks_like_json(text: str, suffix: str) -> bool:
    if suffix in (".json", ".txt"):
        return suffix == ".json"
    try:  # no telling suffix: JSON if it parses as a JSON object, else one template per line
        return isinstance(json.loads(text), dict)
    except json.JSONDecodeError:
        return False


def _parse_template_file(text: str, source: str, name: str, suffix: str = ".json") -> TemplateSet:
    if not _looks_like_json(text, suffix.lower()):  # plain text: one template per line
        lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
        return TemplateSet(name, tuple(lines), ("",) * len(lines), source=source)
    try:
        d = json.loads(text)
        items = d["templates"]
        texts = tuple(it["text"] if isinstance(it, dict) else it for it in items)
        bad = [t for t in texts if not isinstance(t, str)]
        if bad:
            raise TypeError(f"template texts must be strings; got {bad[0]!r}")
        groups = tuple(str(it.get("group", "")) if isinstance(it, dict) else "" for it in items)
        return TemplateSet(str(d.get("name", name)), texts, groups, str(d.get("description", "")),
                           source=source)
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{source} is not a template file ({exc}); expected "
                         '{"templates": [{"text": "a photo of a {}.", "group": "..."}]}') from exc


def load_templates(name_or_path: str | os.PathLike[str]) -> TemplateSet:
    """A shipped template set by name (``"cifar100_clip"``; ``"a+b"`` concatenates sets) or a file.

    A shipped name always means the shipped set; a file is a path with a suffix or a folder part
    (``./my_set``), in JSON (the shipped format) or plain text with one template per line. The
    result's ``source`` says which was used (``"shipped set 'audio'"`` or the file's path).
    """
    if is_path_like(name_or_path):
        p = Path(name_or_path)
        text = _read_user_file(p, "template")
        return _parse_template_file(text, f"file {p.expanduser().resolve()}", p.stem, p.suffix)
    s = str(name_or_path)
    shipped = available_template_sets()
    if "+" in s:
        parts = [load_templates(part) for part in s.split("+")]
        out = parts[0]
        for part in parts[1:]:
            out = out + part
        return out
    if s not in shipped:
        raise ValueError(f"unknown template set {s!r}; shipped: {', '.join(shipped)} (a file must be "
                         f"given as a path with a suffix or a folder part, e.g. ./{s}.json or ./{s})")
    res = resources.files(_PKG).joinpath("templates", f"{s}.json")
    return _parse_template_file(res.read_text(encoding="utf-8"), f"shipped set {s!r}", s)


def clean_class_name(name: str) -> str:
    """The usual cleaning of dataset class names: underscores to spaces, trimmed, collapsed spaces."""
    return " ".join(str(name).replace("_", " ").split())


class ClassNames(list):
    """A list of class names that records where it came from (``source``)."""

    source: str = ""


def load_class_names(name_or_path: str | os.PathLike[str]) -> ClassNames:
    """A shipped class-name list by name (``"cifar100_clip"``) or a text file (one name per line).

    The same rule as :func:`load_templates`: a shipped name always means the shipped list; a file is
    a path with a suffix or a folder part. The result is a list with a ``source`` attribute.
    """
    if is_path_like(name_or_path):
        p = Path(name_or_path)
        text, source = _read_user_file(p, "class-name"), f"file {p.expanduser().resolve()}"
    else:
        s = str(name_or_path)
        shipped = available_class_lists()
        if s not in shipped:
            raise ValueError(f"unknown class-name list {s!r}; shipped: {', '.join(shipped)} (a file "
                             f"must be given as a path with a suffix or a folder part, e.g. ./{s}.txt)")
        text = resources.files(_PKG).joinpath("classnames", f"{s}.txt").read_text(encoding="utf-8")
        source = f"shipped list {s!r}"
    names = ClassNames(ln.strip() for ln in text.splitlines() if ln.strip())
    if not names:
        raise ValueError(f"the class-name list ({source}) is empty")
    if len(set(names)) != len(names):
        raise ValueError(f"class names in {name_or_path} are not unique")
    names.source = source
    return names
