r"""The comparison suite: NNGS beside the baseline measures, with significance and intervals.

:func:`compare_spaces` runs **one** top-``k_max`` neighbor search per space and derives from it the
NNGS curve, every kNN measure at every requested ``k``, the permutation tests of the kNN measures
(relabeled graphs, no new search), the permutation-null band of the curve, the item-bootstrap
intervals and the per-item disagreement. Global measures (CKA, GULP, Procrustes) are computed from
the point clouds. The study computes only (no I/O); :mod:`pairspace.cli.compare` writes the report.

Every argument and every requested measure's size limits
(:meth:`pairspace.measures.registry.MeasureInfo.check_limits`) are checked before the search
starts, so an impossible request (RBF CKA at n = 200,000) is refused at once, not after it.

Result schema
-------------
:meth:`ComparisonResult.to_dict` returns the ``pairspace.compare/3`` document written to
``results.json``, in the result envelope of :mod:`pairspace.envelope` (``schema``,
``pairspace_version``, ``created``, ``command``, ``inputs``, ``settings``, ``results``; the JSON
Schema ships as ``pairspace/resources/schemas/compare-3.json``). Version 3 moved every number under
``results`` (version 2 kept ``nngs``, ``curve``, ... beside it) and records the input files.

``inputs``
    ``n``, ``dx``, ``dy``; from :func:`compare_files` also ``x`` and ``y`` (``path``, ``size``,
    ``sha256``), ``aligned_by``, ``has_ids`` and the ``columns`` read.
``settings``
    ``metric``, ``metric_y``, ``ks``, ``k_max``, ``measures``, ``permutations``,
    ``band_permutations``, ``bootstrap``, ``level``, ``seed``, ``chance``, ``disagreement_k``.
``results.rows``
    One row per measure and ``k`` (``k`` is null for global measures): ``measure``, ``k``,
    ``value``, ``higher_is_similar``, ``p_value``, ``n_permutations``, ``null_mean``,
    ``null_q025``, ``null_q975``, ``ci_low``, ``ci_high``, ``ci_level``, ``ci_scheme``
    (statistics not requested are null).
``results.nngs``
    ``{"k": value}`` for the requested ``k``.
``results.curve``
    ``k``, ``nngs``, ``chance``, ``normalized`` for ``k = 1..k_max`` (see
    :class:`~pairspace.measures.nngs.NNGSCurve`).
``results.null_band``
    ``k``, ``low``, ``median``, ``high`` (2.5/50/97.5 % of the permutation-null NNGS at each ``k``)
    and ``n_permutations``; null when no permutations were run.
``results.disagreement``
    ``k``, the distribution of the per-item Jaccard and ``most_disagreeing`` items with ``id``,
    ``jaccard``, ``shared`` and their first neighbors' ids in X and Y.
``results.measures_info``
    The registry entries (range, direction, invariances, cost, reference) of the measures used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import resolve_k
from ..envelope import Envelope, file_input
from ..measures.graph_scores import score
from ..measures.nngs import NNGSCurve, checked_pair, curve_from_graphs
from ..measures.registry import MeasureInfo, check_measures, get_measure
from ..neighbors import KNNResult, knn_pair
from ..stats import (
    IntervalResult,
    ItemDisagreement,
    PermutationResult,
    bootstrap_ci,
    item_disagreement,
    null_curve,
    permutation_test,
)
from ..stats._graphs import prepare_graphs

SCHEMA = "pairspace.compare/3"
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
        """One ``results`` row of the document (statistics not requested are None)."""
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
    envelope: Envelope = field(default_factory=lambda: Envelope.new(SCHEMA))

    @property
    def inputs(self) -> dict[str, Any]:
        """What was compared: sizes, and the files and their alignment when read from files."""
        return {"n": self.n, "dx": self.dx, "dy": self.dy, **self.envelope.inputs}

    def row(self, measure: str, k: int | None = None) -> MeasureRow:
        """The row of ``measure`` (at ``k`` for kNN measures)."""
        for r in self.rows:
            if r.measure == measure and (k is None or r.k == k):
                return r
        raise ValueError(f"no result for measure {measure!r} at k={k}")

    def to_dict(self) -> dict[str, Any]:
        """The ``pairspace.compare/3`` document (JSON-ready up to numpy scalars)."""
        names = list(dict.fromkeys(r.measure for r in self.rows))
        stamp = Envelope(**{**vars(self.envelope), "inputs": self.inputs})
        return stamp.document(self.settings, {
            "rows": [r.to_dict() for r in self.rows],
            "nngs": {str(k): float(self.curve.nngs[k - 1]) for k in self.ks},
            "curve": self.curve.to_dict(),
            "null_band": self.null_band,
            "disagreement": self.disagreement.to_dict(self.top),
            "measures_info": {m: get_measure(m).to_dict() for m in names},
        })


def _check_count(name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or int(v) < 0:
        raise ValueError(f"{name} must be a non-negative int; got {v!r}")
    return int(v)


def _check_settings(A: np.ndarray, B: np.ndarray, measures: Sequence[str], ks: Sequence[int],
                    k_max: int | None, counts: dict[str, Any], level: float, top: Any,
                    ids: Sequence[Any] | None) -> tuple[list[MeasureInfo], list[int], int]:
    """Every argument and every measure's size limits, before any computation."""
    n = A.shape[0]
    infos = check_measures(list(measures), n, A.shape[1], B.shape[1])
    if not infos:
        raise ValueError("no measure requested")
    kvals = sorted({resolve_k(int(k), n) for k in ks}) or [resolve_k(10, n)]
    K = min(max(max(kvals), 100), n - 1) if k_max is None else resolve_k(int(k_max), n, "k_max")
    if K < max(kvals):
        raise ValueError(f"k_max={K} is smaller than the largest k={max(kvals)}")
    for name, v in counts.items():
        counts[name] = _check_count(name, v)
    if counts["bootstrap"] == 1:
        raise ValueError("bootstrap needs at least 2 resamples (or 0 for no intervals)")
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must lie in (0, 1); got {level}")
    _check_count("top", top)
    if ids is not None and len(ids) != n:
        raise ValueError(f"{len(ids)} ids for {n} items")
    return infos, kvals, K


