"""The instrument classes of the benchmark, read from the General MIDI tables shipped as data.

``resources/instruments/gm_programs.csv`` has one row per General MIDI program 0..127 (its family,
its class name and synonyms; programs that differ only in a GM variant share a class name) and
``resources/instruments/gm_percussion.csv`` one row per percussion-kit class (its GM keys).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np


def _table(name: str) -> list[dict[str, str]]:
    text = resources.files("pairspace.resources").joinpath("instruments", name).read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _words(cell: str) -> tuple[str, ...]:
    return tuple(w for w in cell.split("|") if w)


@lru_cache(maxsize=1)
def gm_programs() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """``(family, class name, synonyms)`` of every General MIDI program, in program order."""
    rows = _table("gm_programs.csv")
    if [int(r["program"]) for r in rows] != list(range(128)):
        raise ValueError("gm_programs.csv must list the programs 0..127 in order")
    return tuple((r["family"], r["class"], _words(r["synonyms"])) for r in rows)


@lru_cache(maxsize=1)
def gm_percussion() -> tuple[tuple[str, str, tuple[int, ...], tuple[str, ...]], ...]:
    """``(class name, family, GM keys, synonyms)`` of every percussion-kit class."""
    return tuple((r["class"], r["family"], tuple(int(k) for k in r["keys"].split()),
                  _words(r["synonyms"])) for r in _table("gm_percussion.csv"))


FAMILIES: list[str] = list(dict.fromkeys(fam for fam, _, _ in gm_programs()))
"""The 16 General MIDI families, in program order (eight programs each)."""


@dataclass(frozen=True)
class InstrumentClass:
    """One instrument class: its name, family, synonyms and the sounds that render it."""

    name: str
    family: str
    synonyms: tuple[str, ...]
    programs: tuple[int, ...] = ()
    kit_keys: tuple[int, ...] = ()

    def kind(self, clip: dict[str, Any] | None = None) -> str:
        """``"kit"`` (a percussion-kit sound), ``"effect"`` (sound effects) or ``"melodic"``.

        A class with both programs and kit sounds (agogo, woodblock) alternates between them, so
        the kind of a ``clip`` is read from its ``program`` (-1 for a kit sound).
        """
        if clip is not None:
            if int(clip["program"]) < 0:
                return "kit"
        elif self.kit_keys and not self.programs:
            return "kit"
        return "effect" if self.family == "sound effects" else "melodic"


def instrument_classes() -> list[InstrumentClass]:
    """Every class of the benchmark, in a fixed order (programs first, then kit sounds)."""
    order: list[str] = []
    info: dict[str, dict[str, Any]] = {}
    for prog, (family, name, syn) in enumerate(gm_programs()):
        if name not in info:
            order.append(name)
            info[name] = {"family": family, "syn": list(syn), "programs": [], "keys": []}
        info[name]["programs"].append(prog)
        info[name]["syn"] += [s for s in syn if s not in info[name]["syn"]]
    for name, fam, keys, syn in gm_percussion():
        if name not in info:
            order.append(name)
            info[name] = {"family": fam, "syn": list(syn), "programs": [], "keys": []}
        info[name]["keys"] += list(keys)
    return [
        InstrumentClass(
            n, info[n]["family"], tuple(info[n]["syn"]), tuple(info[n]["programs"]), tuple(info[n]["keys"])
        )
        for n in order
    ]


def seen_unseen_split(
    classes: Sequence[InstrumentClass], unseen_fraction: float = 0.25, seed: int = 0
) -> dict[str, str]:
    """Deterministic split: per family, ``round(unseen_fraction * size)`` classes (seeded) are unseen.

    Families with a single class stay seen. Returns ``{class name: "seen" | "unseen"}``.
    """
    if not 0.0 < unseen_fraction < 1.0:
        raise ValueError(f"unseen_fraction must lie in (0, 1); got {unseen_fraction}")
    split = {c.name: "seen" for c in classes}
    fams = sorted({c.family for c in classes})
    for fi, fam in enumerate(fams):
        names = sorted(c.name for c in classes if c.family == fam)
        if len(names) < 2:
            continue
        k = min(len(names) - 1, max(1, int(round(unseen_fraction * len(names)))))
        rng = np.random.default_rng([seed, fi])
        for i in rng.choice(len(names), size=k, replace=False):
            split[names[int(i)]] = "unseen"
    return split
