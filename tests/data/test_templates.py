"""Template sets and class-name lists shipped as package data."""

import pytest

from pairspace.data.templates import (
    TemplateSet,
    available_template_sets,
    clean_class_name,
    load_class_names,
    load_templates,
)


def test_clip_cifar_templates():
    ts = load_templates("cifar100_clip")
    assert len(ts) == 18
    assert ts.templates[0] == "a photo of a {}." and ts.templates[-1] == "a photo of the big {}."
    assert set(ts.groups) == {"a", "the"}
    neg = load_templates("cifar100_clip_not")
    assert [t for t in neg.templates] == ["not " + t for t in ts.templates]
    both = load_templates("cifar100_clip+cifar100_clip_not")
    assert len(both) == 36 and both.groups[18:] == neg.groups
    assert {"cifar100_clip", "cifar100_clip_not", "audio", "audio_not"} <= set(available_template_sets())
    assert "this is a sound of {}." in load_templates("audio").templates


def test_cifar100_class_names():
    names = load_class_names("cifar100_clip")
    assert len(names) == 100 and len(set(names)) == 100
    assert names[:2] == ["apple", "aquarium fish"] and "sweet pepper" in names and names[-1] == "worm"


def test_user_files(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("# comment\nthe {} sound\n\na {}\n")
    ts = load_templates(p)
    assert ts.templates == ("the {} sound", "a {}")
    (tmp_path / "bad.json").write_text('{"nope": 1}')
    with pytest.raises(ValueError, match="not a template file"):
        load_templates(tmp_path / "bad.json")
    with pytest.raises(FileNotFoundError):
        load_templates(tmp_path / "missing.json")
    with pytest.raises(ValueError, match="unknown template set"):
        load_templates("nope")
    with pytest.raises(ValueError, match="placeholder"):
        TemplateSet("x", ("no slot",), ("",))
    (tmp_path / "names.txt").write_text("dog\ncat\n")
    assert load_class_names(tmp_path / "names.txt") == ["dog", "cat"]
    assert clean_class_name("  lawn_mower ") == "lawn mower"


def test_shipped_names_are_never_shadowed_by_the_working_folder(tmp_path, monkeypatch):
    """Issue 14: ./cifar100_clip (a file) and ./audio (a folder) must not replace the shipped sets."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cifar100_clip").write_text("\n".join(f"my {i} {{}}" for i in range(5)) + "\n")
    (tmp_path / "audio").mkdir()
    ts = load_templates("cifar100_clip")
    assert len(ts) == 18 and ts.source == "shipped set 'cifar100_clip'"
    assert len(load_templates("audio")) == 13
    assert len(load_templates("cifar100_clip+audio")) == 31
    mine = load_templates("./cifar100_clip")  # a file is a path: ./ or a suffix
    assert len(mine) == 5 and mine.source.startswith("file ") and mine.source.endswith("cifar100_clip")
    with pytest.raises(ValueError, match="is a folder"):
        load_templates("./audio")
    with pytest.raises(ValueError, match=r"unknown template set 'mine'.*\./mine"):
        load_templates("mine")
    (tmp_path / "cifar100_clip.txt").write_text("dog\ncat\ncow\n")
    names = load_class_names("cifar100_clip")
    assert len(names) == 100 and names.source == "shipped list 'cifar100_clip'"
    assert load_class_names("cifar100_clip.txt") == ["dog", "cat", "cow"]
    assert load_class_names("./cifar100_clip.txt").source.startswith("file ")
    with pytest.raises(ValueError, match="unknown class-name list 'names'"):
        load_class_names("names")


def test_template_file_formats_by_suffix(tmp_path):
    (tmp_path / "t.txt").write_text("{} barks\n")  # starts with '{' but is a .txt: one per line
    assert load_templates(tmp_path / "t.txt").templates == ("{} barks",)
    (tmp_path / "plain").write_text('{"templates": [{"text": "a {}", "group": "g"}]}')
    ts = load_templates(tmp_path / "plain")  # no suffix: sniffed as JSON
    assert ts.templates == ("a {}",) and ts.groups == ("g",)


def test_nngs53_has_the_papers_53_templates_in_three_groups() -> None:
    from collections import Counter

    from pairspace.data.templates import load_templates

    t = load_templates("nngs53")
    assert len(t) == 53 and len(set(t.templates)) == 53
    assert Counter(t.groups) == {"positive": 18, "negation": 18, "film-music": 17}
    clip = load_templates("cifar100_clip").templates
    pos = [x for x, g in zip(t.templates, t.groups, strict=True) if g == "positive"]
    neg = [x for x, g in zip(t.templates, t.groups, strict=True) if g == "negation"]
    assert pos == list(clip) and neg == ["not " + x for x in clip]
    assert "We must take the {} to Mordor!" in t.templates
    assert all(x.count("{}") == 1 for x in t.templates)
