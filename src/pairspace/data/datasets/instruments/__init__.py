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
``classes.csv`` and ``info.json``; and the files of the command-line route (train on the seen
instruments, test on the unseen ones): ``seen_pairs.csv`` (``audio_id, text_id``), ``seen.txt``,
``unseen.txt`` and ``seen_clips.csv`` / ``unseen_clips.csv``.

The General MIDI tables (program names, families, synonyms, percussion keys) are data files,
``pairspace/resources/instruments/gm_programs.csv`` and ``gm_percussion.csv``.
"""

from .._cache import default_cache_dir
from .captions import caption
from .classes import (
    FAMILIES,
    InstrumentClass,
    gm_percussion,
    gm_programs,
    instrument_classes,
    seen_unseen_split,
)
from .dataset import (
    ROUTE_FILES,
    VERSION,
    InstrumentSet,
    load_instruments,
    render_instruments,
    write_route_files,
)
from .synth import soundfont_path

__all__ = [
    "FAMILIES", "ROUTE_FILES", "VERSION", "InstrumentClass", "InstrumentSet", "caption", "default_cache_dir",
    "gm_percussion", "gm_programs", "instrument_classes", "load_instruments", "render_instruments",
    "seen_unseen_split", "soundfont_path", "write_route_files",
]
