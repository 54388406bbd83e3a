"""The registry of similarity measures: what each computes, its range, direction, cost and limits.

Every measure is one :class:`MeasureInfo` registered in :data:`MEASURES` (a
:class:`pairspace._registry.Registry`), in the table at the bottom of this module: adding a measure
is one entry there. The command line (``pairspace measures``), the reports, the permutation tests,
the intervals and the comparison suite all read the measures from here:

- a **kNN measure** carries ``item_scorer``, the factory of its per-item scores on two fixed
  neighbor graphs (:mod:`pairspace.measures.graph_scores`); a permutation relabels Y's graph and
  rescores (no new search), an item bootstrap resamples the scores;
- a **global measure** (CKA, GULP, Procrustes) is recomputed on permuted or subsampled rows;
- ``limits(n, dx, dy)`` raises before any computation when the inputs are too large for the
  measure (RBF CKA's ``n x n`` Gram matrices), so a refusal never comes after a long search.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from .._registry import Registry
from .cka import RBF_MAX_N, check_rbf_size, linear_cka, rbf_cka
from .graph_scores import CKNNAScorer, GraphScorer, mutual_knn_scorer, nngs_scorer
from .gulp import gulp
from .knn_measures import cknna, mutual_knn
from .nngs import nngs
from .procrustes import procrustes


@dataclass(frozen=True)
class MeasureInfo:
    """Description of one measure.

    Attributes
    ----------
    name : str
        Registry key (``--measures`` in the CLI).
    func : callable
        ``func(X, Y, **options) -> float`` (kNN measures also take ``k`` and ``metric``).
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
    item_scorer : callable, optional
        ``item_scorer(A, B, ix, iy, k) -> GraphScorer`` for kNN measures (None: a global measure).
    options : tuple of str
        Measure options the statistics accept besides the neighbor search's (``platonic``).
    limits : callable, optional
        ``limits(n, dx, dy)`` raises :class:`ValueError` when the inputs exceed the measure's size
        limits.
    """

    name: str
    func: Callable[..., float]
    value_range: tuple[float, float]
    higher_is_similar: bool
    invariances: tuple[str, ...]
    cost: str
    description: str
    reference: str
    item_scorer: Callable[..., GraphScorer] | None = None
    options: tuple[str, ...] = ()
    limits: Callable[[int, int, int], None] | None = None

    @property
    def kind(self) -> str:
        """``"knn"`` (computed from the kNN graphs, takes ``k``) or ``"global"``."""
        return "knn" if self.item_scorer is not None else "global"

    def check_limits(self, n: int, dx: int, dy: int) -> None:
        """Raise :class:`ValueError` when ``n`` items of ``dx`` and ``dy`` features are too many."""
        if self.limits is not None:
            self.limits(int(n), int(dx), int(dy))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (without the functions)."""
        return {"name": self.name, "kind": self.kind, "range": list(self.value_range),
                "higher_is_similar": self.higher_is_similar, "invariances": list(self.invariances),
                "cost": self.cost, "description": self.description, "reference": self.reference}


MEASURES = Registry("measure")
"""Name -> :class:`MeasureInfo`."""


def register_measure(info: MeasureInfo) -> MeasureInfo:
    """Add a measure to the registry (the name must be new)."""
    MEASURES.register(info.name, info, kind=info.kind, description=info.description)
    return info


def get_measure(name: str) -> MeasureInfo:
    """The registered measure ``name`` (an error lists the available ones)."""
    if not isinstance(name, str) or name not in MEASURES:
        raise ValueError(f"unknown measure {name!r}; available: {', '.join(MEASURES.names())}")
    return MEASURES.get(name)


def available_measures() -> list[str]:
    """Names of the registered measures (sorted)."""
    return MEASURES.names()


def check_measures(measures: list[str] | tuple[str, ...], n: int, dx: int, dy: int
                   ) -> list[MeasureInfo]:
    """Look up every requested measure and check its size limits (before any computation)."""
    infos = [get_measure(m) for m in dict.fromkeys(measures)]
    for info in infos:
        info.check_limits(n, dx, dy)
    return infos


def _rbf_limits(n: int, dx: int, dy: int) -> None:
    check_rbf_size(n, RBF_MAX_N)


_KNN_INV = ("any transform preserving neighbor ranks (rotation, translation, isotropic scale; "
            "monotone rescaling of distances)",)
_CKA_INV = ("orthogonal transforms", "isotropic scaling", "translation")
_HUH = "Huh et al., The Platonic Representation Hypothesis, ICML 2024"
_KORNBLITH = "Kornblith et al., ICML 2019"

for _info in (
    MeasureInfo("nngs", nngs, (0.0, 1.0), True, _KNN_INV,
                "one kNN search per space O(n^2 d / block) + O(nk); memory O(nk)",
                "mean Jaccard of the k-NN sets of each item in the two spaces",
                "Tavares, Ayres & Smaragdis, arXiv 2411.08687", item_scorer=nngs_scorer),
    MeasureInfo("mutual_knn", mutual_knn, (0.0, 1.0), True, _KNN_INV,
                "shares the kNN searches of nngs; O(nk)",
                "mean fraction of shared k nearest neighbors", _HUH,
                item_scorer=mutual_knn_scorer, options=("platonic",)),
    MeasureInfo("cknna", cknna, (-1.0, 1.0), True, ("orthogonal transforms", "isotropic scaling"),
                "shares the kNN searches; O(nkd) for the kernels on the graphs",
                "centered linear-kernel alignment restricted to mutual kNN pairs", _HUH,
                item_scorer=CKNNAScorer, options=("platonic",)),
    MeasureInfo("linear_cka", linear_cka, (0.0, 1.0), True, _CKA_INV,
                "O(n d^2) time, O(d^2) memory (feature space)",
                "linear centered kernel alignment (biased HSIC)", _KORNBLITH),
    MeasureInfo("linear_cka_debiased", partial(linear_cka, debiased=True), (-1.0, 1.0), True,
                _CKA_INV, "O(n d^2) time, O(d^2) memory (feature space)",
                "linear CKA with the unbiased HSIC estimator (near 0 when independent)",
                f"{_KORNBLITH}; Song et al., JMLR 2012"),
    MeasureInfo("rbf_cka", rbf_cka, (0.0, 1.0), True,
                ("orthogonal transforms", "translation", "isotropic scaling (median-distance width)"),
                f"O(n^2 d) time, O(n^2) memory; refused above n={RBF_MAX_N}",
                "CKA with Gaussian kernels, width 0.8 x median distance", _KORNBLITH,
                limits=_rbf_limits),
    MeasureInfo("gulp", gulp, (0.0, float("inf")), False,
                ("orthogonal transforms", "translation", "isotropic scaling (normalized)"),
                "O(n d^2 + d^3)",
                "distance between the ridge (lambda=0.01) linear predictors of the two spaces",
                "Boix-Adsera et al., NeurIPS 2022"),
    MeasureInfo("procrustes", procrustes, (0.0, 2.0 ** 0.5), False, _CKA_INV, "O(n d^2 + d^3)",
                "orthogonal Procrustes distance after centering and unit-norm scaling",
                "Schonemann 1966; Ding et al., NeurIPS 2021"),
):
    register_measure(_info)
