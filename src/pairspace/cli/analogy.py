"""pairspace analogy: the word-analogy study (NNGS of paired spaces against analogy accuracy)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._common import add_command, check_out_dir, emit, int_at_least, nonneg_int
from ._render import table


def _k(value: str) -> int | float:
    """--k: an int >= 1 (neighbors) or a float in (0, 1) (a fraction of n)."""
    try:
        k: int | float = int(value)
    except ValueError:
        k = float("nan")
    if k != k:
        try:
            k = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be an int >= 1 or a float in (0, 1); got {value!r}") from None
        if not 0.0 < k < 1.0:
            raise argparse.ArgumentTypeError(f"a float k is a fraction of n in (0, 1); got {value}")
        return k
    if k < 1:
        raise argparse.ArgumentTypeError(f"an int k must be >= 1; got {value}")
    return k


def _vocab(value: str) -> int:
    """--restrict-vocab: at least 4 words (three question words and one candidate)."""
    return int_at_least(value, 4, "words")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "analogy", help="word-analogy study: NNGS per category against accuracy",
                    description=__doc__, produces_result=True)
    add_study_arguments(p)
    p.add_argument("--out", default="pairspace-analogy", help="report folder")
    p.set_defaults(func=run)


def add_study_arguments(p: argparse.ArgumentParser) -> None:
    """The study's options (shared with pairspace demo)."""
    from .._validation import METRICS
    from ..studies.analogy import PROTOCOLS

    p.add_argument("--vectors", default="glove-6b-50d",
                   help="word vectors: 'glove-6b-50d' (embedded), a GloVe/word2vec .txt/.txt.gz/.vec, "
                        "'archive.zip::member.txt', a word2vec .bin or a .npy with --words")
    p.add_argument("--words", default=None, help="word list of a .npy matrix (one word per line)")
    p.add_argument("--lowercase-vectors", action="store_true",
                   help="lower-case the vocabulary of the vectors")
    p.add_argument("--questions", default="google",
                   help="analogy set: 'google' (embedded), a Google-format file or a BATS folder")
    p.add_argument("--metric", default="cosine", choices=METRICS,
                   help="distance of the kNN graphs")
    p.add_argument("--k", type=_k, default=0.2,
                   help="neighborhood size: an int >= 1, or a float fraction of n in (0, 1)")
    p.add_argument("--protocol", default="paper", choices=PROTOCOLS,
                   help="accuracy to correlate: the published within-category protocol (acc_paper) "
                        "or 3CosAdd (acc_3cosadd)")
    p.add_argument("--restrict-vocab", type=_vocab, default=30000,
                   help="candidate words of 3CosAdd (the most frequent)")
    p.add_argument("--bootstrap", type=nonneg_int, default=2000,
                   help="bootstrap resamples of the categories")
    p.add_argument("--seed", type=nonneg_int, default=0, help="seed of the bootstrap")


def render(result: Any) -> str:
    """The per-category table, the correlations and the 3CosAdd summary as text."""
    from ..studies.analogy import DISPLAY_COLUMNS

    cols = ["category", "n", "k", "nngs", "chance", "mutual_knn", "linear_cka", "accuracy_paper",
            "accuracy_standard"]
    rows = [[getattr(r, c) for c in cols] for r in result.categories]
    p = result.params
    lines = [f"vectors: {p['vectors']} ({p['n_words']} words, {p['dim']}-D); questions: "
             f"{p['questions']}", table([DISPLAY_COLUMNS[c] for c in cols], rows)]
    for name, why in result.skipped.items():
        lines.append(f"skipped {name}: {why}")
    lines.append("")
    proto = result.params["protocol"]
    lines.append(f"Across {result.pearson.n} categories, similarity against accuracy "
                 f"({proto} protocol{'' if proto == 'paper' else ': acc_3cosadd'}):")
    crow = []
    for m, d in result.correlations.items():
        for kind, c in d.items():
            crow.append([m, kind, c.statistic, f"{c.pvalue:.2e}", f"[{c.ci_low:.3f}, {c.ci_high:.3f}]"])
    conf = int(round(100 * result.pearson.confidence))
    lines.append(table(["measure", "correlation", "coefficient", "p-value", f"{conf}% bootstrap CI"],
                       crow))
    ev = result.evaluation
    lines.append("")
    lines.append(f"3CosAdd over the {ev.restrict_vocab} most frequent words: "
                 + ", ".join(f"{s.name} {s.accuracy:.4f}" for s in (ev.semantic, ev.syntactic,
                                                                     ev.overall))
                 + f" ({ev.overall.n_oov} of {ev.overall.n_questions} questions out of vocabulary)")
    return "\n".join(lines)


def run_study(args: argparse.Namespace, out: Path) -> int:
    """Load, run the study, show and write the report (used by analogy and demo)."""
    check_out_dir(out)  # before any work
    from ..data.datasets.analogy_questions import load_questions
    from ..data.datasets.word_vectors import load_vectors
    from ..report.analogy import write_report
    from ..studies.analogy import study

    vectors = load_vectors(args.vectors, words=args.words, lowercase=args.lowercase_vectors)
    questions = load_questions(args.questions)
    result = study(vectors, questions, metric=args.metric, k=args.k, protocol=args.protocol,
                   restrict_vocab=args.restrict_vocab, n_boot=args.bootstrap, seed=args.seed,
                   progress=args.progress)
    return emit(args, result, render, write_report(result, out))


def run(args: argparse.Namespace) -> int:
    return run_study(args, Path(args.out))
