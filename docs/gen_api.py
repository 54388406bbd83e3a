"""Write the API reference pages: one reStructuredText page per public module of pairspace.

Run by ``docs/conf.py`` when Sphinx starts (the pages are not committed). A module is public when no
part of its dotted name starts with an underscore. Its public names are its ``__all__`` or, without
one, the functions and classes it defines. Every object is documented once, on the page of the
module that defines it (or, when that module is private, of the first public module that exports
it); the other pages that export it list it in their summary table, which links to that entry.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import sys
import types
from pathlib import Path

PACKAGE = "pairspace"
SKIP = {"pairspace.__main__"}


def public_modules() -> list[str]:
    """Every public module of the package, the package first, in dotted-name order."""
    pkg = importlib.import_module(PACKAGE)
    names = [PACKAGE] + [m.name for m in pkgutil.walk_packages(pkg.__path__, PACKAGE + ".")]
    return sorted(n for n in names
                  if n not in SKIP and not any(p.startswith("_") for p in n.split(".")))


def _constants(module: types.ModuleType) -> list[str]:
    """UPPER_CASE names assigned at the top level of the module's own source (its constants)."""
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError):
        return []
    names = []
    for node in tree.body:
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) else [])
        for t in targets:
            if isinstance(t, ast.Name) and t.id.isupper() and not t.id.startswith("_"):
                names.append(t.id)
    return list(dict.fromkeys(names))


def public_names(module: types.ModuleType) -> list[str]:
    """``__all__``, or the functions, classes and UPPER_CASE constants the module defines."""
    if hasattr(module, "__all__"):
        return [n for n in module.__all__ if not n.startswith("__") or n == "__version__"]
    defined = [n for n, v in vars(module).items()
               if not n.startswith("_") and (inspect.isfunction(v) or inspect.isclass(v))
               and getattr(v, "__module__", None) == module.__name__]
    return defined + [n for n in _constants(module) if n not in defined and hasattr(module, n)]


def _key(obj: object, name: str) -> tuple:
    if inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismodule(obj):
        return ("obj", id(obj))
    return ("data", id(obj), name)


def _directive(obj: object) -> tuple[str, list[str]]:
    if inspect.isclass(obj):
        if issubclass(obj, BaseException):
            return "autoexception", []
        return "autoclass", [":members:"]
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return "autofunction", []
    return "autodata", [":no-value:"]


def collect() -> tuple[dict[str, list[tuple[str, object]]], dict[tuple, str]]:
    """Module -> its (name, object) list, and object key -> the qualified name it is documented as."""
    modules: dict[str, list[tuple[str, object]]] = {}
    for modname in public_modules():
        module = importlib.import_module(modname)
        modules[modname] = [(n, getattr(module, n)) for n in public_names(module)]
    home: dict[tuple, str] = {}
    # First the defining modules, then the exporting packages (shallowest first).
    for modname, items in modules.items():
        for name, obj in items:
            if getattr(obj, "__module__", None) == modname and not inspect.ismodule(obj):
                home.setdefault(_key(obj, name), f"{modname}.{name}")
    for modname in sorted(modules, key=lambda m: (m.count("."), m)):
        for name, obj in modules[modname]:
            if inspect.ismodule(obj):
                home.setdefault(_key(obj, name), obj.__name__)
                continue
            defining = getattr(obj, "__module__", None)
            if defining and defining in modules and defining != modname and name in dict(modules[defining]):
                continue  # documented on its defining module's page
            home.setdefault(_key(obj, name), f"{modname}.{name}")
    return modules, home


def render(modname: str, items: list[tuple[str, object]], home: dict[tuple, str]) -> str:
    """The page of one module: its docstring, a summary table, then the entries it owns."""
    title = f"``{modname}``"
    lines = [title, "=" * len(title), "", f".. automodule:: {modname}", "   :no-members:", ""]
    if items:
        lines += ["Summary", "-------", "", ".. autosummary::", "   :nosignatures:", ""]
        for name, obj in items:  # relative to the page's module where possible (autosummary asks so)
            target = home[_key(obj, name)]
            lines.append(f"   {target[len(modname) + 1:] if target.startswith(modname + '.') else target}")
        lines.append("")
    own = [(n, o) for n, o in items
           if not inspect.ismodule(o) and home[_key(o, n)] == f"{modname}.{n}"]
    if own:
        lines += ["Reference", "---------", ""]
        for name, obj in own:
            directive, options = _directive(obj)
            lines.append(f".. {directive}:: {modname}.{name}")
            lines += [f"   {o}" for o in options]
            lines.append("")
    return "\n".join(lines) + "\n"


def write_pages(out: Path) -> list[Path]:
    """Write every page into ``out`` (only files whose text changed, so rebuilds stay incremental)."""
    modules, home = collect()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for modname, items in modules.items():
        path = out / f"{modname}.rst"
        text = render(modname, items, home)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    for stale in set(out.glob("*.rst")) - set(written):
        stale.unlink()
    return written


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    for p in write_pages(Path(__file__).resolve().parent / "api" / "generated"):
        print(p)
