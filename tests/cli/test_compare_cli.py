"""The ``pairspace compare`` and ``pairspace measures`` commands end to end."""

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pairspace import linear_cka, mutual_knn, nngs
from pairspace.cli import main
from pairspace.report.compare import CSV_COLUMNS


@pytest.fixture
def spaces(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 8))
    Y = X @ rng.normal(size=(8, 6)) + 0.7 * rng.normal(size=(150, 6))
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", Y)
    return X, Y


def test_legacy_arguments_still_work(tmp_path, spaces, capsys):
    X, Y = spaces
    out = tmp_path / "out"
    rc = main(["compare", str(tmp_path / "X.npy"), str(tmp_path / "Y.npy"), "--metric", "cosine",
               "--k", "3", "--k", "10", "--k-max", "50", "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "normalized" in text and "mutual_knn" in text
    doc = json.loads((out / "results.json").read_text())
    assert doc["schema"] == "pairspace.compare/3"
    res = doc["results"]
    assert res["nngs"]["3"] == pytest.approx(nngs(X, Y, 3))
    assert res["nngs"]["10"] == pytest.approx(nngs(X, Y, 10))
    assert len(res["curve"]["k"]) == 50 and res["null_band"] is None
    assert (out / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "results.csv").exists() and (out / "report.html").exists()


def test_full_report_with_ids(tmp_path, spaces, capsys):
    X, Y = spaces
    ids = [f"item{i:03d}" for i in range(150)]
    perm = np.random.default_rng(1).permutation(150)
    pq.write_table(pa.table({"id": ids, "vector": list(X)}), tmp_path / "x.parquet")
    lines = ["id," + ",".join(f"f{j}" for j in range(6))]
    lines += [ids[p] + "," + ",".join(repr(float(v)) for v in Y[p]) for p in perm]
    (tmp_path / "y.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "rep"
    rc = main(["compare", str(tmp_path / "x.parquet"), str(tmp_path / "y.csv"), "--measures",
               "nngs,mutual_knn,cknna,linear_cka,procrustes", "--k", "5", "--k-max", "30",
               "--permutations", "50", "--bootstrap", "30", "--metric", "euclidean",
               "--out", str(out)])
    assert rc == 0
    doc = json.loads((out / "results.json").read_text())
    assert doc["inputs"]["aligned_by"] == "id" and doc["inputs"]["n"] == 150
    res = {(r["measure"], r["k"]): r for r in doc["results"]["rows"]}
    assert res[("nngs", 5)]["value"] == pytest.approx(nngs(X, Y, 5, metric="euclidean"))
    assert res[("mutual_knn", 5)]["value"] == pytest.approx(mutual_knn(X, Y, 5, metric="euclidean"))
    assert res[("linear_cka", None)]["value"] == pytest.approx(linear_cka(X, Y))
    for r in doc["results"]["rows"]:
        assert r["p_value"] == pytest.approx(1 / 51)  # strongly related spaces
        assert r["ci_low"] <= r["value"] <= r["ci_high"]
        assert r["n_permutations"] == 50
    band = doc["results"]["null_band"]
    assert band["n_permutations"] == 50 and len(band["low"]) == 30
    assert all(lo <= hi for lo, hi in zip(band["low"], band["high"], strict=True))
    top = doc["results"]["disagreement"]["most_disagreeing"]
    assert top and all(t["id"] in ids for t in top)
    assert top[0]["jaccard"] == min(t["jaccard"] for t in top)
    csv_lines = (out / "results.csv").read_text().splitlines()
    assert csv_lines[0].split(",") == list(CSV_COLUMNS) and len(csv_lines) == 1 + 5
    page = (out / "report.html").read_text()
    assert "data:image/png;base64," in page and "http" not in page.replace("http-equiv", "")
    assert top[0]["id"] in page and "procrustes" in page


def test_errors_are_reported(tmp_path, spaces, capsys):
    assert main(["compare", str(tmp_path / "nope.npy"), str(tmp_path / "Y.npy")]) == 2
    assert "not found" in capsys.readouterr().err
    np.save(tmp_path / "short.npy", spaces[1][:100])
    assert main(["compare", str(tmp_path / "X.npy"), str(tmp_path / "short.npy")]) == 2
    assert "150 rows" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["compare", str(tmp_path / "X.npy"), str(tmp_path / "Y.npy"), "--measures", "bogus"])
    assert "available" in capsys.readouterr().err


def test_measures_command(capsys):
    assert main(["measures"]) == 0
    text = capsys.readouterr().out
    for name in ("nngs", "cknna", "linear_cka_debiased", "rbf_cka", "gulp", "procrustes"):
        assert name in text
    assert main(["measures", "--json"]) == 0
    infos = json.loads(capsys.readouterr().out)
    assert {d["name"]: d["higher_is_similar"] for d in infos}["gulp"] is False


