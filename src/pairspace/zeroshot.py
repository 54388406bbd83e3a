"""Zero-shot evaluation: classifiers from prompt templates, metrics, retrieval, the template study.

A thin, lazy convenience namespace (the README uses it): ``pairspace.zeroshot.build_classifier``,
``classifier_weights``, ``zeroshot_metrics``, ``retrieval_metrics``, ``template_study``, ... The
implementations live in :mod:`pairspace.tasks.zeroshot`, :mod:`pairspace.tasks.retrieval`,
:mod:`pairspace.data.templates`, :mod:`pairspace.studies.templates` and
:mod:`pairspace.report.templates`.
"""

from __future__ import annotations

from ._lazy import lazy_exports

_EXPORTS = {
    "TemplateSet": "pairspace.data.templates",
    "load_class_names": "pairspace.data.templates",
    "load_templates": "pairspace.data.templates",
    "TemplateStudyResult": "pairspace.studies.templates",
    "class_centroids": "pairspace.studies.templates",
    "synthetic_zeroshot": "pairspace.studies.templates",
    "template_study": "pairspace.studies.templates",
    "write_template_report": "pairspace.report.templates",
    "PROTOCOLS": "pairspace.tasks.protocols",
    "evaluate_protocol": "pairspace.tasks.protocols",
    "retrieval_metrics": "pairspace.tasks.retrieval",
    "build_classifier": "pairspace.tasks.zeroshot",
    "classifier_weights": "pairspace.tasks.zeroshot",
    "evaluate": "pairspace.tasks.zeroshot",
    "fold_metrics": "pairspace.tasks.zeroshot",
    "format_prompts": "pairspace.tasks.zeroshot",
    "text_embeddings_for": "pairspace.tasks.zeroshot",
    "zeroshot_metrics": "pairspace.tasks.zeroshot",
    "zeroshot_scores": "pairspace.tasks.zeroshot",
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
