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
