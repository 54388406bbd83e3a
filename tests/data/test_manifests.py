"""Manifests validate every row, not only the first (issue 14): file, line and column named."""

import json

import pytest

from pairspace.cli import main
from pairspace.data.manifests import read_manifest


def jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_ids_and_labels_of_later_rows_are_read(tmp_path):
    # the first row has no id: the ids of later rows used to be ignored
    m = jsonl(tmp_path / "m.jsonl", [{"text": "a", "label": "x", "id": "first"},
                                     {"text": "b", "label": "y", "id": "second"}])
    assert read_manifest(m).ids == ["first", "second"]
    m = jsonl(tmp_path / "late.jsonl", [{"text": "a", "label": "x"},
                                        {"text": "b", "label": "y", "id": "b1"}])
    with pytest.raises(ValueError, match=r"late.jsonl:1: no 'id' field \(other rows have it\)"):
        read_manifest(m)


def test_a_jsonl_row_without_label_after_row_one_is_a_clear_error(tmp_path):
    m = jsonl(tmp_path / "m.jsonl", [{"text": "a", "label": "x"}, {"text": "b"},
                                     {"text": "c", "label": "z"}])
    with pytest.raises(ValueError, match=r"m.jsonl:2: no 'label' field"):
        read_manifest(m)
    m = jsonl(tmp_path / "null.jsonl", [{"text": "a", "label": "x"}, {"text": "b", "label": None}])
    with pytest.raises(ValueError, match=r"null.jsonl:2: empty 'label'"):
        read_manifest(m)
    (tmp_path / "list.jsonl").write_text('{"text": "a"}\n\n[1, 2]\n')
    with pytest.raises(ValueError, match=r"list.jsonl line 3: expected a JSON object, got list"):
        read_manifest(tmp_path / "list.jsonl")


CSV_ROW_ERRORS = {  # file name: (content, the error it must raise)
    "m.csv": ("text,label\nhello,greet\nbye\n", r"m.csv:3: 1 cells .*no value for column 'label'"),
    "extra.csv": ("text,label\nhello,greet,oops\n", r"extra.csv:2: 3 cells .*more cells"),
    "blank.tsv": ("text\tlabel\nhello\tgreet\nbye\t\n", r"blank.tsv:3: empty 'label'"),
    # a quoted cell spanning two lines: the error names the line where the row ends
    "multi.csv": ('text,label\n"two\nlines",ok\nbad\n', r"multi.csv:4: 1 cells .*no value"),
    "dup.csv": ("text,text\na,b\n", r"dup.csv:1: the header repeats"),
}


@pytest.mark.parametrize("name", list(CSV_ROW_ERRORS))
def test_a_missing_csv_cell_never_becomes_the_label_none(tmp_path, name):
    content, match = CSV_ROW_ERRORS[name]
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ValueError, match=match):
        read_manifest(path)


def test_the_embed_command_reports_the_bad_row(tmp_path, capsys):
    m = jsonl(tmp_path / "m.jsonl", [{"text": "a", "label": "x"}, {"text": "b"}])
    rc = main(["embed", "--encoder", "wordllama", "--input", str(m), "--out",
               str(tmp_path / "o.parquet")])
    err = capsys.readouterr().err
    assert rc == 2 and "m.jsonl:2: no 'label' field" in err and "Traceback" not in err
    assert not (tmp_path / "o.parquet").exists()


def test_embed_quiet_prints_nothing(tmp_path, capsys):
    m = jsonl(tmp_path / "m.jsonl", [{"text": "a dog", "label": "x"}, {"text": "a cat", "label": "y"}])
    capsys.readouterr()
    assert main(["embed", "--encoder", "wordllama", "--input", str(m), "--out",
                 str(tmp_path / "o.parquet"), "-q"]) == 0
    out = capsys.readouterr()
    assert out.out == "" and out.err == "" and (tmp_path / "o.parquet").exists()
    assert main(["embed", "--encoder", "wordllama", "--input", str(m), "--out",
                 str(tmp_path / "p.parquet")]) == 0
    assert capsys.readouterr().out != ""  # the same command, not quiet, reports what it wrote
