"""The result envelope (pairspace.envelope): ids, stamps, provenance, the shipped JSON Schemas."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import jsonschema
import pytest

import pairspace
from pairspace.envelope import (
    Envelope,
    current_command,
    encoder_input,
    envelope,
    file_input,
    invocation,
    load_schema,
    parse_schema_id,
    schema_file,
    schema_id,
    validate,
)

SCHEMA_DIR = Path(pairspace.__file__).parent / "resources" / "schemas"
SRC = Path(pairspace.__file__).parent


def test_schema_ids_round_trip_and_bad_ids_are_refused() -> None:
    assert schema_id("compare", 3) == "pairspace.compare/3"
    assert parse_schema_id("pairspace.template_study/2") == ("template_study", 2)
    for bad in ("compare/3", "pairspace.compare", "pairspace.Compare/1", "pairspace.x/0", "x.y/1"):
        with pytest.raises(ValueError, match="schema id"):
            parse_schema_id(bad)
    assert schema_file("pairspace.compare/3") == SCHEMA_DIR / "compare-3.json"
    with pytest.raises(FileNotFoundError, match="no JSON Schema ships"):
        load_schema("pairspace.compare/99")


def test_envelope_stamps_and_records_the_command() -> None:
    assert current_command() is None
    with invocation(["compare", "a b.npy", "y.npy"]):
        stamp = Envelope.new("pairspace.compare/3", {"n": 3})
        assert current_command() == "pairspace compare 'a b.npy' y.npy"
    assert current_command() is None  # restored after the block
    doc = stamp.document({"k": 1}, {"x": 2})
    assert list(doc) == ["schema", "pairspace_version", "created", "command", "inputs", "settings",
                         "results"]
    assert doc["pairspace_version"] == pairspace.__version__
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["created"])
    assert doc["command"] == "pairspace compare 'a b.npy' y.npy"
    assert Envelope.from_dict(doc, "pairspace.compare") == stamp
    with pytest.raises(ValueError, match="expected a pairspace.analogy/2 document"):
        Envelope.from_dict(doc, "pairspace.analogy/2")
    with pytest.raises(ValueError, match="missing"):
        Envelope.from_dict({k: v for k, v in doc.items() if k != "created"})
    assert envelope("pairspace.analogy/2")["command"] is None


def test_file_input_hashes_the_bytes(tmp_path: Path) -> None:
    f = tmp_path / "x.bin"
    data = bytes(range(256)) * 5000  # more than one read block
    f.write_bytes(data)
    assert file_input(f) == {"path": str(f), "size": len(data),
                             "sha256": hashlib.sha256(data).hexdigest()}
    assert file_input(f, hash_limit=10)["sha256"] is None  # too large to hash: path and size only
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a").write_bytes(b"123")
    assert file_input(tmp_path / "d") == {"path": str(tmp_path / "d"), "size": 3, "sha256": None}
    with pytest.raises(FileNotFoundError):
        file_input(tmp_path / "missing")


def test_encoder_input_reads_provenance() -> None:
    from pairspace.encoders import Provenance

    class Enc:
        name = "e"
        provenance = Provenance("e", "model/x")

    assert encoder_input(Enc())["model_id"] == "model/x"
    assert encoder_input({"name": "given"}) == {"name": "given"}
    assert encoder_input(object()) == {"name": "object"}


def _schema_ids_in_source() -> set[str]:
    """Every ``pairspace.NAME/INT`` assigned to a ``SCHEMA`` or ``*_SCHEMA`` constant in the package."""
    found = set()
    for path in SRC.rglob("*.py"):
        found.update(re.findall(r'^[A-Z_]*SCHEMA = "(pairspace\.[a-z_]+/\d+)"', path.read_text(),
                                re.M))
    return found


def test_every_shipped_schema_is_a_valid_draft_2020_12_schema() -> None:
    files = sorted(SCHEMA_DIR.glob("*.json"))
    assert files
    for path in files:
        schema = json.loads(path.read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        name, version = path.stem.rsplit("-", 1)
        assert schema["properties"]["schema"] == {"const": f"pairspace.{name}/{version}"}
        assert set(schema["required"]) == {"schema", "pairspace_version", "created", "command",
                                           "inputs", "settings", "results"}


MIGRATED = {"pairspace.compare/3", "pairspace.analogy/2", "pairspace.template_study/2",
            "pairspace.zeroshot/3", "pairspace.audio_demo/2", "pairspace.train/1", "pairspace.embed/1",
            "pairspace.curation/3", "pairspace.curation_set/1", "pairspace.audit/2",
            "pairspace.improve/2", "pairspace.compare_many/1", "pairspace.image_demo/1"}


def test_the_migrated_studies_ship_their_schema() -> None:
    found = _schema_ids_in_source()
    assert MIGRATED <= found
    for sid in found:  # every schema id the package declares ships its JSON Schema
        assert schema_file(sid).is_file(), sid


def test_validate_names_where_a_document_breaks_its_schema() -> None:
    doc = envelope("pairspace.zeroshot/2", inputs={"run": "r", "eval": {"path": "e", "size": 1,
                                                                         "sha256": None},
                                                   "text_encoder": {}, "classes_source": "s",
                                                   "templates_source": "t"},
                   settings={"protocol": {"name": "ensemble", "templates": None, "ensemble": True,
                                          "split": "all", "description": ""},
                             "templates": "audio", "n_templates": 2, "selection": "val"},
                   results={"top1": 0.5, "top5": 1.0, "balanced_accuracy": 0.5, "chance": 0.25,
                            "n": 8, "n_classes": 4, "split": {"kind": "all", "n": 8}})
    assert validate(doc) == doc
    bad = json.loads(json.dumps(doc))
    bad["results"]["n"] = -1
    with pytest.raises(ValueError, match="results/n"):
        validate(bad)
    del bad["created"]
    with pytest.raises(ValueError, match="created"):
        validate(bad)
    with pytest.raises(ValueError, match="not a pairspace schema id"):
        validate({"schema": "other/1"})
