"""Rendering one clip with tinysoundfont: note events, the synthesizer loop, the clip plans."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .captions import _DYN, _LEN, _REG
from .classes import InstrumentClass

_KITS = (0, 8, 16, 24, 25, 32, 40, 48)  # drum kits (bank 128 presets) in TimGM6mb
_REG_BASE = {"low": 40, "mid": 57, "high": 72}  # MIDI note of each register


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
    from ...._deps import require

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
