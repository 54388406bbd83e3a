"""Similarity measures of paired embedding spaces (pure functions of arrays)."""

from .cka import linear_cka, rbf_cka
from .compare import ComparisonResult, compare_spaces
from .gulp import gulp, procrustes
from .knn_measures import cknna, mutual_knn, platonic_preprocess
from .nngs import NNGSCurve, nngs, nngs_chance, nngs_curve
from .registry import MeasureInfo, available_measures, get_measure
from .stats import (
    IntervalResult,
    ItemDisagreement,
    PermutationResult,
    bootstrap_ci,
    item_disagreement,
    null_curve,
    permutation_test,
)

__all__ = [
    "ComparisonResult", "IntervalResult", "ItemDisagreement", "MeasureInfo", "NNGSCurve",
    "PermutationResult", "available_measures", "bootstrap_ci", "cknna", "compare_spaces",
    "get_measure", "gulp", "item_disagreement", "linear_cka", "mutual_knn", "nngs", "nngs_chance",
    "nngs_curve", "null_curve", "permutation_test", "platonic_preprocess", "procrustes", "rbf_cka",
]
