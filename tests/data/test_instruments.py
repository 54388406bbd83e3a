import re
import time

import numpy as np
import pytest
import soundfile as sf

from pairspace.data.datasets.instruments import (
    FAMILIES,
    caption,
    instrument_classes,
    render_instruments,
    seen_unseen_split,
)


def test_classes_cover_general_midi():
    classes = instrument_classes()
    names = [c.name for c in classes]
    assert len(names) == len(set(names))
    programs = sorted(p for c in classes for p in c.programs)
    assert programs == list(range(128))  # every melodic program renders some class
    keys = sorted(k for c in classes for k in c.kit_keys)
    assert keys == list(range(35, 82))  # the whole GM percussion map
    for fx in ("seashore", "bird tweet", "telephone ring", "helicopter", "applause", "gunshot"):
        assert fx in names
    fams = {c.family for c in classes}
    assert set(FAMILIES) <= fams and {"drum kit", "hand percussion"} <= fams


def test_split_is_deterministic_and_per_family():
    classes = instrument_classes()
    a, b = seen_unseen_split(classes, 0.25, seed=0), seen_unseen_split(classes, 0.25, seed=0)
    assert a == b and seen_unseen_split(classes, 0.25, seed=1) != a
    for fam in {c.family for c in classes}:
        members = [c.name for c in classes if c.family == fam]
        states = {a[m] for m in members}
        if len(members) >= 2:
            assert states == {"seen", "unseen"}, fam
    frac = sum(v == "unseen" for v in a.values()) / len(a)
    assert 0.2 < frac < 0.32


def test_caption_grammar_varies():
    cls = next(c for c in instrument_classes() if c.name == "cello")
    clip = {"pattern": "single", "dynamics": "soft", "length": "long", "register": "low", "program": 42}
    rng = np.random.default_rng(0)
    caps = {caption(cls, clip, rng) for _ in range(60)}
    assert len(caps) > 20
    starts = {c.split()[0].lower() for c in caps}
    assert len(starts) >= 4  # varied word order, not one template
    for c in caps:
        assert re.search(r"cello", c, re.I)
        assert re.search(r"soft|quiet|gentl", c, re.I)
        assert re.search(r"low|deep", c, re.I)


def test_render_a_few_instruments_and_cache(tmp_path):
    chosen = ["cello", "seashore", "snare drum", "agogo"]
    t0 = time.perf_counter()
    ds = render_instruments(tmp_path, clips_per_class=4, classes=chosen, progress=False)
    assert time.perf_counter() - t0 < 20
    assert len(ds.clips) == 16 and len(ds.captions) == 32
    assert sorted(ds.class_names()) == sorted(chosen)
    split = seen_unseen_split(instrument_classes())
    for c in ds.clips:
        assert c["split"] == split[c["instrument"]]
        x, sr = sf.read(ds.root / c["path"])
        assert sr == 16000 and x.shape == (32000,)
        assert np.abs(x).max() > 0.01, c  # not silent
    # agogo alternates between the melodic program and the kit sounds
    agogo = [c for c in ds.clips if c["instrument"] == "agogo"]
    assert {int(c["program"]) for c in agogo} == {113, -1}
    # loudness follows the velocity within one instrument
    cello = sorted((c for c in ds.clips if c["instrument"] == "cello"), key=lambda c: int(c["velocity"]))
    assert int(cello[0]["velocity"]) < int(cello[-1]["velocity"])
    assert {c["audio_id"] for c in ds.captions} == {c["audio_id"] for c in ds.clips}
    assert all(a for a, _ in ds.pairs(None))
    t0 = time.perf_counter()
    again = render_instruments(tmp_path, clips_per_class=4, classes=chosen, progress=False)
    assert again.root == ds.root and time.perf_counter() - t0 < 1.0
    x0, _ = sf.read(ds.root / ds.clips[0]["path"])
    fresh = render_instruments(tmp_path / "other", clips_per_class=4, classes=chosen, progress=False)
    x1, _ = sf.read(fresh.root / fresh.clips[0]["path"])
    np.testing.assert_array_equal(x0, x1)  # rendering is deterministic
    assert [c["text"] for c in fresh.captions] == [c["text"] for c in ds.captions]
    with pytest.raises(ValueError, match="unknown instruments"):
        render_instruments(tmp_path, classes=["theremin"])


def _digest(ds, files=("clips.csv", "captions.csv", "classes.csv", "info.json")):
    import hashlib

    h = hashlib.sha256()
    for name in files:
        h.update((ds.root / name).read_bytes())
    for c in ds.clips:
        h.update((ds.root / c["path"]).read_bytes())
    return h.hexdigest()


