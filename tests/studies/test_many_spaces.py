"""compare_many and the compare-many command: matrices, spectra, order, intervals, report files."""

from __future__ import annotations

import json

import numpy as np
import pytest

import pairspace
from pairspace.cli import main as cli_main
from pairspace.envelope import validate
from pairspace.report.many_spaces import docs_markdown, verdicts
from pairspace.studies.many_spaces import MEASURES, check_measures, compare_many, embed_texts


def _two_families(n: int = 200, seed: int = 0) -> dict[str, np.ndarray]:
    """Spaces a1, a2 (noisy copies of A) and b1, b2 (noisy copies of an unrelated B)."""
    rng = np.random.default_rng(seed)
    A, B = rng.normal(size=(n, 10)), rng.normal(size=(n, 10))
    return {"a1": A + 0.3 * rng.normal(size=A.shape), "b1": B + 0.3 * rng.normal(size=B.shape),
            "a2": A + 0.3 * rng.normal(size=A.shape), "b2": B + 0.3 * rng.normal(size=B.shape)}


def test_compare_many_matrices_spectra_order_and_intervals():
    sp = _two_families()
    res = compare_many(sp, [5, 20], 60, measures=MEASURES, bootstrap=300)
    names = list(sp)
    np.testing.assert_allclose(res.matrix("nngs", 5), pairspace.nngs_matrix(sp, 5), atol=1e-12)
    np.testing.assert_allclose(res.matrix("linear_cka"), pairspace.linear_cka_matrix(sp),
                               atol=1e-12)
    np.testing.assert_allclose(res.matrix("cknna", 20), pairspace.cknna_matrix(sp, 20), atol=1e-10)
    assert res.spectrum.nngs.shape == (60, 4, 4)
    # the dendrogram puts each family together
    o = res.order
    assert {frozenset(o[:2]), frozenset(o[2:])} == {frozenset({"a1", "a2"}), frozenset({"b1", "b2"})}
    doc = res.to_dict()
    assert doc["schema"] == "pairspace.compare_many/1"
    assert set(doc) >= {"pairspace_version", "created", "command", "inputs", "settings", "results"}
    for p in doc["results"]["pairs"]:
        a, b = names.index(p["a"]), names.index(p["b"])
        for at in p["at"]:
            assert at["ci_low"] <= at["nngs"] <= at["ci_high"]
            assert at["nngs"] == pytest.approx(res.spectrum.nngs[at["k"] - 1, a, b], abs=1e-12)
            assert at["normalized_low"] <= at["normalized"] <= at["normalized_high"]
        norm = res.spectrum.normalized[:, a, b]
        assert p["normalized_peak"] == pytest.approx(np.nanmax(norm))
        # the change of scale: the spectrum's difference, its interval paired over items
        sc = p["scale_change"]
        assert (sc["k_from"], sc["k_to"]) == (5, 20)
        assert sc["change"] == pytest.approx(norm[19] - norm[4], abs=1e-12)
        assert sc["change_low"] <= sc["change"] <= sc["change_high"]
        width = sc["change_high"] - sc["change_low"]
        unpaired = ((p["at"][0]["normalized_high"] - p["at"][0]["normalized_low"]) ** 2
                    + (p["at"][1]["normalized_high"] - p["at"][1]["normalized_low"]) ** 2) ** 0.5
        assert width < unpaired  # the two sizes share items: pairing narrows the interval
    same = [p for p in doc["results"]["pairs"] if p["a"][0] == p["b"][0]]
    cross = [p for p in doc["results"]["pairs"] if p["a"][0] != p["b"][0]]
    assert min(p["at"][0]["normalized_low"] for p in same) > 0.2
    assert all(p["at"][0]["normalized_low"] < 0.05 for p in cross)  # unrelated: near chance
    json.dumps(doc)  # JSON-ready
    text = " ".join(verdicts(doc))
    assert "reaches chance" in text and "k = 5" in text
    assert "From k = 5 to k = 20 the normalized NNGS" in text
    assert compare_many(sp, [5], 60, bootstrap=0).to_dict()["results"]["pairs"][0]["scale_change"] \
        is None


def test_same_seed_same_intervals_other_seed_other_intervals():
    sp = _two_families(n=80)
    a = compare_many(sp, [5], 20, bootstrap=200, seed=1).to_dict()["results"]["pairs"]
    b = compare_many(sp, [5], 20, bootstrap=200, seed=1).to_dict()["results"]["pairs"]
    c = compare_many(sp, [5], 20, bootstrap=200, seed=2).to_dict()["results"]["pairs"]
    assert a == b and a != c


def test_bad_settings_are_named():
    sp = _two_families(n=30)
    with pytest.raises(ValueError, match="unknown measure"):
        check_measures(["nngs", "procrustes"])
    with pytest.raises(ValueError, match="bootstrap"):
        compare_many(sp, [3], 10, bootstrap=1)
    with pytest.raises(ValueError, match="out of range"):
        compare_many(sp, [30], 10)


def test_docs_markdown_escapes_names_and_has_every_pair():
    sp = {"<b>x|y</b>": _two_families(n=60)["a1"], "plain": _two_families(n=60)["a2"]}
    doc = compare_many(sp, [5], 20, bootstrap=50).to_dict()
    md = docs_markdown(doc)
    assert "<b>" not in md and "&lt;b&gt;x\\|y&lt;/b&gt;" in md
    assert md.count("| &lt;b&gt;x\\|y&lt;/b&gt; / plain |") == 1


