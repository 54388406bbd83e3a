"""The layout of the package (issue 11): import directions, argparse/print only in cli/, a light
``import pairspace`` and ``pairspace --help``, help texts with defaults and without reST markup, and
module/function lengths; (issue 21) no import cycle between modules, encoders never import align,
and no name list in cli/ that a lower layer defines.

The allow-lists below name the known offenders that their owners are fixing; each entry is a debt,
and the lists must end empty. A stale entry (one that no longer offends) fails too, so that the lists
only ever shrink.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "pairspace"

#: Layers that must never import studies/, report/ or cli/. Modules at the package root that are
#: private helpers (``_registry``, ``_deps``, ...) and the legacy homes of the neighbor search
#: (``neighbors.py``, ``outofcore.py``, ``backends/``) count as lower layers too.
LOWER = {"data", "neighbors", "measures", "stats", "encoders", "align", "tasks", "backends",
         "outofcore", "_private", "envelope"}
UPPER_OF = {layer: {"studies", "report", "cli"} for layer in LOWER}
UPPER_OF.update({"studies": {"cli"}, "report": {"cli"}})
HEAVY = ("torch", "matplotlib", "scipy.stats", "sklearn")

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80

# ---- allow-lists of known offenders (empty: every rule holds) ------------------------------------
#: (importing module, imported module) pairs that break the direction rule today.
KNOWN_UPWARD_IMPORTS: set[tuple[str, str]] = set()
#: Modules outside cli/ that import argparse or call print() today.
KNOWN_ARGPARSE_OR_PRINT: set[str] = set()
#: Subcommands whose ``--help`` still imports a heavy library (owner: the module's helper).
KNOWN_HEAVY_HELP: set[str] = set()
#: Subcommand parsers whose help does not show defaults or shows reST markup.
KNOWN_HELP_FORMAT: set[str] = set()
#: Modules over MAX_MODULE_LINES (data tables excluded) and functions over MAX_FUNCTION_LINES.
KNOWN_LONG_MODULES: set[str] = set()
KNOWN_LONG_FUNCTIONS: set[str] = set()
#: cli/ name lists that repeat a lower layer's names: (module, first name of the sorted list).
KNOWN_REPEATED_NAMES: set[tuple[str, str]] = set()


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(SRC).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _layer(module: str) -> str:
    """The layer of a dotted module name: the first component under ``pairspace``."""
    parts = module.split(".")
    if len(parts) < 2:
        return "root"
    first = parts[1]
    if first.startswith("__"):
        return "root"  # __main__
    return "_private" if first.startswith("_") else first


def _imports(module: str, path: Path) -> set[str]:
    """Every module name that ``module`` imports, anywhere in the file (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # ``from . import report`` names a module through its alias
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _upward_imports() -> set[tuple[str, str]]:
    bad = set()
    for module, path in _modules().items():
        forbidden = UPPER_OF.get(_layer(module), set())
        for target in _imports(module, path):
            if target.startswith("pairspace.") and _layer(target) in forbidden:
                bad.add((module, ".".join(target.split(".")[:2])))
    return bad


def _argparse_or_print() -> set[str]:
    bad = set()
    for module, path in _modules().items():
        if _layer(module) == "cli" or module == "pairspace.__main__":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(t == "argparse" or t.startswith("argparse.") for t in _imports(module, path)):
            bad.add(module)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                bad.add(module)
            elif isinstance(node, ast.Name) and node.id == "print" and isinstance(node.ctx, ast.Load):
                bad.add(module)  # print passed as a callback counts too
    return bad


def _check_allow_list(found: set, allowed: set, what: str) -> None:
    new = sorted(found - allowed)
    stale = sorted(allowed - found)
    assert not new, f"{what}: {new}"
    assert not stale, f"fixed, remove from the allow-list: {stale}"


def test_import_resolution(tmp_path: Path) -> None:
    # the checker itself: relative imports resolve against the module's package, function-level
    # imports count, and ``from .. import report`` names the report package
    f = tmp_path / "embed.py"
    f.write_text("from ..report import io\nfrom . import table\n"
                 "def g():\n    from ...pairspace.cli import main\n    import argparse\n")
    found = _imports("pairspace.data.embed", f)
    assert {"pairspace.report", "pairspace.report.io", "pairspace.data.table", "argparse"} <= found
    assert _layer("pairspace.data.embed") == "data" and _layer("pairspace._atomic") == "_private"
    assert _layer("pairspace.__main__") == "root" and _layer("pairspace.cli._common") == "cli"
    init = tmp_path / "__init__.py"
    init.write_text("from .io import x\n")
    assert "pairspace.data.io" in _imports("pairspace.data", init)


def test_lower_layers_never_import_upward() -> None:
    _check_allow_list(_upward_imports(), KNOWN_UPWARD_IMPORTS, "upward imports (module, target)")


def test_only_cli_parses_arguments_or_prints() -> None:
    _check_allow_list(_argparse_or_print(), KNOWN_ARGPARSE_OR_PRINT,
                      "argparse or print() outside cli/")


def _run_python(code: str) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


_PROBE = """
import contextlib, io, json, sys
{body}
print(json.dumps({{"heavy": [m for m in {heavy!r} if m in sys.modules], "extra": extra}}))
"""


def test_import_pairspace_is_light() -> None:
    body = "import pairspace\nextra = [pairspace.__version__]"
    out = _run_python(_PROBE.format(body=body, heavy=HEAVY))
    assert out["heavy"] == [], f"import pairspace imported {out['heavy']}"


def test_subpackages_reachable_lazily() -> None:
    import pairspace

    for name in ("encoders", "align", "tasks", "studies", "data", "measures"):
        assert getattr(pairspace, name).__name__ == f"pairspace.{name}"
    assert callable(pairspace.encoders.get)
    assert callable(pairspace.nngs) and callable(pairspace.knn)
    with pytest.raises(AttributeError, match="no attribute"):
        _ = pairspace.not_a_thing


def _help_probe(argv: list[str]) -> dict:
    body = ("from pairspace.cli import main\n"
            "buf = io.StringIO()\n"
            "with contextlib.redirect_stdout(buf):\n"
            "    try:\n"
            f"        main({argv!r})\n"
            "    except SystemExit as e:\n"
            "        code = e.code\n"
            "extra = [code, buf.getvalue()]")
    return _run_python(_PROBE.format(body=body, heavy=HEAVY))


def test_top_level_help_imports_nothing_heavy() -> None:
    out = _help_probe(["--help"])
    code, text = out["extra"]
    assert code == 0 and "COMMAND" in text
    assert out["heavy"] == [], f"pairspace --help imported {out['heavy']}"
    from pairspace.cli import available_commands

    for name in available_commands():
        assert name in text


def _command_names() -> list[str]:
    from pairspace.cli import available_commands

    return list(available_commands())


@pytest.mark.parametrize("command", _command_names())
def test_subcommand_help_imports_nothing_heavy(command: str) -> None:
    out = _help_probe([command, "--help"])
    code, text = out["extra"]
    assert code == 0 and f"pairspace {command}" in text
    if command in KNOWN_HEAVY_HELP:
        assert out["heavy"], f"{command} --help is light now: remove it from KNOWN_HEAVY_HELP"
    else:
        assert out["heavy"] == [], f"pairspace {command} --help imported {out['heavy']}"


REST_MARKUP = ("``", ":func:", ":class:", ":mod:", ":meth:", ":attr:", ":data:")


def _parsers(parser: argparse.ArgumentParser, name: str):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}".strip())


