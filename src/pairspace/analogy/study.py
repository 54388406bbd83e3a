r"""The word-analogy case study: kNN-graph similarity of paired spaces against analogy accuracy.

For each analogy category (Tavares, Ayres & Smaragdis, arXiv 2411.08687, first case study), the
first words and the second words of its pairs form two paired spaces: :math:`X` (e.g. capitals)
and :math:`Y` (their countries), row :math:`i` of both being pair :math:`i`. If the offset
:math:`y_i - x_i` were the same for every pair, both spaces would have the same kNN graph and
vector-offset analogies would work; the study measures how alike the graphs are (NNGS at
:math:`k = \lfloor 0.2 n \rfloor`, its curve over every :math:`k` with the chance level, beside
linear CKA and mutual kNN) and correlates it with the analogy accuracy across categories.

Pairs, as published: walk the questions in file order; from each line ``a b c d`` take
``(a, b)`` then ``(c, d)`` and append a pair only when its first word is not yet among the first
words and its second word not yet among the second words (lower-cased). Pairs with a word outside
the vocabulary are dropped and counted (``n_missing``).

Accuracy, two protocols:

* ``"paper"`` reproduces the published notebook: for every pair of pairs :math:`i < j`,
  :math:`w = x_i - y_i + x_j` and the prediction is :math:`\arg\max_{j'} \cos(w, y_{j'})` over the
  category's second words only; correct iff :math:`j' = j`; accuracy = correct /
  :math:`\binom{n}{2}`. Note the sign: the textbook offset is :math:`y_i - x_i + x_j`; the
  published code used :math:`x_i - y_i + x_j`, kept here so that the published numbers are
  reproduced (capital-common-countries on GloVe 6B 50d: n = 23, k = 4, NNGS = 0.5462, accuracy =
  0.8379).
* ``"standard"``: 3CosAdd over the ``restrict_vocab`` most frequent words (see
  :func:`pairspace.analogy.evaluate`), restricted to the category's questions.

Both accuracies are always computed; ``protocol`` selects the one in ``accuracy`` and in the
correlations. Across categories the study reports Pearson's r and Spearman's rho with their
p-values (``scipy.stats``) and a percentile bootstrap interval that resamples categories.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from .._progress import progress_bar
from .._validation import check_metric, resolve_k
from ..measures.cka import linear_cka
from ..measures.knn_measures import mutual_knn_from_graphs
from ..measures.nngs import NNGSCurve, curve_from_graphs
from ..neighbors import knn_pair
from .evaluate import DEFAULT_RESTRICT_VOCAB, AnalogyEvaluation, evaluate
from .questions import AnalogyCategory, AnalogySet, load_questions
from .vectors import WordVectors, load_vectors

PROTOCOLS = ("paper", "standard")
MEASURES = ("nngs", "mutual_knn", "linear_cka")


# ------------------------------------------------------------------------------------ correlation

@dataclass(frozen=True)
class Correlation:
    """A correlation across categories with its p-value and bootstrap interval.

    Attributes
    ----------
    method : str
        ``"pearson"`` or ``"spearman"``.
    statistic, pvalue : float
        Coefficient and two-sided p-value (``scipy.stats.pearsonr`` / ``spearmanr``).
    ci_low, ci_high : float
        Percentile bootstrap interval (categories resampled with replacement; resamples where a
        variable is constant are skipped and ``n_boot_used`` says how many remained).
    """

    method: str
    statistic: float
    pvalue: float
    ci_low: float
    ci_high: float
    confidence: float
    n: int
    n_boot: int
    n_boot_used: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {"method": self.method, "statistic": self.statistic, "pvalue": self.pvalue,
                "ci": [self.ci_low, self.ci_high], "confidence": self.confidence, "n": self.n,
                "n_boot": self.n_boot, "n_boot_used": self.n_boot_used}


def _rowwise_pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    den = np.sqrt((xc * xc).sum(axis=1) * (yc * yc).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (xc * yc).sum(axis=1) / den, np.nan)


def correlate(x: Any, y: Any, n_boot: int = 2000, confidence: float = 0.95,
              seed: int = 0) -> tuple[Correlation, Correlation]:
    """Pearson and Spearman correlation of two paired samples, with bootstrap intervals.

    Parameters
    ----------
    x, y : array-like, shape (m,)
        Paired values (e.g. NNGS and accuracy per category), at least 3, finite.
    n_boot : int
        Bootstrap resamples of the ``m`` pairs (0: no interval).
    confidence : float
        Coverage of the percentile interval.
    seed : int
        Seed of the resampling.

    Returns
    -------
    (Correlation, Correlation)
        Pearson and Spearman.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length; got {x.size} and {y.size}")
    if x.size < 3:
        raise ValueError(f"a correlation needs at least 3 paired values; got {x.size}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x and y must be finite (NaN or inf found)")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1); got {confidence}")
    m = x.size
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, m, size=(int(n_boot), m))
    out = []
    for method in ("pearson", "spearman"):
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            r, p = float("nan"), float("nan")
        elif method == "pearson":
            res = stats.pearsonr(x, y)
            r, p = float(res.statistic), float(res.pvalue)
        else:
            res = stats.spearmanr(x, y)
            r, p = float(res.statistic), float(res.pvalue)
        lo = hi = float("nan")
        used = 0
        if n_boot > 0:
            bx, by = x[idx], y[idx]
            if method == "spearman":
                bx, by = stats.rankdata(bx, axis=1), stats.rankdata(by, axis=1)
            rb = _rowwise_pearson(bx, by)
            rb = rb[np.isfinite(rb)]
            used = int(rb.size)
            if used:
                a = (1 - confidence) / 2
                lo, hi = (float(v) for v in np.quantile(rb, [a, 1 - a]))
        out.append(Correlation(method, r, p, lo, hi, confidence, m, int(n_boot), used))
    return out[0], out[1]


