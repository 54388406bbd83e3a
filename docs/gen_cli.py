"""Write the command-line reference (``docs/_cli/commands.md``) from the argparse parsers.

Run by ``docs/conf.py`` when Sphinx starts. ``pairspace.cli.build_parser()`` builds every command's
full parser; for each command (and each sub-subcommand, such as ``datasets render-instruments``) the
page shows its description and its ``--help`` text as argparse prints it, so the reference cannot
differ from what the installed command says.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse has no public accessor for its subparsers
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _help_text(parser: argparse.ArgumentParser) -> str:
    os.environ["COLUMNS"] = "100"  # a fixed width: the page does not depend on the terminal
    return parser.format_help().rstrip()


def _section(path: list[str], parser: argparse.ArgumentParser, level: int) -> list[str]:
    name = " ".join(path)
    anchor = "cli-" + "-".join(path[1:]) if len(path) > 1 else "cli"
    lines = [f"({anchor})=", f"{'#' * level} `{name}`", ""]
    lines += ["```text", _help_text(parser), "```", ""]
    for sub_name, sub in _subparsers(parser).items():
        lines += _section([*path, sub_name], sub, min(level + 1, 4))
    return lines


def render() -> str:
    """The whole page as MyST Markdown (included by ``docs/cli.md``)."""
    from pairspace.cli import build_parser

    parser = build_parser()
    commands = _subparsers(parser)
    lines = ["Every command, with every option and its default, as `pairspace COMMAND --help` prints it.",
             "", "| command | what it does |", "|---|---|"]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                lines.append(f"| [`{choice.dest}`](#cli-{choice.dest}) | {choice.help} |")
    lines.append("")
    lines += ["(cli)=", "## `pairspace`", "", "```text", _help_text(parser), "```", ""]
    for name, sub in commands.items():
        lines += _section(["pairspace", name], sub, 2)
    return "\n".join(lines).rstrip() + "\n"


def write_page(path: Path) -> Path:
    """Write the page when its text changed (so Sphinx rebuilds only what moved)."""
    text = render()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    print(write_page(Path(__file__).resolve().parent / "_cli" / "commands.md"))
