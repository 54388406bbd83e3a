"""Reproduce the toy table of Tavares, Ayres & Smaragdis (arXiv 2411.08687) within 0.02."""

import importlib.util
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "toy_blobs.py"


def load_example():
    spec = importlib.util.spec_from_file_location("toy_blobs", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses resolve their module by name
    spec.loader.exec_module(mod)
    return mod


def test_published_blob_table():
    toy = load_example()
    rows = toy.table(draws=10, seed=0)
    assert len(rows) == 4
    for name, ours, published in rows:
        for label, o, p in zip(("linear CKA", "NNGS k=5", "NNGS k=300"), ours, published,
                               strict=True):
            assert o == pytest.approx(p, abs=0.02), f"{name}: {label} = {o:.4f}, paper {p}"
