r"""Paired comparisons of per-item outcomes over seeds: an interval and a p-value.

A study that compares two conditions (a control against ``full``, a student against its teacher,
one loss against another) evaluates both on the same items (clips, images, questions) under each
seed. The outcome of item :math:`i` under seed :math:`s` is :math:`a_{si}` in one condition and
:math:`b_{si}` in the other (0/1 for top-1 correctness, or any per-item score). Each seed may have
its own items (a seed that draws its own split evaluates other clips), so the data are a list of
per-seed arrays.

Estimate
    The mean over seeds of the per-seed mean difference,
    :math:`\hat\Delta = \frac1S \sum_s \frac1{n_s} \sum_i (a_{si} - b_{si})`: every seed weighs the
    same whatever its number of items.

Interval (``scheme``)
    ``"seeds_and_items"`` (default): a two-stage (hierarchical) percentile bootstrap: draw
    :math:`S` seeds with replacement, then within each drawn seed its :math:`n_s` items with
    replacement, and recompute :math:`\hat\Delta`. The interval covers both the variation between
    seeds (split and training) and the sampling of items; with few seeds it is wide, as it should
    be. ``"items"``: the seeds are kept and only items are resampled within each seed (a stratified
    bootstrap); it describes the item sampling of *these* seeds only.

p-value
    A paired sign-flip randomization test of :math:`H_0`: within each item the two conditions are
    exchangeable, so each difference :math:`d_{si}` is equally likely to carry either sign. The
    statistic is :math:`|\hat\Delta|`; the p-value is :math:`(1 + \#\{|\hat\Delta^*| \ge
    |\hat\Delta|\}) / (1 + R)` over :math:`R` random sign patterns (Phipson & Smyth, 2010). For 0/1
    outcomes only discordant items (:math:`d = \pm 1`) move the statistic, so the test is the
    randomization form of McNemar's test stratified by seed (Cochran–Mantel–Haenszel weights
    :math:`1/n_s`); with one seed and equal weights it matches McNemar's exact test.

References
----------
McNemar, Q. (1947). Note on the sampling error of the difference between correlated proportions
or percentages. *Psychometrika* 12, 153–157.
Davison, A. C. & Hinkley, D. V. (1997). *Bootstrap Methods and their Application*, §3.8
(hierarchical data). Cambridge University Press.
Phipson, B. & Smyth, G. K. (2010). Permutation p-values should never be zero. *Stat. Appl. Genet.
Mol. Biol.* 9(1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

SCHEMES = ("seeds_and_items", "items")
"""The resampling schemes of :func:`paired_difference` and :func:`mean_interval`."""


@dataclass(frozen=True)
class PairedDifference:
    """A paired difference ``a − b`` with its bootstrap interval and sign-flip p-value.

    ``estimate``, ``ci_low`` and ``ci_high`` are on the scale of the outcomes (for 0/1 correctness,
    a difference of accuracies); ``per_seed`` holds each seed's mean difference.
    """

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float | None
    level: float
    scheme: str
    n_items: int
    n_seeds: int
    n_resamples: int
    n_permutations: int
    per_seed: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (the field names are the keys)."""
        return {"estimate": self.estimate, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "p_value": self.p_value, "level": self.level, "scheme": self.scheme,
                "n_items": self.n_items, "n_seeds": self.n_seeds, "n_resamples": self.n_resamples,
                "n_permutations": self.n_permutations, "per_seed": list(self.per_seed),
                "test": "paired sign-flip randomization (stratified McNemar for 0/1 outcomes)"}

    def __repr__(self) -> str:
        p = "n/a" if self.p_value is None else f"{self.p_value:.1e}"
        return (f"PairedDifference({self.estimate:+.4f} [{self.ci_low:+.4f}, {self.ci_high:+.4f}], "
                f"p = {p}, {self.n_seeds} seeds, {self.n_items} items)")


def _per_seed(values: Sequence[Any], name: str) -> list[np.ndarray]:
    if isinstance(values, np.ndarray) and values.ndim == 1:
        values = [values]
    out = [np.asarray(v, dtype=np.float64).ravel() for v in values]
    if not out:
        raise ValueError(f"{name} needs at least one seed's outcomes")
    for s, v in enumerate(out):
        if v.size == 0:
            raise ValueError(f"{name}: seed {s} has no items")
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name}: seed {s} has a NaN or infinite outcome")
    return out


def _check_scheme(scheme: str, level: float, n_resamples: int) -> None:
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(SCHEMES)}; got {scheme!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1); got {level}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1; got {n_resamples}")


def _bootstrap_means(d: list[np.ndarray], scheme: str, n_resamples: int,
                     rng: np.random.Generator) -> np.ndarray:
    """``n_resamples`` bootstrap replicates of the mean over seeds of the per-seed means of ``d``."""
    S = len(d)
    reps = np.empty(n_resamples)
    for r in range(n_resamples):
        seeds = rng.integers(0, S, size=S) if scheme == "seeds_and_items" else np.arange(S)
        total = 0.0
        for s in seeds:
            v = d[s]
            total += v[rng.integers(0, v.size, size=v.size)].mean()
        reps[r] = total / S
    return reps


