"""Names of the curation and improve studies, defined once (standard library only).

The command-line modules read these at import time, so this module imports nothing heavy.
"""

from __future__ import annotations

CURATION_METHODS = ("du", "ds", "ads", "a2a")
"""Curation methods of :mod:`pairspace.studies.curation` (arXiv 2305.01864)."""

PROMPT = "this is a sound of {}"
"""The single prompt of the MS-CLAP/P3 protocol and of DS curation (no ensembling)."""

DEFAULT_SWEEP: tuple[float | str, ...] = (0.5, 0.6, 0.65, 0.675, 0.7, 0.75, 0.8, 0.875, 0.9,
                                          "q0.9", "q0.99", "q0.999")
"""Thresholds at which the curated pairs are counted (reported only, never used to choose)."""

CURATION_SET_SCHEMA = "pairspace.curation_set/1"
"""Result envelope of one method's curated set, the JSON sidecar of its manifest
(:meth:`CurationResult.sidecar`). Version 1 replaces the flat ``pairspace.curation/2`` sidecar of
earlier releases."""

CURATION_RUN_SCHEMA = "pairspace.curation/3"
"""Result envelope of ``pairspace curate`` (``curation.json``; :meth:`CurationRun.to_dict`).
Version 3 replaces the flat ``pairspace.curation_run/1`` document of earlier releases."""

TARGET_USE = {
    "du": "none (label-free)",
    "ds": "target label names (prompts)",
    "ads": "target label names (through the DS captions)",
    "a2a": "target-task audio (transductive) and target label names (through the DS captions)",
}
"""What each curation method reads of the target task (recorded in every manifest and report)."""

PRESETS: dict[str, dict[str, float]] = {
    "esc50": {"du": 0.75, "ds": 0.70, "ads": 0.70, "a2a": 0.70},
    "us8k": {"du": 0.75, "ds": 0.60, "ads": 0.70, "a2a": 0.875},
    "tut2017": {"du": 0.75, "ds": 0.675, "ads": 0.65, "a2a": 0.70},
}
"""Published thresholds (arXiv 2305.01864, in the MS-CLAP projected space; other spaces differ)."""

STUDENT_METHODS = ("replay", "du", "ds", "ads", "a2a")
"""Students of the improve experiment; ``replay`` (no curated pairs) is the control."""

LOSSES = ("infonce", "soft")
"""Student losses: symmetric InfoNCE, or the soft-labeled loss with the frozen teacher's targets."""

SETTINGS: dict[str, str] = {
    "paper": "the paper's design: the teacher's captioned set covers the target instruments loosely "
             "(a few captioned clips each); DS = the teacher's own pairs nearest the target prompts",
    "strict": "strict zero-shot: the teacher never sees a target instrument; DS = the teacher's own "
              "pairs nearest the target prompts (all of seen instruments)",
}
"""The named settings of the instrument experiment."""

AUDIO_ENCODERS = ("whisper", "whisper-base", "logmel")
"""Audio backbones of the instrument experiment: Whisper tiny.en (default), Whisper base, log-mel."""
