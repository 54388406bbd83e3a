"""The audio demo's result object, its rendering by the CLI and its report files (no training)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("torch")

from pairspace.cli.demo import render_audio_demo, zeroshot_rows  # noqa: E402
from pairspace.studies.audio_demo import MODELS, SCHEMA, AudioDemoResult  # noqa: E402


class _Study:
    per_template = [{"template": "a sound of {}.", "nngs": 0.125, "accuracy": 0.5}]
    correlations = {"nngs": {"pearson": 0.33, "pearson_p": 0.28, "spearman": 0.46, "spearman_p": 0.1}}

    def to_dict(self) -> dict:
        return {"per_template": self.per_template, "correlations": self.correlations}


def _result() -> AudioDemoResult:
    def metrics(top1: float) -> dict:
        z = {"top1": top1, "top5": 0.5, "balanced_accuracy": top1, "chance": 0.25, "n": 8, "n_classes": 4}
        ret = {"R@1": 0.125, "R@5": 0.25, "R@10": 0.75, "mAP@10": 0.3, "median_rank": 3}
        return {"zeroshot": z, "zeroshot_family": {**z, "top1": 0.625},
                "retrieval": {"text_to_audio": ret, "audio_to_text": ret}}

    results = {label: metrics(0.125 * (i + 1)) for i, label in enumerate(MODELS)}
    return AudioDemoResult(
        dataset={"root": "/d", "n_clips": 16, "n_captions": 32, "seen_classes": ["a", "b"],
                 "unseen_classes": ["c", "d", "e", "f"]},
        encoders={"audio": {"name": "logmel"}, "text": {"name": "minilm"}, "embeddings": {}},
        train_config={"epochs": 40}, results=results, template_study=_Study(), n_templates=13,
        run_dirs={"infonce": "/o/run-infonce"},
        run_configs={"soft": {"loss": "soft", "teacher": "/o/run-infonce"}},
        timings_s={"total": 1.0}, threads=1)


def test_to_dict_is_the_versioned_document() -> None:
    doc = _result().to_dict()
    assert doc["schema"] == SCHEMA == "pairspace.audio_demo/2"
    assert doc["settings"]["unseen_classes"] == ["c", "d", "e", "f"] and doc["settings"]["threads"] == 1
    assert doc["results"]["models"]["trained, soft"]["zeroshot"]["top1"] == 0.375
    assert doc["settings"]["run_configs"]["soft"]["teacher"] == "/o/run-infonce"
    assert doc["results"]["template_study"]["correlations"]["nngs"]["pearson"] == 0.33
    assert doc["inputs"]["audio_encoder"] == {"name": "logmel"} and doc["inputs"]["n_clips"] == 16
    json.dumps(doc)  # serializable as is


def test_rendered_tables_show_every_model_and_number() -> None:
    res = _result()
    rows = zeroshot_rows(res.results)
    assert [r[0] for r in rows] == list(MODELS)
    assert rows[1][1:6] == (0.25, 0.5, 0.25, 0.25, 0.625)
    text = render_audio_demo(res)
    assert "Unseen instruments (4 classes, 8 clips; 13 templates ensembled)" in text
    # the model column is as wide as the longest label (the backbone-targets row)
    assert re.search(r"^trained, infonce +0\.250 ", text, re.M) and "a sound of {}.  0.125" in text
    assert re.search(r"^soft \(backbone targets, not the paper's\) +0\.500 ", text, re.M)
    assert "0.330" in text and "0.460" in text


def test_report_writes_json_and_template_report(tmp_path: Path, monkeypatch) -> None:
    import pairspace.report.templates as ts
    from pairspace.report.audio_demo import write_audio_demo

    def fake_report(study, out):
        out.mkdir(parents=True)
        (out / "report.md").write_text("x")
        return {"markdown": out / "report.md"}

    monkeypatch.setattr(ts, "write_template_report", fake_report)
    files = write_audio_demo(_result(), tmp_path / "out")
    assert json.loads(files["json"].read_text())["schema"] == SCHEMA
    assert files["template-study/markdown"] == tmp_path / "out" / "template-study" / "report.md"
