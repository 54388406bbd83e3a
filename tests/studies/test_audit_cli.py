"""``pairspace audit``: bad input gives a clear error and exit code 2; a small run on user tables."""

import json

import numpy as np
import pytest

from pairspace.cli import main
from pairspace.envelope import validate


def test_out_is_a_file_and_missing_inputs(tmp_path, capsys):
    f = tmp_path / "file.txt"
    f.write_text("x")
    assert main(["audit", "--out", str(f)]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert main(["audit", "--out", str(tmp_path / "o")]) == 2
    assert "without --demo, give --audio" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:  # the choices come from studies.audit.controls.CONTROLS
        main(["audit", "--controls", "full", "bogus", "--out", str(tmp_path / "o")])
    assert e.value.code == 2
    assert "invalid choice: 'bogus'" in capsys.readouterr().err


@pytest.mark.parametrize("opt", [["--seeds", "x"], ["--threshold", "1.5"], ["--epochs", "x"]])
def test_numeric_options_are_checked_by_the_parser(opt, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["audit", *opt, "--out", str(tmp_path)])
    assert e.value.code == 2
    assert f"argument {opt[0]}" in capsys.readouterr().err


def test_audit_on_user_tables(tmp_path, capsys):
    from pairspace.data.table import EmbeddingTable
    from pairspace.encoders import get

    rng = np.random.default_rng(0)
    classes = ["oboe", "violin", "tuba", "harp", "flute"]
    seen = ["drum", "bell"]
    ids, vec, lab = [], [], []
    for c, name in enumerate(classes + seen):
        for j in range(6):
            ids.append(f"{name}-{j}")
            lab.append(name)
            vec.append(np.eye(8)[c] + 0.1 * rng.normal(size=8))
    source = [f"fs{i % 20}" for i in range(len(ids))]  # ids 0..19 recur: shared sources
    EmbeddingTable(ids, np.array(vec), lab, columns={"source_id": source}).save(tmp_path / "audio.parquet")
    caps = {f"{s}-{j}-c": f"a {s} and an oboe" if j == 0 else f"a {s} playing"
            for s in seen for j in range(6)}
    enc = get("minilm")
    T = enc.encode(list(caps.values()), progress=False)
    EmbeddingTable(list(caps), T).save(tmp_path / "text.parquet")
    (tmp_path / "captions.csv").write_text("text_id,text\n" + "".join(f"{k},{v}\n" for k, v in caps.items()))
    (tmp_path / "pairs.csv").write_text("audio_id,text_id\n" + "".join(f"{k[:-2]},{k}\n" for k in caps))
    (tmp_path / "classes.txt").write_text("\n".join(classes))
    out = tmp_path / "audit"
    rc = main(["audit", "--audio", str(tmp_path / "audio.parquet"), "--text", str(tmp_path / "text.parquet"),
               "--pairs", str(tmp_path / "pairs.csv"), "--captions", str(tmp_path / "captions.csv"),
               "--classes", str(tmp_path / "classes.txt"), "--controls", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    env = json.loads((out / "audit.json").read_text())
    assert env["schema"] == "pairspace.audit/2"
    doc = env["results"]
    assert doc["caption_leaks"]["classes_with_lexical_leaks"] == ["oboe"]
    assert doc["caption_leaks"]["per_class"]["oboe"]["exact"] == 2
    assert doc["separability"]["audio backbone"]["knn_accuracy"] == 1.0
    assert doc["source_overlap"]["shared_sources"]["n_shared"] == 12  # rows 30..41: fs10..fs19, fs0, fs1
    assert (out / "report.html").exists() and "Verdict" in capsys.readouterr().out
    # --json prints the file's document (valid against the shipped schema); -q prints nothing
    argv = ["audit", "--audio", str(tmp_path / "audio.parquet"), "--text", str(tmp_path / "text.parquet"),
            "--pairs", str(tmp_path / "pairs.csv"), "--captions", str(tmp_path / "captions.csv"),
            "--classes", str(tmp_path / "classes.txt"), "--controls", "--out", str(tmp_path / "a2")]
    assert main([*argv, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((tmp_path / "a2" / "audit.json").read_text())
    validate(printed)
    assert printed["command"].startswith("pairspace audit ")
    assert main([*argv, "-q"]) == 0
    assert capsys.readouterr().out == ""