def test_tables_come_from_data_files_and_renders_are_unchanged(tmp_path):
    """The General MIDI tables moved to resources/instruments/*.csv: every class, synonym, split,
    caption and audio byte is what the tables in code produced (digests taken before the move)."""
    import hashlib
    import json

    from pairspace.data.datasets.instruments import gm_percussion, gm_programs

    assert len(gm_programs()) == 128 and len(gm_percussion()) == 26
    classes = instrument_classes()
    blob = json.dumps([[c.name, c.family, list(c.synonyms), list(c.programs), list(c.kit_keys)]
                       for c in classes]).encode()
    assert hashlib.sha256(blob).hexdigest() == \
        "f061041e00a16b091db335688b38e774e63137dec2e9ef68e2f5b9f3f216c0ca"
    assert hashlib.sha256(json.dumps(FAMILIES).encode()).hexdigest() == \
        "948be96868e2b72c492db1f2a5a436c05f70c22603b8e11f4a5d4df960cb1953"
    split = json.dumps(seen_unseen_split(classes), sort_keys=True).encode()
    assert hashlib.sha256(split).hexdigest() == \
        "2b999db2f1df7d252258c25b165e05914b1baa30d8882e90fa8533db723c237f"
    ds = render_instruments(tmp_path, clips_per_class=3, progress=False,
                            classes=["cello", "seashore", "snare drum", "agogo", "slap bass"])
    assert ds.root.name == "instruments-v2-48f4951f259e"
    assert _digest(ds) == "e2605957a1dfc04452034bd60bdc41725a5fae663cacdb3ebeda4b474fa603e9"


def test_render_writes_the_command_line_route_files(tmp_path, capsys):
    import csv

    from pairspace.cli import main
    from pairspace.data.datasets.instruments import load_instruments, write_route_files

    chosen = ["cello", "viola", "seashore", "snare drum", "agogo"]
    ds = render_instruments(tmp_path, clips_per_class=2, classes=chosen, progress=False)
    with open(ds.root / "seen_pairs.csv", newline="") as f:
        pairs = [(r["audio_id"], r["text_id"]) for r in csv.DictReader(f)]
    assert pairs == ds.pairs("seen") and pairs
    assert (ds.root / "unseen.txt").read_text().splitlines() == ds.class_names("unseen")
    assert (ds.root / "seen.txt").read_text().splitlines() == ds.class_names("seen")
    for split in ("seen", "unseen"):
        with open(ds.root / f"{split}_clips.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert [r["id"] for r in rows] == [c["id"] for c in ds.clips if c["split"] == split]
    # a set cached before these files existed gets them on the next call
    (ds.root / "seen_pairs.csv").unlink()
    assert [p.name for p in write_route_files(load_instruments(ds.root))] == ["seen_pairs.csv"]
    # --print-path prints the folder alone
    assert main(["datasets", "render-instruments", "--root", str(tmp_path / "cli"),
                 "--clips-per-class", "1", "--captions-per-clip", "1", "--duration", "0.5",
                 "--print-path"]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1 and (tmp_path / "cli").exists()
    folder = out.strip()
    assert folder.startswith(str(tmp_path / "cli"))
    assert (load_instruments(folder).root / "unseen.txt").exists()
    with pytest.raises(SystemExit):
        main(["datasets", "render-instruments", "--unseen-fraction", "1.5"])
    assert "between 0 and 1" in capsys.readouterr().err


def test_select_cuts_a_table_by_a_column(tmp_path, capsys):
    from pairspace.cli import main
    from pairspace.data.table import EmbeddingTable

    t = EmbeddingTable([f"c{i}" for i in range(6)], np.eye(6), [f"l{i % 3}" for i in range(6)],
                       columns={"split": ["seen", "unseen"] * 3, "fold": [1, 2, 3, 1, 2, 3]})
    t.save(tmp_path / "a.parquet")
    assert main(["datasets", "select", str(tmp_path / "a.parquet"), "--where", "split=unseen",
                 "--where", "fold=2,3", "--out", str(tmp_path / "u.parquet")]) == 0
    u = EmbeddingTable.load(tmp_path / "u.parquet")
    assert u.ids == ["c1", "c5"] and u.columns["fold"] == [2, 3]
    np.testing.assert_array_equal(u.vectors, np.eye(6)[[1, 5]])
    assert "2 of 6 rows" in capsys.readouterr().out
    assert main(["datasets", "select", str(tmp_path / "a.parquet"), "--where", "nope=1",
                 "--out", str(tmp_path / "v.parquet")]) == 2
    assert "no column 'nope'" in capsys.readouterr().err and not (tmp_path / "v.parquet").exists()
    assert t.where("label", "l0").ids == ["c0", "c3"]
    with pytest.raises(ValueError, match="no row"):
        t.where("split", "test")