def _help_problems(parser: argparse.ArgumentParser) -> list[str]:
    problems = []
    if not issubclass(parser.formatter_class, argparse.ArgumentDefaultsHelpFormatter):
        problems.append(f"formatter {parser.formatter_class.__name__} does not show defaults")
    text = parser.format_help()
    problems += [f"reST markup {m!r} in the help" for m in REST_MARKUP if m in text]
    return problems


def test_help_texts_show_defaults_and_no_rest_markup() -> None:
    from pairspace.cli import build_parser

    found = {}
    for name, parser in _parsers(build_parser(None), ""):
        problems = _help_problems(parser)
        if problems and name:
            found[name.split()[0]] = problems
    # every parser that shows a default says so with argparse's marker
    _check_allow_list(set(found), KNOWN_HELP_FORMAT, f"help texts: {found}")


def test_help_checker_finds_markup_and_missing_defaults() -> None:
    bad = argparse.ArgumentParser(description="see ``x`` and :func:`y`")
    good = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    good.add_argument("--k", type=int, default=3, help="neighbors")
    assert len(_help_problems(bad)) == 3
    assert _help_problems(good) == [] and "(default: 3)" in good.format_help()


def _is_data_table(node: ast.stmt) -> bool:
    """A module-level assignment of a literal (a dict, list, tuple or set display): a data table."""
    value = getattr(node, "value", None)
    return isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(
        value, ast.Dict | ast.List | ast.Tuple | ast.Set)


