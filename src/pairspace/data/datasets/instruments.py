"""An offline audio-text benchmark rendered from the General MIDI soundfont shipped with pretty_midi.

Every clip is synthesized with ``tinysoundfont`` from ``TimGM6mb.sf2`` (bundled in ``pretty_midi``):
all 128 General MIDI melodic programs (including the synth effects and the sound-effect programs
seashore, bird tweet, telephone ring, helicopter, applause and gunshot) and the General MIDI
percussion-kit sounds (channel 10, several drum kits). Clips vary pitch register, loudness (MIDI
velocity), note length and playing pattern (single note, chord, repeated notes, short phrase; for
percussion a single hit, repeated hits, a roll or a rhythm), and every clip gets captions drawn from a
small grammar with synonyms and varied word order ("a cello plays a long, low note softly",
"Quietly, someone plays a short high melody on the oboe"), never one fixed template.

Classes are instruments (programs that differ only in a GM variant, such as Slap Bass 1 and 2, share
a class) with a family (the 16 General MIDI families, plus "drum kit" and "hand percussion"). A
deterministic seen/unseen split holds out about ``unseen_fraction`` of the instruments of every
family (seeded) for zero-shot evaluation.

The set is cached under the user's cache folder (``$PAIRSPACE_CACHE``, else
``$XDG_CACHE_HOME/pairspace``, else ``~/.cache/pairspace``) in a folder named by a hash of the
rendering parameters, and is written atomically (rendered in a temporary folder, then renamed).
Files: ``audio/*.flac`` (mono, 16-bit); ``clips.csv`` (``id, audio_id, path, label, instrument,
family, split`` and the rendering choices) and ``captions.csv`` (``id, audio_id, text_id, text,
label, family, split``), both ready for ``pairspace embed`` (``id``/``path``/``text``/``label``
columns), the latter also a pair manifest for ``pairspace train`` (``audio_id, text_id``);
``classes.csv`` and ``info.json``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..._progress import progress_bar

VERSION = 2

FAMILIES = [
    "piano",
    "chromatic percussion",
    "organ",
    "guitar",
    "bass",
    "strings",
    "ensemble",
    "brass",
    "reed",
    "pipe",
    "synth lead",
    "synth pad",
    "synth effects",
    "ethnic",
    "percussive",
    "sound effects",
]

# (class name, synonyms); one row per General MIDI program 0..127. Rows that repeat a name share a class.
_PROGRAMS: list[tuple[str, tuple[str, ...]]] = [
    ("acoustic grand piano", ("grand piano", "concert piano")),
    ("bright acoustic piano", ("bright piano",)),
    ("electric grand piano", ("electric grand",)),
    ("honky-tonk piano", ("saloon piano", "honky tonk piano")),
    ("electric piano", ("rhodes piano", "electric keyboard")),
    ("chorused electric piano", ("chorus piano",)),
    ("harpsichord", ("clavecin",)),
    ("clavinet", ("clavi",)),
    ("celesta", ("celeste",)),
    ("glockenspiel", ("glock", "orchestra bells")),
    ("music box", ("musical box",)),
    ("vibraphone", ("vibes",)),
    ("marimba", ("wooden marimba",)),
    ("xylophone", ("xylo",)),
    ("tubular bells", ("chimes", "orchestral chimes")),
    ("dulcimer", ("hammered dulcimer",)),
    ("drawbar organ", ("hammond organ", "tonewheel organ")),
    ("percussive organ", ("percussion organ",)),
    ("rock organ", ("overdriven organ",)),
    ("church organ", ("pipe organ", "cathedral organ")),
    ("reed organ", ("harmonium", "pump organ")),
    ("accordion", ("piano accordion", "squeezebox")),
    ("harmonica", ("mouth organ", "blues harp")),
    ("bandoneon", ("tango accordion",)),
    ("nylon string guitar", ("classical guitar", "spanish guitar")),
    ("steel string guitar", ("acoustic guitar", "folk guitar")),
    ("jazz guitar", ("hollow body guitar",)),
    ("clean electric guitar", ("clean guitar",)),
    ("muted electric guitar", ("palm muted guitar",)),
    ("overdriven guitar", ("crunchy guitar",)),
    ("distortion guitar", ("distorted guitar", "metal guitar")),
    ("guitar harmonics", ("harmonics on a guitar",)),
    ("acoustic bass", ("acoustic bass guitar",)),
    ("fingered bass", ("finger bass", "electric bass")),
    ("picked bass", ("pick bass",)),
    ("fretless bass", ("fretless bass guitar",)),
    ("slap bass", ("slapped bass", "funk bass")),
    ("slap bass", ()),
    ("synth bass", ("synthesizer bass", "analog bass")),
    ("synth bass", ()),
    ("violin", ("solo violin",)),
    ("viola", ("solo viola",)),
    ("cello", ("violoncello",)),
    ("contrabass", ("double bass", "upright bass")),
    ("tremolo strings", ("trembling strings",)),
    ("pizzicato strings", ("plucked strings",)),
    ("orchestral harp", ("harp", "concert harp")),
    ("timpani", ("kettle drums",)),
    ("string ensemble", ("string section", "orchestral strings")),
    ("string ensemble", ()),
    ("synth strings", ("synthesizer strings",)),
    ("synth strings", ()),
    ("choir", ("choir singing aah", "chorus of voices")),
    ("voice oohs", ("humming voices",)),
    ("synth voice", ("synthetic choir", "vocoder voice")),
    ("orchestra hit", ("orchestral stab",)),
    ("trumpet", ("solo trumpet",)),
    ("trombone", ("slide trombone",)),
    ("tuba", ("bass tuba",)),
    ("muted trumpet", ("trumpet with a mute",)),
    ("french horn", ("horn", "orchestral horn")),
    ("brass section", ("brass ensemble", "horn section")),
    ("synth brass", ("synthesizer brass",)),
    ("synth brass", ()),
    ("soprano saxophone", ("soprano sax",)),
    ("alto saxophone", ("alto sax",)),
    ("tenor saxophone", ("tenor sax",)),
    ("baritone saxophone", ("baritone sax", "bari sax")),
    ("oboe", ("orchestral oboe",)),
    ("english horn", ("cor anglais",)),
    ("bassoon", ("orchestral bassoon",)),
    ("clarinet", ("b flat clarinet",)),
    ("piccolo", ("piccolo flute",)),
    ("flute", ("concert flute",)),
    ("recorder", ("wooden recorder",)),
    ("pan flute", ("pan pipes", "panpipe")),
    ("blown bottle", ("bottle blowing",)),
    ("shakuhachi", ("japanese flute",)),
    ("whistle", ("tin whistle", "penny whistle")),
    ("ocarina", ("vessel flute",)),
    ("square lead", ("square wave synth",)),
    ("sawtooth lead", ("saw synth", "sawtooth synth")),
    ("calliope lead", ("calliope",)),
    ("chiff lead", ("chiffer synth",)),
    ("charang lead", ("charang",)),
    ("voice lead", ("synth vocal lead",)),
    ("fifths lead", ("fifths synth",)),
    ("bass and lead synth", ("bass lead synth",)),
    ("new age pad", ("fantasia pad",)),
    ("warm pad", ("soft synth pad",)),
    ("polysynth pad", ("polysynth",)),
    ("choir pad", ("space voice pad",)),
    ("bowed glass pad", ("bowed glass",)),
    ("metallic pad", ("metal pad",)),
    ("halo pad", ("halo synth pad",)),
    ("sweep pad", ("sweeping pad",)),
    ("rain effect", ("ice rain synth",)),
    ("soundtrack effect", ("soundtrack synth",)),
    ("crystal effect", ("crystal synth",)),
    ("atmosphere effect", ("atmospheric synth",)),
    ("brightness effect", ("bright synth effect",)),
    ("goblins effect", ("goblin synth",)),
    ("echoes effect", ("echo drops",)),
    ("sci-fi effect", ("star theme synth",)),
    ("sitar", ("indian sitar",)),
    ("banjo", ("five string banjo",)),
    ("shamisen", ("japanese lute",)),
    ("koto", ("japanese zither",)),
    ("kalimba", ("thumb piano", "mbira")),
    ("bagpipe", ("bagpipes",)),
    ("fiddle", ("folk fiddle",)),
    ("shehnai", ("shenai",)),
    ("tinkle bell", ("tinker bell", "small bell")),
    ("agogo", ("agogo bell",)),
    ("steel drums", ("steel pan", "steelpan")),
    ("woodblock", ("wood block",)),
    ("taiko drum", ("taiko",)),
    ("melodic tom", ("tuned tom",)),
    ("synth drum", ("electronic drum",)),
    ("reverse cymbal", ("reversed cymbal",)),
    ("guitar fret noise", ("fret noise",)),
    ("breath noise", ("breathing",)),
    ("seashore", ("ocean surf", "beach surf")),
    ("bird tweet", ("birdsong", "chirping bird")),
    ("telephone ring", ("ringing phone", "phone ringing")),
    ("helicopter", ("chopper",)),
    ("applause", ("clapping crowd", "audience applause")),
    ("gunshot", ("gun shot", "gunfire")),
]

# percussion-kit classes: (class name, family, GM keys, synonyms)
_KIT: list[tuple[str, str, tuple[int, ...], tuple[str, ...]]] = [
    ("bass drum", "drum kit", (35, 36), ("kick drum", "kick")),
    ("side stick", "drum kit", (37,), ("rim click",)),
    ("snare drum", "drum kit", (38, 40), ("snare",)),
    ("hand clap", "drum kit", (39,), ("clap",)),
    ("tom-tom", "drum kit", (41, 43, 45, 47, 48, 50), ("tom", "toms")),
    ("hi-hat", "drum kit", (42, 44, 46), ("hihat", "hi hat cymbal")),
    ("crash cymbal", "drum kit", (49, 57), ("crash",)),
    ("ride cymbal", "drum kit", (51, 59), ("ride",)),
    ("chinese cymbal", "drum kit", (52,), ("china cymbal",)),
    ("ride bell", "drum kit", (53,), ("cymbal bell",)),
    ("splash cymbal", "drum kit", (55,), ("splash",)),
    ("tambourine", "hand percussion", (54,), ("jingle drum",)),
    ("cowbell", "hand percussion", (56,), ("cow bell",)),
    ("vibraslap", "hand percussion", (58,), ("vibra slap",)),
    ("bongo", "hand percussion", (60, 61), ("bongos",)),
    ("conga", "hand percussion", (62, 63, 64), ("congas", "conga drum")),
    ("timbales", "hand percussion", (65, 66), ("timbale drums",)),
    ("agogo", "percussive", (67, 68), ()),
    ("cabasa", "hand percussion", (69,), ("afuche",)),
    ("maracas", "hand percussion", (70,), ("shakers",)),
    ("samba whistle", "hand percussion", (71, 72), ("referee whistle",)),
    ("guiro", "hand percussion", (73, 74), ("scraper",)),
    ("claves", "hand percussion", (75,), ("clave sticks",)),
    ("woodblock", "percussive", (76, 77), ()),
    ("cuica", "hand percussion", (78, 79), ("friction drum",)),
    ("triangle", "hand percussion", (80, 81), ("orchestral triangle",)),
]

_KITS = (0, 8, 16, 24, 25, 32, 40, 48)  # drum kits (bank 128 presets) in TimGM6mb

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
_REG_BASE = {"low": 40, "mid": 57, "high": 72}


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
    for prog, (name, syn) in enumerate(_PROGRAMS):
        if name not in info:
            order.append(name)
            info[name] = {"family": FAMILIES[prog // 8], "syn": list(syn), "programs": [], "keys": []}
        info[name]["programs"].append(prog)
        info[name]["syn"] += [s for s in syn if s not in info[name]["syn"]]
    for name, fam, keys, syn in _KIT:
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


# ------------------------------------------------------------------ captions
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


# ------------------------------------------------------------------ rendering
def _events(
    cls: InstrumentClass, clip: dict[str, Any], rng: np.random.Generator, duration: float
) -> list[tuple[float, str, int, int]]:
    """(time, "on"/"off", key, velocity) events of one clip."""
    vel = clip["velocity"]
    if cls.kind(clip) == "kit":
        key = clip["key"]
        times = {
            "single": [0.05],
            "repeated": [0.05 + 0.3 * i for i in range(4)],
            "roll": [0.05 + 0.09 * i for i in range(10)],
            "rhythm": [0.05, 0.3, 0.45, 0.8, 1.05, 1.2],
        }[clip["pattern"]]
        out = []
        for i, t in enumerate(times):
            v = int(np.clip(vel + rng.integers(-8, 9) * (i > 0), 1, 127))
            out += [(t, "on", key, v), (t + 0.1, "off", key, 0)]
        return out
    base = clip["pitch"]
    hold = 0.35 if clip["length"] == "short" else min(1.4, duration * 0.7)
    pat = clip["pattern"]
    if pat == "single":
        notes = [(0.05, hold, [base])]
    elif pat == "chord":
        third = 3 if rng.random() < 0.5 else 4
        notes = [(0.05, hold, [base, base + third, base + 7])]
    elif pat == "repeated":
        step = 0.3 if clip["length"] == "short" else 0.45
        notes = [(0.05 + step * i, step * 0.8, [base]) for i in range(int((duration - 0.3) / step))]
    else:
        steps = rng.choice([-5, -3, -2, 2, 3, 4, 5, 7], size=4)
        pitches = np.clip(base + np.concatenate([[0], np.cumsum(steps)]), 21, 108)
        notes = [(0.05 + 0.3 * i, 0.26, [int(p)]) for i, p in enumerate(pitches)]
    out = []
    for t, d, keys in notes:
        for k in keys:
            out += [(t, "on", int(k), vel), (t + d, "off", int(k), 0)]
    return out


def _render(
    synth: Any,
    sfid: int,
    cls: InstrumentClass,
    clip: dict[str, Any],
    rng: np.random.Generator,
    sample_rate: int,
    duration: float,
) -> np.ndarray:
    kit = cls.kind(clip) == "kit"
    chan = 9 if kit else 0
    if kit:
        synth.program_select(chan, sfid, 128, clip["bank_preset"], is_drums=True)
    else:
        synth.program_select(chan, sfid, 0, clip["program"])
    events = sorted(_events(cls, clip, rng, duration), key=lambda e: (e[0], e[1] == "on"))
    n_total = int(round(duration * sample_rate))
    parts, done = [], 0
    for t, kind, key, vel in events:
        at = min(n_total, int(round(t * sample_rate)))
        if at > done:
            parts.append(np.frombuffer(synth.generate(at - done), dtype=np.float32))
            done = at
        if kind == "on":
            synth.noteon(chan, key, vel)
        else:
            synth.noteoff(chan, key)
    if n_total > done:
        parts.append(np.frombuffer(synth.generate(n_total - done), dtype=np.float32))
    synth.sounds_off()
    synth.generate(int(0.05 * sample_rate))  # let the voices die before the next clip
    stereo = np.concatenate(parts).reshape(-1, 2)
    return np.clip(stereo.mean(axis=1), -1.0, 1.0)


def soundfont_path() -> Path:
    """The General MIDI soundfont bundled with pretty_midi (TimGM6mb.sf2)."""
    from ..._deps import require

    pm = require("pretty_midi", "audio")
    path = Path(pm.__file__).parent / "TimGM6mb.sf2"
    if not path.exists():
        raise FileNotFoundError(f"the General MIDI soundfont is missing from pretty_midi: {path}")
    return path


def _clip_plan(cls: InstrumentClass, n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Deterministic, balanced variations of one class (cycled patterns/dynamics/registers/lengths)."""
    dyns, regs, lens = list(_DYN), list(_REG), list(_LEN)
    out = []
    for i in range(n):
        # classes with programs and kit sounds (agogo, woodblock) alternate between the two
        kit = not cls.programs or (bool(cls.kit_keys) and i % 2 == 1)
        patterns = (
            ["single", "repeated", "roll", "rhythm"] if kit else ["single", "chord", "repeated", "phrase"]
        )
        dyn = dyns[(i + int(rng.integers(3))) % 3]
        c: dict[str, Any] = {
            "pattern": patterns[i % 4],
            "dynamics": dyn,
            "velocity": int(rng.integers(*_DYN[dyn][0])),
            "length": lens[(i // 4 + i) % 2],
            "register": regs[(i + i // 3) % 3],
        }
        if kit:
            c.update(
                program=-1,
                key=int(cls.kit_keys[(i // 2 if cls.programs else i) % len(cls.kit_keys)]),
                bank_preset=int(_KITS[int(rng.integers(len(_KITS)))]),
                pitch=-1,
            )
        else:
            prog = cls.programs[(i // 2 if cls.kit_keys else i) % len(cls.programs)]
            shift = -12 if cls.family == "bass" else 0
            c.update(
                program=int(prog),
                key=-1,
                bank_preset=0,
                pitch=int(_REG_BASE[c["register"]] + shift + rng.integers(0, 7)),
            )
        out.append(c)
    return out


@dataclass
class InstrumentSet:
    """A rendered instrument benchmark (see the module docstring)."""

    root: Path
    clips: list[dict[str, Any]]
    captions: list[dict[str, Any]]
    classes: list[dict[str, Any]]
    info: dict[str, Any] = field(default_factory=dict)

    def class_names(self, split: str | None = None) -> list[str]:
        """Instrument names (of one split: ``"seen"`` or ``"unseen"``)."""
        return [c["instrument"] for c in self.classes if split is None or c["split"] == split]

    def audio_paths(self, split: str | None = None) -> list[Path]:
        """Audio files of the clips (of one split)."""
        return [self.root / c["path"] for c in self.clips if split is None or c["split"] == split]

    def pairs(self, split: str | None = "seen") -> list[tuple[str, str]]:
        """(audio_id, text_id) caption pairs of one split (default: the seen instruments, for training)."""
        return [
            (c["audio_id"], c["text_id"]) for c in self.captions if split is None or c["split"] == split
        ]


def default_cache_dir() -> Path:
    """``$PAIRSPACE_CACHE``, else ``$XDG_CACHE_HOME/pairspace``, else ``~/.cache/pairspace``."""
    env = os.environ.get("PAIRSPACE_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "pairspace"


def render_instruments(
    root: str | os.PathLike[str] | None = None,
    clips_per_class: int = 8,
    captions_per_clip: int = 2,
    duration: float = 2.0,
    sample_rate: int = 16000,
    unseen_fraction: float = 0.25,
    seed: int = 0,
    classes: Sequence[str] | None = None,
    force: bool = False,
    progress: bool | None = None,
) -> InstrumentSet:
    """Render (or reuse from the cache) the instrument benchmark.

    Parameters
    ----------
    root : path, optional
        Parent folder of the cached set (default :func:`default_cache_dir`).
    clips_per_class, captions_per_clip : int
        Clips per instrument and captions per clip.
    duration, sample_rate : float, int
        Clip length (seconds) and sample rate of the FLAC files.
    unseen_fraction, seed : float, int
        The seen/unseen split (:func:`seen_unseen_split`) and every random choice.
    classes : sequence of str, optional
        Render only these instruments (a small subset for tests); the split is still computed on
        the full class list, so it does not depend on the subset.
    force : bool
        Render again even when a cached copy exists.
    """
    if clips_per_class < 1 or captions_per_clip < 1:
        raise ValueError("clips_per_class and captions_per_clip must be >= 1")
    if duration < 0.5 or sample_rate < 8000:
        raise ValueError(f"duration must be >= 0.5 s and sample_rate >= 8000; got {duration}, {sample_rate}")
    all_classes = instrument_classes()
    split = seen_unseen_split(all_classes, unseen_fraction, seed)
    if classes is not None:
        known = {c.name for c in all_classes}
        bad = [c for c in classes if c not in known]
        if bad:
            raise ValueError(f"unknown instruments {bad[:5]}; see instrument_classes()")
        chosen = [c for c in all_classes if c.name in set(classes)]
    else:
        chosen = all_classes
    params = {
        "version": VERSION,
        "clips_per_class": clips_per_class,
        "captions_per_clip": captions_per_clip,
        "duration": duration,
        "sample_rate": sample_rate,
        "unseen_fraction": unseen_fraction,
        "seed": seed,
        "classes": [c.name for c in chosen],
    }
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    base = Path(root) if root is not None else default_cache_dir()
    folder = base / f"instruments-v{VERSION}-{key}"
    if folder.exists() and (folder / "info.json").exists() and not force:
        return load_instruments(folder)

    import soundfile as sf

    try:
        import tinysoundfont as tsf
    except ImportError as exc:  # installed beside the extras (its declared deps are not needed)
        raise ImportError("rendering the instrument set needs tinysoundfont: "
                          "pip install --no-deps tinysoundfont") from exc
    synth = tsf.Synth(samplerate=sample_rate, gain=-3.0)
    sfid = synth.sfload(str(soundfont_path()))
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=base, prefix=f".{folder.name}."))
    try:
        (tmp / "audio").mkdir()
        clips, caps = [], []
        for cls in progress_bar(chosen, desc="render instruments", progress=progress, unit="class"):
            rng = np.random.default_rng([seed, all_classes.index(cls), 11])
            for j, plan in enumerate(_clip_plan(cls, clips_per_class, rng)):
                cid = f"{cls.name.replace(' ', '_')}-{j:03d}"
                wave = _render(synth, sfid, cls, plan, rng, sample_rate, duration)
                rel = f"audio/{cid}.flac"
                sf.write(str(tmp / rel), wave, sample_rate, subtype="PCM_16")
                clips.append(
                    {
                        "id": cid,
                        "audio_id": cid,
                        "path": rel,
                        "label": cls.name,
                        "instrument": cls.name,
                        "family": cls.family,
                        "split": split[cls.name],
                        **plan,
                    }
                )
                for k in range(captions_per_clip):
                    caps.append(
                        {
                            "id": f"{cid}-c{k}",
                            "audio_id": cid,
                            "text_id": f"{cid}-c{k}",
                            "text": caption(cls, plan, rng),
                            "label": cls.name,
                            "family": cls.family,
                            "split": split[cls.name],
                        }
                    )
        cls_rows = [
            {
                "instrument": c.name,
                "family": c.family,
                "split": split[c.name],
                "synonyms": "|".join(c.synonyms),
                "programs": " ".join(map(str, c.programs)),
                "kit_keys": " ".join(map(str, c.kit_keys)),
            }
            for c in chosen
        ]
        _write_csv(tmp / "clips.csv", clips)
        _write_csv(tmp / "captions.csv", caps)
        _write_csv(tmp / "classes.csv", cls_rows)
        (tmp / "info.json").write_text(
            json.dumps(
                {
                    **params,
                    "soundfont": "TimGM6mb.sf2 (pretty_midi)",
                    "n_clips": len(clips),
                    "n_captions": len(caps),
                },
                indent=2,
            )
        )
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return load_instruments(folder)


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def load_instruments(folder: str | os.PathLike[str]) -> InstrumentSet:
    """Read a rendered set (the folder :func:`render_instruments` wrote)."""
    folder = Path(folder)
    for name in ("info.json", "clips.csv", "captions.csv", "classes.csv"):
        if not (folder / name).exists():
            raise FileNotFoundError(f"{folder} is not a rendered instrument set (missing {name})")

    def rows(name: str) -> list[dict[str, Any]]:
        with open(folder / name, newline="") as f:
            return list(csv.DictReader(f))

    return InstrumentSet(
        folder,
        rows("clips.csv"),
        rows("captions.csv"),
        rows("classes.csv"),
        json.loads((folder / "info.json").read_text()),
    )
