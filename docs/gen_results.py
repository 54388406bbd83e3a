"""Generate the result parts of the study pages from the committed JSON results (and rerun them).

Every folder ``docs/results/<name>/`` holds a study's result JSON, its PNG figures and
``command.txt``: one ``pairspace ...`` line, run from the repository root, that writes them there.
The renderer is named in ``docs/results/<name>/render.txt`` (``module:function``) or is, by default,
``pairspace.report.<name>:docs_markdown``; it takes the result document (a ``dict``) and returns
MyST Markdown. This script writes ``docs/_generated/<name>.md``: the renderer's text followed by
where the numbers come from (command, commit, machine, CPU, load), which the page
``docs/studies/<name>.md`` includes. Nobody types a result number into the docs.

Usage (from the repository root)::

    python docs/gen_results.py            # regenerate docs/_generated/*.md from the JSON
    python docs/gen_results.py --check    # exit 1 when a committed page differs from its JSON
    python docs/gen_results.py --run      # rerun every command.txt first (make results)
    python docs/gen_results.py --run --only analogy compare

``--run`` records, beside each result, ``provenance.json``: the command, the commit (and whether the
tree had uncommitted changes), the machine, the CPU model and core count, the load average before and
after, the wall time and the Python and pairspace versions.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
RESULTS = DOCS / "results"
GENERATED = DOCS / "_generated"
PROVENANCE = "provenance.json"


def study_names() -> list[str]:
    """Every folder of ``docs/results/`` that has a ``command.txt``, sorted."""
    return sorted(p.parent.name for p in RESULTS.glob("*/command.txt"))


def read_command(name: str) -> str:
    """The one command line of a study (comment lines starting with ``#`` are skipped)."""
    lines = [ln.strip() for ln in (RESULTS / name / "command.txt").read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    if len(lines) != 1 or not lines[0].startswith("pairspace "):
        raise ValueError(f"docs/results/{name}/command.txt must hold one 'pairspace ...' line")
    return lines[0]


#: Study folder -> its renderer (``module:function``). A folder not listed here uses its
#: ``render.txt`` when it has one, else ``pairspace.report.<name>:docs_markdown``.
RENDERERS = {
    "analogy": "pairspace.report.analogy:docs_markdown",
    "audio_demo": "pairspace.report.audio_demo:docs_markdown",
    "compare": "pairspace.report.compare:docs_markdown",
    "templates": "pairspace.report.templates:docs_markdown",
    "audit": "pairspace.report.audit:docs_markdown",
    "improve": "pairspace.report.improve:docs_markdown",
    "image_demo": "pairspace.report.image_demo:docs_markdown",
    "many_spaces": "pairspace.report.many_spaces:docs_markdown",
}


class MissingRenderer(LookupError):
    """A results folder whose renderer is not importable (yet) on this branch."""


def renderer_spec(name: str) -> str:
    """``module:function`` of a study's renderer."""
    spec_file = RESULTS / name / "render.txt"
    if spec_file.is_file():
        return spec_file.read_text(encoding="utf-8").strip()
    return RENDERERS.get(name, f"pairspace.report.{name}:docs_markdown")


def renderer(name: str) -> Any:
    """The ``docs_markdown`` function of a study; :class:`MissingRenderer` when its module or
    function does not exist (a results folder merged before its report module)."""
    spec = renderer_spec(name)
    module, _, func = spec.partition(":")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):  # the module itself is missing, not a dependency
            raise MissingRenderer(f"{name}: no module {module}") from exc
        raise
    fn = getattr(mod, func or "docs_markdown", None)
    if fn is None:
        raise MissingRenderer(f"{name}: {module} has no {func or 'docs_markdown'}()")
    return fn


def _is_document(path: Path) -> bool:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and "schema" in doc


def result_file(name: str) -> Path:
    """The result document of a study: the folder's one JSON result document (a top-level
    ``schema``; ``provenance.json`` excluded), or ``results.json`` when there are several."""
    found = sorted(p for p in (RESULTS / name).glob("*.json") if p.name != PROVENANCE and _is_document(p))
    if len(found) == 1:
        return found[0]
    if (RESULTS / name / "results.json").is_file():
        return RESULTS / name / "results.json"
    raise FileNotFoundError(f"docs/results/{name}/ holds {len(found)} result JSON files; expected one "
                            "(or a results.json)")


def _provenance_text(name: str, doc: dict[str, Any], source: Path) -> str:
    prov_path = RESULTS / name / PROVENANCE
    lines = ["", "```{admonition} Where these numbers come from", ":class: note", ""]
    lines.append(f"Generated by `docs/gen_results.py` from `docs/results/{name}/{source.name}`, written "
                 f"by `{read_command(name)}` (run from the repository root; `make results` reruns it).")
    if prov_path.is_file():
        p = json.loads(prov_path.read_text(encoding="utf-8"))
        commit = p.get("commit", "?")[:12] + (" with uncommitted changes" if p.get("dirty") else "")
        load = p.get("loadavg_before", ["?"])[0], p.get("loadavg_after", ["?"])[0]
        lines.append("")
        lines.append(f"Run on {p.get('finished', '?')} at commit `{commit}` on machine "
                     f"`{p.get('machine', '?')}` ({p.get('cpu_model', '?')}, {p.get('cpu_count', '?')} "
                     f"cores; 1-minute load average {load[0]} before, {load[1]} after; "
                     f"{p.get('wall_s', '?')} s wall), Python {p.get('python', '?')}, "
                     f"pairspace {p.get('pairspace_version', '?')}.")
    else:
        lines.append("")
        lines.append("The run's machine was not recorded; `make results` records it.")
    lines += ["```", ""]
    return "\n".join(lines)


def generate(name: str) -> str:
    """The text of ``docs/_generated/<name>.md``, from the committed JSON only."""
    source = result_file(name)
    doc = json.loads(source.read_text(encoding="utf-8"))
    body = renderer(name)(doc).rstrip() + "\n"
    header = (f"<!-- Generated by docs/gen_results.py from docs/results/{name}/{source.name}: do not edit; "
              "run `make results` (or `python docs/gen_results.py`) instead. -->\n\n")
    return header + body + _provenance_text(name, doc, source)


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _loadavg() -> list[float]:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return []


def run(name: str) -> dict[str, Any]:
    """Rerun one study's command (from the repository root) and write its ``provenance.json``."""
    command = read_command(name)
    argv = [sys.executable, "-m", "pairspace", *shlex.split(command)[1:]]
    commit = _git("rev-parse", "HEAD")  # the code that runs; results written by earlier runs do not count
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs/results",
                      ":!docs/_generated"))
    before, t0 = _loadavg(), time.perf_counter()
    print(f"[{name}] {command}", flush=True)
    subprocess.run(argv, cwd=ROOT, check=True)
    import pairspace

    record = {
        "command": command,
        "commit": commit,
        "dirty": dirty,
        "machine": platform.node(),
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "loadavg_before": before,
        "loadavg_after": _loadavg(),
        "wall_s": round(time.perf_counter() - t0, 1),
        "python": platform.python_version(),
        "pairspace_version": pairspace.__version__,
        "finished": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    (RESULTS / name / PROVENANCE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", action="store_true", help="rerun every command.txt first")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when a committed page differs from its JSON")
    parser.add_argument("--only", nargs="+", default=None, help="these studies only")
    args = parser.parse_args(argv)
    names = args.only or study_names()
    unknown = sorted(set(names) - set(study_names()))
    if unknown:
        parser.error(f"no docs/results/<name>/command.txt for {unknown}")
    stale = []
    for name in names:
        if args.run:
            run(name)
        try:
            text = generate(name)
        except MissingRenderer as exc:
            print(f"skipped {exc} (its report module is not on this branch yet)", file=sys.stderr)
            continue
        path = GENERATED / f"{name}.md"
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(os.path.relpath(path, ROOT))
            continue
        GENERATED.mkdir(exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {os.path.relpath(path, ROOT)}")
    if stale:
        print("differs from its JSON (run python docs/gen_results.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
