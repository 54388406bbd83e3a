r"""Vector-offset analogy evaluation: 3CosAdd and 3CosMul over a restricted vocabulary.

For a question "a is to b as c is to ?" with unit vectors :math:`\hat a, \hat b, \hat c` and every
candidate word :math:`x` among the ``restrict_vocab`` most frequent words, except the three
question words:

* **3CosAdd** (Mikolov, Yih & Zweig, NAACL 2013):

  .. math:: \arg\max_x \cos(x, \hat b - \hat a + \hat c)
            = \arg\max_x \; \cos(x, b) - \cos(x, a) + \cos(x, c)

* **3CosMul** (Levy & Goldberg, "Linguistic Regularities in Sparse and Explicit Word
  Representations", CoNLL 2014), with cosines shifted to :math:`[0, 1]` by
  :math:`s = (1 + \cos) / 2` and :math:`\varepsilon = 10^{-3}` as in the paper:

  .. math:: \arg\max_x \frac{s(x, b)\, s(x, c)}{s(x, a) + \varepsilon}

The prediction is correct when it is ``d`` (or one of the question's alternative answers). This
is the computation of gensim's ``KeyedVectors.evaluate_word_analogies`` (``restrict_vocab=30000``,
``case_insensitive=True``): a question with a word outside the restricted vocabulary is counted as
out-of-vocabulary (``n_oov``) and left out of ``accuracy``; ``accuracy_all`` counts it as wrong.
The scores are computed for blocks of questions at once (one matrix product per block) under a
memory budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._progress import progress_bar
from .._validation import resolve_memory_budget, rows_per_block, unit_rows
from ..data.datasets.analogy_questions import AnalogySet, load_questions
from ..data.datasets.word_vectors import load_vectors
from ..data.table import EmbeddingTable
from . import _cosadd

METHODS = ("3cosadd", "3cosmul")
DEFAULT_RESTRICT_VOCAB = 30000


@dataclass(frozen=True)
class CategoryScore:
    """Accuracy of one category.

    Attributes
    ----------
    name, group : str
        Category name and ``"semantic"``/``"syntactic"``.
    n_questions, n_oov, n_correct : int
        Questions, questions with an out-of-vocabulary word, correct answers.
    """

    name: str
    group: str
    n_questions: int
    n_oov: int
    n_correct: int

    @property
    def n_evaluated(self) -> int:
        """Questions whose four words are in the vocabulary."""
        return self.n_questions - self.n_oov

    @property
    def accuracy(self) -> float:
        """Correct / in-vocabulary questions (NaN when none is in the vocabulary)."""
        return self.n_correct / self.n_evaluated if self.n_evaluated else float("nan")

    @property
    def accuracy_all(self) -> float:
        """Correct / all questions (out-of-vocabulary questions count as wrong)."""
        return self.n_correct / self.n_questions if self.n_questions else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {"name": self.name, "group": self.group, "n_questions": self.n_questions,
                "n_oov": self.n_oov, "n_correct": self.n_correct, "accuracy": self.accuracy,
                "accuracy_all": self.accuracy_all}


def _pool(name: str, scores: list[CategoryScore]) -> CategoryScore:
    return CategoryScore(name, name, sum(s.n_questions for s in scores), sum(s.n_oov for s in scores),
                         sum(s.n_correct for s in scores))


@dataclass(frozen=True)
class AnalogyEvaluation:
    """Result of :func:`evaluate`.

    Attributes
    ----------
    method : str
        ``"3cosadd"`` or ``"3cosmul"``.
    restrict_vocab : int
        Size of the candidate vocabulary (the most frequent words).
    categories : list of CategoryScore
        Per-category counts, in the order of the analogy set.
    predicted : numpy.ndarray of int64
        Predicted row of every question in set order (``-1`` for out-of-vocabulary questions).
    correct, oov : numpy.ndarray of bool
        Per question.
    """

    method: str
    restrict_vocab: int
    case_insensitive: bool
    categories: list[CategoryScore]
    predicted: np.ndarray
    correct: np.ndarray
    oov: np.ndarray

    def _group(self, group: str) -> CategoryScore:
        return _pool(group, [c for c in self.categories if c.group == group])

    @property
    def overall(self) -> CategoryScore:
        """Pooled over every category."""
        return _pool("overall", self.categories)

    @property
    def semantic(self) -> CategoryScore:
        """Pooled over the semantic categories."""
        return self._group("semantic")

    @property
    def syntactic(self) -> CategoryScore:
        """Pooled over the syntactic categories."""
        return self._group("syntactic")

    def category(self, name: str) -> CategoryScore:
        """One category's counts."""
        for c in self.categories:
            if c.name == name:
                return c
        raise ValueError(f"no category {name!r} in this evaluation")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no per-question arrays)."""
        return {"method": self.method, "restrict_vocab": self.restrict_vocab,
                "case_insensitive": self.case_insensitive,
                "overall": self.overall.to_dict(), "semantic": self.semantic.to_dict(),
                "syntactic": self.syntactic.to_dict(),
                "categories": [c.to_dict() for c in self.categories]}


def _shifted(C: np.ndarray) -> np.ndarray:
    """Cosines mapped to [0, 1] in place: ``(1 + cos) / 2``."""
    C += 1.0
    C *= 0.5
    return C


def _variants(key_of_row: np.ndarray) -> dict[int, np.ndarray]:
    """Key row -> the later rows sharing its key (case variants), excluded together with it."""
    later = np.flatnonzero(key_of_row != np.arange(key_of_row.size))
    out: dict[int, list[int]] = {}
    for r in later.tolist():
        out.setdefault(int(key_of_row[r]), []).append(r)
    return {k: np.array(v, dtype=np.int64) for k, v in out.items()}


def _question_blocks(Q: np.ndarray, max_rows: int) -> list[np.ndarray]:
    """Consecutive questions whose distinct words plus distinct (a, b) pairs stay within ``max_rows``."""
    blocks, start, words, pairs = [], 0, set(), set()
    for i, (a, b, c) in enumerate(Q[:, :3].tolist()):
        new_w = {a, b, c} - words
        new_p = {(a, b)} - pairs
        if i > start and len(words) + len(pairs) + len(new_w) + len(new_p) > max_rows:
            blocks.append(np.arange(start, i))
            start, words, pairs = i, set(), set()
            new_w, new_p = {a, b, c}, {(a, b)}
        words |= new_w
        pairs |= new_p
    if start < Q.shape[0]:
        blocks.append(np.arange(start, Q.shape[0]))
    return blocks


def _answer_3cosmul(W: np.ndarray, Q: np.ndarray, variants: dict[int, np.ndarray], epsilon: float,
                    memory_budget: int, progress: bool | None) -> np.ndarray:
    """3CosMul answers: every word scored, in blocks of questions (three products each)."""
    R = W.shape[0]
    pred = np.empty(Q.shape[0], dtype=np.int64)
    block = rows_per_block(memory_budget, 4 * R * 4)
    for s in progress_bar(range(0, Q.shape[0], block), desc="analogies (3cosmul)", progress=progress,
                          unit="block"):
        q = Q[s : s + block]
        S = _shifted(W[q[:, 1]] @ W.T)
        S *= _shifted(W[q[:, 2]] @ W.T)
        T = _shifted(W[q[:, 0]] @ W.T)
        T += epsilon
        S /= T
        _cosadd._exclude(S, q, variants)
        pred[s : s + block] = np.argmax(S, axis=1)
    return pred


def _question_keys(wv: EmbeddingTable, qs: AnalogySet, R: int, case_insensitive: bool
                   ) -> tuple[np.ndarray, np.ndarray, list[set[int]]]:
    """Key row of every vocabulary row, the (n, 4) key rows of the questions, alternatives' keys.

    A key row is the first (most frequent) row of a word (lower-cased when case-insensitive);
    ``-1`` marks an out-of-vocabulary word.
    """
    fold = str.lower if case_insensitive else str
    key_index: dict[str, int] = {}
    key_of_row = np.empty(R, dtype=np.int64)
    for r, w in enumerate((wv.ids or [])[:R]):
        key_of_row[r] = key_index.setdefault(fold(w), r)
    flat = [w for c in qs for q in c.questions for w in q]
    Q = np.fromiter((key_index.get(fold(w), -1) for w in flat), dtype=np.int64,
                    count=len(flat)).reshape(-1, 4)
    alt_keys = [{key_index[fold(w)] for w in a if fold(w) in key_index}
                for c in qs for a in c.alternatives]
    return key_of_row, Q, alt_keys


def evaluate(
    vectors: EmbeddingTable | str,
    questions: AnalogySet | str,
    method: str = "3cosadd",
    restrict_vocab: int | None = DEFAULT_RESTRICT_VOCAB,
    *,
    case_insensitive: bool = True,
    epsilon: float = 1e-3,
    memory_budget: int | None = None,
    progress: bool | None = None,
) -> AnalogyEvaluation:
    """Answer every analogy question with 3CosAdd or 3CosMul.

    Parameters
    ----------
    vectors : EmbeddingTable or str
        Word vectors (words as ids) (or a source for :func:`load_vectors`), most frequent words first.
    questions : AnalogySet or str
        Analogy set (or a source for :func:`load_questions`).
    method : {"3cosadd", "3cosmul"}
        Scoring rule (see the module docstring).
    restrict_vocab : int or None
        Only the first ``restrict_vocab`` words are candidates and only questions whose words are
        all among them are answered (default 30,000, gensim's convention; None: all words).
    case_insensitive : bool
        Compare words lower-cased; a lower-cased word maps to its first (most frequent) row, and
        every case variant of a question word is excluded from the answers with it.
    epsilon : float
        The 3CosMul denominator offset (Levy & Goldberg 2014 used 0.001).
    memory_budget : int or None
        Bytes of the score rows held at once (None: the configured setting,
        :func:`pairspace.set_config`).
    progress : bool or None
        Show a progress bar (None: on a terminal only).

    Returns
    -------
    AnalogyEvaluation
        Per-category, semantic, syntactic and overall accuracy, with OOV counts.
    """
    memory_budget = resolve_memory_budget(memory_budget)
    if method not in METHODS:
        raise ValueError(f"unknown analogy method {method!r}; choose one of {', '.join(METHODS)}")
    wv = load_vectors(vectors)
    qs = load_questions(questions)
    R = len(wv) if restrict_vocab is None else int(restrict_vocab)
    if R < 4:
        raise ValueError(f"restrict_vocab={restrict_vocab} is too small: at least 4 words are needed")
    R = min(R, len(wv))
    key_of_row, Q, alt_keys = _question_keys(wv, qs, R, case_insensitive)
    oov = (Q < 0).any(axis=1)
    W = unit_rows(wv.vectors[:R], "word vectors", zero="keep", dtype=np.float32)  # zero rows never win
    predicted = np.full(Q.shape[0], -1, dtype=np.int64)
    todo = np.flatnonzero(~oov)
    variants = _variants(key_of_row)
    if method == "3cosadd":
        max_rows = rows_per_block(memory_budget // 2, 64 * max(_cosadd.LEVELS, default=R))  # lists
        for blk in progress_bar(_question_blocks(Q[todo], max_rows), desc="analogies (3cosadd)",
                                progress=progress, unit="block"):
            predicted[todo[blk]] = _cosadd.answer(W, Q[todo[blk]], key_of_row, variants,
                                                  max(1, memory_budget // 4))
    else:
        predicted[todo] = _answer_3cosmul(W, Q[todo], variants, epsilon, memory_budget, progress)

    correct = np.zeros(Q.shape[0], dtype=bool)
    correct[todo] = key_of_row[predicted[todo]] == Q[todo, 3]
    for t in todo[~correct[todo]]:
        if alt_keys[t] and key_of_row[predicted[t]] in alt_keys[t]:
            correct[t] = True
    scores, pos = [], 0
    for cat in qs:
        sl = slice(pos, pos + len(cat))
        scores.append(CategoryScore(cat.name, cat.group, len(cat), int(oov[sl].sum()),
                                    int(correct[sl].sum())))
        pos += len(cat)
    return AnalogyEvaluation(method, R, case_insensitive, scores, predicted, correct, oov)


def paper_accuracy(X: np.ndarray, Y: np.ndarray,
                   memory_budget: int | None = None) -> tuple[int, int]:
    r"""Correct answers and questions of the published within-category protocol.

    For every :math:`i < j`: :math:`w = x_i - y_i + x_j`, predicted
    :math:`\arg\max_{j'} \cos(w, y_{j'})` over the category's second words only, correct iff
    :math:`j' = j` (the sign of the code of Tavares, Ayres & Smaragdis, arXiv 2411.08687; the
    textbook offset is :math:`y_i - x_i + x_j`).

    Parameters
    ----------
    X, Y : numpy.ndarray, shape (n, d)
        First and second words' vectors, paired by row.
    memory_budget : int or None
        Scratch bytes of one block of ``i`` rows (None: the configured setting,
        :func:`pairspace.set_config`).

    Returns
    -------
    (int, int)
        ``(n_correct, n * (n - 1) / 2)``.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if X.ndim != 2 or Y.shape != X.shape or X.shape[0] < 2:
        raise ValueError(f"X and Y must have the same shape with n >= 2; got {X.shape} and {Y.shape}")
    n, d = X.shape
    Yn = unit_rows(Y, "Y (the second words)")  # a zero vector has no cosine: a clear error
    D = X - Y
    correct = 0
    rows = rows_per_block(resolve_memory_budget(memory_budget), 8 * n * (d + n))
    for s in range(0, n - 1, rows):
        i = np.arange(s, min(n - 1, s + rows))
        W = D[i][:, None, :] + X[None, :, :]  # (b, n, d): w for every (i, j)
        pred = np.argmax(W @ Yn.T, axis=2)  # (b, n); the norm of w does not change the argmax
        upper = np.arange(n)[None, :] > i[:, None]  # only j > i
        correct += int(((pred == np.arange(n)[None, :]) & upper).sum())
    return correct, n * (n - 1) // 2
