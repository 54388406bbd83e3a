r"""Seeded views of an emoji: size, crop, rotation and background, and their captions.

A view is drawn on a square canvas of ``image_size`` pixels:

- **background**: one colour of :data:`BACKGROUNDS` (named, so that captions can say it);
- **size**: the emoji's side is ``scale * image_size`` with ``scale`` uniform in [0.5, 0.95];
- **rotation**: an angle uniform in [-30, 30] degrees (counter-clockwise positive);
- **crop**: the emoji's centre is shifted from the canvas centre by up to 15% of the canvas in
  each direction, so that a large, shifted emoji is cropped by the border.

View 0 of every class is the canonical one: white background, scale 0.9, upright, centred.
Every other choice comes from the generator the caller passes (seeded per class).

Captions come from a small grammar (as for the instrument set): the class name or one of its
aliases, an article, the background colour, the size and the tilt in several phrasings
("a small red apple emoji on a blue background, tilted to the left"), never one fixed template.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...._deps import require

#: Named background colours (RGB) of the views.
BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "white": (255, 255, 255), "light grey": (211, 211, 211), "dark grey": (90, 90, 90),
    "black": (0, 0, 0), "red": (220, 40, 40), "orange": (245, 150, 40), "yellow": (250, 225, 60),
    "green": (60, 170, 80), "blue": (50, 110, 220), "purple": (140, 70, 180), "pink": (245, 160, 200),
    "beige": (235, 220, 190),
}
SCALE_RANGE = (0.5, 0.95)
MAX_ROTATION = 30.0
MAX_SHIFT = 0.15


def view_plan(n_views: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """The ``n_views`` view settings of one class (view 0 canonical, the others drawn from ``rng``)."""
    names = list(BACKGROUNDS)
    plans = [{"view": 0, "background": "white", "scale": 0.9, "rotation": 0.0, "dx": 0.0, "dy": 0.0}]
    for v in range(1, n_views):
        plans.append({
            "view": v,
            "background": names[int(rng.integers(len(names)))],
            "scale": round(float(rng.uniform(*SCALE_RANGE)), 4),
            "rotation": round(float(rng.uniform(-MAX_ROTATION, MAX_ROTATION)), 2),
            "dx": round(float(rng.uniform(-MAX_SHIFT, MAX_SHIFT)), 4),
            "dy": round(float(rng.uniform(-MAX_SHIFT, MAX_SHIFT)), 4),
        })
    return plans[:n_views]


def render_view(svg: str, plan: dict[str, Any], image_size: int) -> Any:
    """Render one view of an SVG as an RGB ``PIL.Image`` (``image_size`` square)."""
    import io

    resvg = require("resvg_py", "image")
    Image = require("PIL.Image", "image")
    side = max(8, int(round(plan["scale"] * image_size)))
    png = resvg.svg_to_bytes(svg_string=svg, width=side, height=side)
    with Image.open(io.BytesIO(bytes(png))) as im:
        glyph = im.convert("RGBA")
    if plan["rotation"]:
        glyph = glyph.rotate(float(plan["rotation"]), resample=Image.Resampling.BICUBIC, expand=True)
    canvas = Image.new("RGBA", (image_size, image_size), BACKGROUNDS[plan["background"]] + (255,))
    cx = image_size / 2 + plan["dx"] * image_size
    cy = image_size / 2 + plan["dy"] * image_size
    canvas.paste(glyph, (int(round(cx - glyph.width / 2)), int(round(cy - glyph.height / 2))), glyph)
    return canvas.convert("RGB")


def size_word(scale: float) -> str:
    """``small`` / ``medium-sized`` / ``large`` for a view's scale."""
    return "small" if scale < 0.65 else ("large" if scale >= 0.8 else "medium-sized")


def tilt_words(rotation: float) -> str:
    """How the emoji is turned, in words."""
    if abs(rotation) < 5:
        return "upright"
    return "tilted to the left" if rotation > 0 else "tilted to the right"


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _a(word: str) -> str:
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def caption(name: str, aliases: Sequence[str], plan: dict[str, Any], rng: np.random.Generator) -> str:
    """A caption of one view from the grammar (name or alias, background, size, tilt)."""
    noun = _pick(rng, (name, name, *aliases))
    bg = plan["background"]
    size = size_word(plan["scale"])
    tilt = tilt_words(plan["rotation"])
    kind = _pick(rng, ("emoji", "icon", "drawing", "pictogram"))
    forms = (
        f"{_a(size)} {noun} {kind} on {_a(bg)} background",
        f"{_a(noun)} {kind}, {tilt}, on {bg}",
        f"the {noun} {kind} drawn {size} on a {bg} background",
        f"{noun}: {_a(size)} {kind}, {tilt}",
        f"an OpenMoji {kind} of {_a(noun)} over a {bg} background, {tilt}",
        f"{_a(kind)} showing {_a(noun)}, {size} and {tilt}",
    )
    text = _pick(rng, forms)
    return text[0].upper() + text[1:]
