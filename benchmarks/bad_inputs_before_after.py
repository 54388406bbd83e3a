"""The messy-input catalogue (``tests/test_bad_inputs.py``) run on two versions of pairspace (issue 23).

Runs this checkout's catalogue against the sources of an earlier commit (``--before``, taken with
``git archive`` into a temporary folder; the compiled kernels are copied over) and against this
checkout, and writes a Markdown table of the cases by class: how many are new since ``--before``,
how many of those failed and passed there, and how many pass here. A new case that failed before is
a defect reproduced and fixed; one that passed before guards a behaviour that was already right.

    python benchmarks/bad_inputs_before_after.py --before c2ddf31 \
        --out docs/results/messy-input/catalogue.md

Each side runs in a fresh ``pytest`` process with ``PYTHONPATH`` set to its sources.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = "tests/test_bad_inputs.py"

CLASSES = [  # (class of the issue, pattern of the test ids it holds); the first match wins
    ("API: pandas DataFrames (index / id column)", r"test_api_frames"),
    ("API: bfloat16 / float16 tensors", r"test_api_half_precision"),
    ("API: complex arrays and tensors", r"test_api_complex"),
    ("rows scaled by 1e-200 (not 'zero vectors')", r"tiny_rows"),
    ("linear CKA with d >> n (Gram form)", r"test_linear_cka_wide"),
    ("readers: manifests (encoding, huge cell, JSONL types, nulls)", r"readers.*\[manifest-"),
    ("readers: pair files (UTF-16, short row, repeated header, huge cell)", r"readers.*\[pairs-"),
    ("readers: class-name files (latin-1, UTF-16)", r"readers.*\[classes-"),
    ("readers: templates (escaped braces, two placeholders, named field)", r"readers.*\[templates-"),
    ("readers: matrices (repeated header, 000 ids, npz ids, null id)", r"readers.*\[matrix-"),
    ("UTF-8 BOM read correctly (manifest, pairs, classes, matrix)", r"with_bom"),
    ("tables: null id or label, metadata, the id 'None', repeated word, short label row",
     r"test_parquet_string_id_none|test_tables_refuse|test_analogy_vectors_with|test_audit_label"),
    ("hand-edited run folder (shapes, dims, config types)", r"test_edited_run_folder"),
    ("template-study: --measure signature, NaN text embeddings", r"test_template_study_"),
    ("improve: split types, repeated or empty lists", r"improve"),
    ("writers: --out is, holds or hard-links an input",
     r"_out_|out_is|out_folder|holds_an_input|onto_the|output_option"),
    ("writers: a refusal before any embedding", r"reserved_column_refused_before"),
    ("writers: a second writer on a locked output (filelock)", r"locked"),
    ("writers: full disk or write error (old report kept, status failed, file named)",
     r"full_disk|write_error"),
    ("writers: staged report folder (all or nothing, other files carried over)", r"staged"),
]


def _run(src: Path, tests: Path, extra: list[str]) -> dict[str, str]:
    """Outcome of every case of ``tests`` run against the sources ``src``, by test id."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(tests), "-p", "no:cacheprovider", "-rA", "-q", *extra],
        cwd=tests.parents[1], env={**os.environ, "PYTHONPATH": str(src)}, capture_output=True, text=True)
    found = re.findall(r"^(PASSED|FAILED|ERROR|SKIPPED) \S+?::(\S+)", proc.stdout, flags=re.M)
    if not found:
        raise SystemExit(f"no outcome read from pytest:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return {name: outcome for outcome, name in found}


def _collect(src: Path, tests: Path) -> set[str]:
    proc = subprocess.run([sys.executable, "-m", "pytest", str(tests), "--co", "-q", "-p",
                           "no:cacheprovider"], cwd=tests.parents[1],
                          env={**os.environ, "PYTHONPATH": str(src)}, capture_output=True, text=True)
    return {line.split("::", 1)[1] for line in proc.stdout.splitlines() if "::" in line}


def table(before: dict[str, str], after: dict[str, str], old_cases: set[str]) -> str:
    """The Markdown table of the new cases by class (see the module docstring)."""
    counts = {name: [0, 0, 0, 0] for name, _ in CLASSES}
    unclassified = []
    for case, outcome in after.items():
        if case in old_cases:
            continue
        name = next((n for n, pat in CLASSES if re.search(pat, case)), None)
        if name is None:
            unclassified.append(case)
            continue
        c = counts[name]
        c[0] += 1
        c[1] += before.get(case) in ("FAILED", "ERROR")
        c[2] += before.get(case) == "PASSED"
        c[3] += outcome == "PASSED"
    lines = ["| class of input | new cases | failed before | passed before | pass now |",
             "|---|---:|---:|---:|---:|"]
    total = [0, 0, 0, 0]
    for name, c in counts.items():
        if c[0]:
            lines.append(f"| {name} | {' | '.join(map(str, c))} |")
            total = [a + b for a, b in zip(total, c, strict=True)]
    lines.append(f"| **all new cases** | {' | '.join(map(str, total))} |")
    old_now = sum(after.get(c) == "PASSED" for c in old_cases)
    lines.append(f"| the {len(old_cases)} earlier cases | | | "
                 f"{sum(before.get(c) == 'PASSED' for c in old_cases)} | {old_now} |")
    if unclassified:
        lines.append(f"\nUnclassified new cases: {', '.join(unclassified)}")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True, help="commit of the earlier version (e.g. c2ddf31)")
    ap.add_argument("--out", default=None, help="Markdown file to write; unset: print only")
    args = ap.parse_args()
    rev = subprocess.run(["git", "rev-parse", "--short", args.before], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp)
        archive = subprocess.run(["git", "archive", rev, "src", "tests"], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        for so in (ROOT / "src/pairspace/neighbors").glob("*.so"):
            shutil.copy2(so, old / "src/pairspace/neighbors" / so.name)
        old_cases = _collect(old / "src", old / CATALOGUE)
        shutil.copy2(ROOT / CATALOGUE, old / CATALOGUE)
        before = _run(old / "src", old / CATALOGUE, [])
    after = _run(ROOT / "src", ROOT / CATALOGUE, [])
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()
    text = (f"Cases of `{CATALOGUE}` run against the sources of `{rev}` (before) and of `{head}` "
            "(now), produced by `benchmarks/bad_inputs_before_after.py`.\n\n"
            + table(before, after, old_cases))
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
