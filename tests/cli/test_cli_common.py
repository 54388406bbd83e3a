"""cli._common (argument types, the --out check, the parser factory) and the main's error handling."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from pairspace._config import DEFAULT_MEMORY_BUDGET, format_bytes
from pairspace.cli import main
from pairspace.cli._common import (
    FORMATTER,
    ListAction,
    add_command,
    byte_size,
    check_out_dir,
    check_out_file,
    nonneg_float,
    nonneg_int,
    open_unit_interval,
    positive_float,
    positive_int,
    probability,
    unit_interval,
)


@pytest.mark.parametrize(("kind", "text", "value"), [
    (positive_int, "3", 3), (nonneg_int, "0", 0), (positive_float, "0.5", 0.5),
    (nonneg_float, "0", 0.0), (unit_interval, "1", 1.0), (unit_interval, "0", 0.0),
    (probability, "0.25", 0.25), (open_unit_interval, "0.5", 0.5),
    (byte_size, "4096", 4096), (byte_size, "512MiB", 512 * 2**20), (byte_size, "2GB", 2 * 10**9),
    (byte_size, "1.5kib", 1536), (byte_size, " 64 KiB ", 65536),
])
def test_types_accept(kind, text, value) -> None:
    assert kind(text) == value and type(kind(text)) is type(value)


@pytest.mark.parametrize(("kind", "text", "message"), [
    (positive_int, "0", ">= 1"), (positive_int, "-3", ">= 1"), (positive_int, "2.5", "integer"),
    (positive_int, "x", "integer"), (nonneg_int, "-1", ">= 0"), (positive_float, "0", "> 0"),
    (positive_float, "nan", "finite"), (positive_float, "inf", "finite"), (nonneg_float, "-0.1", ">= 0"),
    (unit_interval, "1.5", "[0, 1]"), (unit_interval, "-0.01", "[0, 1]"), (probability, "2", "[0, 1]"),
    (open_unit_interval, "0", "strictly between"), (open_unit_interval, "1", "strictly between"),
    (byte_size, "0", "positive number of bytes"), (byte_size, "-5", "positive"),
    (byte_size, "12XB", "512MiB"), (byte_size, "0.4", "positive"), (byte_size, "MiB", "positive"),
])
def test_types_refuse(kind, text, message) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        kind(text)


def test_out_dir_checks_create_nothing(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "a" / "b"
    assert check_out_dir(target) == target and not (tmp_path / "a").exists()
    assert check_out_dir(tmp_path) == tmp_path  # an existing folder is fine
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(ValueError, match="exists and is not a folder"):
        check_out_dir(f)
    with pytest.raises(ValueError, match="which is a file"):
        check_out_dir(f / "sub" / "dir")
    with pytest.raises(ValueError, match="empty"):
        check_out_dir("")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == tmp_path else real_access(p, mode))
    with pytest.raises(ValueError, match="not writable"):
        check_out_dir(tmp_path / "new")
    with pytest.raises(ValueError, match="not writable"):
        check_out_dir(tmp_path)


def test_out_file_checks(tmp_path: Path) -> None:
    assert check_out_file(tmp_path / "new" / "t.parquet") == tmp_path / "new" / "t.parquet"
    assert not (tmp_path / "new").exists()
    with pytest.raises(ValueError, match="is a folder"):
        check_out_file(tmp_path)
    f = tmp_path / "file.txt"
    f.write_text("x")
    assert check_out_file(f) == f  # an existing writable file may be replaced
    with pytest.raises(ValueError, match="which is a file"):
        check_out_file(f / "t.parquet")


def _help_of(p: argparse.ArgumentParser, option: str) -> str:
    """The help line(s) of one option, joined on one line."""
    text = " ".join(p.format_help().split())
    start = text.index(option)
    nxt = [text.find(" --", start + len(option) + 1)]
    return text[start:min(n for n in nxt if n > 0)] if nxt[0] > 0 else text[start:]


def test_add_command_shows_defaults_once_and_truthfully() -> None:
    assert issubclass(FORMATTER, argparse.ArgumentDefaultsHelpFormatter)
    parser = argparse.ArgumentParser()
    p = add_command(parser.add_subparsers(), "x", help="one line", produces_result=True)
    p.add_argument("--k", type=positive_int, default=7, help="neighbors")
    p.add_argument("--ks", action=ListAction, item_type=positive_int, default=[10, 50], help="sizes")
    p.add_argument("--top", type=positive_int, default=None, help="rows; unset: all of them")
    p.add_argument("--flag", action="store_true", help="a switch")
    p.add_argument("--root", default="x", help="a folder (default: the cache)")
    text = p.format_help()
    assert "(default: 7)" in text and "one line" in text
    assert "(default: None)" not in text and "(default: False)" not in text
    assert "(default: 10 50)" in " ".join(text.split())
    # --k, --ks, the one --root's own help names and --memory-budget's (the library's constant)
    assert text.count("default:") == 4
    assert f"(default: {format_bytes(DEFAULT_MEMORY_BUDGET)})" in " ".join(text.split())
    for option in ("--quiet", "--json", "--progress", "--memory-budget"):
        assert option in text
    with pytest.raises(SystemExit) as exc:
        p.parse_args(["--k", "0"])
    assert exc.value.code == 2


def test_list_options_are_space_separated_and_repeatable() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--k", action=ListAction, item_type=positive_int, default=[10])
    assert p.parse_args([]).k == [10]
    assert p.parse_args(["--k", "3", "50"]).k == [3, 50]
    assert p.parse_args(["--k", "3", "--k", "50"]).k == [3, 50]  # the first use replaces the default
    assert p.parse_args(["--k", "3,50"]).k == [3, 50]  # the older comma spelling
    with pytest.raises(SystemExit):
        p.parse_args(["--k", "3", "0"])
    with pytest.raises(SystemExit) as exc:
        p.parse_args(["--k", "0"])
    assert exc.value.code == 2


def test_main_turns_user_errors_into_messages(tmp_path: Path, capsys) -> None:
    f = tmp_path / "taken"
    f.write_text("keep me")
    for extra in ([], ["--audio"]):  # refused before any work, the file untouched
        assert main(["demo", "--out", str(f), *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith("pairspace demo: error: ") and "not a folder" in err
        assert "Traceback" not in err
    assert f.read_text() == "keep me"
    assert main(["demo", "--out", str(f / "under")]) == 2
    assert "which is a file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--threads", "-2"])
    assert exc.value.code == 2 and ">= 0" in capsys.readouterr().err


def test_main_catches_oserror(monkeypatch, capsys) -> None:
    import pairspace.cli.demo as demo

    def boom(args):
        raise PermissionError(13, "Permission denied", "/root/x")

    monkeypatch.setattr(demo, "run", boom)
    assert main(["demo"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pairspace demo: error: ") and "Permission denied" in err


def test_main_without_command_prints_help(capsys) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


#: Commands that build files but produce no result document (datasets render and select).
NO_RESULT_DOCUMENT = {"datasets"}


def test_every_command_has_quiet_and_every_result_command_has_json(capsys) -> None:
    """Issue 21's command-line habit, checked on the real parsers: -q/--quiet on every command and
    subcommand, --json on every command but those that only build files; and the listing
    commands print valid JSON with --json."""
    import json

    from pairspace.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert len(sub.choices) >= 14
    for name, p in sub.choices.items():
        leaves = [p]
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                leaves += list(action.choices.values())
        for leaf in leaves:
            assert {"-q", "--quiet"} <= set(leaf._option_string_actions), leaf.prog
        assert ("--json" in p._option_string_actions) == (name not in NO_RESULT_DOCUMENT), name
    for argv in (["measures", "--json"], ["encoders", "--json"]):
        capsys.readouterr()
        assert main(argv) == 0
        listing = json.loads(capsys.readouterr().out)
        assert listing and all("name" in e for e in listing), argv
