"""Word analogies: pairspace's 3CosAdd evaluation against gensim's, in-call, question by question.

Run: ``python benchmarks/bench_analogy.py [--repeats 3] [--no-gensim] [--study]``.

Both sides get the embedded GloVe 6B 50d vectors (the 30,000 most frequent words as candidates,
``restrict_vocab=30000``, case-insensitive) and the Google analogy file ``questions-words.txt``
(19,544 questions). The timed call is the evaluation itself, reading the question file included:
``pairspace.tasks.analogy.evaluate(vectors, path, "3cosadd", 30000)`` against gensim's
``KeyedVectors.evaluate_word_analogies(path, restrict_vocab=30000)`` on a ``KeyedVectors`` that
holds the same 30,000 vectors. Loading the vectors is not timed. Medians of ``--repeats`` runs,
alternating the two, with the machine load (``/proc/loadavg``) before and after; the ratio is
pairspace / gensim in the same run. The agreement check compares the sets of correctly answered
questions (gensim's upper-cased tuples) and the overall accuracy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from _machine import cpu_model, loadavg


def _timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-gensim", action="store_true", help="skip gensim (one question at a time)")
    ap.add_argument("--study", action="store_true", help="also time the whole analogy study")
    ap.add_argument("--dense", action="store_true",
                    help="also time the dense reference (every word scored for every question)")
    args = ap.parse_args()
    from pairspace.data.datasets.analogy_questions import google_questions_path, load_questions
    from pairspace.data.datasets.word_vectors import load_vectors
    from pairspace.tasks.analogy import evaluate

    print(f"CPU: {cpu_model()}; cores visible: {os.cpu_count()}, affinity: {len(os.sched_getaffinity(0))}")
    path = str(google_questions_path())
    wv = load_vectors("glove-6b-50d")
    qs = load_questions(path)
    kv = None
    if not args.no_gensim:
        from gensim.models import KeyedVectors

        kv = KeyedVectors(wv.dim)
        kv.add_vectors(wv.ids[:30000], np.asarray(wv.vectors[:30000]))
    evaluate(wv, path, "3cosadd", 30000)  # warm: first-touch of the memory-mapped vectors
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    print(f"load before: {loadavg()}")
    for _ in range(args.repeats):
        w, c, ev = _timed(lambda: evaluate(wv, path, "3cosadd", 30000))
        ours.append((w, c))
        if kv is not None:
            with warnings.catch_warnings():  # gensim warns on every question
                warnings.simplefilter("ignore")
                w, c, (score, sections) = _timed(
                    lambda: kv.evaluate_word_analogies(path, restrict_vocab=30000))
            theirs.append((w, c))
    if args.dense:
        from pairspace.tasks import _cosadd

        levels, _cosadd.LEVELS = _cosadd.LEVELS, ()  # no candidate level: all questions dense
        dense = [_timed(lambda: evaluate(wv, path, "3cosadd", 30000)) for _ in range(args.repeats)]
        _cosadd.LEVELS = levels
        same = all((d[2].predicted == ev.predicted).all() for d in dense)
        print(f"dense reference: median {statistics.median(d[0] for d in dense):.3f} s wall, "
              f"{statistics.median(d[1] for d in dense):.3f} s CPU ({[round(d[0], 3) for d in dense]}); "
              f"same answers as the certified path: {same}")
    print(f"load after:  {loadavg()}")
    med = [statistics.median(x[i] for x in ours) for i in (0, 1)]
    print(f"pairspace evaluate 3CosAdd, 19,544 questions, R=30000: median {med[0]:.3f} s wall, "
          f"{med[1]:.3f} s CPU ({[round(x[0], 3) for x in ours]})")
    print(f"  overall {ev.overall.accuracy:.4f}, semantic {ev.semantic.accuracy:.4f}, syntactic "
          f"{ev.syntactic.accuracy:.4f}, {ev.overall.n_oov} out of vocabulary")
    if kv is not None:
        gm = [statistics.median(x[i] for x in theirs) for i in (0, 1)]
        print(f"gensim evaluate_word_analogies (same vectors): median {gm[0]:.3f} s wall, "
              f"{gm[1]:.3f} s CPU ({[round(x[0], 3) for x in theirs]})")
        print(f"ratio pairspace / gensim: {med[0] / gm[0]:.3f} wall, {med[1] / gm[1]:.3f} CPU")
        ok = {tuple(w.upper() for w in q) for q, hit in
              zip((q for c in qs for q in c.questions), ev.correct, strict=True) if hit}
        print(f"  gensim overall {score:.4f}; pairspace {ev.overall.accuracy:.4f}; same correct "
              f"questions: {ok == set(sections[-1]['correct'])} ({len(ok)} correct)")
    w, c, mul = _timed(lambda: evaluate(wv, qs, "3cosmul", 30000))
    print(f"pairspace evaluate 3CosMul: {w:.3f} s wall (overall {mul.overall.accuracy:.4f})")
    if args.study:
        from pairspace.studies.analogy import study

        w, c, res = _timed(lambda: study(wv, qs))
        print(f"study (paper protocol, 2000 bootstrap): {w:.2f} s; Pearson {res.pearson.statistic:.4f}")


if __name__ == "__main__":
    main()
