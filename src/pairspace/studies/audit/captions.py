r"""Caption leaks: training captions that name an evaluation class (Tavares et al., ICASSP 2025).

A class-disjoint zero-shot score is only zero-shot when no training caption names an evaluation
class. :func:`caption_leaks` flags every (caption, class) pair that does, with the strongest of
these kinds (checked in this order):

``exact``
    the raw class name occurs as a whole word, case included (``"... on the Celesta"`` does not,
    ``"... on the celesta"`` does);
``normalized``
    the class name's words occur contiguously after :func:`~pairspace.studies.audit.text.words`
    (case, punctuation, hyphens, plural/singular: ``"Hi hats"`` names ``hi-hat``);
``synonym``
    a synonym of the class (a synonyms file, see :func:`load_synonyms`) occurs, normalized;
``overlap``
    some content word of the class name occurs (score = the fraction of its content words that
    do); ``"a steel drum"`` shares ``steel`` with ``steel string guitar``;
``semantic``
    the cosine between the caption's text embedding and the class prompt's is at least
    ``threshold`` (score = the cosine); the count of flagged captions is also reported over a sweep
    of thresholds.

Near misses never match: matching is on whole normalized words (``guitarist`` is not ``guitar``,
``bassoon`` is not ``bass``).

References
----------
Tavares, Ayres, Wang & Smaragdis, "On Class Separability Pitfalls In Audio-Text Contrastive
Zero-Shot Learning", ICASSP 2025, arXiv 2408.13068.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...tasks.zeroshot import format_prompts
from .text import contains_phrase, content_words, exact_pattern, words

KINDS = ("exact", "normalized", "synonym", "overlap", "semantic")
LEXICAL = KINDS[:4]
NAME_KINDS = KINDS[:3]
"""The kinds that name a class (not a shared content word, not a cosine): exact, normalized, synonym."""
DEFAULT_THRESHOLD = 0.6
SWEEP = tuple(round(0.3 + 0.05 * i, 2) for i in range(14))  # 0.30 .. 0.95


@dataclass
class CaptionLeaks:
    """Result of :func:`caption_leaks`.

    Attributes
    ----------
    leaks : list of dict
        ``{"id", "class", "kind", "score", "words", "text"}`` per flagged (caption, class) pair;
        ``words`` lists the matched normalized words (empty for ``semantic``), ``text`` the caption.
    per_class : dict
        Class -> ``{kind: count, "total": flagged captions, "shared_words": [...],
        "all_words_shared": bool}`` (every content word of the name occurs in some caption).
    n_texts : int
        Captions examined.
    sweep : list of dict
        ``{"threshold", "n_captions", "n_pairs", "n_classes"}`` of the semantic detector (empty
        without embeddings).
    threshold : float or None
        The semantic threshold applied to ``leaks``.
    """

    leaks: list[dict[str, Any]]
    per_class: dict[str, dict[str, Any]]
    n_texts: int
    sweep: list[dict[str, Any]] = field(default_factory=list)
    threshold: float | None = None

    def flagged_ids(self, kinds: Sequence[str] = LEXICAL) -> set[str]:
        """Ids of captions flagged with one of ``kinds``."""
        return {r["id"] for r in self.leaks if r["kind"] in kinds}

    def flagged_classes(self, kinds: Sequence[str] = LEXICAL) -> list[str]:
        """Classes named by at least one caption with one of ``kinds`` (class order kept)."""
        hit = {r["class"] for r in self.leaks if r["kind"] in kinds}
        return [c for c in self.per_class if c in hit]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``leaks``, ``per_class``, ``n_texts``, ``n_flagged_texts``, ``sweep``, ..."""
        return {
            "leaks": [dict(r) for r in self.leaks],
            "per_class": {c: dict(v) for c, v in self.per_class.items()},
            "n_texts": self.n_texts,
            "n_flagged_texts": len({r["id"] for r in self.leaks}),
            "classes_with_lexical_leaks": self.flagged_classes(LEXICAL),
            "threshold": self.threshold,
            "sweep": [dict(s) for s in self.sweep],
        }


