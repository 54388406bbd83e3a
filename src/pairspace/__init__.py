"""pairspace: paired embedding spaces.

Measure how alike two paired spaces are and at which scale (NNGS with its chance level, beside the
usual baselines), relate that similarity to analogy and zero-shot accuracy, and train and audit
projection heads on frozen backbones. See ``shared/DESIGN.md`` for the architecture.
"""

import importlib
from typing import Any

from .data import EmbeddingTable, load_pair
from .measures import (
    NNGSCurve,
    available_measures,
    cknna,
    gulp,
    linear_cka,
    mutual_knn,
    nngs,
    nngs_chance,
    nngs_curve,
    procrustes,
    rbf_cka,
)
from .neighbors import ApproximateSearchWarning, KNNResult, knn, knn_pair, register_backend
from .outofcore import open_matrix
from .stats import bootstrap_ci, item_disagreement, permutation_test
from .studies.compare import compare_spaces

__version__ = "0.1.0"

_LAZY_SUBMODULES = ("analogy", "zeroshot")  # they import scipy.stats: loaded on first use


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "ApproximateSearchWarning",
    "EmbeddingTable",
    "KNNResult",
    "NNGSCurve",
    "__version__",
    "analogy",
    "available_measures",
    "bootstrap_ci",
    "cknna",
    "compare_spaces",
    "gulp",
    "item_disagreement",
    "knn",
    "knn_pair",
    "linear_cka",
    "load_pair",
    "mutual_knn",
    "nngs",
    "nngs_chance",
    "nngs_curve",
    "permutation_test",
    "procrustes",
    "rbf_cka",
    "open_matrix",
    "register_backend",
    "zeroshot",
]
