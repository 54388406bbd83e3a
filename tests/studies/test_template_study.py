"""The prompt-template study: synthetic aligned model, shuffled control, oracles, report and CLI."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import pairspace
from pairspace import zeroshot
from pairspace.cli import main
from pairspace.data.table import EmbeddingTable
from pairspace.stats.correlation import correlate
from pairspace.studies.templates import class_centroids

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tasks"))  # test_zeroshot's HashEncoder


def run(d, **kw):
    return zeroshot.template_study(d["media"], d["templates"], d["class_names"], d["labels"],
                                   text_embeddings=d["text_embeddings"], groups=d["groups"], **kw)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_aligned_model_gives_strong_positive_correlation(seed):
    d = zeroshot.synthetic_zeroshot(seed=seed)
    res = run(d)
    for m in ("nngs", "mutual_knn", "linear_cka"):
        c = res.correlations[m]
        assert c["pearson"] > 0.6 and c["pearson_p"] < 0.01, (m, c)
        assert c["spearman"] > 0.7 and c["spearman_p"] < 0.01, (m, c)
    # noisier templates: lower accuracy (sanity of the generator)
    acc = res.column("accuracy")
    assert acc[:3].mean() > acc[-3:].mean() + 0.2
    assert res.settings["chance_nngs"] == pytest.approx(pairspace.nngs_chance(30, 3))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shuffled_control_finds_no_correlation(seed):
    d = zeroshot.synthetic_zeroshot(seed=seed)
    res = run(d, shuffle_pairs=True, seed=seed)
    for m in ("nngs", "mutual_knn"):
        c = res.correlations[m]
        assert abs(c["pearson"]) < 0.5 and c["pearson_p"] > 0.05, (m, c)
    # similarity collapses to about chance, while the accuracies are those of the aligned run
    assert abs(res.column("nngs").mean() - res.settings["chance_nngs"]) < 0.05
    np.testing.assert_allclose(res.column("accuracy"), run(d).column("accuracy"))


def test_per_template_values_match_direct_computation():
    d = zeroshot.synthetic_zeroshot(n_classes=12, per_class=5, n_templates=4, seed=5)
    res = run(d, k=2, metric="cosine")
    C = 12
    X = class_centroids(d["media"], d["labels"], C)
    # naive centroids
    Xn = d["media"] / np.linalg.norm(d["media"], axis=1, keepdims=True)
    for c in range(C):
        np.testing.assert_allclose(X[c], Xn[d["labels"] == c].mean(0))
    for t, row in enumerate(res.per_template):
        Y = d["text_embeddings"][t] / np.linalg.norm(d["text_embeddings"][t], axis=1, keepdims=True)
        assert row["nngs"] == pytest.approx(pairspace.nngs(X, Y, 2, metric="cosine"))
        assert row["mutual_knn"] == pytest.approx(pairspace.mutual_knn(X, Y, 2, metric="cosine"))
        assert row["linear_cka"] == pytest.approx(pairspace.linear_cka(X, Y))
        pred = np.argmax(Xn @ Y.T, axis=1)
        assert row["accuracy"] == pytest.approx(np.mean(pred == d["labels"]))
        assert row["curve"].k.max() == C - 1
    p, s = correlate(res.column("nngs"), res.column("accuracy"))
    c = res.correlations["nngs"]
    assert (c["pearson"], c["pearson_p"], c["spearman"], c["spearman_p"]) == (
        p.statistic, p.pvalue, s.statistic, s.pvalue)


def test_text_encoder_path_and_table_input():
    from test_zeroshot import HashEncoder

    enc = HashEncoder()
    names = ["cat", "dog", "zebra", "owl", "bee"]
    templates = ["a photo of a {}.", "{}", "a blurry photo of the {}.", "not a {}"]
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(5), 4)
    base = enc.encode(names)
    media = base[labels] + rng.normal(scale=0.5, size=(20, 26))
    table = EmbeddingTable([f"i{i}" for i in range(20)], media, [names[v] for v in labels])
    res = zeroshot.template_study(table, templates, text_encoder=enc, k=2)
    E = enc.encode([t.format(c) for t in templates for c in names]).reshape(4, 5, 26)
    ref = zeroshot.template_study(media, templates, names, labels, text_embeddings=E, k=2)
    assert res.class_names == names
    np.testing.assert_allclose(res.column("nngs"), ref.column("nngs"))
    np.testing.assert_allclose(res.column("accuracy"), ref.column("accuracy"))


def test_errors():
    d = zeroshot.synthetic_zeroshot(n_classes=6, per_class=2, n_templates=4)
    with pytest.raises(ValueError, match="at least 3 templates"):
        zeroshot.template_study(d["media"], d["templates"][:2], d["class_names"], d["labels"],
                                text_embeddings=d["text_embeddings"][:2])
    with pytest.raises(ValueError, match="out of range"):
        run(d, k=6)
    with pytest.raises(ValueError, match="shape"):
        zeroshot.template_study(d["media"], d["templates"], d["class_names"], d["labels"],
                                text_embeddings=d["text_embeddings"][:, :5])
    with pytest.raises(ValueError, match="exactly one"):
        zeroshot.template_study(d["media"], d["templates"], d["class_names"], d["labels"])
    with pytest.raises(ValueError, match="joint space"):
        zeroshot.template_study(d["media"][:, :5], d["templates"], d["class_names"], d["labels"],
                                text_embeddings=d["text_embeddings"])
    with pytest.raises(ValueError, match="clashes"):
        run(d, extra_measures={"nngs": lambda X, Y: 0.0})
    with pytest.raises(ValueError, match="no media items"):
        zeroshot.template_study(d["media"][:10], d["templates"], d["class_names"], d["labels"][:10],
                                text_embeddings=d["text_embeddings"])


def test_cli_synthetic_and_table(tmp_path, capsys, monkeypatch):
    assert main(["template-study", "--synthetic", "--out", str(tmp_path / "syn")]) == 0
    out = capsys.readouterr().out
    assert "nngs" in out and "pearson" in out
    res = json.loads((tmp_path / "syn" / "results.json").read_text())
    assert res["schema"] == "pairspace.template_study/2"
    assert res["results"]["correlations"]["nngs"]["pearson"] > 0.6
    for f in ("report.md", "scatter.png", "curves.png"):
        assert (tmp_path / "syn" / f).stat().st_size > 0
    d = zeroshot.synthetic_zeroshot(n_classes=8, per_class=3, n_templates=5, seed=1)
    raw = [f"class_{c}" for c in range(8)]
    EmbeddingTable([f"i{i}" for i in range(24)], d["media"], [raw[v] for v in d["labels"]]).save(
        tmp_path / "media.parquet")
    tmpl = tmp_path / "templates.txt"
    tmpl.write_text("\n".join(d["templates"]) + "\n")
    np.save(tmp_path / "text.npy", d["text_embeddings"])
    args = ["template-study", "--media", str(tmp_path / "media.parquet"), "--templates", str(tmpl),
            "--text-embeddings", str(tmp_path / "text.npy"), "--k", "2",
            "--measure", "my_measures:cka_copy", "--out", str(tmp_path / "tab")]
    (tmp_path / "my_measures.py").write_text(
        "import pairspace\n\ndef cka_copy(X, Y):\n    return pairspace.linear_cka(X, Y)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(args) == 0
    doc = json.loads((tmp_path / "tab" / "results.json").read_text())
    assert doc["inputs"]["media"]["path"] == str(tmp_path / "media.parquet")
    assert doc["inputs"]["text_embeddings"]["size"] == (tmp_path / "text.npy").stat().st_size
    res = doc["results"]
    assert res["class_names"] == [f"class {c}" for c in range(8)]
    assert res["correlations"]["cka_copy"] == pytest.approx(res["correlations"]["linear_cka"])
    assert all(r["cka_copy"] == pytest.approx(r["linear_cka"]) for r in res["templates"])
    assert main(args[:-2] + ["--measure", "nonsense"]) == 2
    assert main(["template-study", "--media", str(tmp_path / "media.parquet"), "--templates",
                 str(tmpl)]) == 2


def test_report_escapes_user_strings_and_csv_formulas(tmp_path):
    """Issue 14: template text and group names went raw into report.md."""
    from pairspace.report.templates import write_template_report

    d = zeroshot.synthetic_zeroshot(n_classes=8, per_class=3, n_templates=4, seed=2)
    tmpl = ["<script>alert(1)</script> {}", "a `code` | pipe {}", "=HYPERLINK(\"x\") {}", "-1+{}"]
    groups = ["<b>g</b>", "|", "@risk", "plain"]
    res = zeroshot.template_study(d["media"], tmpl, d["class_names"], d["labels"],
                                  text_embeddings=d["text_embeddings"], groups=groups, k=2)
    files = write_template_report(res, tmp_path / "rep")
    md = files["markdown"].read_text()
    assert "<script>" not in md and "&lt;script&gt;" in md and "<b>" not in md
    table_rows = [ln for ln in md.splitlines() if ln.startswith("| ") and "pipe" in ln]
    assert len(table_rows) == 1 and table_rows[0].count("|") - table_rows[0].count("\\|") == 7
    assert "\\`code\\`" in md
    import csv

    rows = list(csv.reader(files["csv"].open()))
    assert rows[0][:2] == ["template", "group"] and len(rows) == 5
    assert rows[3][0] == "'=HYPERLINK(\"x\") {}" and rows[4][0] == "'-1+{}" and rows[3][1] == "'@risk"
    assert "'" not in rows[1][0][:1]


def test_correlations_gain_a_bootstrap_interval():
    d = zeroshot.synthetic_zeroshot(seed=0)
    res = run(d, n_boot=300)
    for c in res.correlations.values():
        assert c["pearson_ci_low"] <= c["pearson"] <= c["pearson_ci_high"]
        assert c["spearman_ci_low"] <= c["spearman"] <= c["spearman_ci_high"]
    assert res.settings["n_boot"] == 300


@pytest.mark.parametrize("bad", [["--k", "0"], ["--k", "-3"], ["--k-max", "0"], ["--bootstrap", "-1"],
                                 ["--seed", "-2"], ["--k", "two"]])
def test_cli_numeric_options_are_validated_by_the_parser(bad, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["template-study", "--synthetic", "--out", str(tmp_path / "o"), *bad])
    assert e.value.code == 2 and bad[0] in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_out_is_checked_before_any_work(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["template-study", "--synthetic", "--out", str(tmp_path / "file")]) == 2
    err = capsys.readouterr()
    assert "is not a folder" in err.err and "templates" not in err.out  # nothing was computed
    assert main(["template-study", "--synthetic", "--out", str(tmp_path / "file" / "sub")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert (tmp_path / "file").read_text() == "x"


def test_cli_says_which_template_source_was_used(tmp_path, capsys, monkeypatch):
    d = zeroshot.synthetic_zeroshot(n_classes=6, per_class=3, n_templates=18, seed=1)
    EmbeddingTable([f"i{i}" for i in range(18)], d["media"],
                   [d["class_names"][v] for v in d["labels"]]).save(tmp_path / "media.parquet")
    np.save(tmp_path / "text.npy", d["text_embeddings"])
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cifar100_clip").write_text("{}\nthe {}\na {}\n")  # must not shadow the shipped set
    assert main(["template-study", "--media", "media.parquet", "--templates", "cifar100_clip",
                 "--text-embeddings", "text.npy", "--k", "2", "--out", "rep"]) == 0
    out = capsys.readouterr().out
    assert "templates: shipped set 'cifar100_clip'; class names: the labels of media.parquet" in out
    res = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert res["inputs"]["templates_source"] == "shipped set 'cifar100_clip'"
    assert "shipped set 'cifar100\\_clip'" in (tmp_path / "rep" / "report.md").read_text()


def test_report_html_is_self_contained_escaped_and_one_p_format(tmp_path) -> None:
    from pairspace.report.templates import write_template_report

    d = zeroshot.synthetic_zeroshot(n_classes=8, per_class=3, n_templates=4, seed=2)
    tmpl = ["a <b>photo</b> of a {}.", "a {}.", "{} & more", "the {}"]
    res = zeroshot.template_study(d["media"], tmpl, d["class_names"], d["labels"],
                                  text_embeddings=d["text_embeddings"], k=2, n_boot=20)
    files = write_template_report(res, tmp_path / "rep")
    page = files["html"].read_text()
    assert files["html"].name == "report.html"
    assert "&lt;b&gt;photo&lt;/b&gt;" in page and "<b>photo" not in page  # escaped
    assert page.count("data:image/png;base64,") == 2  # both figures embedded
    p = res.correlations["nngs"]["pearson_p"]
    assert f"{p:.1e}" in page  # p-values in scientific notation, two significant digits


def test_paper_exact_mode_and_rbf_column() -> None:
    from pairspace.measures.cka import rbf_cka_paper
    from pairspace.studies.templates import PAPER_EXACT, class_centroids, synthetic_zeroshot, template_study

    d = synthetic_zeroshot(n_classes=12, per_class=5, n_templates=6, seed=4)
    res = template_study(d["media"], d["templates"], d["class_names"], d["labels"],
                         text_embeddings=d["text_embeddings"], n_boot=100, **PAPER_EXACT)
    assert res.settings["paper_exact"] and not res.settings["normalize"]
    X = class_centroids(d["media"], d["labels"], 12, normalize=False)
    for t, row in enumerate(res.per_template):  # unnormalized centroids and text rows
        assert row["rbf_cka"] == pytest.approx(rbf_cka_paper(X, d["text_embeddings"][t]))
    assert set(res.correlations) == {"nngs", "linear_cka", "rbf_cka", "mutual_knn"}
    assert set(res.comparisons) == {"nngs - linear_cka", "nngs - rbf_cka", "nngs - mutual_knn"}
    c = res.comparisons["nngs - linear_cka"]
    assert c["pearson"] == pytest.approx(res.correlations["nngs"]["pearson"]
                                         - res.correlations["linear_cka"]["pearson"])
    default = template_study(d["media"], d["templates"], d["class_names"], d["labels"],
                             text_embeddings=d["text_embeddings"], n_boot=0)
    assert not default.settings["paper_exact"] and "rbf_cka" not in default.per_template[0]
    with pytest.raises(ValueError, match="rbf"):
        template_study(d["media"], d["templates"], d["class_names"], d["labels"],
                       text_embeddings=d["text_embeddings"], rbf="median")


def test_template_plots_draw_into_given_axes_and_return_the_figure(tmp_path):
    import matplotlib.pyplot as plt

    from pairspace.report.templates import plot_template_curves, plot_template_scatter

    d = zeroshot.synthetic_zeroshot(n_classes=6, per_class=3, n_templates=5, seed=1)
    res = run(d, k=2)
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_template_curves(res, ax=right) is fig
    assert not left.lines  # only the given axes were drawn into
    curves = right.lines[:len(res.templates)]
    drawn = sorted(tuple(np.round(ln.get_ydata(), 12)) for ln in curves)
    want = sorted(tuple(np.round(r["curve"].nngs, 12)) for r in res.per_template)
    assert drawn == want  # one NNGS curve per template, its own values
    assert not list(tmp_path.iterdir())  # no path: nothing written
    plt.close(fig)
    fig, axes = plt.subplots(1, len(res.measures))
    assert plot_template_scatter(res, ax=axes, path=tmp_path / "s.png") is fig
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    for ax, m in zip(axes, res.measures, strict=True):
        xs = np.concatenate([c.get_offsets()[:, 0] for c in ax.collections])
        assert sorted(xs) == pytest.approx(sorted(res.column(m)))
    with pytest.raises(ValueError, match="needs as many axes"):
        plot_template_scatter(res, ax=axes[:1])
