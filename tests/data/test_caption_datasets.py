"""Caption-dataset loaders on small files written in each dataset's real format."""

import json

import pytest

from pairspace.align import load_pairs
from pairspace.data.datasets.captions import (
    esc50_source_id,
    load_audiocaps,
    load_clotho,
    load_macs,
    load_wavcaps,
)


def test_clotho_with_metadata(tmp_path):
    caps = tmp_path / "clotho_captions_development.csv"
    caps.write_text("file_name,caption_1,caption_2,caption_3,caption_4,caption_5\n"
                    'a dog.wav,"A dog barks, twice.",dog barking,a b,c d,e f\n'
                    "rain.wav,Rain falls,rain on a roof,x,y,z\n")
    meta = tmp_path / "clotho_metadata_development.csv"
    meta.write_text("file_name,keywords,sound_id,sound_link,start_end_samples,manufacturer,license\n"
                    "a dog.wav,dog,12345,https://freesound.org/s/12345,,,\nrain.wav,rain,777,,,,\n")
    d = load_clotho(caps, meta, audio_dir=tmp_path / "audio")
    assert len(d) == 10
    assert d.rows[0]["text"] == "A dog barks, twice." and d.rows[0]["source_id"] == "12345"
    assert d.pairs()[0] == ("a dog.wav", "a dog.wav#0")
    assert set(d.source_ids()) == {"12345", "777"}
    out = d.write_csv(tmp_path / "pairs.csv")
    assert load_pairs(out)[:2] == d.pairs()[:2]


def test_audiocaps(tmp_path):
    f = tmp_path / "train.csv"
    f.write_text("audiocap_id,youtube_id,start_time,caption\n91139,r1nicOVtvkQ,130,A woman talks\n"
                 "91140,r1nicOVtvkQ,130,Someone speaks\n58146,UDGBjjwyaqE,20,Water runs\n")
    d = load_audiocaps(f)
    assert [r["audio_id"] for r in d.rows] == ["r1nicOVtvkQ_130"] * 2 + ["UDGBjjwyaqE_20"]
    assert [r["source_id"] for r in d.rows] == ["r1nicOVtvkQ", "r1nicOVtvkQ", "UDGBjjwyaqE"]
    assert d.rows[0]["text_id"] == "audiocap-91139" and d.rows[0]["path"] == "r1nicOVtvkQ_130.wav"


def test_macs(tmp_path):
    f = tmp_path / "MACS.yaml"
    f.write_text("files:\n- filename: airport-lisbon-1175-44106-a.wav\n  annotations:\n"
                 "  - annotator_id: 133\n    sentence: adults talking and footsteps\n"
                 "    tags: [adults_talking]\n"
                 "  - annotator_id: 134\n    sentence: people walking\n    tags: [footsteps]\n")
    d = load_macs(f)
    assert len(d) == 2 and d.rows[1]["text"] == "people walking"
    assert d.rows[0]["source_id"] == "airport-lisbon-1175-44106-a"
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just a list\n")
    with pytest.raises(ValueError, match="files"):
        load_macs(bad)


def test_wavcaps_sources(tmp_path):
    fs = tmp_path / "fsd.json"
    fs.write_text(json.dumps({"num_captions_per_audio": 1, "data": [
        {"id": "180913", "file_name": "UK Mello.wav", "caption": "A melody plays", "duration": 3.0}]}))
    assert load_wavcaps(fs).rows[0]["source_id"] == "180913"
    asl = tmp_path / "as.json"
    asl.write_text(json.dumps({"data": [{"id": "Y---1_cCGK4M.wav", "caption": "Engine idling"}]}))
    assert load_wavcaps(asl).rows[0]["source_id"] == "---1_cCGK4M"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"data": [{"caption": "no id"}]}))
    with pytest.raises(ValueError, match="lacks"):
        load_wavcaps(broken)


def test_esc50_source_id_and_errors(tmp_path):
    assert esc50_source_id("1-100038-A-14.wav") == "100038"
    assert esc50_source_id("/x/audio/5-9032-A-0.wav") == "9032"
    with pytest.raises(ValueError, match="ESC-50"):
        esc50_source_id("dog.wav")
    with pytest.raises(FileNotFoundError):
        load_clotho(tmp_path / "missing.csv")
    f = tmp_path / "c.csv"
    f.write_text("file_name,text\na.wav,hi\n")
    with pytest.raises(ValueError, match="caption_1"):
        load_clotho(f)
