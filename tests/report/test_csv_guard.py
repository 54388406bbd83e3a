"""The one CSV formula guard (report.format.csv_cell) serves every report's CSV."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from pairspace.report.format import csv_cell

_STARTS = ("=", "+", "-", "@", "\t", "\r")


@given(st.text())
def test_a_string_is_never_read_as_a_formula_and_is_otherwise_unchanged(s: str) -> None:
    out = csv_cell(s)
    if s.startswith(_STARTS):
        assert out == "'" + s
    else:
        assert out == s


@given(st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans()))
def test_numbers_stay_numbers_and_none_is_empty(v: object) -> None:
    assert csv_cell(v) == v and type(csv_cell(v)) is type(v)
    assert csv_cell(None) == ""


def test_template_csv_guards_a_formula_template() -> None:
    from pairspace import zeroshot
    from pairspace.report.templates import render_csv

    d = zeroshot.synthetic_zeroshot(n_classes=8, per_class=5, n_templates=4, seed=0)
    templates = ["=HYPERLINK(\"x\") {}"] + list(d["templates"][1:])
    res = zeroshot.template_study(d["media"], templates, d["class_names"], d["labels"],
                                  text_embeddings=d["text_embeddings"], k=2)
    rows = list(csv.reader(io.StringIO(render_csv(res))))
    cells = [r[0] for r in rows[1:]]
    assert "'=HYPERLINK(\"x\") {}" in cells and not any(c.startswith("=") for c in cells)