def _measure_rows(infos: list[MeasureInfo], A: np.ndarray, B: np.ndarray, kvals: list[int],
                  graphs: tuple[KNNResult, KNNResult], permutations: int, bootstrap: int,
                  level: float, seed: int | None, metric: str, metric_y: str | None,
                  progress: bool | None) -> list[MeasureRow]:
    """One row per global measure and per kNN measure and ``k``, with its statistics."""
    common = {"seed": seed, "metric": metric, "metric_y": metric_y, "progress": progress}
    rows: list[MeasureRow] = []
    for info in infos:
        for k in (kvals if info.kind == "knn" else [None]):
            if k is None:
                value, kw = float(info.func(A, B)), {}
            else:
                ix, iy = prepare_graphs(A, B, k, metric, metric_y, graphs, progress)
                value, kw = score(info.item_scorer(A, B, ix, iy, k), iy), {"k": k, "graphs": graphs}
            row = MeasureRow(info.name, k, value, info.higher_is_similar)
            if permutations:
                row.permutation = permutation_test(A, B, info.name, n_permutations=permutations,
                                                   **common, **kw)
            if bootstrap:
                row.interval = bootstrap_ci(A, B, info.name, n_resamples=bootstrap, level=level,
                                            **common, **kw)
            rows.append(row)
    return rows


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
    inputs: Mapping[str, Any] | None = None,
    **knn_options: Any,
) -> ComparisonResult:
    r"""Compare two paired spaces with NNGS and the baseline measures.

    .. math:: \mathrm{NNGS}(X, Y, k) = \frac{1}{n} \sum_i
              \frac{|N_k^X(i) \cap N_k^Y(i)|}{|N_k^X(i) \cup N_k^Y(i)|}

    beside mutual kNN, CKNNA, CKA, GULP and Procrustes (Tavares, Ayres & Smaragdis,
    arXiv 2411.08687; Huh et al., ICML 2024; Kornblith et al., ICML 2019).

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
        :func:`pairspace.stats.bootstrap_ci`.
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
    inputs : mapping, optional
        Provenance of X and Y recorded in the document's ``inputs`` (:func:`compare_files` passes
        the files' paths, sizes and hashes).
    **knn_options
        Passed to :func:`pairspace.knn`.

    Returns
    -------
    ComparisonResult
    """
    stamp = Envelope.new(SCHEMA, inputs)
    A, B = checked_pair(X, Y, metric, metric_y, chance)
    n = A.shape[0]
    counts = {"permutations": permutations, "band_permutations": band_permutations,
              "bootstrap": bootstrap}
    infos, kvals, K = _check_settings(A, B, measures, ks, k_max, counts, level, top, ids)

    gx, gy = knn_pair(A, B, K, metric, metric_y, progress=progress, **knn_options)
    curve = curve_from_graphs(gx, gy, np.arange(1, K + 1), chance)
    rows = _measure_rows(infos, A, B, kvals, (gx, gy), counts["permutations"], counts["bootstrap"],
                         level, seed, metric, metric_y, progress)
    band = None
    nb = min(counts["permutations"], counts["band_permutations"])
    if nb > 0:
        curves = null_curve(gx, gy, curve.k, nb, seed, progress=progress)
        lo, med, hi = np.quantile(curves, [0.025, 0.5, 0.975], axis=0)
        band = {"k": curve.k, "low": lo, "median": med, "high": hi, "n_permutations": nb}
    kd = kvals[0]
    dis = item_disagreement(gx, gy, kd, ids)
    settings = {"metric": metric, "metric_y": metric_y or metric, "ks": kvals, "k_max": K,
                "measures": [i.name for i in infos], "permutations": counts["permutations"],
                "band_permutations": nb, "bootstrap": counts["bootstrap"], "level": level,
                "seed": seed, "chance": chance, "disagreement_k": kd}
    return ComparisonResult(n, A.shape[1], B.shape[1], kvals, curve, rows, dis, settings, band,
                            int(top), stamp)


