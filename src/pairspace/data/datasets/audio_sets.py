"""Metadata of the audio classification sets: ESC-50, UrbanSound8K and TUT Acoustic Scenes 2017.

Only the metadata is parsed here (paths, labels, folds); reading audio is the audio encoders' job.

- **ESC-50** (Piczak 2015): ``meta/esc50.csv`` (``filename, fold, target, category, ...``) and
  ``audio/``; 50 classes, folds 1-5. File names are ``{fold}-{Freesound id}-{take}-{target}.wav``.
- **UrbanSound8K** (Salamon et al. 2014): ``metadata/UrbanSound8K.csv`` (``slice_file_name, fsID,
  start, end, salience, fold, classID, class``) and ``audio/fold<k>/``; 10 classes, folds 1-10.
- **TUT Acoustic Scenes 2017** (Mesaros et al. 2017), 15 scenes. The development set: ``meta.txt``
  (tab-separated ``audio/<file>.wav, scene_label, recording id``) and optionally
  ``evaluation_setup/fold<k>_evaluate.txt`` (folds 1-4). The evaluation set (DCASE 2017 task 1):
  ``evaluation_setup/evaluate.txt`` (``audio/<n>.wav, scene_label``; a ``meta.txt`` in the same
  format is used when present) and no folds; its items carry ``subset = "evaluation"``.

Source ids
----------
Both Freesound-derived sets record where each clip came from, so the leakage audit can find the
same recording in a training and an evaluation set: ``extra["source_id"]`` (a ``source_id`` column
in the manifest and the embedded table) is ``"freesound:<id>"``, parsed from the ESC-50 file name
and taken from UrbanSound8K's ``fsID`` (which is kept too, as ``fsID``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .base import LabeledDataset, check_audio_files, require_file, resolve_class_names

Override = Sequence[str] | str | os.PathLike[str] | None


def _read_csv(path: Path, needed: Sequence[str]) -> list[dict[str, str]]:
    """The rows of a metadata CSV, read by the toolkit's one checked reader (:mod:`..textfiles`)."""
    from ..textfiles import csv_rows

    header, numbered = csv_rows(path, "metadata CSV")
    rows = [r for _, r in numbered]
    if not rows:
        raise ValueError(f"{path} has no rows")
    missing = [c for c in needed if c not in header]
    if missing:
        raise ValueError(f"{path} lacks the columns {missing}")
    return rows


def _indexed_names(rows: list[dict[str, str]], idx_col: str, name_col: str, path: Path) -> list[str]:
    by_idx: dict[int, str] = {}
    for r in rows:
        i, c = int(r[idx_col]), r[name_col]
        if by_idx.setdefault(i, c) != c:
            raise ValueError(f"{path}: class index {i} is both {by_idx[i]!r} and {c!r}")
    if sorted(by_idx) != list(range(len(by_idx))):
        raise ValueError(f"{path}: class indices are not 0..{len(by_idx) - 1}")
    return [by_idx[i] for i in range(len(by_idx))]


def freesound_id_of_esc50(filename: str) -> str:
    """The Freesound clip id of an ESC-50 file name ``{fold}-{id}-{take}-{target}.wav``."""
    parts = Path(filename).stem.split("-")
    if len(parts) != 4 or not parts[1].isdigit():
        raise ValueError(f"{filename!r} is not an ESC-50 file name ({{fold}}-{{freesound id}}-"
                         "{take}-{target}.wav)")
    return parts[1]


def load_esc50(root: str | os.PathLike[str], class_names: Override = None,
               check_files: bool = True) -> LabeledDataset:
    """ESC-50: 2000 five-second clips, 50 classes, folds 1-5; ``extra["source_id"]`` from the
    file names (``"freesound:<id>"``)."""
    root = Path(root)
    meta = require_file(root / "meta" / "esc50.csv", "ESC-50 metadata (meta/esc50.csv)")
    rows = _read_csv(meta, ("filename", "fold", "target", "category"))
    names = resolve_class_names(_indexed_names(rows, "target", "category", meta), class_names)
    paths = [str((root / "audio" / r["filename"]).resolve()) for r in rows]
    check_audio_files(paths, check_files)
    source = [f"freesound:{freesound_id_of_esc50(r['filename'])}" for r in rows]
    return LabeledDataset("esc50", [r["filename"] for r in rows], paths,
                          [names[int(r["target"])] for r in rows], names, [int(r["fold"]) for r in rows],
                          str(root), {"source_id": source})