def _module_length(tree: ast.Module, n_lines: int) -> int:
    tables = sum(node.end_lineno - node.lineno + 1 for node in tree.body if _is_data_table(node))
    return n_lines - tables


def _function_lengths(module: str, tree: ast.Module):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]  # the docstring does not count
            if body:
                yield f"{module}:{node.name}", body[-1].end_lineno - body[0].lineno + 1


def _long_code() -> tuple[set[str], set[str]]:
    modules, functions = set(), set()
    for module, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        if _module_length(tree, len(text.splitlines())) > MAX_MODULE_LINES:
            modules.add(module)
        functions.update(name for name, n in _function_lengths(module, tree) if n > MAX_FUNCTION_LINES)
    return modules, functions


def test_module_and_function_lengths() -> None:
    modules, functions = _long_code()
    _check_allow_list(modules, KNOWN_LONG_MODULES, f"modules over {MAX_MODULE_LINES} lines")
    _check_allow_list(functions, KNOWN_LONG_FUNCTIONS, f"functions over {MAX_FUNCTION_LINES} lines")


def test_length_checker_counts_code_not_tables() -> None:
    code = "TABLE = {\n" + "".join(f"    {i}: {i},\n" for i in range(500)) + "}\n"
    code += "def f():\n    '''doc\n    doc'''\n" + "    x = 1\n" * 81
    tree = ast.parse(code)
    assert _module_length(tree, len(code.splitlines())) == 84
    assert dict(_function_lengths("m", tree)) == {"m:f": 81}


# ---- import graph: no cycle, encoders never import align ----------------------------------------
def _module_edges(module: str, path: Path, modules: set[str]) -> set[str]:
    """The modules of the package that ``module`` imports (anywhere in the file). ``from P import
    name`` points at ``P.name`` when that is a module, else at ``P``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                target = ".".join(base[: len(base) - (node.level - 1)] + ([node.module] if node.module
                                                                         else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in modules else target)
    return {t for t in found if t in modules and t != module}


def _import_graph(paths: dict[str, Path]) -> dict[str, set[str]]:
    names = set(paths)
    return {m: _module_edges(m, p, names) for m, p in paths.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_no_import_cycle_between_modules() -> None:
    cycles = _cycles(_import_graph(_modules()))
    assert not cycles, f"modules that import each other (directly or through others): {cycles}"


def test_cycle_checker_finds_cycles(tmp_path: Path) -> None:
    pkg = tmp_path / "pairspace" / "align"
    pkg.mkdir(parents=True)
    (pkg / "heads.py").write_text("from .registry import HEADS\n")
    (pkg / "registry.py").write_text("def f():\n    from .heads import LinearHead\n")
    (pkg / "model.py").write_text("from . import heads\nfrom ..align.registry import x\n")
    (pkg / "__init__.py").write_text("")
    paths = {"pairspace.align": pkg / "__init__.py", "pairspace.align.heads": pkg / "heads.py",
             "pairspace.align.registry": pkg / "registry.py", "pairspace.align.model": pkg / "model.py"}
    graph = _import_graph(paths)
    assert graph["pairspace.align.model"] == {"pairspace.align.heads", "pairspace.align.registry"}
    assert _cycles(graph) == [["pairspace.align.heads", "pairspace.align.registry"]]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_encoders_never_import_align() -> None:
    bad = sorted((m, t) for m, path in _modules().items() if _layer(m) == "encoders"
                 for t in _imports(m, path) if t.startswith("pairspace.align"))
    assert not bad, f"encoders import align (register from align instead): {bad}"


# ---- names: defined once in a lower layer, never repeated in cli/ -------------------------------
def _name_list(node: ast.AST) -> frozenset[str] | None:
    """The names of a literal list: a tuple/list/set of >= 2 strings, the string keys of a dict,
    or a comma-separated string of identifiers (``"nngs,cka"``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        parts = node.value.split(",")
        ok = len(parts) > 1 and all(p and p.replace("_", "").replace("-", "").isalnum() for p in parts)
        return frozenset(parts) if ok else None
    items = node.keys if isinstance(node, ast.Dict) else getattr(node, "elts", None)
    if not isinstance(node, ast.Tuple | ast.List | ast.Set | ast.Dict) or not items or len(items) < 2:
        return None
    if all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in items):
        return frozenset(e.value for e in items)
    return None