def _interval(est: float, reps: np.ndarray, level: float) -> tuple[float, float]:
    lo, hi = np.quantile(reps, [(1 - level) / 2, (1 + level) / 2])
    # Guard the percentile interval against float noise around a degenerate (constant) statistic.
    return float(min(lo, est)), float(max(hi, est))


def mean_interval(values: Sequence[Any], *, level: float = 0.95, n_resamples: int = 2000,
                  scheme: str = "seeds_and_items", seed: int = 0) -> dict[str, Any]:
    r"""Mean over seeds of per-seed mean outcomes, with the same bootstrap as :func:`paired_difference`.

    Parameters
    ----------
    values : sequence of array-like
        One array of per-item outcomes per seed (a single 1-D array is one seed).
    level, n_resamples, scheme, seed
        As in :func:`paired_difference`.

    Returns
    -------
    dict
        ``{"estimate", "ci_low", "ci_high", "level", "scheme", "n_items", "n_seeds", "per_seed"}``.
    """
    _check_scheme(scheme, level, n_resamples)
    v = _per_seed(values, "values")
    per_seed = [float(x.mean()) for x in v]
    est = float(np.mean(per_seed))
    lo, hi = _interval(est, _bootstrap_means(v, scheme, n_resamples, np.random.default_rng(seed)),
                       level)
    return {"estimate": est, "ci_low": lo, "ci_high": hi, "level": level, "scheme": scheme,
            "n_items": int(sum(x.size for x in v)), "n_seeds": len(v), "per_seed": per_seed}


def _sign_flip_p(d: list[np.ndarray], observed: float, n_permutations: int,
                 rng: np.random.Generator, chunk: int = 256) -> float:
    """Two-sided randomization p-value of the seed-weighted mean difference under random signs."""
    nz = [(v[v != 0], v.size) for v in d]
    if all(x.size == 0 for x, _ in nz):
        return 1.0
    S = len(d)
    tol = 1e-12 * max(1.0, abs(observed))
    hits = 0
    done = 0
    while done < n_permutations:
        m = min(chunk, n_permutations - done)
        stat = np.zeros(m)
        for x, n in nz:
            if x.size:
                signs = rng.integers(0, 2, size=(m, x.size), dtype=np.int8) * 2 - 1
                stat += (signs @ x) / n
        hits += int(np.count_nonzero(np.abs(stat / S) >= abs(observed) - tol))
        done += m
    return (1 + hits) / (1 + n_permutations)


def paired_difference(a: Sequence[Any], b: Sequence[Any], *, level: float = 0.95,
                      n_resamples: int = 2000, n_permutations: int = 10_000,
                      scheme: str = "seeds_and_items", seed: int = 0) -> PairedDifference:
    r"""The paired difference ``a − b`` of per-item outcomes over seeds (see the module docstring).

    Parameters
    ----------
    a, b : sequence of array-like
        For each seed, the per-item outcomes of the two conditions on the *same* items in the same
        order (``a[s][i]`` and ``b[s][i]`` belong to one item). A single 1-D array is one seed.
    level : float
        Confidence level of the percentile interval.
    n_resamples : int
        Bootstrap replicates.
    n_permutations : int
        Random sign patterns of the randomization test (0 skips the test: ``p_value`` is None).
    scheme : {"seeds_and_items", "items"}
        What the bootstrap resamples (see the module docstring).
    seed : int
        Seed of the resampling generator (the result is deterministic given it).

    Returns
    -------
    PairedDifference

    Examples
    --------
    >>> import numpy as np
    >>> full = [np.array([1, 1, 0, 1, 0, 1]), np.array([1, 0, 1, 1])]
    >>> ctrl = [np.array([0, 1, 0, 0, 0, 1]), np.array([0, 0, 1, 0])]
    >>> r = paired_difference(full, ctrl, n_resamples=200, n_permutations=200)
    >>> round(r.estimate, 4)
    0.4167
    """
    _check_scheme(scheme, level, n_resamples)
    if n_permutations < 0:
        raise ValueError(f"n_permutations must be >= 0; got {n_permutations}")
    A, B = _per_seed(a, "a"), _per_seed(b, "b")
    if len(A) != len(B):
        raise ValueError(f"a has {len(A)} seeds and b has {len(B)}; pair them seed by seed")
    for s, (x, y) in enumerate(zip(A, B, strict=True)):
        if x.size != y.size:
            raise ValueError(f"seed {s}: a has {x.size} items and b has {y.size}; a paired "
                             "comparison needs the same items in both")
    d = [x - y for x, y in zip(A, B, strict=True)]
    per_seed = tuple(float(v.mean()) for v in d)
    est = float(np.mean(per_seed))
    rng = np.random.default_rng(seed)
    lo, hi = _interval(est, _bootstrap_means(d, scheme, n_resamples, rng), level)
    p = _sign_flip_p(d, est, n_permutations, rng) if n_permutations else None
    return PairedDifference(estimate=est, ci_low=lo, ci_high=hi, p_value=p, level=level,
                            scheme=scheme, n_items=int(sum(v.size for v in d)), n_seeds=len(d),
                            n_resamples=n_resamples, n_permutations=n_permutations,
                            per_seed=per_seed)
