"""What the commands write: one result envelope per command, validated against the shipped JSON
Schema; ``--json`` prints the same document on standard output; ``-q`` prints nothing but errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pairspace.cli import main
from pairspace.envelope import validate


def _run_json(argv: list[str], capsys) -> dict:
    """Run a command with --json; return the document it printed (checked against its schema)."""
    capsys.readouterr()
    assert main([*argv, "--json"]) == 0
    out = capsys.readouterr().out
    doc = json.loads(out)  # nothing but the document on standard output
    validate(doc)
    assert doc["command"].startswith(f"pairspace {argv[0]} ") and doc["command"].endswith("--json")
    return doc


def _run_quiet(argv: list[str], capsys) -> None:
    capsys.readouterr()
    assert main([*argv, "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.fixture()
def spaces(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 6))
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", X @ rng.normal(size=(6, 5)) + 0.5 * rng.normal(size=(80, 5)))
    return tmp_path / "X.npy", tmp_path / "Y.npy"


def test_compare_json_quiet_and_schema(tmp_path: Path, spaces, capsys) -> None:
    x, y = spaces
    argv = ["compare", str(x), str(y), "--k", "3", "10", "--permutations", "9", "--out",
            str(tmp_path / "c")]
    doc = _run_json(argv, capsys)
    assert json.loads((tmp_path / "c" / "results.json").read_text()) == doc  # the same document
    assert doc["schema"] == "pairspace.compare/3" and doc["settings"]["ks"] == [3, 10]
    assert doc["inputs"]["x"]["size"] == x.stat().st_size and len(doc["inputs"]["y"]["sha256"]) == 64
    _run_quiet(argv, capsys)
    validate(tmp_path / "c" / "results.json")
    # errors still reach standard error with exit status 2 under -q
    assert main(["compare", str(x), str(tmp_path / "missing.npy"), "-q"]) == 2
    assert "missing.npy" in capsys.readouterr().err


def test_template_study_json_quiet_and_schema(tmp_path: Path, capsys) -> None:
    argv = ["template-study", "--synthetic", "--bootstrap", "20", "--out", str(tmp_path / "t")]
    doc = _run_json(argv, capsys)
    assert json.loads((tmp_path / "t" / "results.json").read_text()) == doc
    assert doc["inputs"]["templates_source"] == "synthetic model"
    _run_quiet(argv, capsys)
    from pairspace.studies.templates import TemplateStudyResult

    res = TemplateStudyResult.from_dict(doc)  # the typed object the document describes
    assert json.loads(json.dumps(res.to_dict())) == doc


def _analogy_files(tmp_path: Path) -> list[str]:
    """Vectors and questions of four categories whose pairs share an offset (plus noise)."""
    rng = np.random.default_rng(3)
    vec_lines, q_lines = [], []
    for c, noise in enumerate([0.05, 0.4, 1.0, 3.0]):
        offset = 3 * rng.normal(size=8)
        A = rng.normal(size=(8, 8))
        B = A + offset + noise * rng.normal(size=(8, 8))
        for i in range(8):
            vec_lines += [f"a{c}_{i} " + " ".join(map(repr, A[i].tolist())),
                          f"b{c}_{i} " + " ".join(map(repr, B[i].tolist()))]
        q_lines.append(f": cat{c}")
        q_lines += [f"a{c}_{i} b{c}_{i} a{c}_{j} b{c}_{j}" for i in range(8) for j in range(8) if i != j]
    (tmp_path / "v.txt").write_text("\n".join(vec_lines) + "\n")
    (tmp_path / "q.txt").write_text("\n".join(q_lines) + "\n")
    return ["--vectors", str(tmp_path / "v.txt"), "--questions", str(tmp_path / "q.txt"), "--k", "3",
            "--bootstrap", "30"]


def test_analogy_json_quiet_and_schema(tmp_path: Path, capsys) -> None:
    argv = ["analogy", *_analogy_files(tmp_path), "--out", str(tmp_path / "a")]
    doc = _run_json(argv, capsys)
    assert json.loads((tmp_path / "a" / "results.json").read_text()) == doc
    assert doc["schema"] == "pairspace.analogy/2" and doc["results"]["n_categories"] == 4
    assert doc["inputs"]["vectors"]["n_words"] == 64 and doc["settings"]["k"] == 3
    _run_quiet(argv, capsys)


def test_demo_json_is_the_analogy_document(tmp_path: Path, capsys, monkeypatch) -> None:
    # the GloVe demo runs the analogy study on the embedded data; here on small files in its place
    import pairspace.data.datasets.analogy_questions as aq
    import pairspace.data.datasets.word_vectors as wv

    extra = _analogy_files(tmp_path)
    real_vectors, real_questions = wv.load_vectors, aq.load_questions
    monkeypatch.setattr(wv, "load_vectors", lambda source, **kw: real_vectors(extra[1], **kw))
    monkeypatch.setattr(aq, "load_questions", lambda source: real_questions(extra[3]))
    doc = _run_json(["demo", "--out", str(tmp_path / "d")], capsys)
    assert doc["schema"] == "pairspace.analogy/2" and doc["command"].startswith("pairspace demo")
    assert json.loads((tmp_path / "d" / "results.json").read_text()) == doc
    _run_quiet(["demo", "--out", str(tmp_path / "d")], capsys)


def test_audio_demo_document_matches_its_schema() -> None:
    pytest.importorskip("torch")
    from pairspace.studies.audio_demo import MODELS, AudioDemoResult
    from pairspace.studies.template_runs import synthetic_template_study

    study = synthetic_template_study(n_boot=20)
    z = {"top1": 0.5, "top5": 1.0, "balanced_accuracy": 0.5, "chance": 0.25, "n": 8, "n_classes": 4}
    ret = {"R@1": 0.125, "R@5": 0.25, "R@10": 0.75, "mAP@10": 0.3, "median_rank": 3}
    res = AudioDemoResult(
        dataset={"root": "/d", "n_clips": 16, "n_captions": 32, "seen_classes": ["a", "b"],
                 "unseen_classes": ["c", "d", "e", "f"]},
        encoders={"audio": {"name": "logmel"}, "text": {"name": "minilm"}, "embeddings": {}},
        train_config={"epochs": 40},
        results={m: {"zeroshot": z, "zeroshot_family": z,
                     "retrieval": {"text_to_audio": ret, "audio_to_text": ret}} for m in MODELS},
        template_study=study, n_templates=13, timings_s={"total": 1.0})
    doc = json.loads(json.dumps(res.to_dict()))
    validate(doc)
    assert doc["results"]["template_study"]["schema"] == "pairspace.template_study/2"
    broken = {**doc, "results": {**doc["results"], "models": {}}}
    with pytest.raises(ValueError, match="results/models"):
        validate(broken)


def test_curate_json_quiet_and_schema(tmp_path: Path, capsys) -> None:
    pytest.importorskip("torch")
    import csv

    from pairspace.align import TrainConfig, train
    from pairspace.data.table import EmbeddingTable

    rng = np.random.default_rng(5)
    labels = [c for c in "abcd" for _ in range(8)]
    centers = {c: rng.normal(size=10) for c in "abcd"}
    A = np.array([centers[c] for c in labels]) + 0.3 * rng.normal(size=(32, 10))
    T = A @ rng.normal(size=(10, 7)) + 0.3 * rng.normal(size=(32, 7))
    a_ids, t_ids = [f"a{i}" for i in range(32)], [f"t{i}" for i in range(32)]
    EmbeddingTable(a_ids, A, labels).save(tmp_path / "audio.parquet")
    EmbeddingTable(t_ids, T, labels).save(tmp_path / "text.parquet")
    train(EmbeddingTable(a_ids, A, labels), EmbeddingTable(t_ids, T, labels),
          list(zip(a_ids[::2], t_ids[::2], strict=True)), tmp_path / "teacher",
          TrainConfig(head="linear", dim=6, dropout=0.0, epochs=3, batch_size=8, selection="last",
                      val_fraction=0.0), progress=False)
    out = tmp_path / "cur"
    argv = ["curate", "--teacher", str(tmp_path / "teacher"), "--audio", str(tmp_path / "audio.parquet"),
            "--text", str(tmp_path / "text.parquet"), "--tau-du", "q0.9", "--sweep", "q0.5", "q0.95",
            "q0.99", "--out", str(out)]
    doc = _run_json(argv, capsys)
    assert json.loads((out / "curation.json").read_text()) == doc
    assert doc["schema"] == "pairspace.curation/3" and doc["settings"]["methods"] == ["du"]
    assert doc["inputs"]["audio_table"]["size"] == (tmp_path / "audio.parquet").stat().st_size
    # precision per threshold against a count from the manifest and the true labels
    lab = dict(zip(a_ids + t_ids, labels + labels, strict=True))
    with open(out / "du.csv", newline="") as f:
        rows = [(float(r["similarity"]), lab[r["audio_id"]] == lab[r["text_id"]]) for r in csv.DictReader(f)]
    (st,) = doc["results"]["stats"]
    assert st["n_pairs"] == len(rows) > 0
    assert st["precision"] == pytest.approx(np.mean([same for _, same in rows]))
    for row in st["sweep"]:
        kept = [same for s, same in rows if s >= row["value"]]
        if row["value"] < st["threshold_value"]:
            assert row["precision"] is None
        else:
            assert row["n_pairs"] == len(kept)
            assert row["precision"] == (pytest.approx(np.mean(kept)) if kept else None)
    _run_quiet(argv, capsys)
    validate(out / "curation.json")
    broken = {**doc, "results": {**doc["results"], "stats": [{**st, "sweep": [{"threshold": 0.5}]}]}}
    with pytest.raises(ValueError, match="results/stats/0/sweep/0"):
        validate(broken)


def test_quiet_on_listing_commands(capsys) -> None:
    for argv in (["measures"], ["encoders", "--modality", "text"]):
        _run_quiet(argv, capsys)
    assert main(["measures"]) == 0 and "nngs" in capsys.readouterr().out


def _zeroshot_result(names: list[str], confusion: list[list[int]]):
    from pairspace.envelope import Envelope
    from pairspace.studies.zeroshot import SCHEMA, ZeroShotResult

    n = sum(map(sum, confusion))
    inputs = {"run": "r", "eval": {"path": "e.parquet", "size": 1, "sha256": None},
              "text_encoder": {"encoder": "minilm"}, "classes_source": "c.txt",
              "templates_source": "audio"}
    settings = {"protocol": {"name": "ensemble", "templates": None, "ensemble": True, "split": "all",
                             "description": "d"}, "templates": "audio", "n_templates": 2,
                "selection": "val"}
    recall = {c: (row[i] / sum(row) if sum(row) else None)
              for i, (c, row) in enumerate(zip(names, confusion, strict=True))}
    metrics = {"top1": sum(confusion[i][i] for i in range(len(names))) / n, "top5": 1.0,
               "balanced_accuracy": 0.5, "chance": 1 / len(names), "n": n,
               "n_classes": len(names), "split": {"kind": "all", "n": n}, "prompts": ["{}"],
               "classes": names, "confusion": confusion, "per_class": recall}
    return ZeroShotResult(settings, metrics, Envelope.new(SCHEMA, inputs))


def test_zeroshot_document_matches_its_schema_and_its_report_escapes(tmp_path: Path) -> None:
    from pairspace.report.zeroshot import write_zeroshot

    res = _zeroshot_result(["<b>x</b>", "dog", "cat"], [[2, 1, 0], [0, 3, 0], [1, 0, 0]])
    files = write_zeroshot(res, tmp_path / "z.json")
    doc = validate(files["json"])
    assert doc["schema"] == "pairspace.zeroshot/3" and doc["results"]["confusion"][0] == [2, 1, 0]
    assert set(files) == {"json", "confusion", "html"} and files["html"] == tmp_path / "z.html"
    page = files["html"].read_text()
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert page.count('src="data:image/png;base64,') == 1
    for broken in ({"confusion": [[2, -1, 0], [0, 3, 0], [1, 0, 0]]},  # a negative count
                   {"confusion": [[2.5, 1, 0], [0, 3, 0], [1, 0, 0]]}):  # a fraction, not a count
        bad = {**doc, "results": {**doc["results"], **broken}}
        with pytest.raises(ValueError, match="results/confusion"):
            validate(bad)
    no_matrix = {**doc, "results": {k: v for k, v in doc["results"].items() if k != "confusion"}}
    with pytest.raises(ValueError, match="confusion"):
        validate(no_matrix)


def test_confusion_plot_names_the_classes_up_to_its_limit() -> None:
    import matplotlib.pyplot as plt

    from pairspace.report.plots import MAX_CONFUSION_LABELS, plot_confusion

    for n, labeled in ((5, True), (MAX_CONFUSION_LABELS, True), (MAX_CONFUSION_LABELS + 1, False)):
        names = [f"class{i}" for i in range(n)]
        fig, ax = plt.subplots()
        m = np.arange(n * n).reshape(n, n)
        assert plot_confusion(m, names, ax=ax) is fig  # draws into the given axes
        ticks = [t.get_text() for t in ax.get_yticklabels()]
        assert ticks == (names if labeled else [])
        shown = ax.images[0].get_array()  # row-normalized: each row sums to one
        np.testing.assert_allclose(np.asarray(shown).sum(axis=1), 1.0)
        plt.close(fig)
