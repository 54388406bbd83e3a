"""A small end-to-end audit on synthetic tables, its files, and escaping in HTML and CSV."""

import csv
import json

import pytest

from pairspace.studies.audit import SCHEMA, ControlSettings, run
from pairspace.studies.audit.synthetic import synthetic_inputs


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    from pairspace.align import TrainConfig

    inp = synthetic_inputs(n_seen=12, n_unseen=6, clips=8, noise=1.0, leak_fraction=0.3, seed=2)
    bad = "<script>alert(1)</script> & =SUM(A1)"
    tid = inp.pairs[0][1]
    inp.captions[tid] = f"{bad} like a {inp.classes[0]}"
    inp.label_sets = {"tags": ["Mike", "sierra tango", "rock"]}
    cfg = TrainConfig(head="linear", dim=16, epochs=4, batch_size=32, lr=3e-3, val_fraction=0.1)
    out = tmp_path_factory.mktemp("audit")
    res = run(inp, controls=ControlSettings(cfg, seeds=(0, 1), out=out / "runs"))
    return inp, res, out, bad


@pytest.mark.filterwarnings("ignore::pairspace.TiedNeighborsWarning")  # constructed clips repeat rows
def test_envelope(audited):
    _, res, _, _ = audited
    env = res.to_dict()
    assert set(env) == {"schema", "pairspace_version", "created", "command", "inputs", "settings", "results"}
    assert env["schema"] == SCHEMA == "pairspace.audit/2"
    assert env["settings"]["seeds"] == [0, 1] and env["results"] == res.doc


def test_document_sections(audited):
    inp, res, _, _ = audited
    d = res.doc
    for key in ("caption_leaks", "source_overlap", "label_overlap", "separability", "nngs", "controls",
                "attribution", "verdict", "gzsl", "zeroshot", "maps", "text_separability"):
        assert key in d, key
    truth = {t for _, t in inp.pairs if " like a " in inp.captions[t]}
    assert d["caption_leaks"]["n_flagged_lexical_texts"] == len(truth)
    assert {r["id"] for r in d["caption_leaks"]["leaks"] if r["kind"] == "exact"} == truth
    assert set(d["controls"]["controls"]) == {"full", "clean", "shuffled", "untrained"}
    assert set(d["separability"]) == {"audio backbone", "projected"}
    assert len(d["maps"]["audio backbone"]) == len(inp.eval_ids)
    assert d["label_overlap"]["tags"]["n_equal"] == 1  # mike
    assert 0 <= d["gzsl"]["harmonic_mean"] <= 1
    assert any("chance interval" in s for s in d["verdict"])
    # a split fixed by the user: the same unseen classes for every seed, the seeds vary the training
    sp = d["controls"]["splits"]
    assert [s["seed"] for s in sp] == [0, 1] and sp[0]["unseen_classes"] == sp[1]["unseen_classes"]
    ts = d["text_separability"]
    assert set(ts) == {"prompts", "captions"} and set(ts["prompts"]) == {"n", "backbone", "projected"}
    assert ts["prompts"]["n"] == 3 * len(inp.classes)


def test_report_files_and_escaping(audited):
    from pairspace.report.audit import write_audit_report

    _, res, out, bad = audited
    files = write_audit_report(res.to_dict(), out / "report")
    for name in ("audit.json", "report.html", "caption_leaks.csv", "per_class.csv", "controls.csv",
                 "controls.png", "map_audio_backbone.png", "map_projected.png",
                 "separability_vs_zeroshot.png"):
        assert (out / "report" / name).stat().st_size > 0, name
    assert json.loads(files["json"].read_text())["schema"] == "pairspace.audit/2"
    page = files["html"].read_text()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; =SUM(A1)" in page
    with open(files["caption_leaks"], newline="") as f:
        texts = [r["text"] for r in csv.DictReader(f)]
    assert any(t.startswith("<script>") for t in texts)  # CSV keeps the text, quoted by csv


def test_html_escapes_class_names(audited):
    from pairspace.report.audit import report_html

    _, res, _, _ = audited
    env = json.loads(json.dumps(res.to_dict()))
    d = env["results"]
    evil = '<b onmouseover="x">'
    d["caption_leaks"]["per_class"][evil] = d["caption_leaks"]["per_class"].pop(d["classes"][0])
    d["classes"][0] = evil
    page = report_html(env, {})
    assert evil not in page and "&lt;b onmouseover=&quot;x&quot;&gt;" in page


def test_csv_defuses_formulas(tmp_path):
    from pairspace.report.audit_tables import write_csv

    p = write_csv(tmp_path / "t.csv", ("a", "b"), [{"a": "=1+1", "b": "plain, with comma"}])
    rows = list(csv.DictReader(open(p, newline="")))
    assert rows == [{"a": "'=1+1", "b": "plain, with comma"}]


def test_bad_inputs():
    inp = synthetic_inputs()
    inp.captions.pop(inp.pairs[0][1])
    with pytest.raises(ValueError, match="no caption text"):
        run(inp)
    inp = synthetic_inputs()
    inp.eval_ids = inp.eval_ids + ["nope"]
    inp.eval_labels = inp.eval_labels + [inp.classes[0]]
    with pytest.raises(ValueError, match="not in the table"):
        run(inp)


def test_docs_markdown_renders_every_number_from_the_document(audited):
    from pairspace.report.audit import docs_markdown

    _, res, _, _ = audited
    env = json.loads(json.dumps(res.to_dict()))  # what the docs build reads back from audit.json
    md = docs_markdown(env)
    ctl = env["results"]["controls"]["controls"]
    for name, s in ctl.items():
        acc = s["accuracy"]
        cell = f"{acc['estimate']:.3f} [{acc['ci_low']:.3f}, {acc['ci_high']:.3f}]"
        assert f"| {name} | {s['n_pairs']} | {cell}" in md
        if "vs_full" in s:
            d = s["vs_full"]
            cell = f"{d['estimate']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]"
            assert f"{cell} | {d['p_value']:.1e} |" in md
    for v in env["results"]["verdict"]:
        assert v.replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|") in md
    for s in env["results"]["controls"]["splits"]:
        assert f"| {s['seed']} | {len(s['unseen_classes'])} | {s['n_pairs']} | {s['n_flagged']} |" in md


def test_audit_plot_draws_into_a_given_axes(tmp_path):
    import matplotlib.pyplot as plt

    from pairspace.report.audit_plots import plot_nngs

    curves = {"a": {"k": [1, 2, 3], "nngs": [0.2, 0.4, 0.5], "chance": [0.1, 0.2, 0.3], "n": 9},
              "b": {"k": [1, 2, 3], "nngs": [0.3, 0.3, 0.6], "chance": [0.1, 0.2, 0.3], "n": 9}}
    fig, (ax0, ax1) = plt.subplots(2)
    assert plot_nngs(curves, ax=ax1) is fig and not ax0.lines
    assert [list(ln.get_ydata()) for ln in ax1.lines] == [[0.2, 0.4, 0.5], [0.3, 0.3, 0.6], [0.1, 0.2, 0.3]]
    plt.close(fig)
    out = plot_nngs(curves, tmp_path / "n.png")  # the former call: a new figure, saved
    assert (tmp_path / "n.png").read_bytes()[:4] == b"\x89PNG" and len(out.axes[0].lines) == 3
