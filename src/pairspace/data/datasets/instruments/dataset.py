"""The rendered benchmark on disk: render (or reuse from the cache), write and read it."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...._progress import progress_bar
from .._cache import cached_build, chosen_classes
from .captions import caption
from .classes import InstrumentClass, instrument_classes, seen_unseen_split
from .synth import _clip_plan, _render, soundfont_path

VERSION = 2


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
        Parent folder of the cached set (default: ``$PAIRSPACE_CACHE``, else
        ``$XDG_CACHE_HOME/pairspace``, else ``~/.cache/pairspace``).
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
    chosen = chosen_classes(all_classes, classes, "instruments", "instrument_classes()")
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
    def build(tmp: Path) -> None:
        clips, caps = _render_all(tmp, chosen, all_classes, split, params, progress)
        _write_set(tmp, chosen, split, params, clips, caps)

    folder = cached_build(f"instruments-v{VERSION}", params, build, root, force)
    ds = load_instruments(folder)
    write_route_files(ds)  # also for sets cached before these files existed
    return ds


def _render_all(tmp: Path, chosen: Sequence[InstrumentClass], all_classes: list[InstrumentClass],
                split: dict[str, str], params: dict[str, Any], progress: bool | None
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Render every clip of ``chosen`` into ``tmp/audio``; the clip and caption rows."""
    import soundfile as sf

    try:
        import tinysoundfont as tsf
    except ImportError as exc:  # installed beside the extras (its declared deps are not needed)
        raise ImportError("rendering the instrument set needs tinysoundfont: "
                          "pip install --no-deps tinysoundfont") from exc
    seed, sample_rate, duration = params["seed"], params["sample_rate"], params["duration"]
    synth = tsf.Synth(samplerate=sample_rate, gain=-3.0)
    sfid = synth.sfload(str(soundfont_path()))
    (tmp / "audio").mkdir()
    clips, caps = [], []
    for cls in progress_bar(chosen, desc="render instruments", progress=progress, unit="class"):
        rng = np.random.default_rng([seed, all_classes.index(cls), 11])
        for j, plan in enumerate(_clip_plan(cls, params["clips_per_class"], rng)):
            cid = f"{cls.name.replace(' ', '_')}-{j:03d}"
            wave = _render(synth, sfid, cls, plan, rng, sample_rate, duration)
            rel = f"audio/{cid}.flac"
            sf.write(str(tmp / rel), wave, sample_rate, subtype="PCM_16")
            clips.append({"id": cid, "audio_id": cid, "path": rel, "label": cls.name,
                          "instrument": cls.name, "family": cls.family, "split": split[cls.name],
                          **plan})
            for k in range(params["captions_per_clip"]):
                caps.append({"id": f"{cid}-c{k}", "audio_id": cid, "text_id": f"{cid}-c{k}",
                             "text": caption(cls, plan, rng), "label": cls.name,
                             "family": cls.family, "split": split[cls.name]})
    return clips, caps


def _write_set(tmp: Path, chosen: Sequence[InstrumentClass], split: dict[str, str],
               params: dict[str, Any], clips: list[dict[str, Any]], caps: list[dict[str, Any]]
               ) -> None:
    """The tables and ``info.json`` of a rendered set."""
    cls_rows = [{"instrument": c.name, "family": c.family, "split": split[c.name],
                 "synonyms": "|".join(c.synonyms), "programs": " ".join(map(str, c.programs)),
                 "kit_keys": " ".join(map(str, c.kit_keys))} for c in chosen]
    _write_csv(tmp / "clips.csv", clips)
    _write_csv(tmp / "captions.csv", caps)
    _write_csv(tmp / "classes.csv", cls_rows)
    info = {**params, "soundfont": "TimGM6mb.sf2 (pretty_midi)", "n_clips": len(clips),
            "n_captions": len(caps)}
    (tmp / "info.json").write_text(json.dumps(info, indent=2))


ROUTE_FILES = ("seen_pairs.csv", "seen.txt", "unseen.txt", "seen_clips.csv", "unseen_clips.csv")
"""Files beside the tables for the command-line route (train on seen pairs, test on unseen)."""


def write_route_files(ds: InstrumentSet) -> list[Path]:
    """Write the files the command-line route needs into the set's folder (when missing).

    ``seen_pairs.csv`` (``audio_id, text_id`` of the seen captions, for ``pairspace train
    --pairs``), ``seen.txt`` / ``unseen.txt`` (one instrument per line, for ``pairspace zeroshot
    --classes``) and ``seen_clips.csv`` / ``unseen_clips.csv`` (the clips of one split, manifests
    for ``pairspace embed``). Each file is written atomically; existing files are kept.
    """
    from ...._atomic import atomic_write_bytes

    def csv_text(rows: list[dict[str, Any]], fields: Sequence[str]) -> bytes:
        buf = io.StringIO(newline="")
        w = csv.DictWriter(buf, fieldnames=list(fields), extrasaction="ignore", lineterminator="\r\n")
        w.writeheader()
        w.writerows(rows)
        return buf.getvalue().encode()

    clip_fields = list(ds.clips[0]) if ds.clips else ["id", "path"]
    content = {
        "seen_pairs.csv": csv_text([c for c in ds.captions if c["split"] == "seen"],
                                   ("audio_id", "text_id")),
        "seen.txt": "".join(f"{n}\n" for n in ds.class_names("seen")).encode(),
        "unseen.txt": "".join(f"{n}\n" for n in ds.class_names("unseen")).encode(),
        "seen_clips.csv": csv_text([c for c in ds.clips if c["split"] == "seen"], clip_fields),
        "unseen_clips.csv": csv_text([c for c in ds.clips if c["split"] == "unseen"], clip_fields),
    }
    written = []
    for name in ROUTE_FILES:
        path = ds.root / name
        if not path.exists():
            atomic_write_bytes(path, content[name])
            written.append(path)
    return written


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
