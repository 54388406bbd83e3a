"""Similarity measures of paired embedding spaces (pure functions of arrays).

The statistics of the measures (permutation tests, intervals, item disagreement) live in
:mod:`pairspace.stats`; the comparison suite in :mod:`pairspace.studies.compare`.
"""

from .cka import linear_cka, rbf_cka
from .gulp import gulp
from .knn_measures import cknna, mutual_knn, platonic_preprocess
from .nngs import NNGSCurve, nngs, nngs_chance, nngs_curve, nngs_per_item
from .overlap import overlap_counts
from .procrustes import procrustes
from .registry import MeasureInfo, available_measures, get_measure

__all__ = [
    "MeasureInfo", "NNGSCurve", "available_measures", "cknna", "get_measure", "gulp", "linear_cka",
    "mutual_knn", "nngs", "nngs_chance", "nngs_curve", "nngs_per_item", "overlap_counts",
    "platonic_preprocess", "procrustes", "rbf_cka",
]
