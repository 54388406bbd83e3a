r"""Significance, confidence intervals and per-item disagreement for paired-space measures.

**Permutation test.** Under the null hypothesis the pairing of X's rows with Y's rows carries no
information, so the measure of :math:`(X, Y_\pi)` for a uniformly random permutation :math:`\pi`
is distributed like the observed one. With :math:`P` permutations the p-value is

.. math:: p = \frac{1 + \#\{b : T_b \succeq T_{\mathrm{obs}}\}}{1 + P},

where :math:`\succeq` means ``>=`` for similarities and ``<=`` for distances (Phipson & Smyth 2010:
never 0, exact level under the null). For a kNN measure a permutation does not need a new neighbor
search: the neighbor lists of :math:`Y_\pi` are those of Y relabeled,

.. math:: N^{Y_\pi}(i) = \pi^{-1}\big(N^{Y}(\pi(i))\big),

one gather of :math:`n k` integers (:func:`relabel_graph`), after which the shared counts
:math:`c_i = |N^X_k(i) \cap N^{Y_\pi}_k(i)|` cost :math:`O(n k^2)` vectorized comparisons for
``k <= 32`` and :func:`pairspace.measures.nngs.overlap_counts` above that. A global measure
(CKA, GULP, Procrustes) is recomputed on the permuted rows.

**Confidence intervals.** Resampling items *with replacement* creates duplicate rows, and a
duplicate is its copy's nearest neighbor in *both* spaces, which inflates every kNN measure (and
biases the unbiased HSIC). Two schemes avoid this:

* ``"items"`` (default for kNN measures): the neighbor graphs of the full sample are kept fixed and
  the **per-item scores** are bootstrapped (percentile bootstrap of their mean, or of the ratio of
  sums for CKNNA). No duplicate row ever enters a neighbor search. The interval reflects which
  items were sampled, conditional on the neighborhoods of the full sample.
* ``"subsample"`` (default for global measures): ``m = floor(fraction * n)`` items drawn *without*
  replacement, the measure recomputed on each subsample, and the subsampling interval of Politis &
  Romano (1994) for root-n statistics,
  :math:`[\hat\theta - \sqrt{m/n}\,\delta_{1-\alpha/2},\; \hat\theta - \sqrt{m/n}\,\delta_{\alpha/2}]`
  with :math:`\delta_q` the quantiles of :math:`\theta^*_m - \mathrm{median}(\theta^*_m)`. The
  deviations are taken from the subsamples' own median rather than from :math:`\hat\theta`
  because plug-in estimators (CKA, GULP) carry an :math:`O(1/m)` finite-sample bias that differs
  between size ``m`` and size ``n`` and would otherwise shift the interval off the estimate; the
  interval thus describes sampling spread, not bias. It is not offered for kNN measures, whose
  value at a fixed ``k`` depends on ``n`` (a subsample estimates another quantity).

**Per-item disagreement.** :func:`item_disagreement` ranks items by their Jaccard
:math:`J_i(k)` (lowest first): the items whose neighborhoods the two spaces disagree on most.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._progress import progress_bar
from .._validation import check_metric, check_pair, resolve_k
from ..neighbors import KNNResult, knn_pair
from .knn_measures import cknna_per_item_from_terms, cknna_terms, maybe_platonic
from .nngs import overlap_counts
from .registry import get_measure

BROADCAST_MAX_K = 32


def relabel_graph(iy: np.ndarray, perm: np.ndarray) -> np.ndarray:
    r"""Neighbor lists of :math:`Y_\pi` (rows ``Y[perm]``) from those of Y, without a search.

    ``out[i] = inv[iy[perm[i]]]`` with ``inv = perm^{-1}``: :math:`O(nk)`.
    """
    inv = np.empty(perm.size, dtype=iy.dtype)
    inv[perm] = np.arange(perm.size, dtype=iy.dtype)
    return inv[iy[perm]]


def shared_counts(ix: np.ndarray, iy: np.ndarray, block_elems: int = 2_000_000) -> np.ndarray:
    """Per-item ``|ix[i] ∩ iy[i]|`` for neighbor lists of the same width ``k`` (distinct entries).

    Uses ``k`` vectorized column comparisons (``O(n k^2)``, marking which entries of ``ix[i]``
    occur in ``iy[i]``) in cache-sized row blocks for ``k <= 32``, and
    :func:`~pairspace.measures.nngs.overlap_counts` for wider lists.
    """
    n, k = ix.shape
    if k > BROADCAST_MAX_K:
        return overlap_counts(ix, iy, k)[:, k - 1].astype(np.int64)
    out = np.empty(n, dtype=np.int64)
    rows = max(1, block_elems // (16 * k))
    for s in range(0, n, rows):
        a, b = ix[s : s + rows], iy[s : s + rows]
        hit = a == b[:, :1]
        for j in range(1, iy.shape[1]):
            hit |= a == b[:, j : j + 1]
        out[s : s + rows] = np.count_nonzero(hit, axis=1)
    return out


# --------------------------------------------------------------------------- kNN measure states
@dataclass
class _KNNState:
    """Precomputed pieces of a kNN measure on fixed graphs, evaluated under any relabeling of Y."""

    name: str
    k: int
    ix: np.ndarray
    iy: np.ndarray
    kx: np.ndarray | None = None
    ky: np.ndarray | None = None
    nx: float = 0.0
    ny: float = 0.0

    def components(self, iy: np.ndarray, perm: np.ndarray | None = None) -> np.ndarray:
        """Per-item components: shape (n,) for nngs/mutual_knn, (n, 3) for cknna."""
        if self.name == "cknna":
            ky = self.ky if perm is None else self.ky[perm]
            num = cknna_per_item_from_terms(self.kx, ky, self.ix, iy)
            return np.column_stack([num, np.sum(self.kx ** 2, 1), np.sum(ky ** 2, 1)])
        c = shared_counts(self.ix, iy).astype(np.float64)
        return c / (2.0 * self.k - c) if self.name == "nngs" else c / self.k

    def value(self, iy: np.ndarray, perm: np.ndarray | None = None) -> float:
        if self.name == "cknna":
            ky = self.ky if perm is None else self.ky[perm]
            num = float(cknna_per_item_from_terms(self.kx, ky, self.ix, iy).sum())
            return num / float(np.sqrt(self.nx * self.ny))
        return float(self.components(iy).mean())


def _prepare_graphs(A: np.ndarray, B: np.ndarray, k: int, metric: str, metric_y: str | None,
                    graphs: tuple[KNNResult, KNNResult] | None, progress: bool | None,
                    **knn_options: Any) -> tuple[np.ndarray, np.ndarray]:
    if graphs is None:
        gx, gy = knn_pair(A, B, k, metric, metric_y, progress=progress, **knn_options)
    else:
        gx, gy = graphs
    ix = gx.indices if isinstance(gx, KNNResult) else np.asarray(gx)
    iy = gy.indices if isinstance(gy, KNNResult) else np.asarray(gy)
    if ix.shape[0] != A.shape[0] or iy.shape[0] != A.shape[0]:
        raise ValueError(f"the graphs have {ix.shape[0]} and {iy.shape[0]} rows for n={A.shape[0]}")
    if min(ix.shape[1], iy.shape[1]) < k:
        raise ValueError(f"the graphs hold {min(ix.shape[1], iy.shape[1])} neighbors; k={k} needs more")
    # int32 lists halve the memory traffic of the per-permutation gathers and comparisons
    dt = np.int32 if A.shape[0] < 2**31 else np.int64
    return np.ascontiguousarray(ix[:, :k], dtype=dt), np.ascontiguousarray(iy[:, :k], dtype=dt)


def _knn_state(name: str, A: np.ndarray, B: np.ndarray, k: int, metric: str,
               metric_y: str | None, graphs: Any, progress: bool | None,
               platonic: bool = False, **knn_options: Any) -> _KNNState:
    if platonic and name == "nngs":
        raise ValueError("platonic preprocessing is an option of mutual_knn and cknna only")
    A, B, metric, metric_y = maybe_platonic(A, B, metric, metric_y, platonic)
    ix, iy = _prepare_graphs(A, B, k, metric, metric_y, graphs, progress, **knn_options)
    st = _KNNState(name, k, ix, iy)
    if name == "cknna":
        st.kx, st.ky, st.nx, st.ny = cknna_terms(A, B, ix, iy)
        if st.nx <= 0.0 or st.ny <= 0.0:
            raise ValueError("CKNNA is undefined: a space has zero centered kernel on its kNN graph")
    return st


# --------------------------------------------------------------------------- permutation test
@dataclass(frozen=True)
class PermutationResult:
    """Outcome of :func:`permutation_test`.

    Attributes
    ----------
    measure : str
        Registry name of the measure.
    observed : float
        The measure on the true pairing.
    null : numpy.ndarray
        The measure under each permutation of the pairing.
    p_value : float
        ``(1 + #{null at least as similar as observed}) / (1 + P)``.
    higher_is_similar : bool
        Direction used for "at least as similar".
    k : int or None
        Neighborhood size (kNN measures).
    seed : int or None
        Seed of the permutations.
    """

    measure: str
    observed: float
    null: np.ndarray
    p_value: float
    higher_is_similar: bool
    k: int | None = None
    seed: int | None = None

    @property
    def n_permutations(self) -> int:
        """Number of permutations."""
        return int(self.null.size)

    def null_quantiles(self, qs: Sequence[float] = (0.025, 0.5, 0.975)) -> list[float]:
        """Quantiles of the null distribution."""
        return [float(v) for v in np.quantile(self.null, qs)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the null distribution as quantiles, mean and standard deviation)."""
        q = self.null_quantiles()
        return {"measure": self.measure, "k": self.k, "observed": self.observed,
                "p_value": self.p_value, "n_permutations": self.n_permutations, "seed": self.seed,
                "higher_is_similar": self.higher_is_similar, "null_mean": float(self.null.mean()),
                "null_std": float(self.null.std()), "null_q025": q[0], "null_median": q[1],
                "null_q975": q[2]}


def p_value(observed: float, null: np.ndarray, higher_is_similar: bool = True) -> float:
    """Permutation p-value ``(1 + #{null as or more extreme}) / (1 + P)`` (Phipson & Smyth 2010)."""
    null = np.asarray(null, dtype=np.float64)
    hits = np.count_nonzero(null >= observed) if higher_is_similar else np.count_nonzero(
        null <= observed)
    return float((1 + hits) / (1 + null.size))


def permutation_test(
    X: Any,
    Y: Any,
    measure: str = "nngs",
    *,
    k: int | float = 10,
    n_permutations: int = 1000,
    seed: int | None = 0,
    metric: str = "cosine",
    metric_y: str | None = None,
    graphs: tuple[KNNResult, KNNResult] | None = None,
    progress: bool | None = None,
    **options: Any,
) -> PermutationResult:
    r"""Permutation test of a paired-space measure against shuffled pairings.

    Parameters
    ----------
    X, Y : array-like, shapes (n, dx) and (n, dy)
        Paired point clouds.
    measure : str
        A registry name (:func:`pairspace.measures.registry.available_measures`).
    k : int or float
        Neighborhood size of kNN measures (ignored by global measures).
    n_permutations : int
        Number of random pairings :math:`P`.
    seed : int or None
        Seed of the permutations.
    metric, metric_y : str
        Distances of the neighbor searches (kNN measures).
    graphs : (KNNResult, KNNResult), optional
        Precomputed neighbor searches of X and Y of width ``>= k`` (skips the search). Not
        combinable with ``platonic=True`` (the graphs must then be those of the preprocessed data).
    progress : bool, optional
        Progress bar over the permutations (default: on an interactive terminal).
    **options
        Measure options: ``platonic`` (mutual_knn, cknna), ``lam`` (gulp), ``sigma``
        (rbf_cka), ...; the remaining ones go to :func:`pairspace.knn` for kNN measures.

    Returns
    -------
    PermutationResult
        ``observed``, ``null``, ``p_value`` and ``to_dict()``.

    Notes
    -----
    kNN measures: one search per space, then each permutation relabels Y's neighbor lists
    (:func:`relabel_graph`, :math:`O(nk)`) and counts shared neighbors; no new search.
    """
    info = get_measure(measure)
    if isinstance(n_permutations, bool) or int(n_permutations) < 1:
        raise ValueError(f"n_permutations must be a positive int; got {n_permutations}")
    n_permutations = int(n_permutations)
    A, B = check_pair(X, Y, dtype=None)
    n = A.shape[0]
    rng = np.random.default_rng(seed)
    null = np.empty(n_permutations)
    if info.kind == "knn":
        check_metric(metric)
        kk = resolve_k(k, n)
        st = _knn_state(measure, A, B, kk, metric, metric_y, graphs, progress, **options)
        observed = st.value(st.iy)
        for b in progress_bar(range(n_permutations), desc=f"permutations ({measure})",
                              progress=progress, unit="perm"):
            perm = rng.permutation(n)
            null[b] = st.value(relabel_graph(st.iy, perm), perm)
        kout: int | None = kk
    else:
        fn: Callable[..., float] = info.func
        observed = float(fn(A, B, **options))
        Bd = np.asarray(B)
        for b in progress_bar(range(n_permutations), desc=f"permutations ({measure})",
                              progress=progress, unit="perm"):
            null[b] = fn(A, Bd[rng.permutation(n)], **options)
        kout = None
    return PermutationResult(measure, float(observed), null,
                             p_value(observed, null, info.higher_is_similar),
                             info.higher_is_similar, kout, seed)


def null_curve(gx: KNNResult | np.ndarray, gy: KNNResult | np.ndarray, ks: Sequence[int] | np.ndarray,
               n_permutations: int = 100, seed: int | None = 0,
               progress: bool | None = None) -> np.ndarray:
    """NNGS at every ``k`` in ``ks`` under random pairings (relabeled graphs, no new search).

    Returns
    -------
    numpy.ndarray, shape (n_permutations, len(ks))
        One null NNGS curve per permutation (quantiles give the permutation-null band).
    """
    ix = gx.indices if isinstance(gx, KNNResult) else np.asarray(gx)
    iy = gy.indices if isinstance(gy, KNNResult) else np.asarray(gy)
    ks = np.asarray(ks, dtype=np.int64)
    K = int(ks.max())
    ix, iy = ix[:, :K], iy[:, :K]
    rng = np.random.default_rng(seed)
    out = np.empty((int(n_permutations), ks.size))
    for b in progress_bar(range(int(n_permutations)), desc="permutation-null curve",
                          progress=progress, unit="perm"):
        perm = rng.permutation(ix.shape[0])
        c = overlap_counts(ix, relabel_graph(iy, perm), K)[:, ks - 1].astype(np.float64)
        out[b] = (c / (2.0 * ks[None, :] - c)).mean(0)
    return out


# --------------------------------------------------------------------------- intervals
@dataclass(frozen=True)
class IntervalResult:
    """A confidence interval (see the module docstring for the schemes)."""

    measure: str
    estimate: float
    low: float
    high: float
    level: float
    scheme: str
    n_resamples: int
    k: int | None = None
    subsample_size: int | None = None
    seed: int | None = None
    replicates: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the replicates)."""
        return {"measure": self.measure, "k": self.k, "estimate": self.estimate, "low": self.low,
                "high": self.high, "level": self.level, "scheme": self.scheme,
                "n_resamples": self.n_resamples, "subsample_size": self.subsample_size,
                "seed": self.seed}


def _ratio_or_mean(comp: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Statistic of resampled items ``idx`` (shape (B, n)) from per-item components."""
    if comp.ndim == 1:
        return comp[idx].mean(axis=1)
    s = comp[idx].sum(axis=1)  # (B, 3): numerator, X normalizer, Y normalizer
    return s[:, 0] / np.sqrt(s[:, 1] * s[:, 2])


