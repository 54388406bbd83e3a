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


@pytest.mark.parametrize("name", NAMES)
def test_generated_page_equals_its_json(name: str) -> None:
    committed = DOCS / "_generated" / f"{name}.md"
    assert committed.is_file(), f"run python docs/gen_results.py to write {committed}"
    expected = GEN.generate(name)
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
    text = (DOCS / "_generated" / f"{name}.md").read_text(encoding="utf-8")
    for ref in re.findall(r"\.\./results/[^\s)]+\.png", text):
        assert (DOCS / "studies" / ref).resolve().is_file(), ref


def test_every_included_page_is_generated() -> None:
    for page in sorted((DOCS / "studies").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for name in re.findall(r"\{include\}\s+\.\./_generated/([\w-]+)\.md", text):
            assert name in NAMES, f"{page.name} includes _generated/{name}.md without a results folder"


def test_a_hand_edited_number_is_caught(tmp_path: Path) -> None:
    """The comparison is exact: moving one digit of one table cell makes the page differ."""
    name = "compare"
    page = GEN.generate(name)
    cell = re.search(r"\| (\d\.\d{3}) \|", page)
    assert cell is not None
    digit = cell.group(1)
    edited = page.replace(f"| {digit} |", f"| {digit[:-1]}{(int(digit[-1]) + 1) % 10} |", 1)
    assert edited != page and edited != GEN.generate(name)
