"""Issue 14 defects of the comparison suite, each reproduced as it was reported."""

import json

import numpy as np
import pytest

import pairspace
from pairspace.cli import main
from pairspace.data import load_pair, load_space
from pairspace.measures.cka import linear_cka, rbf_cka
from pairspace.measures.gulp import gulp
from pairspace.measures.procrustes import procrustes
from pairspace.studies import compare as study


def related(n=150, seed=0, noise=0.7):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8))
    return X, X @ rng.normal(size=(8, 6)) + noise * rng.normal(size=(n, 6))


# ------------------------------------------------------------ huge or tiny magnitudes
@pytest.mark.parametrize("scale", [1e100, 1e-100, 1e150])
def test_cka_family_is_computed_safely_at_extreme_scales(scale):
    X, Y = related(noise=0.1)
    want = linear_cka(X, Y)
    assert want > 0.5
    assert linear_cka(X * scale, Y) == pytest.approx(want, rel=1e-12)  # was 0.0 at 1e100
    assert linear_cka(X * scale, Y, debiased=True) == pytest.approx(
        linear_cka(X, Y, debiased=True), rel=1e-10)
    assert rbf_cka(X * scale, Y) == pytest.approx(rbf_cka(X, Y), rel=1e-12)
    assert gulp(X * scale, Y) == pytest.approx(gulp(X, Y), rel=1e-10)
    assert procrustes(X * scale, Y) == pytest.approx(procrustes(X, Y), rel=1e-10)


def test_cka_refuses_non_finite_values():
    X, Y = related()
    X[3, 1] = np.inf
    with pytest.raises(ValueError, match="inf"):
        linear_cka(X, Y)


# ------------------------------------------------------------ limits before the search
def _no_search(*a, **kw):
    raise AssertionError("the neighbor search ran before the measures' limits were checked")


def test_compare_checks_rbf_limit_before_searching(monkeypatch):
    monkeypatch.setattr(study, "knn_pair", _no_search)
    X = np.random.default_rng(0).normal(size=(5001, 2))
    with pytest.raises(ValueError, match="max_n=5000"):
        study.compare_spaces(X, X, measures=["nngs", "rbf_cka"])
    with pytest.raises(ValueError, match="unknown measure"):
        study.compare_spaces(X, X, measures=["nngs", "bogus"])
    with pytest.raises(ValueError, match="top"):
        study.compare_spaces(X, X, top=-3)
    with pytest.raises(ValueError, match="band_permutations"):
        study.compare_spaces(X, X, band_permutations=-4)