# ------------------------------------------------------------------------------ pairs and accuracy

def extract_pairs(category: AnalogyCategory, lowercase: bool = True) -> list[tuple[str, str]]:
    """The category's word pairs in the published order (see the module docstring)."""
    firsts: set[str] = set()
    seconds: set[str] = set()
    pairs = []
    for a, b, c, d in category.questions:
        for u, v in ((a, b), (c, d)):
            if lowercase:
                u, v = u.lower(), v.lower()
            if u not in firsts and v not in seconds:
                firsts.add(u)
                seconds.add(v)
                pairs.append((u, v))
    return pairs


def paper_accuracy(X: np.ndarray, Y: np.ndarray, memory_budget: int = 64 * 2**20) -> tuple[int, int]:
    r"""Correct answers and questions of the published within-category protocol.

    For every :math:`i < j`: :math:`w = x_i - y_i + x_j`, predicted
    :math:`\arg\max_{j'} \cos(w, y_{j'})`, correct iff :math:`j' = j`.

    Parameters
    ----------
    X, Y : numpy.ndarray, shape (n, d)
        First and second words' vectors, paired by row.

    Returns
    -------
    (int, int)
        ``(n_correct, n * (n - 1) / 2)``.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    n, d = X.shape
    if Y.shape != X.shape or n < 2:
        raise ValueError(f"X and Y must have the same shape with n >= 2; got {X.shape} and {Y.shape}")
    norms = np.linalg.norm(Y, axis=1)
    if (norms == 0).any():
        raise ValueError("a second word has a zero vector: its cosine is undefined")
    Yn = Y / norms[:, None]
    D = X - Y
    correct = 0
    rows = max(1, memory_budget // (8 * n * (d + n)))
    for s in range(0, n - 1, rows):
        i = np.arange(s, min(n - 1, s + rows))
        W = D[i][:, None, :] + X[None, :, :]  # (b, n, d): w for every (i, j)
        pred = np.argmax(W @ Yn.T, axis=2)  # (b, n); the norm of w does not change the argmax
        upper = np.arange(n)[None, :] > i[:, None]  # only j > i
        correct += int(((pred == np.arange(n)[None, :]) & upper).sum())
    return correct, n * (n - 1) // 2


# --------------------------------------------------------------------------------------- the study

@dataclass(frozen=True)
class CategoryResult:
    """One category of the study.

    Attributes
    ----------
    category, group : str
        Name and ``"semantic"``/``"syntactic"``.
    n, n_missing : int
        Pairs used, and pairs dropped because a word is out of vocabulary.
    k : int
        The neighborhood size of ``nngs`` and ``mutual_knn``.
    nngs, chance, nngs_normalized, mutual_knn, linear_cka : float
        Similarities of the paired spaces (chance: exact NNGS of unrelated spaces at ``k``).
    accuracy : float
        Accuracy under the study's protocol.
    accuracy_paper, accuracy_standard : float
        Both protocols; ``n_questions``/``n_oov`` count the standard protocol's questions.
    curve : NNGSCurve
        NNGS for ``k = 1 .. k_max`` with the chance level.
    pairs : list of (str, str)
        The pairs, row by row.
    """

    category: str
    group: str
    n: int
    n_missing: int
    k: int
    nngs: float
    chance: float
    nngs_normalized: float
    mutual_knn: float
    linear_cka: float
    accuracy: float
    accuracy_paper: float
    accuracy_standard: float
    n_questions: int
    n_oov: int
    curve: NNGSCurve
    pairs: list[tuple[str, str]] = field(repr=False)

    def row(self) -> dict[str, Any]:
        """The table row (scalars only)."""
        return {c: getattr(self, c) for c in TABLE_COLUMNS}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary, with the curve and the pairs."""
        return {**self.row(), "curve": self.curve.to_dict(), "pairs": [list(p) for p in self.pairs]}


