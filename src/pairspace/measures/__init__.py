"""Similarity measures of paired embedding spaces (pure functions of arrays)."""

from .cka import linear_cka
from .knn_measures import mutual_knn
from .nngs import NNGSCurve, nngs, nngs_chance, nngs_curve

__all__ = ["NNGSCurve", "linear_cka", "mutual_knn", "nngs", "nngs_chance", "nngs_curve"]