def test_cli_refuses_rbf_at_large_n_before_searching(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(study, "knn_pair", _no_search)
    np.save(tmp_path / "big.npy", np.random.default_rng(0).normal(size=(5001, 2)))
    out = tmp_path / "out"
    rc = main(["compare", str(tmp_path / "big.npy"), str(tmp_path / "big.npy"), "--measures",
               "nngs,rbf_cka", "--out", str(out)])
    assert rc == 2
    assert "rbf_cka" in capsys.readouterr().err and not out.exists()


# ------------------------------------------------------------ numeric options at the parser
@pytest.mark.parametrize("option, value", [("--top", "-3"), ("--band-permutations", "-4"),
                                           ("--bootstrap", "-1"), ("--permutations", "-2"),
                                           ("--k", "0"), ("--k-max", "-5"), ("--level", "1.5"),
                                           ("--seed", "x")])
def test_cli_validates_numeric_options(tmp_path, option, value, capsys):
    X, Y = related()
    np.save(tmp_path / "X.npy", X)
    with pytest.raises(SystemExit) as e:
        main(["compare", str(tmp_path / "X.npy"), str(tmp_path / "X.npy"), option, value])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert option in err and "negative dimensions" not in err


def test_cli_bootstrap_of_one_is_a_clear_error(tmp_path, capsys):
    X, _ = related()
    np.save(tmp_path / "X.npy", X)
    assert main(["compare", str(tmp_path / "X.npy"), str(tmp_path / "X.npy"), "--bootstrap",
                 "1"]) == 2
    assert "at least 2" in capsys.readouterr().err


# ------------------------------------------------------------ --out checked first
@pytest.mark.parametrize("kind", ["file", "under_file"])
def test_cli_checks_out_before_any_work(tmp_path, monkeypatch, kind, capsys):
    X, _ = related()
    np.save(tmp_path / "X.npy", X)
    (tmp_path / "f.txt").write_text("x")
    out = tmp_path / "f.txt" if kind == "file" else tmp_path / "f.txt" / "sub"
    monkeypatch.setattr(study, "knn_pair", _no_search)
    assert main(["compare", str(tmp_path / "X.npy"), str(tmp_path / "X.npy"), "--out",
                 str(out)]) == 2
    assert "--out" in capsys.readouterr().err


# ------------------------------------------------------------ pandas index columns
def write_pandas_csv(path, A, ids=None, extra=None):
    """What pandas' DataFrame.to_csv writes by default: an unnamed index column first."""
    cols = ([] if ids is None else ["id"]) + [f"f{j}" for j in range(A.shape[1])]
    cols += list(extra or {})
    lines = ["," + ",".join(cols)]
    for i, row in enumerate(A):
        cells = ([] if ids is None else [ids[i]]) + [repr(float(v)) for v in row]
        cells += [str(v[i]) for v in (extra or {}).values()]
        lines.append(f"{i}," + ",".join(cells))
    path.write_text("\n".join(lines) + "\n")


def test_pandas_index_column_is_not_a_feature(tmp_path, capsys):
    X, Y = related()
    want = pairspace.nngs(X, Y, 10)
    write_pandas_csv(tmp_path / "x.csv", X)
    write_pandas_csv(tmp_path / "y.csv", Y)
    s = load_space(tmp_path / "x.csv")
    assert s.vectors.shape == (150, 8) and s.source.columns_used()["ignored"] == [""]
    pair = load_pair(tmp_path / "x.csv", tmp_path / "y.csv")
    np.testing.assert_allclose(pair.X, X, rtol=1e-15)
    assert pairspace.nngs(pair.X, pair.Y, 10) == pytest.approx(want, abs=1e-12)
    # "Unnamed: 0" (pandas' name when read back and written again) and a 0..n-1 integer column
    text = (tmp_path / "x.csv").read_text().replace(",f0", "Unnamed: 0,f0", 1)
    (tmp_path / "x2.csv").write_text(text)
    assert load_space(tmp_path / "x2.csv").vectors.shape == (150, 8)
    (tmp_path / "x3.csv").write_text(text.replace("Unnamed: 0", "row", 1))
    assert load_space(tmp_path / "x3.csv").source.columns_used()["ignored"] == ["row"]
    assert main(["compare", str(tmp_path / "x.csv"), str(tmp_path / "y.csv"), "--k", "10"]) == 0
    printed = capsys.readouterr().out
    assert "X features: f0, f1" in printed and "ignored" in printed
    assert f"{want:.4f}" in printed


def test_columns_and_id_column_options(tmp_path, capsys):
    X, Y = related()
    ids = [f"w{i}" for i in range(150)]
    labels = {"label": list(np.arange(150) % 3), "name": [f"n{i}" for i in range(150)]}
    write_pandas_csv(tmp_path / "x.csv", X, ids, labels)
    np.save(tmp_path / "y.npy", Y)
    with pytest.raises(ValueError, match="non-numeric"):
        load_space(tmp_path / "x.csv")  # 'name' is text: the user must say which columns
    feats = ",".join(f"f{j}" for j in range(8))
    s = load_space(tmp_path / "x.csv", id_column="name", columns=feats.split(","))
    np.testing.assert_allclose(s.vectors, X, rtol=1e-15)
    assert s.ids[0] == "n0" and s.source.columns_used()["id"] == "name"
    out = tmp_path / "out"
    assert main(["compare", str(tmp_path / "x.csv"), str(tmp_path / "y.npy"), "--columns", feats,
                 "--id-column", "id", "--out", str(out)]) == 0
    doc = json.loads((out / "results.json").read_text())
    assert doc["inputs"]["columns"]["x"]["features"] == feats.split(",")
    assert doc["results"]["nngs"]["10"] == pytest.approx(pairspace.nngs(X, Y, 10), abs=1e-12)
    assert main(["compare", str(tmp_path / "x.csv"), str(tmp_path / "y.npy"), "--columns",
                 "f0,nope"]) == 2
    assert "nope" in capsys.readouterr().err


# ------------------------------------------------------------ escaping
def test_report_escapes_ids_in_html_and_csv(tmp_path):
    X, Y = related(60)
    ids = np.array(["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "<script>alert(1)</script>"]
                   + [f"w{i}" for i in range(55)])
    np.savez(tmp_path / "x.npz", vectors=X, ids=ids)
    np.savez(tmp_path / "y.npz", vectors=Y, ids=ids)
    out = tmp_path / "out"
    assert main(["compare", str(tmp_path / "x.npz"), str(tmp_path / "y.npz"), "--top", "60",
                 "--out", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    import csv

    with open(out / "disagreement.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 60
    cells = [r[c] for r in rows for c in ("id", "neighbors_x", "neighbors_y")]
    assert not [c for c in cells if c[:1] in "=+-@"]
    assert "'=HYPERLINK(\"http://x\")" in [r["id"] for r in rows]
    with open(out / "results.csv", newline="") as f:
        values = [r["value"] for r in csv.DictReader(f)]
    assert all(float(v) == float(v) for v in values)  # numbers stay numbers


# ------------------------------------------------------------ the curve figure
@pytest.mark.parametrize("k_max", [20, 100])
def test_curve_figure_shows_the_band_on_one_axis_scale(k_max):
    from pairspace.report.compare import compare_curve_figure

    X, Y = related(300, noise=2.0)
    res = study.compare_spaces(X, Y, ks=[10], k_max=k_max, permutations=30, band_permutations=30,
                               measures=["nngs"])
    fig = compare_curve_figure(res.curve, res.null_band)
    fig.canvas.draw()
    band = res.null_band
    ax = fig.axes[0]
    for a in fig.axes:
        assert a.get_xscale() == "log"  # the same axis whatever --k-max is
        assert len([c for c in a.collections if c.get_label().startswith("permutation null")]) == 1
    # thickness of the band on the NNGS panel, in pixels, at every k
    lo = ax.transData.transform(np.column_stack([band["k"], band["low"]]))[:, 1]
    hi = ax.transData.transform(np.column_stack([band["k"], band["high"]]))[:, 1]
    assert np.median(hi - lo) >= 4, f"the band is {np.median(hi - lo):.1f} px thick: invisible"
    import matplotlib.pyplot as plt

    plt.close(fig)
