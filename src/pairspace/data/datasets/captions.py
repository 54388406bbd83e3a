"""Audio-caption datasets as training-pair sources, each row keeping the recording's source id.

The source id (a Freesound sound id, a YouTube id) lets the leakage audit find evaluation clips cut
from the same recording as a training clip.

- **Clotho v2** (Drossos et al., ICASSP 2020): ``clotho_captions_<split>.csv`` (``file_name,
  caption_1 .. caption_5``) and optionally ``clotho_metadata_<split>.csv`` (``file_name, keywords,
  sound_id, ...``: ``sound_id`` is the Freesound id).
- **AudioCaps** (Kim et al., NAACL 2019): ``train.csv``/``val.csv``/``test.csv`` with
  ``audiocap_id, youtube_id, start_time, caption``; the source is the YouTube id (AudioSet clips).
- **MACS** (Martin-Morato & Mesaros, DCASE 2021): ``MACS.yaml`` with ``files: [{filename,
  annotations: [{annotator_id, sentence, tags}]}]`` on TAU Urban Acoustic Scenes 2019 clips.
- **WavCaps** (Mei et al., 2023) style JSON: ``{"data": [{"id", "caption", ...}]}``; the FreeSound
  part's ``id`` is the Freesound id, the AudioSet part's ``Y<youtube id>.wav`` gives the YouTube id.
- ESC-50 file names ``<fold>-<freesound id>-<take>-<class>.wav`` carry the Freesound id
  (:func:`esc50_source_id`).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..._atomic import atomic_write_bytes

COLUMNS = ("audio_id", "text_id", "text", "path", "source_id", "dataset")


@dataclass
class CaptionPairs:
    """Caption pairs of one dataset: one row per caption (several captions may share a clip)."""

    name: str
    rows: list[dict[str, str]]

    def __post_init__(self) -> None:
        if not self.rows:
            raise ValueError(f"{self.name}: no captions found")
        ids = [r["text_id"] for r in self.rows]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{self.name}: caption ids are not unique")

    def __len__(self) -> int:
        return len(self.rows)

    def pairs(self) -> list[tuple[str, str]]:
        """(audio_id, text_id) pairs for :func:`pairspace.align.train`."""
        return [(r["audio_id"], r["text_id"]) for r in self.rows]

    def captions(self) -> dict[str, str]:
        """text_id -> caption."""
        return {r["text_id"]: r["text"] for r in self.rows}

    def source_ids(self) -> list[str]:
        """The source id of every row (empty string when unknown)."""
        return [r["source_id"] for r in self.rows]

    def write_csv(self, path: str | os.PathLike[str]) -> Path:
        """A pair manifest (``audio_id, text_id, text, path, source_id, dataset``), written atomically."""
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows({c: r.get(c, "") for c in COLUMNS} for r in self.rows)
        return atomic_write_bytes(path, buf.getvalue().encode("utf-8"))


def _row(dataset: str, audio_id: str, k: int, text: str, path: str, source: str) -> dict[str, str]:
    return {"audio_id": audio_id, "text_id": f"{audio_id}#{k}", "text": text.strip(), "path": path,
            "source_id": source, "dataset": dataset}


def _csv_rows(path: str | os.PathLike[str], needed: tuple[str, ...]) -> list[dict[str, str]]:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p} does not exist")
    with open(p, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{p} has no rows")
    missing = [c for c in needed if c not in rows[0]]
    if missing:
        raise ValueError(f"{p} lacks the columns {missing}")
    return rows


def _path(audio_dir: str | os.PathLike[str] | None, name: str) -> str:
    return str(Path(audio_dir) / name) if audio_dir is not None else name


def load_clotho(captions_csv: str | os.PathLike[str], metadata_csv: str | os.PathLike[str] | None = None,
                audio_dir: str | os.PathLike[str] | None = None) -> CaptionPairs:
    """Clotho v2 captions (5 per clip); the Freesound ``sound_id`` from the metadata CSV when given."""
    rows = _csv_rows(captions_csv, ("file_name",))
    cap_cols = [c for c in rows[0] if re.fullmatch(r"caption_\d+", c)]
    if not cap_cols:
        raise ValueError(f"{captions_csv} has no caption_1 .. caption_5 columns")
    src: dict[str, str] = {}
    if metadata_csv is not None:
        meta = _csv_rows(metadata_csv, ("file_name", "sound_id"))
        src = {r["file_name"]: r["sound_id"].strip() for r in meta}
    out = []
    for r in rows:
        fn = r["file_name"]
        for k, c in enumerate(cap_cols):
            if r[c].strip():
                out.append(_row("clotho", fn, k, r[c], _path(audio_dir, fn), src.get(fn, "")))
    return CaptionPairs("clotho", out)


def load_audiocaps(csv_path: str | os.PathLike[str], audio_dir: str | os.PathLike[str] | None = None,
                   file_pattern: str = "{youtube_id}_{start_time}.wav") -> CaptionPairs:
    """AudioCaps (one caption per row); audio id ``<youtube_id>_<start_time>``, source the YouTube id."""
    out, seen = [], {}
    for r in _csv_rows(csv_path, ("audiocap_id", "youtube_id", "start_time", "caption")):
        yt, st = r["youtube_id"].strip(), str(int(float(r["start_time"])))
        aid = f"{yt}_{st}"
        k = seen[aid] = seen.get(aid, -1) + 1
        fn = file_pattern.format(youtube_id=yt, start_time=st, audiocap_id=r["audiocap_id"])
        row = _row("audiocaps", aid, k, r["caption"], _path(audio_dir, fn), yt)
        row["text_id"] = f"audiocap-{r['audiocap_id']}"
        out.append(row)
    return CaptionPairs("audiocaps", out)


def load_macs(yaml_path: str | os.PathLike[str], audio_dir: str | os.PathLike[str] | None = None
              ) -> CaptionPairs:
    """MACS: every annotator's sentence of every file (``files[].annotations[].sentence``)."""
    import yaml

    p = Path(yaml_path)
    if not p.is_file():
        raise FileNotFoundError(f"{p} does not exist")
    doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, list):
        raise ValueError(f"{p}: expected a top-level 'files' list (the MACS format)")
    out = []
    for f in files:
        fn = str(f["filename"])
        for k, a in enumerate(f.get("annotations") or []):
            if str(a.get("sentence", "")).strip():
                out.append(_row("macs", fn, k, str(a["sentence"]), _path(audio_dir, fn), Path(fn).stem))
    return CaptionPairs("macs", out)


