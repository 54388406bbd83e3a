"""Similarity measures of paired embedding spaces (pure functions of arrays)."""

from .nngs import NNGSCurve, nngs, nngs_chance, nngs_curve

__all__ = ["NNGSCurve", "nngs", "nngs_chance", "nngs_curve"]
