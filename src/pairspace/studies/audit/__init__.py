"""The leakage audit: how much zero-shot accuracy the backbones and the captions already carried.

Tavares, Ayres, Wang & Smaragdis, "On Class Separability Pitfalls In Audio-Text Contrastive
Zero-Shot Learning", ICASSP 2025, arXiv 2408.13068.
"""

from .captions import CaptionLeaks, caption_leaks, load_synonyms, shipped_synonyms

__all__ = ["CaptionLeaks", "caption_leaks", "load_synonyms", "shipped_synonyms"]