def test_embed_texts_splits_layers_into_spaces():
    class Layered:
        layer_names = ["layer0", "layer1"]

        def encode(self, items, batch_size=32, progress=None):
            return np.arange(len(items) * 6, dtype=np.float32).reshape(len(items), 2, 3)

    from pairspace.encoders.base import ENCODERS

    ENCODERS.register("test-layered", lambda: Layered(), modality="text", description="test",
                      replace=True)
    out = embed_texts(["a", "b"], ["test-layered"])
    assert list(out) == ["test-layered:layer0", "test-layered:layer1"]
    np.testing.assert_array_equal(out["test-layered:layer1"], [[3, 4, 5], [9, 10, 11]])
    with pytest.raises(ValueError, match="used twice"):
        embed_texts(["a", "b"], ["test-layered"], existing={"test-layered:layer0": None})


def test_cli_writes_the_report(tmp_path, capsys):
    sp = _two_families(n=120)
    paths = []
    for name, X in sp.items():
        paths.append(str(tmp_path / f"{name}.npy"))
        np.save(paths[-1], X)
    out = tmp_path / "rep"
    rc = cli_main(["compare-many", *paths, "--k", "5", "10", "--k-max", "40", "--bootstrap", "100",
                   "--measures", "nngs", "cknna", "--out", str(out), "--json", "-q"])
    assert rc == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["results"]["names"] == ["a1", "b1", "a2", "b2"]
    doc = json.loads((out / "results.json").read_text())
    assert doc == printed  # --json prints the file's document
    validate(doc)  # the shipped pairspace.compare_many/1 schema
    assert doc["command"].startswith("pairspace compare-many ") and doc["command"].endswith("-q")
    assert doc["inputs"]["files"]["b2"]["size"] == (tmp_path / "b2.npy").stat().st_size
    assert len(doc["inputs"]["files"]["a1"]["sha256"]) == 64
    with pytest.raises(ValueError, match="results/pairs"):
        validate({**doc, "results": {**doc["results"], "pairs": {}}})
    np.testing.assert_allclose(doc["results"]["matrices"][1]["values"],
                               pairspace.nngs_matrix(sp, 10), atol=1e-12)
    for f in ("matrices.csv", "pairs.csv", "heatmaps.png", "spectra.png", "dendrogram.png"):
        assert (out / f).stat().st_size > 0
    import csv

    rows = list(csv.DictReader((out / "pairs.csv").open()))
    assert len(rows) == 6 * 2 and {r["change_k_to"] for r in rows} == {"10"}
    first = doc["results"]["pairs"][0]
    assert float(rows[0]["change"]) == pytest.approx(first["scale_change"]["change"], abs=1e-9)
    html = (out / "report.html").read_text()
    assert "data:image/png;base64" in html and "pairspace.compare_many/1" in html
    # -q prints nothing; without --json the tables name every space
    assert cli_main(["compare-many", *paths[:2], "--k", "5", "--bootstrap", "0", "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert cli_main(["compare-many", *paths[:3], "--k", "5", "--bootstrap", "0"]) == 0
    text = capsys.readouterr().out
    assert "normalized nngs at k = 5" in text and "a2" in text and "order (" in text


def test_cli_embeds_texts_with_provenance(tmp_path, capsys):
    """--texts with --encoders: one space per encoder (and per layer), the text file recorded."""
    class Layered:
        layer_names = ["layer0", "layer1", "layer2"]

        def encode(self, items, batch_size=32, progress=None):
            rng = np.random.default_rng(len(items))
            base = rng.normal(size=(len(items), 1, 4))
            return base + 0.1 * rng.normal(size=(len(items), 3, 4))

    from pairspace.encoders.base import ENCODERS

    ENCODERS.register("test-layered3", lambda: Layered(), modality="text", description="test",
                      replace=True)
    texts = tmp_path / "t.txt"
    texts.write_text("\n".join(f"w{i}" for i in range(40)) + "\n\n")
    assert cli_main(["compare-many", "--texts", str(texts), "--encoders", "m=test-layered3",
                     "--k", "3", "--k-max", "10", "--bootstrap", "0", "--json"]) == 0
    doc = validate(json.loads(capsys.readouterr().out))
    assert doc["results"]["names"] == ["m:layer0", "m:layer1", "m:layer2"]
    assert doc["inputs"]["texts"]["n_items"] == 40 and doc["inputs"]["n"] == 40
    assert doc["inputs"]["encoders"]["m"]["encoder"] == "test-layered3"
    assert doc["inputs"]["encoders"]["m"]["spaces"] == doc["results"]["names"]


@pytest.mark.parametrize("argv, match", [
    (["compare-many", "only.npy"], "No such file|not found|at least 2"),
    (["compare-many", "--encoders", "minilm"], "--texts"),
    (["compare-many", "a.npy", "b.npy", "--seeds", "0", "1"], "one seed"),
    (["compare-many", "--texts", "t.txt", "--encoders", "minilm", "--option", "x:a=1"],
     "NAME:KEY=VALUE"),
])
def test_cli_errors(tmp_path, monkeypatch, capsys, argv, match):
    monkeypatch.chdir(tmp_path)
    assert cli_main(argv) == 2
    import re

    assert re.search(match, capsys.readouterr().err)
