"""The docs' result pages cannot go stale: each one is regenerated from its committed JSON and must
equal the committed page (``docs/_generated/<name>.md``), so a number edited by hand in the docs, or
a result JSON changed without regenerating its page, fails here. ``make results`` reruns the studies
and regenerates the pages together."""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _gen_results():
    spec = importlib.util.spec_from_file_location("gen_results", DOCS / "gen_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _gen_results()
NAMES = GEN.study_names()


def test_there_are_documented_studies() -> None:
    assert {"analogy", "compare", "templates", "audio_demo"} <= set(NAMES)


def _generate(name: str) -> str:
    try:
        return GEN.generate(name)
    except GEN.MissingRenderer as exc:
        if (DOCS / "studies" / f"{name}.md").is_file():
            raise AssertionError(f"docs/studies/{name}.md is a page, but {exc}") from exc
        pytest.skip(f"{exc}: its report module has not been merged")


@pytest.mark.parametrize("name", NAMES)
def test_generated_page_equals_its_json(name: str) -> None:
    expected = _generate(name)
    committed = DOCS / "_generated" / f"{name}.md"
    assert committed.is_file(), f"run python docs/gen_results.py to write {committed}"
    assert committed.read_text(encoding="utf-8") == expected, (
        f"docs/_generated/{name}.md differs from docs/results/{name}/: a number was edited by hand, or "
        "the JSON changed without `python docs/gen_results.py` (make results does both)")


@pytest.mark.parametrize("name", NAMES)
def test_command_writes_into_its_folder(name: str) -> None:
    words = shlex.split(GEN.read_command(name))
    assert words[0] == "pairspace" and len(words) > 1
    assert f"docs/results/{name}" in words, "the command must write into its own docs/results folder"


@pytest.mark.parametrize("name", NAMES)
def test_every_figure_a_page_shows_exists(name: str) -> None:
    if not (DOCS / "_generated" / f"{name}.md").is_file():
        _generate(name)  # skips when the renderer is not merged yet; else the page is missing
        pytest.fail(f"docs/_generated/{name}.md is missing: run python docs/gen_results.py")
    text = (DOCS / "_generated" / f"{name}.md").read_text(encoding="utf-8")
    for ref in re.findall(r"\.\./results/[^\s)]+\.png", text):
        assert (DOCS / "studies" / ref).resolve().is_file(), ref


def test_every_included_page_is_generated() -> None:
    for page in sorted((DOCS / "studies").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for name in re.findall(r"\{include\}\s+\.\./_generated/([\w-]+)\.md", text):
            assert name in NAMES, f"{page.name} includes _generated/{name}.md without a results folder"


def test_a_hand_edited_number_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``gen_results.py --check`` passes on the committed pages and fails once one digit of one table
    cell of one page is changed by hand."""
    import shutil

    generated = tmp_path / "_generated"
    shutil.copytree(DOCS / "_generated", generated)
    monkeypatch.setattr(GEN, "GENERATED", generated)
    names = [n for n in NAMES if (generated / f"{n}.md").is_file()]
    assert GEN.main(["--check", "--only", *names]) == 0
    page = generated / "compare.md"
    text = page.read_text(encoding="utf-8")
    cell = re.search(r"\| (\d\.\d{3}) \|", text)
    assert cell is not None
    value = cell.group(1)
    edited = f"{value[:-1]}{(int(value[-1]) + 1) % 10}"
    page.write_text(text.replace(f"| {value} |", f"| {edited} |", 1), encoding="utf-8")
    assert GEN.main(["--check", "--only", *names]) == 1
