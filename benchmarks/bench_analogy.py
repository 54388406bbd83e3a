"""Speed of the word-analogy pieces on the embedded data, and agreement with gensim.

Run: ``python benchmarks/bench_analogy.py`` (add ``--no-gensim`` to skip gensim's slower
one-question-at-a-time evaluation). Prints wall-clock seconds of each step on this machine.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np


def timed(label: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    t = time.perf_counter()
    out = fn(*args, **kw)
    print(f"{label:<48s} {time.perf_counter() - t:7.2f} s")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--no-gensim", action="store_true")
    args = ap.parse_args()
    from pairspace.analogy import evaluate, load_questions, load_vectors, study
    from pairspace.data.datasets.analogy_questions import google_questions_path

    print(f"cores visible: {os.cpu_count()}, affinity: {len(os.sched_getaffinity(0))}")
    wv = timed("load_vectors('glove-6b-50d')", load_vectors, "glove-6b-50d")
    qs = timed("load_questions('google')", load_questions, "google")
    add = timed("evaluate 3CosAdd, 19,544 questions, R=30000", evaluate, wv, qs, "3cosadd", 30000)
    mul = timed("evaluate 3CosMul, 19,544 questions, R=30000", evaluate, wv, qs, "3cosmul", 30000)
    for name, ev in (("3CosAdd", add), ("3CosMul", mul)):
        print(f"  {name}: semantic {ev.semantic.accuracy:.4f}, syntactic {ev.syntactic.accuracy:.4f}, "
              f"overall {ev.overall.accuracy:.4f} ({ev.overall.n_oov} questions out of vocabulary)")
    res = timed("study (paper protocol, 2000 bootstrap)", study, wv, qs)
    print(f"  NNGS vs accuracy: Pearson {res.pearson.statistic:.4f}, Spearman "
          f"{res.spearman.statistic:.4f}")
    if not args.no_gensim:
        from gensim.models import KeyedVectors

        kv = KeyedVectors(wv.dim)
        kv.add_vectors(wv.words[:30000], np.asarray(wv.vectors[:30000]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score, sections = timed("gensim evaluate_word_analogies (same vectors)",
                                    kv.evaluate_word_analogies, str(google_questions_path()),
                                    restrict_vocab=30000)
        ok = {tuple(w.upper() for w in q) for q, hit in
              zip((q for c in qs for q in c.questions), add.correct, strict=True) if hit}
        same = ok == set(sections[-1]["correct"])
        print(f"  gensim overall {score:.4f}; pairspace {add.overall.accuracy:.4f}; same correct "
              f"questions: {same}")


if __name__ == "__main__":
    main()