def bootstrap_ci(
    X: Any,
    Y: Any,
    measure: str = "nngs",
    *,
    k: int | float = 10,
    n_resamples: int = 1000,
    level: float = 0.95,
    scheme: str = "auto",
    subsample_fraction: float = 0.5,
    seed: int | None = 0,
    metric: str = "cosine",
    metric_y: str | None = None,
    graphs: tuple[KNNResult, KNNResult] | None = None,
    progress: bool | None = None,
    **options: Any,
) -> IntervalResult:
    r"""Confidence interval of a measure over items.

    Parameters
    ----------
    X, Y : array-like
        Paired point clouds.
    measure : str
        A registry name.
    k : int or float
        Neighborhood size of kNN measures.
    n_resamples : int
        Bootstrap replicates or subsamples.
    level : float
        Coverage, in (0, 1).
    scheme : {"auto", "items", "subsample"}
        ``"items"``: percentile bootstrap of the per-item scores on the fixed full-sample graphs
        (kNN measures only); ``"subsample"``: ``m``-out-of-``n`` subsampling without replacement
        with the Politis-Romano interval (global measures only). ``"auto"`` picks ``"items"`` for
        kNN measures and ``"subsample"`` for global ones. See the module docstring for why
        resampling with replacement is avoided.
    subsample_fraction : float
        ``m / n`` of the subsampling scheme.
    seed : int or None
        Seed of the resampling.
    metric, metric_y, graphs, progress, **options
        As in :func:`permutation_test`.

    Returns
    -------
    IntervalResult
        ``estimate``, ``low``, ``high`` and ``to_dict()``.
    """
    info = get_measure(measure)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1); got {level}")
    if int(n_resamples) < 2:
        raise ValueError(f"n_resamples must be at least 2; got {n_resamples}")
    n_resamples = int(n_resamples)
    if scheme == "auto":
        scheme = "items" if info.kind == "knn" else "subsample"
    if scheme not in ("items", "subsample"):
        raise ValueError(f"scheme must be 'auto', 'items' or 'subsample'; got {scheme!r}")
    if scheme == "items" and info.kind != "knn":
        raise ValueError(f"the 'items' scheme needs per-item scores; {measure} is a global measure "
                         "(use scheme='subsample')")
    if scheme == "subsample" and info.kind == "knn":
        raise ValueError(f"{measure} at a fixed k depends on n, so subsamples estimate another "
                         "quantity; use scheme='items'")
    A, B = check_pair(X, Y, dtype=None)
    n = A.shape[0]
    rng = np.random.default_rng(seed)
    alpha = 1.0 - level
    if scheme == "items":
        check_metric(metric)
        kk = resolve_k(k, n)
        st = _knn_state(measure, A, B, kk, metric, metric_y, graphs, progress, **options)
        comp = st.components(st.iy)
        estimate = float(_ratio_or_mean(comp, np.arange(n)[None, :])[0])
        reps = np.empty(n_resamples)
        chunk = max(1, 2_000_000 // n)
        for s in progress_bar(range(0, n_resamples, chunk), desc=f"bootstrap ({measure})",
                              progress=progress, unit="chunk"):
            e = min(n_resamples, s + chunk)
            reps[s:e] = _ratio_or_mean(comp, rng.integers(0, n, size=(e - s, n)))
        low, high = np.quantile(reps, [alpha / 2, 1 - alpha / 2])
        return IntervalResult(measure, estimate, float(low), float(high), level, "items",
                              n_resamples, kk, None, seed, reps)
    if not 0.0 < subsample_fraction < 1.0:
        raise ValueError(f"subsample_fraction must lie in (0, 1); got {subsample_fraction}")
    m = int(np.floor(subsample_fraction * n))
    if m < 4:
        raise ValueError(f"a subsample of {m} items is too small (n={n}); raise subsample_fraction")
    estimate = float(info.func(A, B, **options))
    Ad, Bd = np.asarray(A), np.asarray(B)
    reps = np.empty(n_resamples)
    for b in progress_bar(range(n_resamples), desc=f"subsampling ({measure})", progress=progress,
                          unit="sub"):
        idx = np.sort(rng.choice(n, m, replace=False))
        reps[b] = info.func(Ad[idx], Bd[idx], **options)
    d_lo, d_hi = np.quantile(reps - np.median(reps), [alpha / 2, 1 - alpha / 2])
    f = np.sqrt(m / n)
    return IntervalResult(measure, estimate, float(estimate - f * d_hi), float(estimate - f * d_lo),
                          level, "subsample", n_resamples, None, m, seed, reps)


# --------------------------------------------------------------------------- per-item scores
@dataclass(frozen=True)
class ItemDisagreement:
    """Per-item agreement of the two ``k``-neighborhoods.

    Attributes
    ----------
    k : int
        Neighborhood size.
    jaccard : numpy.ndarray, shape (n,)
        :math:`J_i(k)` (its mean is NNGS).
    shared : numpy.ndarray of int, shape (n,)
        :math:`c_i = |N_k^X(i) \\cap N_k^Y(i)|`.
    ids : list of str
        Item ids (row numbers when none were given).
    neighbors_x, neighbors_y : numpy.ndarray of int, shape (n, k)
        The neighbor lists.
    """

    k: int
    jaccard: np.ndarray
    shared: np.ndarray
    ids: list[str]
    neighbors_x: np.ndarray
    neighbors_y: np.ndarray

    def order(self) -> np.ndarray:
        """Item indices from the most disagreeing (lowest Jaccard) up; ties by index."""
        return np.lexsort((np.arange(self.jaccard.size), self.jaccard))

    def top(self, m: int = 20, show_neighbors: int = 5) -> list[dict[str, Any]]:
        """The ``m`` most disagreeing items with their ids and first neighbors in each space."""
        rows = []
        for i in self.order()[:m]:
            rows.append({
                "id": self.ids[i], "index": int(i), "jaccard": float(self.jaccard[i]),
                "shared": int(self.shared[i]),
                "neighbors_x": [self.ids[j] for j in self.neighbors_x[i, :show_neighbors]],
                "neighbors_y": [self.ids[j] for j in self.neighbors_y[i, :show_neighbors]],
            })
        return rows

    def to_dict(self, m: int = 20) -> dict[str, Any]:
        """JSON-ready summary: the distribution of the Jaccard and the top ``m`` items."""
        q = np.quantile(self.jaccard, [0.1, 0.5, 0.9])
        return {"k": self.k, "n": int(self.jaccard.size), "mean_jaccard": float(self.jaccard.mean()),
                "jaccard_q10": float(q[0]), "jaccard_median": float(q[1]),
                "jaccard_q90": float(q[2]), "fraction_no_shared": float(np.mean(self.shared == 0)),
                "most_disagreeing": self.top(m)}


def item_disagreement(
    gx: KNNResult | np.ndarray,
    gy: KNNResult | np.ndarray,
    k: int,
    ids: Sequence[Any] | None = None,
) -> ItemDisagreement:
    r"""Per-item Jaccard of the ``k``-neighborhoods from two searches of width ``>= k``.

    Parameters
    ----------
    gx, gy : KNNResult or numpy.ndarray
        Neighbor searches of X and Y (see :func:`pairspace.knn`).
    k : int
        Neighborhood size.
    ids : sequence, optional
        Item ids (default: the row numbers as strings).

    Returns
    -------
    ItemDisagreement
        ``jaccard``, ``shared``, ``top(m)`` with ids, ``to_dict()``.
    """
    ix = gx.indices if isinstance(gx, KNNResult) else np.asarray(gx)
    iy = gy.indices if isinstance(gy, KNNResult) else np.asarray(gy)
    n = ix.shape[0]
    if not 1 <= k <= min(ix.shape[1], iy.shape[1]):
        raise ValueError(f"k={k} must lie in [1, {min(ix.shape[1], iy.shape[1])}] for these graphs")
    id_list = [str(i) for i in range(n)] if ids is None else [str(i) for i in ids]
    if len(id_list) != n:
        raise ValueError(f"{len(id_list)} ids for {n} items")
    ix, iy = np.ascontiguousarray(ix[:, :k]), np.ascontiguousarray(iy[:, :k])
    c = shared_counts(ix, iy)
    return ItemDisagreement(k, c / (2.0 * k - c), c, id_list, ix, iy)
