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

from .._progress import progress_bar
from .._validation import check_metric, resolve_k
from ..data.datasets.analogy_questions import AnalogyCategory, AnalogySet, load_questions
from ..data.datasets.word_vectors import load_vectors
from ..data.table import EmbeddingTable
from ..envelope import Envelope
from ..measures.cka import linear_cka
from ..measures.knn_measures import mutual_knn_from_graphs
from ..measures.nngs import NNGSCurve, curve_from_graphs
from ..neighbors import knn_pair
from ..stats.correlation import Correlation, correlate
from ..tasks.analogy import DEFAULT_RESTRICT_VOCAB, AnalogyEvaluation, evaluate, paper_accuracy
from ._summary import Summarized

PROTOCOLS = ("paper", "standard")
SCHEMA = "pairspace.analogy/2"
#: The keys of ``params`` that describe the inputs (the others are settings).
_INPUT_KEYS = {"vectors": ("vectors", "n_words", "dim"), "questions": ("questions", "questions_license")}
MEASURES = ("nngs", "mutual_knn", "linear_cka")


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

DISPLAY_COLUMNS = {"category": "category", "group": "group", "n": "n", "n_missing": "n_missing",
                   "k": "k", "nngs": "nngs", "chance": "chance", "nngs_normalized": "nngs_normalized",
                   "mutual_knn": "mutual_knn", "linear_cka": "linear_cka",
                   "accuracy_paper": "acc_paper", "accuracy_standard": "acc_3cosadd",
                   "n_questions": "n_questions", "n_oov": "n_oov"}
"""The one naming of the table's columns in every output (command line, HTML report): the two
accuracies are ``acc_paper`` and ``acc_3cosadd``; ``accuracy`` (the correlated one, a copy of
one of them) is not shown twice."""


@dataclass(frozen=True, repr=False)
class AnalogyStudy(Summarized):
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
    envelope : Envelope
        When, by which command and package version the result was made.
    """

    categories: list[CategoryResult]
    pearson: Correlation
    spearman: Correlation
    correlations: dict[str, dict[str, Correlation]]
    evaluation: AnalogyEvaluation
    skipped: dict[str, str]
    params: dict[str, Any]
    envelope: Envelope = field(default_factory=lambda: Envelope.new(SCHEMA))

    def _summary(self) -> str:
        return (f"{len(self.categories)} categories ({len(self.skipped)} skipped), protocol "
                f"{self.params.get('protocol')!r}, NNGS-accuracy Pearson r={self.pearson.statistic:.3f} "
                f"[{self.pearson.ci_low:.3f}, {self.pearson.ci_high:.3f}]")

    def _rows(self) -> list[dict[str, Any]]:
        return [r.row() for r in self.categories]

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
        """The ``pairspace.analogy/2`` document (the result envelope of :mod:`pairspace.envelope`).

        Version 2 splits version 1's ``params`` into ``inputs`` (the vectors and the questions)
        and ``settings``, and moves every number under ``results``.
        """
        p = self.params
        inputs = {"vectors": {"source": p["vectors"], "n_words": p["n_words"], "dim": p["dim"]},
                  "questions": {"source": p["questions"], "license": p["questions_license"]}}
        used = {k for keys in _INPUT_KEYS.values() for k in keys} | {"n_categories"}
        settings = {k: v for k, v in p.items() if k not in used}
        stamp = Envelope(**{**vars(self.envelope), "inputs": inputs})
        return stamp.document(settings, {
            "n_categories": p["n_categories"],
            "table": [r.row() for r in self.categories],
            "correlation": {"pearson": self.pearson.to_dict(), "spearman": self.spearman.to_dict()},
            "correlations": {m: {k: v.to_dict() for k, v in d.items()}
                             for m, d in self.correlations.items()},
            "evaluation_3cosadd": self.evaluation.to_dict(),
            "skipped": self.skipped,
            "categories": [r.to_dict() for r in self.categories],
        })


def _category(cat: AnalogyCategory, wv: EmbeddingTable, evaluation: AnalogyEvaluation, metric: str,
              k: int | float, k_max: int | None, lowercase: bool, protocol: str) -> CategoryResult | str:
    """One category's similarities and accuracies (or why it is skipped)."""
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
        return f"{n} of {len(pairs)} pairs in the vocabulary; at least 3 are needed"
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
    return CategoryResult(
        category=cat.name, group=cat.group, n=n, n_missing=len(pairs) - n, k=kk,
        nngs=curve.at(kk), chance=float(curve.chance[kk - 1]),
        nngs_normalized=float(curve.normalized[kk - 1]),
        mutual_knn=mutual_knn_from_graphs(gx, gy, kk), linear_cka=linear_cka(X, Y),
        accuracy=acc_paper if protocol == "paper" else score.accuracy,
        accuracy_paper=acc_paper, accuracy_standard=score.accuracy,
        n_questions=score.n_questions, n_oov=score.n_oov, curve=curve, pairs=used,
    )


def study(
    vectors: EmbeddingTable | str,
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
    vectors : EmbeddingTable or str
        Word vectors (words as ids) or a source for :func:`~pairspace.analogy.load_vectors`
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
        res = _category(cat, wv, evaluation, metric, k, k_max, lowercase, protocol)
        if isinstance(res, str):
            skipped[cat.name] = res
        else:
            results.append(res)
    valid = [r for r in results if np.isfinite(r.accuracy)]
    if len(valid) < 3:
        raise ValueError(f"only {len(valid)} categories have an accuracy; a correlation needs 3 "
                         f"(skipped: {skipped})")
    acc = np.array([r.accuracy for r in valid])
    correlations = {}
    for m in MEASURES:
        p, s = correlate([getattr(r, m) for r in valid], acc, n_boot=n_boot, seed=seed)
        correlations[m] = {"pearson": p, "spearman": s}
    params = {"vectors": wv.path, "n_words": len(wv), "dim": wv.dim, "questions": qs.source,
              "questions_license": qs.license, "metric": metric, "k": k, "protocol": protocol,
              "restrict_vocab": evaluation.restrict_vocab, "lowercase": lowercase,
              "n_boot": n_boot, "seed": seed, "n_categories": len(valid)}
    return AnalogyStudy(results, correlations["nngs"]["pearson"], correlations["nngs"]["spearman"],
                        correlations, evaluation, skipped, params)
