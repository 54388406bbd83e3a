"""The facade modules re-export their names lazily through pairspace._lazy.lazy_exports."""

import importlib
import subprocess
import sys

import pytest

FACADES = ["pairspace.analogy", "pairspace.zeroshot", "pairspace.align"]


@pytest.mark.parametrize("name", FACADES)
def test_every_export_resolves_to_its_home(name):
    facade = importlib.import_module(name)
    exports = facade._EXPORTS
    assert facade.__all__ == sorted(exports)
    assert set(exports) <= set(dir(facade))
    for public, home in exports.items():
        target = importlib.import_module(home, name if home.startswith(".") else None)
        assert getattr(facade, public) is getattr(target, public)


@pytest.mark.parametrize("name", FACADES)
def test_unknown_name_is_an_attribute_error(name):
    facade = importlib.import_module(name)
    with pytest.raises(AttributeError, match=f"module '{name}' has no attribute 'no_such_name'"):
        facade.no_such_name  # noqa: B018


def test_align_import_does_not_import_torch():
    code = "import sys, pairspace.align as a; a.__all__; assert 'torch' not in sys.modules, 'torch'"
    subprocess.run([sys.executable, "-c", code], check=True)
