"""The audio demo's training runs: the soft row follows arXiv 2305.01864 (a trained, frozen teacher,
the student initialized from it); the backbone-targets variant is labeled as not the paper's."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from pairspace.align import TrainConfig, load_model  # noqa: E402
from pairspace.data.table import EmbeddingTable  # noqa: E402
from pairspace.studies.audio_demo import DEMO_CONFIG, MODELS, RUNS, run_config, train_models  # noqa: E402

torch.set_num_threads(1)


def test_soft_row_is_the_papers_protocol_and_the_variant_is_labeled() -> None:
    cfg = run_config(DEMO_CONFIG, "soft", {"infonce": "/o/run-infonce"})
    assert (cfg.loss, cfg.soft_targets, cfg.teacher, cfg.init_from_teacher) == (
        "soft", "teacher", "/o/run-infonce", True)
    assert cfg.beta == 0.3 and cfg.epochs == DEMO_CONFIG.epochs
    variant = run_config(DEMO_CONFIG, "soft-backbone", {})
    assert (variant.soft_targets, variant.teacher, variant.init_from_teacher) == ("backbone", None, False)
    assert run_config(DEMO_CONFIG, "infonce", {}).loss == "infonce"
    labels = {run: label for label, run in MODELS.items()}
    assert "not the paper's" in labels["soft-backbone"]
    assert "backbone" not in labels["soft"]


def test_every_teacher_is_trained_before_its_student() -> None:
    order = [run for run in MODELS.values() if run is not None]
    assert sorted(order) == sorted(RUNS)
    for run, settings in RUNS.items():
        if "teacher" in settings:
            assert order.index(settings["teacher"]) < order.index(run)


class _Set:
    """The one method of an InstrumentSet that training uses."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def pairs(self, split: str) -> list[tuple[str, str]]:
        assert split == "seen"
        return self._pairs


def test_train_models_trains_the_student_from_the_infonce_teacher(tmp_path: Path, caplog) -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 6)
    P = rng.normal(size=(4, 6))
    A = P[labels] @ rng.normal(size=(6, 10)) + 0.2 * rng.normal(size=(24, 10))
    T = P[labels] @ rng.normal(size=(6, 8)) + 0.2 * rng.normal(size=(24, 8))
    audio = EmbeddingTable([f"x{i}" for i in range(24)], A, [str(c) for c in labels])
    text = EmbeddingTable([f"c{i}" for i in range(24)], T)
    config = TrainConfig(head="linear", dim=4, epochs=2, batch_size=8, selection="last",
                         val_fraction=0.0, seed=3)
    ds = _Set(list(zip(audio.ids, text.ids, strict=True)))
    with caplog.at_level(logging.INFO, logger="pairspace"):
        models, run_dirs, configs = train_models(audio, text, ds, tmp_path, config, progress=False)
    lines = [r.getMessage() for r in caplog.records]
    assert list(models) == list(MODELS)
    assert run_dirs["infonce"] == str(tmp_path / "run-infonce")
    written = json.loads((tmp_path / "run-soft" / "config.json").read_text())
    assert written["teacher"]["path"].startswith(str(tmp_path / "run-infonce"))
    assert configs["soft"]["teacher"] == run_dirs["infonce"] and configs["soft"]["init_from_teacher"]
    assert configs["soft-backbone"]["soft_targets"] == "backbone"
    assert "teacher" not in json.loads((tmp_path / "run-soft-backbone" / "config.json").read_text())
    assert any("soft heads (soft loss, teacher " in line for line in lines)
    # the student was trained: it no longer holds its teacher's weights
    teacher, student = load_model(run_dirs["infonce"])[0], load_model(run_dirs["soft"])[0]
    t, s = teacher.state_dict(), student.state_dict()
    assert any(not torch.equal(t[k], s[k]) for k in t)
