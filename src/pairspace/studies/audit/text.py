"""Text normalization shared by the caption-leak detector and the label-overlap check.

A caption *names* a class when the class name's words occur in it after the same normalization:
lower case; hyphens, underscores, slashes and other punctuation become spaces; each word is reduced
to a singular form by a few English rules (``drums`` -> ``drum``, ``bagpipes`` -> ``bagpipe``,
``harmonies`` -> ``harmony``, ``brushes`` -> ``brush``; ``bass``, ``chorus`` and ``glass`` stay).
Matching is on whole words, so near misses (``guitarist`` for ``guitar``, ``bassoon`` for ``bass``)
never match.
"""

from __future__ import annotations

import re
import unicodedata

# Function words and audio-caption boilerplate: they never make a caption "name" a class.
STOPWORDS = frozenset(
    """a an the of and or in on at to for from with by as is are was were be been it its this that
    these those into over under up down out off some someone something sound sounds you can while
    then there here very""".split()
)

_NON_WORD = re.compile(r"[^0-9a-z]+")
_KEEP_S = ("ss", "us", "is", "ous")


def singular(word: str) -> str:
    """A singular form of one lower-case English word by suffix rules (identity when unsure).

    Rules: ``-ies`` -> ``-y``; ``-ches``/``-shes``/``-xes``/``-sses``/``-zes`` drop ``es``; a final
    ``s`` is dropped unless the word ends in ``ss``, ``us``, ``is`` or ``ous`` or has 3 letters or
    fewer.
    """
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(_KEEP_S):
        return word[:-1]
    return word


def normalize(text: str) -> str:
    """Lower case, accents removed, every run of non-alphanumerics replaced by one space."""
    t = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return _NON_WORD.sub(" ", t.lower()).strip()


def words(text: str) -> list[str]:
    """The normalized, singularized words of ``text`` in order."""
    return [singular(w) for w in normalize(text).split()]


def content_words(text: str) -> list[str]:
    """:func:`words` without :data:`STOPWORDS` (order kept, duplicates removed)."""
    out: list[str] = []
    for w in words(text):
        if w not in STOPWORDS and w not in out:
            out.append(w)
    return out


def contains_phrase(haystack: list[str], needle: list[str]) -> bool:
    """True when the word list ``needle`` occurs contiguously in ``haystack``."""
    n = len(needle)
    if n == 0 or n > len(haystack):
        return False
    first = needle[0]
    return any(haystack[i] == first and haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


def exact_pattern(name: str) -> re.Pattern[str]:
    """A case-sensitive whole-word pattern of the raw class name (the ``exact`` kind)."""
    return re.compile(r"(?<![0-9A-Za-z])" + re.escape(str(name)) + r"(?![0-9A-Za-z])")
