"""The encoders live in the one Registry; the API and the CLI list read the same entries."""

import os
import subprocess
import sys

import pytest

from pairspace._registry import Registry
from pairspace.cli import main
from pairspace.encoders import ENCODERS, available, get, modality_of


def test_encoders_use_the_shared_registry_and_the_cli_lists_it(capsys):
    assert isinstance(ENCODERS, Registry) and ENCODERS.kind == "encoder"
    names = ENCODERS.names()
    assert [e["name"] for e in available()] == names
    assert {"minilm", "whisper", "clap-audio", "msclap-text", "efficientnet-lite0"} <= set(names)
    assert modality_of("clap-audio") == "audio" and modality_of("clip-image") == "image"
    assert main(["encoders"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:] if line.strip()]
    assert listed == names
    with pytest.raises(ValueError, match="unknown encoder 'nope'"):
        get("nope")


def test_the_encoder_package_is_light_until_an_encoder_is_built():
    # (``pairspace.encoders`` as a lazy attribute of ``import pairspace`` is the top-level package's)
    code = ("import sys, pairspace.encoders as enc; light = 'torch' not in sys.modules; "
            "e = enc.get('logmel', duration=0.5); print(e.dim, light)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["256", "True"]
