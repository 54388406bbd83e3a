"""pairspace: paired embedding spaces.

Measure how alike two paired spaces are and at which scale (NNGS with its chance level, beside the
usual baselines), relate that similarity to analogy and zero-shot accuracy, and train and audit
projection heads on frozen backbones. The documentation (``make docs``, its *Design* page) describes
the architecture.

``import pairspace`` is instant: every public function and every subpackage is loaded on first use
(a module ``__getattr__``), so ``import pairspace`` imports none of torch, matplotlib, scipy.stats or
scikit-learn, and ``pairspace.encoders.get("minilm")`` works right after it.
"""

from __future__ import annotations

from ._lazy import lazy_exports

#: The package version: the one source (``pyproject.toml`` reads it, ``pairspace --version`` prints it).
__version__ = "0.1.0"

# Public name -> the module that defines it (imported on first access).
_LAZY_ATTRS: dict[str, str] = {
    "ApproximateSearchWarning": ".neighbors",
    "KNNResult": ".neighbors",
    "knn": ".neighbors",
    "knn_pair": ".neighbors",
    "register_backend": ".neighbors",
    "TiedNeighborsWarning": ".neighbors",
    "open_matrix": ".neighbors",
    "EmbeddingTable": ".data",
    "load_pair": ".data",
    "NNGSCurve": ".measures",
    "NNGSMatrix": ".measures.many",
    "cknna_matrix": ".measures.many",
    "linear_cka_matrix": ".measures.many",
    "mutual_knn_matrix": ".measures.many",
    "nngs_matrix": ".measures.many",
    "nngs_spectra": ".measures.many",
    "search_spaces": ".measures.many",
    "available_measures": ".measures",
    "bootstrap_ci": ".stats",
    "cknna": ".measures",
    "config_context": "._config",
    "compare_spaces": ".studies.compare",
    "get_config": "._config",
    "gulp": ".measures",
    "item_disagreement": ".stats",
    "linear_cka": ".measures",
    "mutual_knn": ".measures",
    "nngs": ".measures",
    "nngs_chance": ".measures",
    "nngs_curve": ".measures",
    "nngs_per_item": ".measures",
    "permutation_test": ".stats",
    "procrustes": ".measures",
    "rbf_cka": ".measures",
    "set_config": "._config",
}

# Subpackages reachable as attributes after ``import pairspace`` (imported on first access).
_LAZY_SUBMODULES: frozenset[str] = frozenset({
    "align", "analogy", "cli", "data", "encoders", "measures", "neighbors",
    "report", "stats", "studies", "tasks", "zeroshot",
})


__getattr__, __dir__ = lazy_exports(__name__, _LAZY_ATTRS, _LAZY_SUBMODULES)[1:]

__all__ = sorted([*_LAZY_ATTRS, "__version__", "analogy", "zeroshot"])