def _wavcaps_source(entry: dict[str, Any], kind: str) -> str:
    i = str(entry.get("id", ""))
    m = re.fullmatch(r"Y?([A-Za-z0-9_-]{11})(?:\.wav|\.flac)?", i)
    if kind == "youtube" or (kind == "auto" and i.startswith("Y") and m):
        return m.group(1) if m else i
    return i


def load_wavcaps(json_path: str | os.PathLike[str], audio_dir: str | os.PathLike[str] | None = None,
                 source: str = "auto", name: str = "wavcaps") -> CaptionPairs:
    """A WavCaps-style JSON (``{"data": [{"id", "caption", ...}]}``); ``source``: ``"freesound"``
    (the id), ``"youtube"`` (``Y<id>.wav`` -> ``<id>``) or ``"auto"``."""
    if source not in ("auto", "freesound", "youtube"):
        raise ValueError(f"source must be 'auto', 'freesound' or 'youtube'; got {source!r}")
    p = Path(json_path)
    if not p.is_file():
        raise FileNotFoundError(f"{p} does not exist")
    doc = json.loads(p.read_text(encoding="utf-8"))
    data = doc.get("data") if isinstance(doc, dict) else doc
    if not isinstance(data, list):
        raise ValueError(f"{p}: expected a 'data' list of entries with 'id' and 'caption'")
    out = []
    for n, e in enumerate(data):
        if "id" not in e or "caption" not in e:
            raise ValueError(f"{p}: entry {n} lacks 'id' or 'caption'")
        aid = str(e["id"])
        fn = str(e.get("file_name") or e.get("audio") or aid)
        out.append(_row(name, aid, 0, str(e["caption"]), _path(audio_dir, fn), _wavcaps_source(e, source)))
    return CaptionPairs(name, out)


def esc50_source_id(filename: str) -> str:
    """The Freesound id in an ESC-50 file name (``1-100038-A-14.wav`` -> ``100038``)."""
    m = re.fullmatch(r"\d+-(\d+)-[A-Z]-\d+\.\w+", Path(filename).name)
    if not m:
        raise ValueError(f"{filename!r} is not an ESC-50 file name "
                         "(<fold>-<freesound id>-<take>-<class>.wav)")
    return m.group(1)
