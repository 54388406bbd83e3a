"""Former home of the prompt-template study (kept as a thin lazy re-export).

The study lives in :mod:`pairspace.studies.templates`, its report in :mod:`pairspace.report.templates`.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "TemplateStudyResult": "pairspace.studies.templates",
    "class_centroids": "pairspace.studies.templates",
    "synthetic_zeroshot": "pairspace.studies.templates",
    "template_study": "pairspace.studies.templates",
    "plot_template_scatter": "pairspace.report.templates",
    "render_markdown": "pairspace.report.templates",
    "write_template_report": "pairspace.report.templates",
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