def compare_files(x: str | os.PathLike[str], y: str | os.PathLike[str], *,
                  id_column: str | None = None, vector_column: str | None = None,
                  columns: Sequence[str] | None = None, **options: Any) -> ComparisonResult:
    """:func:`compare_spaces` of two files, paired by id (or by row), with their provenance.

    Parameters
    ----------
    x, y : path-like
        The two spaces (``.npy``, ``.npz``, ``.parquet``, ``.arrow`` or ``.csv``; see
        :func:`pairspace.data.io.load_pair`).
    id_column, vector_column, columns
        Column options of table inputs.
    **options
        Passed to :func:`compare_spaces` (measures, ks, permutations, ...).

    Returns
    -------
    ComparisonResult
        Its ``inputs`` hold both files (``path``, ``size``, ``sha256``), how the rows were aligned,
        whether ids were read and the columns used.
    """
    from ..data.io import load_pair

    pair = load_pair(x, y, id_column, vector_column, columns)
    check_measures(list(options.get("measures", DEFAULT_MEASURES)), *pair.X.shape, pair.Y.shape[1])
    inputs = {"x": file_input(x), "y": file_input(y), "aligned_by": pair.aligned_by,
              "has_ids": pair.ids is not None, "columns": pair.columns}
    return compare_spaces(pair.X, pair.Y, ids=pair.ids, inputs=inputs, **options)


__all__ = ["DEFAULT_MEASURES", "SCHEMA", "ComparisonResult", "MeasureRow", "compare_files",
           "compare_spaces"]
