"""A registry of similarity measures: what each one computes, its range, direction and cost.

Reports and the CLI (``pairspace measures``) list the measures from here, and
:func:`pairspace.measures.stats.permutation_test` uses ``kind`` to decide how to permute: a
``"knn"`` measure is recomputed by relabeling the neighbor graph of Y (no new search), a
``"global"`` measure by recomputing it on the permuted rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from .cka import linear_cka, rbf_cka
from .gulp import gulp, procrustes
from .knn_measures import cknna, mutual_knn
from .nngs import nngs


@dataclass(frozen=True)
class MeasureInfo:
    """Description of one measure.

    Attributes
    ----------
    name : str
        Registry key (``--measures`` in the CLI).
    func : callable
        ``func(X, Y, **options) -> float``.
    kind : {"knn", "global"}
        ``"knn"``: computed from the kNN graphs (takes ``k`` and ``metric``); ``"global"``: from the
        whole point clouds.
    value_range : tuple of float
        Smallest and largest possible value.
    higher_is_similar : bool
        True for similarities, False for distances.
    invariances : tuple of str
        Transformations of either space that leave the value unchanged.
    cost : str
        Time and memory, in big-O.
    description : str
        One line.
    reference : str
        Where it was published.
    """

    name: str
    func: Callable[..., float]
    kind: str
    value_range: tuple[float, float]
    higher_is_similar: bool
    invariances: tuple[str, ...]
    cost: str
    description: str
    reference: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (without the function)."""
        return {"name": self.name, "kind": self.kind, "range": list(self.value_range),
                "higher_is_similar": self.higher_is_similar, "invariances": list(self.invariances),
                "cost": self.cost, "description": self.description, "reference": self.reference}


_KNN_INV = ("any transform preserving neighbor ranks (rotation, translation, isotropic scale; "
            "monotone rescaling of distances)",)

MEASURES: dict[str, MeasureInfo] = {}


def register_measure(info: MeasureInfo) -> MeasureInfo:
    """Add a measure to the registry (the name must be new)."""
    if info.name in MEASURES:
        raise ValueError(f"a measure named {info.name!r} is already registered")
    if info.kind not in ("knn", "global"):
        raise ValueError(f"kind must be 'knn' or 'global'; got {info.kind!r}")
    MEASURES[info.name] = info
    return info


def get_measure(name: str) -> MeasureInfo:
    """The registered measure ``name`` (an error lists the available ones)."""
    try:
        return MEASURES[name]
    except KeyError:
        raise ValueError(f"unknown measure {name!r}; available: {', '.join(MEASURES)}") from None


def available_measures() -> list[str]:
    """Names of the registered measures."""
    return list(MEASURES)


for _info in (
    MeasureInfo("nngs", nngs, "knn", (0.0, 1.0), True, _KNN_INV,
                "one kNN search per space O(n^2 d / block) + O(nk); memory O(nk)",
                "mean Jaccard of the k-NN sets of each item in the two spaces",
                "Tavares, Ayres & Smaragdis, arXiv 2411.08687"),
    MeasureInfo("mutual_knn", mutual_knn, "knn", (0.0, 1.0), True, _KNN_INV,
                "shares the kNN searches of nngs; O(nk)",
                "mean fraction of shared k nearest neighbors",
                "Huh et al., The Platonic Representation Hypothesis, ICML 2024"),
    MeasureInfo("cknna", cknna, "knn", (-1.0, 1.0), True,
                ("orthogonal transforms", "isotropic scaling"),
                "shares the kNN searches; O(nkd) for the kernels on the graphs",
                "centered linear-kernel alignment restricted to mutual kNN pairs",
                "Huh et al., The Platonic Representation Hypothesis, ICML 2024"),
    MeasureInfo("linear_cka", linear_cka, "global", (0.0, 1.0), True,
                ("orthogonal transforms", "isotropic scaling", "translation"),
                "O(n d^2) time, O(d^2) memory (feature space)",
                "linear centered kernel alignment (biased HSIC)",
                "Kornblith et al., ICML 2019"),
    MeasureInfo("linear_cka_debiased", partial(linear_cka, debiased=True), "global", (-1.0, 1.0),
                True, ("orthogonal transforms", "isotropic scaling", "translation"),
                "O(n d^2) time, O(d^2) memory (feature space)",
                "linear CKA with the unbiased HSIC estimator (near 0 when independent)",
                "Kornblith et al., ICML 2019; Song et al., JMLR 2012"),
    MeasureInfo("rbf_cka", rbf_cka, "global", (0.0, 1.0), True,
                ("orthogonal transforms", "translation", "isotropic scaling (median-distance width)"),
                "O(n^2 d) time, O(n^2) memory; refused above n=5000",
                "CKA with Gaussian kernels, width 0.8 x median distance",
                "Kornblith et al., ICML 2019"),
    MeasureInfo("gulp", gulp, "global", (0.0, float("inf")), False,
                ("orthogonal transforms", "translation", "isotropic scaling (normalized)"),
                "O(n d^2 + d^3)",
                "distance between the ridge (lambda=0.01) linear predictors of the two spaces",
                "Boix-Adsera et al., NeurIPS 2022"),
    MeasureInfo("procrustes", procrustes, "global", (0.0, 2.0 ** 0.5), False,
                ("orthogonal transforms", "translation", "isotropic scaling"),
                "O(n d^2 + d^3)",
                "orthogonal Procrustes distance after centering and unit-norm scaling",
                "Schonemann 1966; Ding et al., NeurIPS 2021"),
):
    register_measure(_info)
