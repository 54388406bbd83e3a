"""Pair manifests (pairspace.data.pairs): every row checked, errors name the file and the line."""

import pytest

from pairspace.data.pairs import as_pairs, load_pairs


def test_csv_and_jsonl_manifests(tmp_path):
    (tmp_path / "p.csv").write_text("audio_id,text_id,extra\na,1,x\nb,2,y\n")
    assert load_pairs(tmp_path / "p.csv") == [("a", "1"), ("b", "2")]
    (tmp_path / "p.jsonl").write_text('{"a_id": "a", "b_id": 3}\n\n{"audio": "b", "text": "4"}\n')
    assert load_pairs(tmp_path / "p.jsonl") == [("a", "3"), ("b", "4")]
    assert as_pairs([("a", 1)]) == [("a", "1")]


@pytest.mark.parametrize(("name", "text", "message"), [
    ("bad.jsonl", '{"audio_id": "a", "text_id": "1"}\n\n\n{"audio_id": "b", "text_id": \n',
     r"bad\.jsonl line 4: not valid JSON"),
    ("list.jsonl", '{"audio_id": "a", "text_id": "1"}\n[1, 2]\n',
     r"list\.jsonl line 2: expected a JSON object"),
    ("col.jsonl", '{"audio_id": "a", "text_id": "1"}\n\n{"audio_id": "b"}\n',
     r"col\.jsonl line 3 lacks the 'text_id' column"),
    ("null.jsonl", '{"audio_id": null, "text_id": "1"}\n', r"null\.jsonl line 1: column 'audio_id' is empty"),
    ("cell.csv", "audio_id,text_id\na,1\nb\n", r"cell\.csv:3: 1 cells .*no value for column 'text_id'"),
    ("wide.csv", "audio_id,text_id\na,1,zzz\n", r"wide\.csv:2: 3 cells .*more cells"),
    ("hdr.csv", "x,y\n1,2\n", r"hdr\.csv line 2 lacks the 'audio_id' column"),
    ("empty.csv", "audio_id,text_id\n", r"empty\.csv is empty"),
])
def test_malformed_manifests_name_file_and_line(tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    with pytest.raises(ValueError, match=message):
        load_pairs(tmp_path / name)


def test_missing_manifest_and_bad_pairs(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_pairs(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match=r"pairs\[1\] must be an \(a_id, b_id\) pair"):
        as_pairs([("a", "1"), "b2"])
