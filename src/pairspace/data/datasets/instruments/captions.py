"""Captions of the rendered clips: a small grammar with synonyms and varied word order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .classes import InstrumentClass

_DYN = {
    "soft": ((30, 55), ("softly", "quietly", "gently")),
    "medium": ((65, 90), ("at a moderate volume", "moderately loud", "at medium loudness")),
    "loud": ((100, 127), ("loudly", "forcefully", "strongly")),
}
_DYN_ADJ = {
    "soft": ("soft", "quiet", "gentle"),
    "medium": ("moderate", "medium-loud", "steady"),
    "loud": ("loud", "powerful", "strong"),
}
_REG = {"low": ("low", "deep"), "mid": ("middle", "mid-range"), "high": ("high", "bright")}
_LEN = {"short": ("short", "brief", "staccato"), "long": ("long", "sustained", "held")}


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _article(noun: str, rng: np.random.Generator) -> str:
    if rng.random() < 0.5:
        return f"the {noun}"
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def caption(cls: InstrumentClass, clip: dict[str, Any], rng: np.random.Generator) -> str:
    """A caption of ``clip`` from the grammar (synonyms, varied word order, several phrasings)."""
    noun = _pick(rng, (cls.name, *cls.synonyms))
    subj = _article(noun, rng)
    adv = _pick(rng, _DYN[clip["dynamics"]][1])
    adj = _pick(rng, _DYN_ADJ[clip["dynamics"]])
    pat = clip["pattern"]
    if cls.kind(clip) == "kit":
        obj = {
            "single": _pick(rng, ("a single hit", "one stroke", "a single beat")),
            "repeated": _pick(rng, ("repeated hits", "several even strokes", "a steady pulse")),
            "roll": _pick(rng, ("a fast roll", "a rapid roll", "a quick flurry of hits")),
            "rhythm": _pick(rng, ("a short rhythm", "a little groove", "an uneven pattern")),
        }[pat]
        forms = (
            f"{subj} plays {obj} {adv}",
            f"{adv}, someone plays {obj} on {subj}",
            f"{obj} on {subj}, {adj}",
            f"{adj} {noun} sound: {obj}",
            f"you can hear {obj} on {subj} {adv}",
            f"{subj} is struck {adv}, {obj}",
        )
    elif cls.kind(clip) == "effect":
        ln = _pick(rng, _LEN[clip["length"]])
        what = {
            "single": _pick(rng, ("once", "a single time")),
            "repeated": _pick(rng, ("several times", "over and over")),
            "chord": _pick(rng, ("in layers", "in a thick layer")),
            "phrase": _pick(rng, ("in a few bursts", "on and off")),
        }[pat]
        forms = (
            f"the {ln}, {adj} sound of {subj}",
            f"{subj} heard {what}, {adv}",
            f"{adv}, {subj} sounds {what}",
            f"a {ln} recording of {subj}, {adj}",
            f"sound effect: {noun}, {what}",
            f"you can hear {subj} {what} {adv}",
        )
    else:
        ln, reg = _pick(rng, _LEN[clip["length"]]), _pick(rng, _REG[clip["register"]])
        obj = {
            "single": f"a {ln}, {reg} note",
            "chord": f"a {ln} {reg} chord",
            "repeated": _pick(rng, (f"{ln} {reg} repeated notes", f"the same {reg} note several times")),
            "phrase": _pick(rng, (f"a short {reg} melody", f"a quick {reg} phrase")),
        }[pat]
        forms = (
            f"{subj} plays {obj} {adv}",
            f"{adv}, someone plays {obj} on {subj}",
            f"{obj} played {adv} on {subj}",
            f"{noun} recording: {obj}, {adj}",
            f"you can hear {subj} playing {obj} {adv}",
            f"{obj} from {subj}, {adj} and clear",
        )
    text = _pick(rng, forms)
    return text[0].upper() + text[1:]
