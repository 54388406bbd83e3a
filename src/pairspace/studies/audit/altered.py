r"""The altered training data of the ``class_matched``, ``word_masked`` and ``leak`` controls.

``class_matched``  :func:`class_matched_pairs`: ``clean``'s removal pattern moved to random classes;
``word_masked``    :func:`mask_words` / :func:`masked_captions`: the words of every evaluation name
                   (and of its synonyms) deleted from every caption, every clip kept;
``leak``           :func:`leak_clips` / :func:`leak_captions`: a share of the evaluation classes' own
                   clips captioned by name; :func:`leak_detection` checks the audit's detector flags
                   them (Tavares et al., ICASSP 2025, route L2).

``sd`` is a :class:`pairspace.studies.audit.controls.SeedData` (one seed's split).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

LEAK_FORMS = ("a {} plays a note", "the sound of a {}", "someone playing the {}",
              "a short recording of a {}")
"""How a ``leak`` caption names its clip's class."""



def class_matched_pairs(pairs: Sequence[tuple[str, str]], pair_class: Mapping[str, str],
                        flagged: set[str], seed: int) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    r"""``clean``'s removal pattern applied to randomly chosen classes.

    ``clean`` removes a share :math:`f_c` of the captions of each training class :math:`c`. A random
    permutation :math:`\pi` of the training classes moves that share to class :math:`\pi(c)`, whose
    :math:`\mathrm{round}(f_c\, n_{\pi(c)})` randomly chosen captions are removed. The number of
    classes removed entirely or in part, and (for classes of equal size) the number of pairs, match
    ``clean``; the classes do not.

    Parameters
    ----------
    pairs : sequence of (audio_id, text_id)
    pair_class : mapping
        ``audio_id -> class`` of every training clip.
    flagged : set of str
        The caption ids ``clean`` removes.
    seed : int
        Seed of the permutation and of the captions chosen.

    Returns
    -------
    (pairs, info)
        The kept pairs, and ``{"n_removed", "classes_emptied", "classes_touched"}``.
    """
    pairs = [(str(a), str(t)) for a, t in pairs]
    missing = sorted({a for a, _ in pairs if a not in pair_class})
    if missing:
        raise ValueError(f"class_matched needs the class of every training clip; {len(missing)} have none, "
                         f"e.g. {missing[:3]}")
    by_class: dict[str, list[int]] = {}
    for i, (a, _) in enumerate(pairs):
        by_class.setdefault(pair_class[a], []).append(i)
    names = sorted(by_class)
    share = {c: sum(pairs[i][1] in flagged for i in by_class[c]) / len(by_class[c]) for c in names}
    rng = np.random.default_rng([seed, 13])
    perm = rng.permutation(len(names))
    drop: set[int] = set()
    emptied = touched = 0
    for c, j in zip(names, perm, strict=True):
        rows = by_class[names[int(j)]]
        k = int(round(share[c] * len(rows)))
        if k:
            touched += 1
            emptied += k == len(rows)
            drop.update(int(rows[i]) for i in rng.choice(len(rows), size=k, replace=False))
    kept = [p for i, p in enumerate(pairs) if i not in drop]
    if len(kept) < 2:
        raise ValueError(f"the class_matched control keeps {len(kept)} of {len(pairs)} pairs")
    return kept, {"n_removed": len(drop), "classes_emptied": int(emptied), "classes_touched": int(touched)}


def mask_words(text: str, drop: set[str]) -> str:
    """``text`` with every word whose normalized singular form is in ``drop`` deleted (whole words)."""
    import re

    from .text import words

    parts = re.findall(r"[0-9A-Za-zÀ-ÿ]+|[^0-9A-Za-zÀ-ÿ]+", str(text))
    kept = [p for p in parts if not (p[0].isalnum() and (w := words(p)) and w[0] in drop)]
    out = re.sub(r"\s+", " ", "".join(kept))
    out = re.sub(r"(^|\s)[-/_]+(?=\s|$)", " ", out)  # hyphens left alone by a deleted hyphenated name
    out = re.sub(r"\s+([,.;:!?])", r"\1", out)
    return re.sub(r"\s+", " ", out).strip(" ,")


def name_words(classes: Sequence[str], synonyms: Mapping[str, Sequence[str]]) -> set[str]:
    """Content words of every class name and of every synonym of it (what ``word_masked`` deletes)."""
    from .text import content_words

    out: set[str] = set()
    for c in classes:
        for n in (c, *synonyms.get(c, ())):
            out.update(content_words(n))
    return out


def masked_captions(sd: Any, text_ids: Sequence[str]) -> dict[str, str]:
    """The masked text of every caption of ``text_ids`` that a name word touches."""
    drop = name_words(sd.ev.classes, sd.synonyms)
    out = {}
    for t in text_ids:
        m = mask_words(sd.captions[t], drop)
        if m != sd.captions[t]:
            out[t] = m
    return out


def leak_clips(sd: Any, share: float) -> list[int]:
    """Indices (into ``sd.eval_ids``) of the evaluation clips the ``leak`` control trains on:
    ``max(1, round(share * n_c))`` clips of each class (never all of them), chosen by the seed."""
    rng = np.random.default_rng([sd.seed, 17])
    out: list[int] = []
    labels = np.array(sd.ev.labels)
    for c in sd.ev.classes:
        rows = np.flatnonzero(labels == c)
        if rows.size < 2:
            continue
        k = min(rows.size - 1, max(1, int(round(share * rows.size))))
        out.extend(int(i) for i in np.sort(rng.choice(rows, size=k, replace=False)))
    return sorted(out)


def leak_captions(sd: Any, rows: Sequence[int]) -> dict[str, tuple[str, str]]:
    """``text_id -> (audio_id, caption)`` of the ``leak`` captions: each chosen clip captioned by its
    class name in one of :data:`LEAK_FORMS`."""
    rng = np.random.default_rng([sd.seed, 19])
    out = {}
    for i in rows:
        aid, c = sd.eval_ids[i], sd.ev.labels[i]
        out[f"leak::{aid}"] = (aid, LEAK_FORMS[int(rng.integers(len(LEAK_FORMS)))].format(c))
    return out


def leak_detection(sd: Any, info: dict[str, Any]) -> dict[str, Any]:
    """Does the audit's own caption detector flag the ``leak`` captions (and name the right class)?"""
    from .captions import NAME_KINDS, caption_leaks

    caps = info["captions"]
    ids = list(caps)
    res = caption_leaks([caps[t] for t in ids], sd.ev.classes, ids, synonyms=sd.synonyms)
    truth = {f"leak::{sd.eval_ids[i]}": sd.ev.labels[i] for i in info["leaked_clips"]}
    right = {r["id"] for r in res.leaks if r["kind"] in NAME_KINDS and truth.get(r["id"]) == r["class"]}
    return {"n_leak_captions": len(ids), "n_flagged_by_name": len(right),
            "recall": len(right) / len(ids) if ids else None}
