"""pairspace zeroshot --protocol msclap-p3 end to end on a tiny (untrained) run."""

import json

import numpy as np
import pytest
import torch
from oracles import LetterCounts

from pairspace.align.checkpoints import save_model
from pairspace.align.config import TrainConfig
from pairspace.align.model import AlignmentModel
from pairspace.cli import main
from pairspace.data.table import EmbeddingTable
from pairspace.encoders import Provenance, register
from pairspace.encoders.base import _REGISTRY
from pairspace.tasks.protocols import PROTOCOL_NAMES, PROTOCOLS

torch.set_num_threads(1)
NAMES = ["dog", "rooster", "pig", "cow", "frog"]


class Letters(LetterCounts):
    """A deterministic text stand-in (letter counts) registered for the CLI."""

    name = "test-letters"
    provenance = Provenance("test-letters", "synthetic")


if "test-letters" not in _REGISTRY:
    register("test-letters", "text")(lambda: Letters())


@pytest.fixture()
def tiny(tmp_path):
    torch.manual_seed(0)
    model = AlignmentModel(8, 26, "linear", 6).eval()
    run = tmp_path / "run"
    run.mkdir()
    save_model(run / "model.safetensors", model, TrainConfig(head="linear", dim=6),
               {"text_encoder": "test-letters"})
    rng = np.random.default_rng(0)
    n = 30
    folds = [1 + i % 3 for i in range(n)]
    labels = [NAMES[c] for c in rng.integers(0, len(NAMES), n)]
    X = rng.normal(size=(n, 8)).astype(np.float32)
    ids = [f"{folds[i]}-{200 + i}-A-{NAMES.index(labels[i])}.wav" for i in range(n)]
    EmbeddingTable(ids, X, labels, columns={"fold": folds}).save(tmp_path / "esc.parquet")
    (tmp_path / "classes.txt").write_text("\n".join(NAMES) + "\n")
    return tmp_path, run, model, X, labels, np.array(folds)


def test_msclap_p3_cli_per_fold_numbers(tiny, capsys):
    tmp_path, run, model, X, labels, folds = tiny
    out = tmp_path / "p3.json"
    assert main(["zeroshot", "--run", str(run), "--eval", str(tmp_path / "esc.parquet"), "--classes",
                 str(tmp_path / "classes.txt"), "--protocol", "msclap-p3", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    res = doc["results"]
    assert doc["settings"]["protocol"]["name"] == "msclap-p3"
    assert res["prompts"] == ["this is a sound of {}"]
    assert doc["settings"]["n_templates"] == 1 and res["split"]["folds"] == ["1", "2", "3"]
    # direct computation: project the clips and the one prompt per class, cosine argmax per fold
    W = model.project_b(Letters().encode(["this is a sound of " + c for c in NAMES]))
    pred = (model.project_a(X) @ W.T).argmax(1)
    y = np.array([NAMES.index(v) for v in labels])
    accs = [np.mean(pred[folds == f] == y[folds == f]) for f in (1, 2, 3)]
    for f, a in zip(("1", "2", "3"), accs, strict=True):
        assert res["per_fold"][f]["top1"] == pytest.approx(a, abs=1e-6)
    assert res["top1"] == pytest.approx(np.mean(accs), abs=1e-6)
    assert res["std"]["top1"] == pytest.approx(np.std(accs), abs=1e-6)
    assert "protocol msclap-p3" in capsys.readouterr().out


def test_protocol_and_templates_refusals(tiny, capsys):
    tmp_path, run, *_ = tiny
    base = ["zeroshot", "--run", str(run), "--eval", str(tmp_path / "esc.parquet"), "--classes",
            str(tmp_path / "classes.txt"), "--out", str(tmp_path / "z.json")]
    assert main(base + ["--protocol", "msclap-p3", "--templates", "audio"]) == 2
    assert "prescribes the template set 'msclap_p3'" in capsys.readouterr().err
    assert main(base) == 2  # the default protocol needs templates
    assert "needs templates" in capsys.readouterr().err
    assert not (tmp_path / "z.json").exists()
    # the default is unchanged (all items, the given templates) and says which protocol it used
    assert main(base + ["--templates", "audio"]) == 0
    doc = json.loads((tmp_path / "z.json").read_text())
    assert doc["settings"]["protocol"]["name"] == "ensemble" and doc["results"]["n"] == 30
    assert doc["settings"]["n_templates"] > 1
    assert set(PROTOCOL_NAMES) == set(PROTOCOLS)


def test_zeroshot_document_json_and_quiet(tiny, capsys):
    from pairspace.envelope import validate
    from pairspace.studies.zeroshot import ZeroShotResult

    tmp_path, run, *_ = tiny
    argv = ["zeroshot", "--run", str(run), "--eval", str(tmp_path / "esc.parquet"), "--classes",
            str(tmp_path / "classes.txt"), "--templates", "audio", "--out", str(tmp_path / "z.json")]
    capsys.readouterr()
    assert main([*argv, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert json.loads((tmp_path / "z.json").read_text()) == doc
    validate(doc)
    assert doc["schema"] == "pairspace.zeroshot/3" and doc["inputs"]["run"] == str(run)
    assert doc["inputs"]["eval"]["size"] == (tmp_path / "esc.parquet").stat().st_size
    assert ZeroShotResult.from_dict(doc).to_dict() == doc
    assert main([*argv, "-q"]) == 0
    assert capsys.readouterr().out == ""
    validate(tmp_path / "z.json")


def test_zeroshot_report_beside_the_document(tiny, capsys):
    from pairspace.envelope import validate

    tmp_path, run, model, X, labels, folds = tiny
    names = ["<b>x</b>", *NAMES[1:]]  # a class name that is markup
    (tmp_path / "odd.txt").write_text("\n".join(names) + "\n")
    table = EmbeddingTable([f"i{i}" for i in range(len(labels))], X,
                           [names[NAMES.index(v)] for v in labels], columns={"fold": list(folds)})
    table.save(tmp_path / "odd.parquet")
    assert main(["zeroshot", "--run", str(run), "--eval", str(tmp_path / "odd.parquet"), "--classes",
                 str(tmp_path / "odd.txt"), "--templates", "audio", "-q"]) == 0
    doc = validate(run / "zeroshot.json")
    res = doc["results"]
    assert res["classes"] == names
    assert [sum(r) for r in res["confusion"]] == [table.labels.count(c) for c in names]
    page = (run / "zeroshot.html").read_text()
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    assert 'src="data:image/png;base64,' in page and (run / "zeroshot-confusion.png").is_file()
    assert not (run / "report.html").exists()  # the run's training report is never replaced
    # an --out whose report would replace the run's own report.html is refused before any work
    assert main(["zeroshot", "--run", str(run), "--eval", str(tmp_path / "odd.parquet"), "--classes",
                 str(tmp_path / "odd.txt"), "--templates", "audio", "--out",
                 str(run / "report.json")]) == 2
    assert "report.html" in capsys.readouterr().err and not (run / "report.json").exists()
