"""How a study's result object shows itself: a one-line ``repr`` (never a whole array), an HTML
summary for notebooks (``_repr_html_``) and, where the result is a table, ``to_pandas()``.

A result class mixes in :class:`Summarized` (its dataclass declared with ``repr=False``) and
defines ``_summary()``, the text inside the parentheses of its ``repr``, and ``_rows()``, its main
table as a list of flat dicts.
"""

from __future__ import annotations

import html
from typing import Any


class Summarized:
    """Mixin: ``repr`` from ``_summary()``, ``to_pandas()`` and ``_repr_html_`` from ``_rows()``."""

    def _summary(self) -> str:  # pragma: no cover - every user overrides it
        return ""

    def _rows(self) -> list[dict[str, Any]]:  # pragma: no cover - every user overrides it
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._summary()})"

    def to_pandas(self) -> Any:
        """The result's main table as a :class:`pandas.DataFrame` (one row per ``_rows()`` entry)."""
        import pandas as pd

        return pd.DataFrame(self._rows())

    def _repr_html_(self) -> str:
        rows = self._rows()
        head = f"<p>{html.escape(repr(self))}</p>"
        if not rows:
            return head
        cols = list(rows[0])

        def cell(v: Any) -> str:
            text = f"{v:.4f}" if isinstance(v, float) else "\u2013" if v is None else str(v)
            return f"<td>{html.escape(text)}</td>"

        body = "".join("<tr>" + "".join(cell(r.get(c)) for c in cols) + "</tr>" for r in rows)
        return (head + "<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "</tr>"
                + body + "</table>")


class TemplateSummary(Summarized):
    """The template study's summary (:class:`~pairspace.studies.templates.TemplateStudyResult`):
    sizes, k, the ensemble's top-1 and NNGS's correlation with accuracy; rows without curves."""

    def _summary(self) -> str:
        nn = self.correlations.get("nngs", {})  # type: ignore[attr-defined]
        corr = f", NNGS-accuracy Pearson r={nn['pearson']:.3f}" if "pearson" in nn else ""
        top1 = self.ensemble.get("top1", float("nan"))  # type: ignore[attr-defined]
        return (f"{len(self.templates)} templates, {len(self.class_names)} classes, "  # type: ignore[attr-defined]
                f"k={self.settings.get('k')}, ensemble top-1={top1:.4f}{corr}")  # type: ignore[attr-defined]

    def _rows(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "curve"} for r in self.per_template]  # type: ignore[attr-defined]
