"""pairspace: paired embedding spaces.

Measure how alike two paired spaces are and at which scale (NNGS with its chance level, beside the
usual baselines), relate that similarity to analogy and zero-shot accuracy, and train and audit
projection heads on frozen backbones. See ``shared/DESIGN.md`` for the architecture.
"""

from .measures import NNGSCurve, linear_cka, mutual_knn, nngs, nngs_chance, nngs_curve
from .neighbors import ApproximateSearchWarning, KNNResult, knn, knn_pair, register_backend
from .outofcore import open_matrix

__version__ = "0.1.0"

__all__ = [
    "ApproximateSearchWarning",
    "KNNResult",
    "NNGSCurve",
    "__version__",
    "knn",
    "knn_pair",
    "linear_cka",
    "mutual_knn",
    "nngs",
    "nngs_chance",
    "nngs_curve",
    "open_matrix",
    "register_backend",
]
