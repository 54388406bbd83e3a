"""Prompt-template sets and class-name lists shipped as package data (``pairspace/resources``).

Template sets are JSON files ``{"name", "description", "templates": [{"text", "group"}, ...]}``;
each text holds one ``{}`` placeholder for the class name and the group labels the template family
(used to colour plots). Class-name lists are text files with one name per line.

Shipped sets: ``cifar100_clip`` (the 18 CIFAR templates of CLIP), ``cifar100_clip_not`` (the same
with a leading ``"not "``), ``audio`` (CLAP-style ``"this is a sound of {}."`` and variations),
``audio_not``; class names ``cifar100_clip`` (the CLIP CIFAR-100 list).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

_PKG = "pairspace.resources"


@dataclass(frozen=True)
class TemplateSet:
    """Named prompt templates with one group label each."""

    name: str
    templates: tuple[str, ...]
    groups: tuple[str, ...]
    description: str = ""

    def __post_init__(self) -> None:
        if len(self.templates) != len(self.groups):
            raise ValueError(f"{len(self.templates)} templates for {len(self.groups)} groups")
        if not self.templates:
            raise ValueError(f"template set {self.name!r} is empty")
        for t in self.templates:
            if "{}" not in t:
                raise ValueError(f"template {t!r} in set {self.name!r} has no '{{}}' placeholder")

    def __len__(self) -> int:
        return len(self.templates)

    def __add__(self, other: TemplateSet) -> TemplateSet:
        return TemplateSet(f"{self.name}+{other.name}", self.templates + other.templates,
                           self.groups + other.groups, "; ".join(filter(None, (self.description,
                                                                              other.description))))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary in the on-disk format."""
        return {"name": self.name, "description": self.description,
                "templates": [{"text": t, "group": g} for t, g in zip(self.templates, self.groups,
                                                                      strict=True)]}


def available_template_sets() -> list[str]:
    """Names of the template sets shipped with pairspace."""
    root = resources.files(_PKG).joinpath("templates")
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".json"))


def _parse_template_file(text: str, source: str) -> TemplateSet:
    if source.endswith(".txt"):
        lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
        return TemplateSet(Path(source).stem, tuple(lines), ("",) * len(lines))
    try:
        d = json.loads(text)
        items = d["templates"]
        texts = tuple(it["text"] if isinstance(it, dict) else str(it) for it in items)
        groups = tuple(it.get("group", "") if isinstance(it, dict) else "" for it in items)
        return TemplateSet(d.get("name", Path(source).stem), texts, groups, d.get("description", ""))
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{source} is not a template file ({exc}); expected "
                         '{"templates": [{"text": "a photo of a {}.", "group": "..."}]}') from exc


def load_templates(name_or_path: str | os.PathLike[str]) -> TemplateSet:
    """A shipped template set by name (``"cifar100_clip"``; ``"a+b"`` concatenates sets) or a file.

    A file is JSON in the shipped format or plain text with one template per line.
    """
    s = str(name_or_path)
    if "+" in s and not Path(s).exists():
        parts = [load_templates(p) for p in s.split("+")]
        out = parts[0]
        for p in parts[1:]:
            out = out + p
        return out
    p = Path(s)
    if p.suffix in (".json", ".txt") or p.exists():
        if not p.exists():
            raise FileNotFoundError(f"template file not found: {p}")
        return _parse_template_file(p.read_text(encoding="utf-8"), str(p))
    res = resources.files(_PKG).joinpath("templates", f"{s}.json")
    if not res.is_file():
        raise ValueError(f"unknown template set {s!r}; shipped: {', '.join(available_template_sets())}")
    return _parse_template_file(res.read_text(encoding="utf-8"), f"{s}.json")


def clean_class_name(name: str) -> str:
    """The usual cleaning of dataset class names: underscores to spaces, trimmed, collapsed spaces."""
    return " ".join(str(name).replace("_", " ").split())


def load_class_names(name_or_path: str | os.PathLike[str]) -> list[str]:
    """A shipped class-name list (``"cifar100_clip"``) or a text file with one name per line."""
    p = Path(name_or_path)
    if p.exists():
        text = p.read_text(encoding="utf-8")
    elif p.suffix:
        raise FileNotFoundError(f"class-name file not found: {p}")
    else:
        res = resources.files(_PKG).joinpath("classnames", f"{p.name}.txt")
        if not res.is_file():
            raise ValueError(f"unknown class-name list {str(name_or_path)!r}")
        text = res.read_text(encoding="utf-8")
    names = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(set(names)) != len(names):
        raise ValueError(f"class names in {name_or_path} are not unique")
    return names
