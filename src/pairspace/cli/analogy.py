"""``pairspace analogy``: the word-analogy study (NNGS of paired spaces against analogy accuracy)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ._render import table

if TYPE_CHECKING:
    from ..analogy import AnalogyStudy


def _k(value: str) -> int | float:
    """``--k``: an int (neighbors) or a float in (0, 1) (fraction of n)."""
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"--k must be an int or a float in (0, 1); got {value!r}") from None


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analogy", help="word-analogy study: NNGS per category against accuracy",
                       description=__doc__)
    add_study_arguments(p)
    p.add_argument("--out", default="pairspace-analogy", help="report folder (default %(default)s)")
    p.set_defaults(func=run)


def add_study_arguments(p: argparse.ArgumentParser) -> None:
    """The study's options (shared with ``pairspace demo``)."""
    p.add_argument("--vectors", default="glove-6b-50d",
                   help="word vectors: 'glove-6b-50d' (embedded), a GloVe/word2vec .txt/.txt.gz/.vec, "
                        "'archive.zip::member.txt', a word2vec .bin or a .npy with --words")
    p.add_argument("--words", default=None, help="word list of a .npy matrix (one word per line)")
    p.add_argument("--lowercase-vectors", action="store_true",
                   help="lower-case the vocabulary of the vectors")
    p.add_argument("--questions", default="google",
                   help="analogy set: 'google' (embedded), a Google-format file or a BATS folder")
    p.add_argument("--metric", default="cosine", choices=["cosine", "euclidean", "inner"])
    p.add_argument("--k", type=_k, default=0.2,
                   help="neighborhood size: an int, or a float fraction of n (default 0.2)")
    p.add_argument("--protocol", default="paper", choices=["paper", "standard"],
                   help="accuracy to correlate: the published within-category protocol or 3CosAdd")
    p.add_argument("--restrict-vocab", type=int, default=30000,
                   help="candidate words of 3CosAdd (default %(default)s)")
    p.add_argument("--bootstrap", type=int, default=2000, help="bootstrap resamples (default 2000)")
    p.add_argument("--seed", type=int, default=0)


def render(result: AnalogyStudy) -> str:
    """The per-category table, the correlations and the 3CosAdd summary as text."""
    cols = ["category", "n", "k", "nngs", "chance", "mutual_knn", "linear_cka", "accuracy",
            "accuracy_standard"]
    rows = [[getattr(r, c) for c in cols] for r in result.categories]
    heads = [*cols[:-2], f"acc_{result.params['protocol']}", "acc_3cosadd"]
    lines = [table(heads, rows)]
    for name, why in result.skipped.items():
        lines.append(f"skipped {name}: {why}")
    lines.append("")
    lines.append(f"Across {result.pearson.n} categories, similarity against accuracy "
                 f"({result.params['protocol']} protocol):")
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
    """Load, run the study, print and write the report (used by ``analogy`` and ``demo``)."""
    from ..analogy import load_questions, load_vectors, study
    from ..analogy.report import write_report

    t0 = time.perf_counter()
    vectors = load_vectors(args.vectors, words=args.words, lowercase=args.lowercase_vectors)
    questions = load_questions(args.questions)
    print(f"vectors: {vectors.source} ({len(vectors)} words, {vectors.dim}-D); questions: "
          f"{questions.source} ({len(questions)} in {len(questions.categories)} categories)")
    result = study(vectors, questions, metric=args.metric, k=args.k, protocol=args.protocol,
                   restrict_vocab=args.restrict_vocab, n_boot=args.bootstrap, seed=args.seed,
                   progress=True)
    print(render(result))
    paths = write_report(result, out)
    print(f"\nwrote {', '.join(str(p) for p in paths.values())} "
          f"({time.perf_counter() - t0:.1f} s)")
    return 0


def run(args: argparse.Namespace) -> int:
    return run_study(args, Path(args.out))