TABLE_COLUMNS = ("category", "group", "n", "n_missing", "k", "nngs", "chance", "nngs_normalized",
                 "mutual_knn", "linear_cka", "accuracy", "accuracy_paper", "accuracy_standard",
                 "n_questions", "n_oov")


@dataclass(frozen=True)
class AnalogyStudy:
    """Result of :func:`study`.

    Attributes
    ----------
    categories : list of CategoryResult
        Per category, in the order of the analogy set.
    pearson, spearman : Correlation
        NNGS against accuracy across categories.
    correlations : dict
        ``{measure: {"pearson": Correlation, "spearman": Correlation}}`` for every measure in
        ``MEASURES`` (NNGS, mutual kNN, linear CKA).
    evaluation : AnalogyEvaluation
        The standard 3CosAdd evaluation of the whole set (overall/semantic/syntactic, OOV counts).
    skipped : dict
        Categories left out (fewer than 3 pairs in the vocabulary) and why.
    params : dict
        The study's parameters and sources.
    """

    categories: list[CategoryResult]
    pearson: Correlation
    spearman: Correlation
    correlations: dict[str, dict[str, Correlation]]
    evaluation: AnalogyEvaluation
    skipped: dict[str, str]
    params: dict[str, Any]

    @property
    def table(self) -> dict[str, list[Any]]:
        """The per-category table, column by column (``pandas.DataFrame(result.table)`` works)."""
        return {c: [getattr(r, c) for r in self.categories] for c in TABLE_COLUMNS}

    def column(self, name: str) -> np.ndarray:
        """One numeric column of the table as an array."""
        if name not in TABLE_COLUMNS:
            raise ValueError(f"no column {name!r}; columns: {TABLE_COLUMNS}")
        return np.asarray(self.table[name])

    def category(self, name: str) -> CategoryResult:
        """One category's result."""
        for r in self.categories:
            if r.category == name:
                return r
        raise ValueError(f"no category {name!r} in this study (skipped: {sorted(self.skipped)})")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (schema ``pairspace.analogy/1``)."""
        return {
            "schema": "pairspace.analogy/1",
            "params": self.params,
            "table": [r.row() for r in self.categories],
            "correlation": {"pearson": self.pearson.to_dict(), "spearman": self.spearman.to_dict()},
            "correlations": {m: {k: v.to_dict() for k, v in d.items()}
                             for m, d in self.correlations.items()},
            "evaluation_3cosadd": self.evaluation.to_dict(),
            "skipped": self.skipped,
            "categories": [r.to_dict() for r in self.categories],
        }


def study(
    vectors: WordVectors | str,
    questions: AnalogySet | str,
    metric: str = "cosine",
    k: int | float = 0.2,
    protocol: str = "paper",
    *,
    restrict_vocab: int | None = DEFAULT_RESTRICT_VOCAB,
    k_max: int | None = None,
    lowercase: bool = True,
    n_boot: int = 2000,
    seed: int = 0,
    progress: bool | None = None,
) -> AnalogyStudy:
    r"""Relate the kNN-graph similarity of each category's paired spaces to its analogy accuracy.

    Parameters
    ----------
    vectors : WordVectors or str
        Word vectors or a source for :func:`~pairspace.analogy.load_vectors`
        (``"glove-6b-50d"``).
    questions : AnalogySet or str
        Analogy set or a source for :func:`~pairspace.analogy.load_questions` (``"google"``).
    metric : {"cosine", "euclidean", "inner"}
        Distance of both spaces for the kNN graphs (the accuracy always uses cosine, as published).
    k : int or float
        Neighborhood size of ``nngs`` and ``mutual_knn``; a float ``c`` means
        :math:`\lfloor c\,n \rfloor` per category (default 0.2, as published).
    protocol : {"paper", "standard"}
        The accuracy that is correlated (see the module docstring).
    restrict_vocab : int or None
        Candidate vocabulary of the standard protocol (default 30,000).
    k_max : int, optional
        Largest ``k`` of each curve (default ``n - 1``, at most ``max(k, 500)``).
    lowercase : bool
        Lower-case the question words before pairing and lookup (default True, as published;
        a lower-cased word that is not in the vocabulary is looked up case-insensitively).
    n_boot : int
        Bootstrap resamples of the categories for the correlation intervals.
    seed : int
        Seed of the bootstrap.
    progress : bool or None
        Progress bars (None: on a terminal only).

    Returns
    -------
    AnalogyStudy
        ``table`` (columns ``category``, ``n``, ``k``, ``nngs``, ``accuracy``, ...), ``pearson``,
        ``spearman`` and ``to_dict()``.

    Examples
    --------
    >>> from pairspace import analogy
    >>> res = analogy.study("glove-6b-50d", "google")  # doctest: +SKIP
    >>> res.category("capital-common-countries").nngs  # doctest: +SKIP
    0.5462...
    """
    check_metric(metric)
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    wv = load_vectors(vectors)
    qs = load_questions(questions)
    evaluation = evaluate(wv, qs, "3cosadd", restrict_vocab, progress=progress)

    results: list[CategoryResult] = []
    skipped: dict[str, str] = {}
    for cat in progress_bar(qs.categories, desc="analogy categories", progress=progress,
                            unit="category"):
        pairs = extract_pairs(cat, lowercase)
        words = [w for p in pairs for w in p]
        r = wv.rows(words)
        if (r < 0).any():  # fall back to a case-insensitive lookup
            r = np.where(r < 0, wv.rows(words, case_insensitive=True), r)
        r = r.reshape(-1, 2)
        keep = (r >= 0).all(axis=1)
        used = [p for p, ok in zip(pairs, keep, strict=True) if ok]
        n = len(used)
        if n < 3:
            skipped[cat.name] = (f"{n} of {len(pairs)} pairs in the vocabulary; at least 3 are "
                                 "needed")
            continue
        X = np.asarray(wv.vectors[r[keep, 0]], dtype=np.float64)
        Y = np.asarray(wv.vectors[r[keep, 1]], dtype=np.float64)
        kk = resolve_k(k, n)
        top = min(n - 1, k_max if k_max is not None else max(kk, 500))
        if top < kk:
            raise ValueError(f"k_max={k_max} is smaller than k={kk} for category {cat.name!r}")
        gx, gy = knn_pair(X, Y, top, metric)  # one search per space: curve and mutual kNN
        curve = curve_from_graphs(gx, gy, np.arange(1, top + 1))
        n_correct, n_total = paper_accuracy(X, Y)
        score = evaluation.category(cat.name)
        acc_paper = n_correct / n_total
        results.append(CategoryResult(
            category=cat.name, group=cat.group, n=n, n_missing=len(pairs) - n, k=kk,
            nngs=curve.at(kk), chance=float(curve.chance[kk - 1]),
            nngs_normalized=float(curve.normalized[kk - 1]),
            mutual_knn=mutual_knn_from_graphs(gx, gy, kk), linear_cka=linear_cka(X, Y),
            accuracy=acc_paper if protocol == "paper" else score.accuracy,
            accuracy_paper=acc_paper, accuracy_standard=score.accuracy,
            n_questions=score.n_questions, n_oov=score.n_oov, curve=curve, pairs=used,
        ))
    valid = [r for r in results if np.isfinite(r.accuracy)]
    if len(valid) < 3:
        raise ValueError(f"only {len(valid)} categories have an accuracy; a correlation needs 3 "
                         f"(skipped: {skipped})")
    acc = np.array([r.accuracy for r in valid])
    correlations = {}
    for m in MEASURES:
        p, s = correlate([getattr(r, m) for r in valid], acc, n_boot=n_boot, seed=seed)
        correlations[m] = {"pearson": p, "spearman": s}
    params = {"vectors": wv.source, "n_words": len(wv), "dim": wv.dim, "questions": qs.source,
              "questions_license": qs.license, "metric": metric, "k": k, "protocol": protocol,
              "restrict_vocab": evaluation.restrict_vocab, "lowercase": lowercase,
              "n_boot": n_boot, "seed": seed, "n_categories": len(valid)}
    return AnalogyStudy(results, correlations["nngs"]["pearson"], correlations["nngs"]["spearman"],
                        correlations, evaluation, skipped, params)
