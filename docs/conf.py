"""Sphinx configuration of the pairspace documentation (``make docs`` builds it into ``site/``).

Built offline and strict (``-W --keep-going -n``). Before reading the sources, ``builder-inited``
writes the generated parts that are not committed: the API pages (``docs/api/generated/``, one per
public module, from :mod:`gen_api`), the CLI reference (``docs/_cli/commands.md``, from the argparse
parsers, :mod:`gen_cli`) and a local copy of MathJax (``docs/_static/mathjax/``), so that equations
render without a network. The study tables in ``docs/_generated/`` are committed and written by
``docs/gen_results.py``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(DOCS))

import pairspace  # noqa: E402

project = "pairspace"
author = "pairspace developers"
copyright = "2026, pairspace developers"  # noqa: A001
version = release = pairspace.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "results", "_generated", "_cli", "README.md"]
templates_path: list[str] = []

# MyST: $...$ math, definition lists, ::: fences; headings get anchors for in-page links.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# API: numpydoc renders the docstrings; autodoc keeps the source order; no per-name stub pages.
autosummary_generate = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc "Parameters" section already gives every type
autodoc_default_options = {"show-inheritance": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# Nitpicky, for what this project documents: references to other libraries (numpy, torch, ...)
# have no target in an offline build (no intersphinx), so they are not errors.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(ctypes|html|json|re|shutil|subprocess|tempfile|functools|itertools|math|csv|"
               r"numpy|np|torch|pandas|pd|pyarrow|pa|scipy|sklearn|matplotlib|faiss|hnswlib|dask|logging|filelock|"
               r"argparse|os|pathlib|collections|typing|types|concurrent|io|threading|"
               r"sentence_transformers|transformers|ctranslate2|PIL|safetensors|tqdm)(\..*)?"),
    (r"py:.*", r"(Path|Any|Callable|Iterable|Iterator|Sequence|Mapping|ArrayLike|NDArray|"
               r"array|array-like|ndarray|optional|default|callable|int|float|str|bool|dict|list|"
               r"tuple|None|object|bytes|iterable|mapping|sequence|Module|Tensor|Enum|Exception|"
               r"UserWarning|RuntimeWarning|ValueError|Protocol|NamedTuple)"),
    (r"py:.*", r"pairspace\.(.*\.)?_.*"),  # private modules are not part of the reference
]

html_theme = "pydata_sphinx_theme"
html_title = f"pairspace {release}"
html_static_path = ["_static"]
html_css_files = ["pairspace.css"]
# The left sidebar lists the API modules; the other pages have nothing to list there.
html_sidebars = {"index": [], "getting-started": [], "studies/*": [], "cli": [], "benchmarks": [],
                 "design": [], "changelog": []}
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 4,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_context = {"default_mode": "light"}
# pydata-sphinx-theme would fetch a version switcher or analytics only when configured: neither is.

# MathJax from the local copy (django-static-mathjax ships MathJax 3's files): no CDN is needed.
mathjax_path = "mathjax/tex-svg.js"


def _copy_mathjax() -> None:
    """Copy MathJax's single-file SVG build and its TeX extensions into ``_static/mathjax``."""
    import importlib.util

    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the docs need django-static-mathjax (pip install -e '.[docs]')")
    es5 = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "es5"
    dest = DOCS / "_static" / "mathjax"
    if (dest / "tex-svg.js").is_file():
        return
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(es5 / "tex-svg.js", dest / "tex-svg.js")
    shutil.copytree(es5 / "input" / "tex" / "extensions", dest / "input" / "tex" / "extensions",
                    dirs_exist_ok=True)
    shutil.copy2(es5.parent / "LICENSE", dest / "LICENSE")


#: Documented object key -> the qualified name it is documented under (filled by ``_generate``).
_HOME: dict[tuple, str] = {}

#: Modules whose module docstring is not valid reStructuredText yet: shown as preformatted text
#: until their owners fix them (each entry is a debt; remove it with the fix).
DOCSTRING_DEBT = {"pairspace.studies.audit.controls", "pairspace.studies.audit.altered"}


def _generate(app) -> None:  # noqa: ANN001 - a Sphinx application
    import gen_api
    import gen_cli

    os.environ.setdefault("MPLBACKEND", "Agg")
    gen_api.write_pages(DOCS / "api" / "generated")
    _HOME.update(gen_api.collect()[1])
    gen_cli.write_page(DOCS / "_cli" / "commands.md")
    _copy_mathjax()


def _import_dotted(name: str):  # noqa: ANN202
    """The object a dotted name points to (a module prefix imported, the rest looked up), or None."""
    import importlib

    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if hasattr(obj, attr):
                obj = getattr(obj, attr)
            elif attr in getattr(obj, "__dataclass_fields__", {}):
                obj = obj.__dataclass_fields__[attr]  # a field without a class-level default
            else:
                return None
        return obj
    return None


def _documented_name(name: str) -> str | None:
    """Where a name that is re-exported (``pairspace.knn``) or relative to its module is documented."""
    import gen_api

    parts = name.split(".")
    for split in range(len(parts), 0, -1):  # an object, then members of it (Class.method)
        head = ".".join(parts[:split])
        obj = _import_dotted(head) if head.startswith("pairspace") else None
        if obj is None:
            continue
        home = _HOME.get(gen_api._key(obj, parts[split - 1]))
        if home:
            return ".".join([home, *parts[split:]])
    return None


def _resolve_alias(app, env, node, contnode):  # noqa: ANN001, ANN202 - the missing-reference hook
    """Resolve a Python reference that names an object by an alias: a re-export (``pairspace.nngs``),
    or a name relative to the current module or class that lives elsewhere."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    modname, clsname = node.get("py:module"), node.get("py:class")
    candidates = [target]
    if modname:
        candidates.insert(0, f"{modname}.{target}")
        if clsname:
            candidates.insert(0, f"{modname}.{clsname}.{target}")
    from sphinx.util.nodes import make_refnode

    domain = env.get_domain("py")
    for cand in candidates:
        name = _documented_name(cand)
        if name and name != node["reftarget"]:
            found = domain.resolve_xref(env, node["refdoc"], app.builder, "obj", name, node, contnode)
            if found is not None:
                return found
    # A short name relative to nothing on this page (``ExactSearcher.candidates`` in another
    # module's docstring, ``knn`` in a summary table): the one documented object whose qualified
    # name ends with it, if exactly one does.
    matches = domain.find_obj(env, None, None, target, node["reftype"], 1)
    matches = [m for m in matches if m[0].startswith("pairspace.")]
    if len({m[0] for m in matches}) == 1:
        name, obj = matches[0]
        return make_refnode(app.builder, node["refdoc"], obj.docname, obj.node_id, contnode, name)
    # A real object of the package that the reference does not document (a private helper, a name
    # left out of its module's __all__, an undocumented member): its name without a link. A name
    # that does not exist (a typo, a removed function) still fails the build.
    if any(c.startswith("pairspace") and _import_dotted(c) is not None for c in candidates):
        return contnode
    return None


def _docstring_debt(app, what, name, obj, options, lines) -> None:  # noqa: ANN001
    if what == "module" and name in DOCSTRING_DEBT and lines:
        lines[:] = [lines[0], "", "::", ""] + ["    " + ln for ln in lines[1:]]


def setup(app):  # noqa: ANN001, ANN201 - the Sphinx extension hook
    app.connect("builder-inited", _generate)
    app.connect("missing-reference", _resolve_alias)
    app.connect("autodoc-process-docstring", _docstring_debt)
    return {"parallel_read_safe": True}