def load_urbansound8k(root: str | os.PathLike[str], class_names: Override = None,
                      check_files: bool = True) -> LabeledDataset:
    """UrbanSound8K: 8732 excerpts of up to 4 s, 10 classes, folds 1-10; ``extra`` keeps
    ``fsID`` and its ``source_id`` (``"freesound:<fsID>"``)."""
    root = Path(root)
    meta = require_file(root / "metadata" / "UrbanSound8K.csv",
                        "UrbanSound8K metadata (metadata/UrbanSound8K.csv)")
    rows = _read_csv(meta, ("slice_file_name", "fsID", "fold", "classID", "class"))
    names = resolve_class_names(_indexed_names(rows, "classID", "class", meta), class_names)
    paths = [str((root / "audio" / f"fold{r['fold']}" / r["slice_file_name"]).resolve()) for r in rows]
    check_audio_files(paths, check_files)
    fsid = [r["fsID"].strip() for r in rows]
    bad = next((i for i, v in enumerate(fsid) if not v.isdigit()), None)
    if bad is not None:
        raise ValueError(f"{meta}:{bad + 2}: fsID {fsid[bad]!r} is not a Freesound id")
    return LabeledDataset("urbansound8k", [r["slice_file_name"] for r in rows], paths,
                          [names[int(r["classID"])] for r in rows], names,
                          [int(r["fold"]) for r in rows], str(root),
                          {"fsID": fsid, "source_id": [f"freesound:{v}" for v in fsid]})


def _scene_list(path: Path) -> tuple[list[str], list[str]]:
    """Files and scene labels of a tab-separated ``file<TAB>scene[<TAB>...]`` list."""
    files, scenes = [], []
    for ln, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 2 or not parts[1].strip():
            raise ValueError(f"{path}:{ln}: expected 'file<TAB>scene[<TAB>id]'; got {line!r}")
        files.append(parts[0].strip())
        scenes.append(parts[1].strip())
    if not files:
        raise ValueError(f"{path} lists no files")
    return files, scenes


def _tut_folds(root: Path, files: list[str]) -> list[int] | None:
    setup = root / "evaluation_setup"
    fold_files = sorted(setup.glob("fold*_evaluate.txt")) if setup.is_dir() else []
    if not fold_files:
        return None
    fold_of: dict[str, int] = {}
    for ff in fold_files:
        k = int(ff.name[4:].split("_")[0])
        for line in ff.read_text(encoding="utf-8").splitlines():
            if line.strip():
                fold_of[line.split("\t")[0].strip()] = k
    missing = [f for f in files if f not in fold_of]
    if missing:
        raise ValueError(f"{len(missing)} files of meta.txt are in no evaluation fold, "
                         f"e.g. {missing[:3]}")
    return [fold_of[f] for f in files]


def load_tut2017(root: str | os.PathLike[str], class_names: Override = None,
                 check_files: bool = True) -> LabeledDataset:
    """TUT Acoustic Scenes 2017: 10-s segments of 15 scenes.

    The development set (``meta.txt``; folds 1-4 when ``evaluation_setup/fold*_evaluate.txt``
    exist) or the evaluation set (``evaluation_setup/evaluate.txt``, no folds, every item with
    ``extra["subset"] == "evaluation"``). Classes are the sorted scene labels; ``class_names``
    overrides their cleaned names.
    """
    root = Path(root)
    evaluate = root / "evaluation_setup" / "evaluate.txt"
    meta = root / "meta.txt"
    evaluation = evaluate.exists() and not any((root / "evaluation_setup").glob("fold*_evaluate.txt"))
    if meta.exists():
        files, scenes = _scene_list(meta)
    elif evaluate.exists():
        files, scenes = _scene_list(evaluate)
    else:
        raise FileNotFoundError(f"TUT Acoustic Scenes 2017 metadata not found under {root}: "
                                "meta.txt (development set) or evaluation_setup/evaluate.txt "
                                "(evaluation set)")
    raw = sorted(set(scenes))
    names = resolve_class_names(raw, class_names)
    rename = dict(zip(raw, names, strict=True))
    folds = None if evaluation else _tut_folds(root, files)
    paths = [str((root / f).resolve()) for f in files]
    check_audio_files(paths, check_files)
    extra = {"subset": ["evaluation"] * len(files)} if evaluation else {}
    return LabeledDataset("tut2017", files, paths, [rename[s] for s in scenes], names, folds,
                          str(root), extra)
