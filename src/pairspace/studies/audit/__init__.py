"""The leakage audit: how much zero-shot accuracy the backbones and the captions already carried.

``caption_leaks`` flags training captions that name evaluation classes; ``run`` composes it with
source and label overlap, separability already in the backbone and projected spaces, the control
runs and the attribution (see :mod:`pairspace.studies.audit.study`).

Tavares, Ayres, Wang & Smaragdis, "On Class Separability Pitfalls In Audio-Text Contrastive
Zero-Shot Learning", ICASSP 2025, arXiv 2408.13068.
"""

from .captions import CaptionLeaks, caption_leaks, load_synonyms, shipped_synonyms
from .controls import CONTROLS, DEFAULT_CONTROLS, ControlSettings, EvalSet, SeedData
from .study import SCHEMA, AuditInputs, AuditResult, results_of, run

__all__ = ["CONTROLS", "DEFAULT_CONTROLS", "SCHEMA", "AuditInputs", "AuditResult", "CaptionLeaks",
           "ControlSettings", "EvalSet", "SeedData", "caption_leaks", "load_synonyms", "results_of", "run",
           "shipped_synonyms"]
