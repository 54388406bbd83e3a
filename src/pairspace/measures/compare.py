r"""The comparison suite: NNGS beside the baseline measures, with significance and intervals.

:func:`compare_spaces` runs **one** top-``k_max`` neighbor search per space and derives from it the
NNGS curve, every kNN measure at every requested ``k``, the permutation tests of the kNN measures
(relabeled graphs, no new search), the permutation-null band of the curve, the item-bootstrap
intervals and the per-item disagreement. Global measures (CKA, GULP, Procrustes) are computed from
the point clouds. The function is pure (no I/O); :mod:`pairspace.cli.compare` writes the report.

Result schema
-------------
:meth:`ComparisonResult.to_dict` returns the ``pairspace.compare/2`` document written to
``results.json``:

``schema``
    ``"pairspace.compare/2"``.
``pairspace_version``
    Version of the package that computed it.
``inputs``
    ``n``, ``dx``, ``dy`` (and, from the CLI, ``x``, ``y``, ``aligned_by``, ``has_ids``).
``settings``
    ``metric``, ``metric_y``, ``ks``, ``k_max``, ``measures``, ``permutations``,
    ``band_permutations``, ``bootstrap``, ``level``, ``seed``, ``chance``.
``results``
    One row per measure and ``k`` (``k`` is null for global measures): ``measure``, ``k``,
    ``value``, ``higher_is_similar``, ``p_value``, ``n_permutations``, ``null_mean``,
    ``null_q025``, ``null_q975``, ``ci_low``, ``ci_high``, ``ci_level``, ``ci_scheme``
    (statistics not requested are null).
``nngs``
    ``{"k": value}`` for the requested ``k`` (as in schema 1).
``curve``
    ``k``, ``nngs``, ``chance``, ``normalized`` for ``k = 1..k_max`` (see
    :class:`~pairspace.measures.nngs.NNGSCurve`).
``null_band``
    ``k``, ``low``, ``median``, ``high`` (2.5/50/97.5 % of the permutation-null NNGS at each ``k``)
    and ``n_permutations``; null when no permutations were run.
``disagreement``
    ``k``, the distribution of the per-item Jaccard and ``most_disagreeing`` items with ``id``,
    ``jaccard``, ``shared`` and their first neighbors' ids in X and Y.
``measures_info``
    The registry entries (range, direction, invariances, cost, reference) of the measures used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_metric, check_pair, resolve_k
from ..neighbors import knn_pair
from .knn_measures import cknna_from_graphs, mutual_knn_from_graphs
from .nngs import NNGSCurve, curve_from_graphs
from .registry import get_measure
from .stats import (
    IntervalResult,
    ItemDisagreement,
    PermutationResult,
    bootstrap_ci,
    item_disagreement,
    null_curve,
    permutation_test,
)

SCHEMA = "pairspace.compare/2"
DEFAULT_MEASURES = ("nngs", "mutual_knn", "linear_cka")


@dataclass
class MeasureRow:
    """One measure at one ``k`` with its optional p-value and interval."""

    measure: str
    k: int | None
    value: float
    higher_is_similar: bool
    permutation: PermutationResult | None = None
    interval: IntervalResult | None = None

    def to_dict(self) -> dict[str, Any]:
        p, c = self.permutation, self.interval
        q = p.null_quantiles((0.025, 0.975)) if p is not None else [None, None]
        return {
            "measure": self.measure, "k": self.k, "value": self.value,
            "higher_is_similar": self.higher_is_similar,
            "p_value": p.p_value if p else None, "n_permutations": p.n_permutations if p else 0,
            "null_mean": float(p.null.mean()) if p else None, "null_q025": q[0], "null_q975": q[1],
            "ci_low": c.low if c else None, "ci_high": c.high if c else None,
            "ci_level": c.level if c else None, "ci_scheme": c.scheme if c else None,
        }


@dataclass
class ComparisonResult:
    """Everything :func:`compare_spaces` computed (see the module docstring for the schema)."""

    n: int
    dx: int
    dy: int
    ks: list[int]
    curve: NNGSCurve
    rows: list[MeasureRow]
    disagreement: ItemDisagreement
    settings: dict[str, Any]
    null_band: dict[str, Any] | None = None
    top: int = 20
    inputs: dict[str, Any] = field(default_factory=dict)

    def row(self, measure: str, k: int | None = None) -> MeasureRow:
        """The row of ``measure`` (at ``k`` for kNN measures)."""
        for r in self.rows:
            if r.measure == measure and (k is None or r.k == k):
                return r
        raise ValueError(f"no result for measure {measure!r} at k={k}")

    def to_dict(self) -> dict[str, Any]:
        """The ``pairspace.compare/2`` document (JSON-ready up to numpy scalars)."""
        from .. import __version__

        names = list(dict.fromkeys(r.measure for r in self.rows))
        return {
            "schema": SCHEMA, "pairspace_version": __version__,
            "inputs": {"n": self.n, "dx": self.dx, "dy": self.dy, **self.inputs},
            "settings": self.settings,
            "results": [r.to_dict() for r in self.rows],
            "nngs": {str(k): float(self.curve.nngs[k - 1]) for k in self.ks},
            "curve": self.curve.to_dict(),
            "null_band": self.null_band,
            "disagreement": self.disagreement.to_dict(self.top),
            "measures_info": {m: get_measure(m).to_dict() for m in names},
        }


def compare_spaces(
    X: Any,
    Y: Any,
    *,
    measures: Sequence[str] = DEFAULT_MEASURES,
    ks: Sequence[int] = (10,),
    k_max: int | None = None,
    metric: str = "cosine",
    metric_y: str | None = None,
    chance: str = "exact",
    permutations: int = 0,
    band_permutations: int = 100,
    bootstrap: int = 0,
    level: float = 0.95,
    seed: int | None = 0,
    ids: Sequence[Any] | None = None,
    top: int = 20,
    progress: bool | None = None,
    **knn_options: Any,
) -> ComparisonResult:
    """Compare two paired spaces with NNGS and the baseline measures.

    Parameters
    ----------
    X, Y : array-like, shapes (n, dx) and (n, dy)
        Paired point clouds.
    measures : sequence of str
        Registry names (``pairspace measures`` lists them). NNGS is always computed (the curve).
    ks : sequence of int
        Neighborhood sizes reported for the kNN measures.
    k_max : int, optional
        Largest ``k`` of the NNGS curve and width of the single neighbor search (default
        ``min(max(max(ks), 100), n - 1)``).
    metric, metric_y, chance
        Distances of the searches and the chance-level method (see :func:`pairspace.nngs_curve`).
    permutations : int
        Permutations of the pairing per measure and ``k`` (0: no test).
    band_permutations : int
        Permutations used for the null band of the curve (at most ``permutations``).
    bootstrap : int
        Resamples of the confidence intervals (0: none); the scheme is chosen per measure as in
        :func:`pairspace.measures.stats.bootstrap_ci`.
    level : float
        Coverage of the intervals.
    seed : int or None
        Seed of the permutations and resamples (the same permutations serve every measure).
    ids : sequence, optional
        Item ids for the per-item disagreement.
    top : int
        Number of most disagreeing items reported.
    progress : bool, optional
        Progress bars for the search and the permutations.
    **knn_options
        Passed to :func:`pairspace.knn`.

    Returns
    -------
    ComparisonResult
    """
    check_metric(metric)
    if metric_y is not None:
        check_metric(metric_y, "metric_y")
    A, B = check_pair(X, Y, dtype=None)
    n = A.shape[0]
    infos = [get_measure(m) for m in dict.fromkeys(measures)]
    kvals = sorted({resolve_k(int(k), n) for k in ks}) or [resolve_k(10, n)]
    K = min(max(max(kvals), 100), n - 1) if k_max is None else resolve_k(int(k_max), n, "k_max")
    if K < max(kvals):
        raise ValueError(f"k_max={K} is smaller than the largest k={max(kvals)}")
    for name, v in (("permutations", permutations), ("bootstrap", bootstrap)):
        if isinstance(v, bool) or int(v) < 0:
            raise ValueError(f"{name} must be a non-negative int; got {v}")
    if ids is not None and len(ids) != n:
        raise ValueError(f"{len(ids)} ids for {n} items")

    gx, gy = knn_pair(A, B, K, metric, metric_y, progress=progress, **knn_options)
    curve = curve_from_graphs(gx, gy, np.arange(1, K + 1), chance)
    graphs = (gx, gy)
    common = {"n_permutations": int(permutations), "seed": seed, "metric": metric,
              "metric_y": metric_y, "progress": progress}
    rows: list[MeasureRow] = []
    for info in infos:
        for k in (kvals if info.kind == "knn" else [None]):
            if info.name == "nngs":
                value = float(curve.nngs[k - 1])
            elif info.name == "mutual_knn":
                value = mutual_knn_from_graphs(gx, gy, k)
            elif info.name == "cknna":
                value = cknna_from_graphs(A, B, gx, gy, k)
            elif info.kind == "knn":
                raise ValueError(f"the suite has no graph evaluator for kNN measure {info.name!r}")
            else:
                value = float(info.func(A, B))
            row = MeasureRow(info.name, k, value, info.higher_is_similar)
            kw = {"k": k, "graphs": graphs} if info.kind == "knn" else {}
            if permutations:
                row.permutation = permutation_test(A, B, info.name, **common, **kw)
            if bootstrap:
                row.interval = bootstrap_ci(A, B, info.name, n_resamples=int(bootstrap),
                                            level=level, seed=seed, metric=metric,
                                            metric_y=metric_y, progress=progress, **kw)
            rows.append(row)

    band = None
    nb = min(int(permutations), int(band_permutations))
    if nb > 0:
        curves = null_curve(gx, gy, curve.k, nb, seed, progress=progress)
        lo, med, hi = np.quantile(curves, [0.025, 0.5, 0.975], axis=0)
        band = {"k": curve.k, "low": lo, "median": med, "high": hi, "n_permutations": nb}
    kd = kvals[0]
    dis = item_disagreement(gx, gy, kd, ids)
    settings = {"metric": metric, "metric_y": metric_y or metric, "ks": kvals, "k_max": K,
                "measures": [i.name for i in infos], "permutations": int(permutations),
                "band_permutations": nb, "bootstrap": int(bootstrap), "level": level,
                "seed": seed, "chance": chance, "disagreement_k": kd}
    return ComparisonResult(n, A.shape[1], B.shape[1], kvals, curve, rows, dis, settings, band, top)


__all__ = ["SCHEMA", "ComparisonResult", "MeasureRow", "compare_spaces"]
