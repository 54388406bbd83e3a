"""The rendered datasets' cache: one folder per parameter set, built whole or not at all."""

from __future__ import annotations

import pytest

from pairspace.data.datasets._cache import cached_build, chosen_classes


def test_built_once_per_parameter_set_and_never_half_written(tmp_path) -> None:
    calls: list[int] = []

    def build(tmp):  # noqa: ANN001, ANN202
        calls.append(1)
        (tmp / "data.txt").write_text(str(len(calls)))
        (tmp / "info.json").write_text("{}")

    a = cached_build("set-v1", {"seed": 0}, build, tmp_path)
    assert cached_build("set-v1", {"seed": 0}, build, tmp_path) == a and len(calls) == 1
    b = cached_build("set-v1", {"seed": 1}, build, tmp_path)
    assert b != a and len(calls) == 2
    assert cached_build("set-v1", {"seed": 0}, build, tmp_path, force=True) == a
    assert len(calls) == 3 and (a / "data.txt").read_text() == "3"

    def broken(tmp):  # noqa: ANN001, ANN202
        (tmp / "half.txt").write_text("x")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        cached_build("set-v1", {"seed": 2}, broken, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([a.name, b.name])
    with pytest.raises(RuntimeError):  # a failed forced rebuild keeps the good copy
        cached_build("set-v1", {"seed": 0}, broken, tmp_path, force=True)
    assert (a / "data.txt").read_text() == "3"


class _C:
    def __init__(self, name: str) -> None:
        self.name = name


def test_chosen_classes_keep_the_full_order_and_name_unknown_ones() -> None:
    allc = [_C("a"), _C("b"), _C("c")]
    assert [c.name for c in chosen_classes(allc, ["c", "a"], "things", "things()")] == ["a", "c"]
    assert chosen_classes(allc, None, "things", "things()") == allc
    with pytest.raises(ValueError, match=r"unknown things \['z'\]; see things\(\)"):
        chosen_classes(allc, ["a", "z"], "things", "things()")
