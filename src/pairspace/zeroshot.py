"""Zero-shot evaluation: classifiers from prompt templates, metrics, retrieval, the template study.

A convenience namespace: ``pairspace.zeroshot.classifier_weights(...)``,
``pairspace.zeroshot.zeroshot_metrics(...)``, ``pairspace.zeroshot.retrieval_metrics(...)`` and
``pairspace.zeroshot.template_study(...)``. The implementations live in :mod:`pairspace.tasks` and
:mod:`pairspace.studies`.
"""

from .data.templates import TemplateSet, load_class_names, load_templates
from .studies.template_study import (
    TemplateStudyResult,
    class_centroids,
    synthetic_zeroshot,
    template_study,
    write_template_report,
)
from .tasks.retrieval import retrieval_metrics
from .tasks.zeroshot import (
    build_classifier,
    classifier_weights,
    evaluate,
    fold_metrics,
    format_prompts,
    text_embeddings_for,
    zeroshot_metrics,
    zeroshot_scores,
)

__all__ = [
    "TemplateSet",
    "TemplateStudyResult",
    "class_centroids",
    "synthetic_zeroshot",
    "template_study",
    "write_template_report",
    "build_classifier",
    "classifier_weights",
    "evaluate",
    "fold_metrics",
    "format_prompts",
    "load_class_names",
    "load_templates",
    "retrieval_metrics",
    "text_embeddings_for",
    "zeroshot_metrics",
    "zeroshot_scores",
]
