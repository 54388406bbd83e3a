"""Analogy sets: the Google format, the BATS folder format and the embedded Google set.

* **Google format** (Mikolov et al., "Efficient Estimation of Word Representations in Vector
  Space", 2013): ``": category"`` header lines, then one question ``a b c d`` per line ("a is to b
  as c is to d"). Categories whose name starts with ``gram`` are syntactic, the others semantic.
* **BATS** (Gladkova, Drozd & Matsuoka, "Analogy-based detection of morphological and semantic
  relations with word embeddings", NAACL SRW 2016): a folder of ``.txt`` files (usually in four
  sub-folders), one category per file named like ``E01 [country - capital].txt``, one pair per line
  ``word<TAB>answer1/answer2/...``. Each ordered pair of different lines (i, j) gives the question
  ``w_i : ans_i[0] :: w_j : ?``, answered correctly by any of ``ans_j``. Files starting with I or D
  (inflectional and derivational morphology) are syntactic, E and L (encyclopedic and
  lexicographic semantics) semantic.
* ``"google"``: the Google set ``questions-words.txt`` (19,544 questions in 14 categories) from the
  word2vec project (Mikolov et al., Google, Apache License 2.0), read from the test data that the
  installed gensim wheel ships (``gensim/test/test_data/questions-words.txt``); no download.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

GOOGLE = "google"
EMBEDDED_QUESTIONS = (GOOGLE,)
GOOGLE_LICENSE = ("questions-words.txt from the word2vec project (T. Mikolov, Google), Apache "
                  "License 2.0; read from the installed gensim wheel's test data")


@dataclass(frozen=True)
class AnalogyCategory:
    """The questions of one relation.

    Attributes
    ----------
    name : str
        Category name (``"capital-common-countries"``, ``"E01 [country - capital]"``).
    group : str
        ``"semantic"`` or ``"syntactic"``.
    questions : list of tuple of str
        ``(a, b, c, d)``: a is to b as c is to d, in file order.
    alternatives : list of tuple of str
        Further accepted answers of each question (empty tuples for the Google format).
    """

    name: str
    group: str
    questions: list[tuple[str, str, str, str]]
    alternatives: list[tuple[str, ...]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.alternatives:
            object.__setattr__(self, "alternatives", [() for _ in self.questions])
        if len(self.alternatives) != len(self.questions):
            raise ValueError(f"category {self.name!r}: {len(self.alternatives)} alternatives for "
                             f"{len(self.questions)} questions")

    def __len__(self) -> int:
        return len(self.questions)


@dataclass(frozen=True)
class AnalogySet:
    """An analogy test set: categories of questions, in file order.

    Attributes
    ----------
    categories : list of AnalogyCategory
    source : str
        Path or embedded name.
    license : str
        License note of the data (empty when unknown).
    """

    categories: list[AnalogyCategory]
    source: str = ""
    license: str = ""

    def __len__(self) -> int:
        return sum(len(c) for c in self.categories)

    def __iter__(self) -> Iterator[AnalogyCategory]:
        return iter(self.categories)

    @property
    def names(self) -> list[str]:
        """Category names in order."""
        return [c.name for c in self.categories]

    def category(self, name: str) -> AnalogyCategory:
        """One category by name."""
        for c in self.categories:
            if c.name == name:
                return c
        raise ValueError(f"no category {name!r}; available: {self.names}")

    def select(self, names: list[str]) -> AnalogySet:
        """A set with only these categories (in the given order)."""
        return AnalogySet([self.category(n) for n in names], self.source, self.license)


def google_questions_path() -> Path:
    """Path of ``questions-words.txt`` inside the installed gensim package (not imported)."""
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the embedded Google analogy set is read from the gensim wheel: "
                          "pip install 'pairspace[demo]'")
    p = Path(next(iter(spec.submodule_search_locations))) / "test" / "test_data" / "questions-words.txt"
    if not p.is_file():
        raise FileNotFoundError(f"the installed gensim has no {p}")
    return p


def parse_google(text: str, source: str = "<text>") -> AnalogySet:
    """Parse the Google analogy format (``": category"`` headers, then ``a b c d`` lines)."""
    cats: list[AnalogyCategory] = []
    name: str | None = None
    qs: list[tuple[str, str, str, str]] = []

    def close() -> None:
        if name is not None:
            if not qs:
                raise ValueError(f"{source}: category {name!r} has no questions")
            group = "syntactic" if name.startswith("gram") else "semantic"
            cats.append(AnalogyCategory(name, group, list(qs)))

    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(":"):
            close()
            name, qs = line[1:].strip(), []
            if not name:
                raise ValueError(f"{source}: line {lineno} is a category header without a name")
            continue
        if name is None:
            raise ValueError(f"{source}: line {lineno} comes before the first ': category' header")
        parts = line.split()
        if len(parts) != 4:
            raise ValueError(f"{source}: line {lineno} has {len(parts)} words; a question is "
                             f"'a b c d' (got {line!r})")
        qs.append((parts[0], parts[1], parts[2], parts[3]))
    close()
    if not cats:
        raise ValueError(f"{source} holds no analogy categories (expected ': name' headers)")
    seen = [c.name for c in cats]
    dup = {n for n in seen if seen.count(n) > 1}
    if dup:
        raise ValueError(f"{source}: repeated category names {sorted(dup)}")
    return AnalogySet(cats, source)


_BATS_GROUP = {"I": "syntactic", "D": "syntactic", "E": "semantic", "L": "semantic"}


def parse_bats(folder: str | os.PathLike[str]) -> AnalogySet:
    """Parse a BATS folder (every ``.txt`` file below it is a category, sorted by name)."""
    root = Path(folder)
    files = sorted(p for p in root.rglob("*.txt") if p.is_file() and not p.name.startswith("."))
    files = [p for p in files if p.name.lower() not in ("readme.txt", "license.txt")]
    if not files:
        raise ValueError(f"{root} holds no BATS category files (*.txt)")
    files.sort(key=lambda p: p.name)
    cats = []
    for p in files:
        pairs: list[tuple[str, tuple[str, ...]]] = []
        with open(p, encoding="utf-8") as f:
            for lineno, raw in enumerate(f, start=1):
                line = raw.strip()
                if not line:
                    continue
                parts = line.split("\t") if "\t" in line else line.split()
                if len(parts) != 2:
                    raise ValueError(f"{p}: line {lineno} must be 'word<TAB>answer1/answer2'; got "
                                     f"{line!r}")
                answers = tuple(a.strip() for a in parts[1].split("/") if a.strip())
                if not answers:
                    raise ValueError(f"{p}: line {lineno} has no answer")
                pairs.append((parts[0].strip(), answers))
        if len(pairs) < 2:
            raise ValueError(f"{p}: a BATS category needs at least 2 pairs; got {len(pairs)}")
        qs, alts = [], []
        for i, (a, ans_a) in enumerate(pairs):
            for j, (c, ans_c) in enumerate(pairs):
                if i != j:
                    qs.append((a, ans_a[0], c, ans_c[0]))
                    alts.append(ans_c[1:])
        m = re.match(r"\s*([A-Za-z])\d", p.stem)
        group = _BATS_GROUP.get(m.group(1).upper(), "semantic") if m else "semantic"
        if not m:
            low = str(p.parent).lower()
            group = "syntactic" if "morpholog" in low else "semantic"
        cats.append(AnalogyCategory(p.stem, group, qs, alts))
    return AnalogySet(cats, str(root))


def load_questions(source: str | os.PathLike[str] | AnalogySet) -> AnalogySet:
    """Load an analogy set.

    Parameters
    ----------
    source : str, path or AnalogySet
        ``"google"`` (the embedded Google set, Apache-2.0, from the gensim wheel), a file in the
        Google format, or a BATS folder. An :class:`AnalogySet` is returned as is.

    Returns
    -------
    AnalogySet
        Categories of ``(a, b, c, d)`` questions in file order.
    """
    if isinstance(source, AnalogySet):
        return source
    if str(source) == GOOGLE:
        p = google_questions_path()
        s = parse_google(p.read_text(encoding="utf-8"), GOOGLE)
        return AnalogySet(s.categories, GOOGLE, GOOGLE_LICENSE)
    p = Path(source)
    if p.is_dir():
        return parse_bats(p)
    if not p.is_file():
        hint = f" (embedded defaults: {', '.join(EMBEDDED_QUESTIONS)})" if os.sep not in str(source) else ""
        raise FileNotFoundError(f"analogy questions not found: {p}{hint}")
    return parse_google(p.read_text(encoding="utf-8", errors="replace"), str(p))