def load_synonyms(path: str | os.PathLike[str]) -> dict[str, list[str]]:
    """Read a synonyms file: JSON ``{class: [synonym, ...]}`` or lines ``class<TAB>syn|syn``.

    Lines starting with ``#`` and blank lines are skipped; a TSV/CSV line may also be
    ``class,synonym`` (one synonym per line, repeated class names accumulate).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"synonyms file {p} does not exist")
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() == ".json":
        data = json.loads(text)
        if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
            raise ValueError(f"{p}: a JSON synonyms file maps each class to a list of synonyms")
        return {str(k): [str(s) for s in v] for k, v in data.items()}
    out: dict[str, list[str]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        sep = "\t" if "\t" in line else ","
        if sep not in line:
            raise ValueError(f"{p}:{n}: expected 'class<TAB>synonym|synonym'; got {line!r}")
        cls, syns = line.split(sep, 1)
        out.setdefault(cls.strip(), []).extend(s.strip() for s in syns.split("|") if s.strip())
    return out


def shipped_synonyms(name: str = "instruments") -> dict[str, list[str]]:
    """A synonyms file shipped in ``pairspace/resources/audit`` (``instruments``: the benchmark's)."""
    from importlib import resources

    res = resources.files("pairspace.resources") / "audit" / f"{name}_synonyms.json"
    if not res.is_file():
        raise ValueError(f"no shipped synonyms file {name!r}")
    return {str(k): list(v) for k, v in json.loads(res.read_text(encoding="utf-8")).items()}


def _index(token_lists: list[list[str]]) -> dict[str, list[int]]:
    inv: dict[str, list[int]] = {}
    for i, toks in enumerate(token_lists):
        for w in set(toks):
            inv.setdefault(w, []).append(i)
    return inv


def _lexical(texts: list[str], toks: list[list[str]], inv: dict[str, list[int]], name: str,
             syns: Sequence[str]) -> dict[int, tuple[str, float, list[str]]]:
    """Strongest lexical match per caption index for one class."""
    name_words, cw = words(name), content_words(name)
    phrases = [words(s) for s in syns]
    cand: set[int] = set()
    for w in set(cw) | {p[0] for p in phrases if p} | set(name_words[:1]):
        cand.update(inv.get(w, ()))
    pat = exact_pattern(name)
    hits: dict[int, tuple[str, float, list[str]]] = {}
    for i in sorted(cand):
        t = toks[i]
        if pat.search(texts[i]):
            hits[i] = ("exact", 1.0, name_words)
        elif contains_phrase(t, name_words):
            hits[i] = ("normalized", 1.0, name_words)
        elif any(contains_phrase(t, p) for p in phrases):
            hits[i] = ("synonym", 1.0, next(p for p in phrases if contains_phrase(t, p)))
        else:
            shared = [w for w in cw if w in set(t)]
            if shared:
                hits[i] = ("overlap", len(shared) / len(cw), shared)
    return hits


def _check_inputs(texts: Sequence[str], class_names: Sequence[str],
                  ids: Sequence[str] | None) -> tuple[list[str], list[str], list[str]]:
    texts = [str(t) for t in texts]
    names = [str(c) for c in class_names]
    if not names:
        raise ValueError("no class names given")
    if len(set(names)) != len(names):
        raise ValueError("class names must be unique")
    if any(not words(c) for c in names):
        raise ValueError(f"class names without any word: {[c for c in names if not words(c)][:5]}")
    ids = [str(i) for i in ids] if ids is not None else [str(i) for i in range(len(texts))]
    if len(ids) != len(texts):
        raise ValueError(f"{len(ids)} ids for {len(texts)} texts")
    return texts, names, ids


def caption_leaks(
    texts: Sequence[str],
    class_names: Sequence[str],
    ids: Sequence[str] | None = None,
    synonyms: Mapping[str, Sequence[str]] | str | os.PathLike[str] | None = None,
    encoder: Any = None,
    threshold: float | None = None,
    *,
    text_embeddings: Any = None,
    class_embeddings: Any = None,
    prompt: str = "the sound of {}",
    sweep: Sequence[float] = SWEEP,
) -> CaptionLeaks:
    """Flag the training captions that name an evaluation class (see the module docstring).

    Parameters
    ----------
    texts : sequence of str
        Training captions.
    class_names : sequence of str
        Evaluation classes.
    ids : sequence of str, optional
        Caption ids (default: their positions as strings).
    synonyms : mapping or path, optional
        Class -> synonyms (or a file for :func:`load_synonyms`); classes not listed have none.
    encoder : object with ``encode(list_of_str)``, optional
        Text encoder of the semantic detector (captions and ``prompt`` filled with each class name embedded).
    threshold : float, optional
        Cosine threshold of the semantic detector (default 0.6 when embeddings are available).
    text_embeddings, class_embeddings : array-like, optional
        Precomputed caption (n, d) and class-prompt (C, d) embeddings instead of ``encoder``.
    prompt : str
        The class prompt of the semantic detector (``{}`` is the class name).
    sweep : sequence of float
        Thresholds at which the semantic counts are reported.

    Returns
    -------
    CaptionLeaks
        ``to_dict()["leaks"]`` lists ``{"id", "class", "kind", "score", "words"}``.
    """
    texts, names, ids = _check_inputs(texts, class_names, ids)
    if synonyms is not None and not isinstance(synonyms, Mapping):
        synonyms = load_synonyms(synonyms)
    syn = {str(k): [str(s) for s in v] for k, v in (synonyms or {}).items()}
    toks = [words(t) for t in texts]
    inv = _index(toks)
    found: dict[tuple[int, int], tuple[str, float, list[str]]] = {}
    for c, name in enumerate(names):
        for i, hit in _lexical(texts, toks, inv, name, syn.get(name, ())).items():
            found[(i, c)] = hit
    sims = _similarities(texts, names, encoder, text_embeddings, class_embeddings, prompt)
    sweep_rows: list[dict[str, Any]] = []
    if sims is not None:
        threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
        if not -1.0 <= threshold <= 1.0:
            raise ValueError(f"threshold is a cosine in [-1, 1]; got {threshold}")
        for i, c in zip(*np.nonzero(sims >= threshold), strict=True):
            found.setdefault((int(i), int(c)), ("semantic", float(sims[i, c]), []))
        sweep_rows = [{"threshold": float(t), "n_captions": int(np.sum((sims >= t).any(axis=1))),
                       "n_pairs": int(np.sum(sims >= t)), "n_classes": int(np.sum((sims >= t).any(axis=0)))}
                      for t in sweep]
    else:
        threshold = None
    leaks = [{"id": ids[i], "class": names[c], "kind": k, "score": round(float(s), 6), "words": w,
              "text": texts[i]}
             for (i, c), (k, s, w) in sorted(found.items())]
    return CaptionLeaks(leaks, _per_class(names, leaks), len(texts), sweep_rows, threshold)


def _per_class(names: list[str], leaks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    per = {c: {**{k: 0 for k in KINDS}, "total": 0, "shared_words": []} for c in names}
    for r in leaks:
        d = per[r["class"]]
        d[r["kind"]] += 1
        d["total"] += 1
        d["shared_words"] += [w for w in r["words"] if w not in d["shared_words"]]
    for c, d in per.items():
        d["all_words_shared"] = d["total"] > 0 and set(content_words(c)) <= set(d["shared_words"])
    return per


def _similarities(texts: list[str], names: list[str], encoder: Any, text_embeddings: Any,
                  class_embeddings: Any, prompt: str) -> np.ndarray | None:
    """Cosine (n, C) between captions and class prompts, or None without embeddings."""
    if text_embeddings is None and class_embeddings is None and encoder is None:
        return None
    prompts = format_prompts([prompt], names)  # checks the template ({} or {c}) before any encoding
    T = encoder.encode(texts) if text_embeddings is None else text_embeddings
    P = encoder.encode(prompts) if class_embeddings is None else class_embeddings
    return caption_class_cosines(T, P, len(texts), len(names))


def caption_class_cosines(text_embeddings: Any, class_embeddings: Any, n: int | None = None,
                          n_classes: int | None = None) -> np.ndarray:
    r"""Cosine :math:`\cos(t_i, p_c)` between caption and class-prompt embeddings, shape (n, C)."""
    from ..._validation import unit_rows

    T = np.asarray(text_embeddings, dtype=np.float64)
    P = np.asarray(class_embeddings, dtype=np.float64)
    n = T.shape[0] if n is None else n
    n_classes = P.shape[0] if n_classes is None else n_classes
    if T.ndim != 2 or T.shape[0] != n:
        raise ValueError(f"caption embeddings must have shape ({n}, d); got {T.shape}")
    if P.ndim != 2 or P.shape[0] != n_classes or P.shape[1] != T.shape[1]:
        raise ValueError(f"class embeddings must have shape ({n_classes}, {T.shape[1]}); got {P.shape}")
    return unit_rows(T, "caption embeddings") @ unit_rows(P, "class embeddings").T
