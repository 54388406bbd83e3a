"""Word analogies as paired embedding spaces (the first case study of arXiv 2411.08687).

``load_vectors`` and ``load_questions`` read word vectors and analogy sets (paths or the embedded
defaults ``"glove-6b-50d"`` and ``"google"``); ``evaluate`` answers analogies with 3CosAdd or
3CosMul; ``study`` relates each category's kNN-graph similarity (NNGS) to its analogy accuracy.
"""

from .evaluate import AnalogyEvaluation, CategoryScore, evaluate
from .questions import AnalogyCategory, AnalogySet, load_questions
from .study import AnalogyStudy, CategoryResult, Correlation, correlate, extract_pairs, paper_accuracy, study
from .vectors import WordVectors, load_vectors

__all__ = ["AnalogyCategory", "AnalogyEvaluation", "AnalogySet", "AnalogyStudy", "CategoryResult",
           "CategoryScore", "Correlation", "WordVectors", "correlate", "evaluate", "extract_pairs",
           "load_questions", "load_vectors", "paper_accuracy", "study", "write_report"]


def write_report(result: AnalogyStudy, out: str) -> dict:
    """Write the study's report (see :func:`pairspace.analogy.report.write_report`)."""
    from .report import write_report as _write  # matplotlib is imported only when reporting

    return _write(result, out)
