"""Word analogies as paired embedding spaces (the first case study of arXiv 2411.08687).

A thin, lazy namespace kept for the README and older code; the implementations live in
:mod:`pairspace.data.datasets.word_vectors` (``load_vectors``, ``word_table``; word vectors are
an ``EmbeddingTable`` whose ids are the words, ``WordVectors`` is deprecated),
:mod:`pairspace.data.datasets.analogy_questions` (``load_questions``),
:mod:`pairspace.tasks.analogy` (``evaluate``: 3CosAdd/3CosMul, ``paper_accuracy``),
:mod:`pairspace.studies.analogy` (``study``), :mod:`pairspace.stats.correlation` (``correlate``)
and :mod:`pairspace.report.analogy` (``write_report``).
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "WordVectors": "pairspace.data.datasets.word_vectors",
    "word_table": "pairspace.data.datasets.word_vectors",
    "EmbeddingTable": "pairspace.data.table",
    "load_vectors": "pairspace.data.datasets.word_vectors",
    "AnalogyCategory": "pairspace.data.datasets.analogy_questions",
    "AnalogySet": "pairspace.data.datasets.analogy_questions",
    "load_questions": "pairspace.data.datasets.analogy_questions",
    "AnalogyEvaluation": "pairspace.tasks.analogy",
    "CategoryScore": "pairspace.tasks.analogy",
    "evaluate": "pairspace.tasks.analogy",
    "paper_accuracy": "pairspace.tasks.analogy",
    "AnalogyStudy": "pairspace.studies.analogy",
    "CategoryResult": "pairspace.studies.analogy",
    "extract_pairs": "pairspace.studies.analogy",
    "study": "pairspace.studies.analogy",
    "Correlation": "pairspace.stats.correlation",
    "correlate": "pairspace.stats.correlation",
    "write_report": "pairspace.report.analogy",  # matplotlib is imported only when reporting
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
