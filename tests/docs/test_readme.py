"""The README is a landing page whose commands run as written and whose printed output is real.

Every fenced block of the README is checked: a ``python`` block runs (in a scratch folder) and must
print exactly the ``text`` block that follows it; in a ``bash`` block, every ``pairspace ...`` line
runs after it in the same folder and must succeed, every ``make TARGET`` names a target of the
Makefile, and any other line fails the test (so no command can appear unchecked). Every relative
link and image must point to a file of the repository.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MAX_CHARS = 15_000
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)


def _blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(README.read_text(encoding="utf-8"))]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    path = [str(ROOT / "src"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in path if p)
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _commands(block: str) -> list[str]:
    lines = []
    for raw in block.splitlines():
        line = raw.split("  #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def test_readme_is_a_landing_page() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text) <= MAX_CHARS, f"README.md has {len(text):,} characters; at most {MAX_CHARS:,}"
    assert re.search(r"^## Citing", text, re.M)
    assert sum(1 for kind, _ in _blocks() if kind == "python") >= 1


def test_every_relative_link_resolves() -> None:
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    assert targets
    for target in targets:
        if re.match(r"[a-z]+://|#|mailto:", target):
            continue
        assert (ROOT / target.split("#")[0]).exists(), f"README links to {target}, which does not exist"


def test_make_targets_exist() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([\w-]+):", makefile, re.M))
    text = README.read_text(encoding="utf-8")
    named = set(re.findall(r"`make (\w[\w-]*)`", text))
    for kind, block in _blocks():
        if kind == "bash":
            named |= {c.split()[1] for c in _commands(block) if c.startswith("make ")}
    assert named and named <= targets, f"README names make targets the Makefile lacks: {named - targets}"


def test_examples_print_what_the_readme_says_and_commands_run(tmp_path: Path) -> None:
    blocks = _blocks()
    ran = 0
    for i, (kind, block) in enumerate(blocks):
        if kind == "python":
            assert i + 1 < len(blocks) and blocks[i + 1][0] == "text", "a python block needs its output"
            out = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, env=_env(),
                                 capture_output=True, text=True, timeout=600)
            assert out.returncode == 0, out.stderr
            assert out.stdout == blocks[i + 1][1], "the example does not print what the README says"
            ran += 1
        elif kind == "bash":
            for command in _commands(block):
                words = shlex.split(command)
                if words[0] == "make":
                    continue  # test_make_targets_exist; `make test` is this suite
                assert words[0] == "pairspace", f"README command not checked by this test: {command}"
                out = subprocess.run([sys.executable, "-m", "pairspace", *words[1:]], cwd=tmp_path,
                                     env=_env(), capture_output=True, text=True, timeout=600)
                assert out.returncode == 0, f"{command}\n{out.stderr}"
                ran += 1
        else:
            assert kind == "text", f"a README block of kind {kind!r} is not checked"
    assert ran >= 2
    assert (tmp_path / "report" / "report.html").is_file()


def test_getting_started_runs_the_readme_example() -> None:
    """The docs' first example is the README's (whose printed output the test above checks)."""
    page = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    ours = [b for kind, b in _blocks() if kind == "python"][0]
    theirs = [m.group(2) for m in FENCE.finditer(page) if m.group(1) == "python"]
    assert theirs and theirs[0] == ours
