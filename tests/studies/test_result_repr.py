"""Result objects show a one-line summary (never an array), an HTML table in notebooks and their
main table as a DataFrame."""

from __future__ import annotations

import numpy as np
import pytest

from pairspace import zeroshot
from pairspace.studies.compare import compare_spaces

pytest.importorskip("pandas")


def _check(result, n_rows: int) -> None:
    text = repr(result)
    assert "\n" not in text and "array" not in text and len(text) < 300
    df = result.to_pandas()
    assert len(df) == n_rows
    page = result._repr_html_()
    assert page.count("<tr>") == n_rows + 1


def test_comparison_result() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 8))
    res = compare_spaces(X, X + 0.3 * rng.normal(size=X.shape), metric="euclidean", ks=[5, 20],
                         measures=["nngs", "linear_cka"], permutations=0)
    _check(res, len(res.rows))
    assert f"nngs@5={res.row('nngs', 5).value:.4f}" in repr(res)
    assert list(res.to_pandas()["measure"]) == [r.measure for r in res.rows]


def test_template_study_result() -> None:
    d = zeroshot.synthetic_zeroshot(n_classes=8, per_class=3, n_templates=4, seed=2)
    res = zeroshot.template_study(d["media"], ["a {}", "the {}", "{}", "x {}"], d["class_names"],
                                  d["labels"], text_embeddings=d["text_embeddings"], k=2, n_boot=20)
    _check(res, 4)
    assert "curve" not in res.to_pandas().columns
    assert list(res.to_pandas()["accuracy"]) == [r["accuracy"] for r in res.per_template]