def _lower_name_lists() -> list[frozenset[str]]:
    """Every literal name list outside cli/, and the names of the registries."""
    from pairspace.align.registry import HEADS, LOSSES
    from pairspace.data.datasets import DATASETS
    from pairspace.measures.registry import available_measures
    from pairspace.neighbors.api import BACKENDS

    found = [frozenset(available_measures()), frozenset(HEADS.names()), frozenset(LOSSES.names()),
             frozenset(BACKENDS.names()), frozenset(DATASETS)]
    for module, path in _modules().items():
        if _layer(module) != "cli":
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = _name_list(node)
                if names:
                    found.append(names)
    return found


def _cli_name_lists(module: str, tree: ast.Module) -> list[frozenset[str]]:
    """A cli module's name lists: module-level constants and add_argument ``choices``/``default``."""
    out = []
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if all(isinstance(t, ast.Name) and not t.id.startswith("__") for t in targets):
                out.append(_name_list(node.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument":
            out += [_name_list(kw.value) for kw in node.keywords if kw.arg in ("choices", "default")]
    return [names for names in out if names]


def _repeated_names(lower: list[frozenset[str]]) -> set[tuple[str, str]]:
    bad = set()
    for module, path in _modules().items():
        if _layer(module) == "cli":
            for names in _cli_name_lists(module, ast.parse(path.read_text(encoding="utf-8"))):
                if any(names <= other for other in lower):
                    bad.add((module, sorted(names)[0]))
    return bad


def test_cli_repeats_no_name_list_of_a_lower_layer() -> None:
    _check_allow_list(_repeated_names(_lower_name_lists()), KNOWN_REPEATED_NAMES,
                      "cli name lists that repeat a lower layer's names (module, first name)")


def test_name_checker_finds_repeated_lists() -> None:
    code = ('METRICS = ["cosine", "euclidean"]\nDEFAULT = "nngs,cka"\nOK = ("x", "y")\n'
            'def f(p):\n    p.add_argument("--m", choices=("a", "b"), default=["a"])\n')
    lists = _cli_name_lists("pairspace.cli.x", ast.parse(code))
    assert set(lists) == {frozenset({"cosine", "euclidean"}), frozenset({"nngs", "cka"}),
                          frozenset({"x", "y"}), frozenset({"a", "b"})}
    lower = [frozenset({"cosine", "euclidean", "inner"}), frozenset({"nngs", "cka", "gulp"})]
    assert [names for names in lists if any(names <= o for o in lower)] == lists[:2]
    assert _name_list(ast.parse('"a sentence, with a comma"').body[0].value) is None
