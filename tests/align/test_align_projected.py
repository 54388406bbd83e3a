"""The head/loss registries, generic modality names, old checkpoints and ProjectedEncoder."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from pairspace.align import HEADS, LOSSES, AlignmentModel, TrainConfig, build_head, load_model, save_model
from pairspace.align.checkpoints import save_tensors
from pairspace.align.evaluate import projected_prompts
from pairspace.encoders import Provenance
from pairspace.encoders.projected import ProjectedEncoder
from pairspace.tasks.zeroshot import format_prompts

torch.set_num_threads(1)


def test_registries_list_and_build():
    assert HEADS.names() == ["clap", "linear", "mlp"] and LOSSES.names() == ["infonce", "soft"]
    assert LOSSES.entry("soft").meta["teacher"] and not LOSSES.entry("infonce").meta["teacher"]
    x = torch.randn(3, 7)
    for name in HEADS.names():
        assert HEADS.build(name, 7, 5)(x).shape == (3, 5)
    with pytest.raises(ValueError, match="unknown head 'nope'; choose one of clap, linear, mlp"):
        TrainConfig(head="nope")
    with pytest.raises(ValueError, match="unknown loss"):
        TrainConfig(loss="triplet")


def test_a_user_head_is_accepted_by_name():
    HEADS.register("test-tanh", lambda d_in, d_out, dropout=0.0: torch.nn.Sequential(
        torch.nn.Linear(d_in, d_out), torch.nn.Tanh()), replace=True)
    assert build_head("test-tanh", 4, 3)(torch.randn(2, 4)).abs().max() < 1
    assert TrainConfig(head="test-tanh").head == "test-tanh"


def test_registry_and_config_import_no_torch():
    code = ("import sys; import pairspace.align.config, pairspace.align.registry, pairspace.align; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_generic_names_and_old_checkpoints(tmp_path):
    torch.manual_seed(0)
    m = AlignmentModel(5, 7, "mlp", 6, names=("image", "caption"))
    assert set(k.split(".")[0] for k in m.state_dict()) == {"head_a", "head_b", "logit_scale"}
    assert m.side("image") == "a" and m.side("caption") == "b"
    with pytest.raises(ValueError, match="unknown modality"):
        m.side("audio")
    save_model(tmp_path / "m.safetensors", m, TrainConfig(head="mlp", dim=6))
    m2, _, meta = load_model(tmp_path / "m.safetensors")
    assert m2.names == ("image", "caption") and meta["names"] == ["image", "caption"]
    # a checkpoint in the layout written before the generic names (audio_head/text_head, d_audio)
    old = {k.replace("head_a.", "audio_head.").replace("head_b.", "text_head."): v
           for k, v in m.state_dict().items()}
    save_tensors(tmp_path / "old.safetensors", old,
                 {"config": {"head": "mlp", "dim": 6, "loss": "soft"}, "d_audio": 5, "d_text": 7})
    m3, cfg3, _ = load_model(tmp_path / "old.safetensors")
    x = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    np.testing.assert_array_equal(m3.project_a(x), m.project_a(x))
    with pytest.warns(DeprecationWarning, match="project_a"):
        np.testing.assert_array_equal(m3.project_audio(x), m.project(x, "image"))
    assert cfg3.soft_targets == "backbone"  # what an old soft run used


class Lookup:
    """A text 'backbone' that embeds a string by a fixed random vector per string."""

    name, dim = "lookup", 7
    provenance = Provenance("lookup", "test")

    def encode(self, items, batch_size=32, progress=None):
        return np.stack([np.random.default_rng(abs(hash(s)) % 2**32).normal(size=7) for s in items]
                        ).astype(np.float32)


def test_projected_encoder_and_prompts():
    torch.manual_seed(1)
    m = AlignmentModel(5, 7, "clap", 4).eval()
    enc = ProjectedEncoder(Lookup(), m, side="text")
    items = ["a dog", "a cat", "a bird"]
    got = enc.encode(items)
    ref = torch.nn.functional.normalize(m.head_b(torch.from_numpy(Lookup().encode(items))), dim=1)
    np.testing.assert_allclose(got, ref.detach().numpy(), rtol=1e-6, atol=1e-6)
    assert enc.dim == 4 and enc.provenance.preprocessing["backbone"]["encoder"] == "lookup"
    P = projected_prompts(m, Lookup(), ["dog", "cat"], ["{}", "a {}"])
    flat = enc.encode(format_prompts(["{}", "a {}"], ["dog", "cat"]))
    np.testing.assert_array_equal(P, flat.reshape(2, 2, 4))
    with pytest.raises(ValueError, match="7-d"):
        ProjectedEncoder(Lookup(), m, side="a")


def test_projected_encoder_is_built_from_the_registry(tmp_path, monkeypatch):
    from pairspace._registry import Entry
    from pairspace.encoders import ENCODERS, get, modality_of

    torch.manual_seed(2)
    m = AlignmentModel(5, 7, "clap", 4, names=("audio", "text")).eval()
    save_model(tmp_path / "m.safetensors", m, TrainConfig(head="clap", dim=4))
    ENCODERS.names()  # loads the built-in encoders before one is added for this test
    monkeypatch.setitem(ENCODERS._entries, "test-lookup", Entry("test-lookup", Lookup, {"modality": "text"}))
    items = ["a dog", "a cat"]
    ref = ProjectedEncoder(Lookup(), m, side="text").encode(items)
    for backbone in ("test-lookup", Lookup()):
        enc = get("projected", backbone=backbone, run=str(tmp_path / "m.safetensors"), side="text")
        assert isinstance(enc, ProjectedEncoder) and enc.dim == 4
        np.testing.assert_allclose(enc.encode(items), ref, rtol=1e-6, atol=1e-6)
    assert modality_of("projected", backbone="test-lookup") == "text"
    with pytest.raises(ValueError, match="backbone=NAME"):
        modality_of("projected")
    with pytest.raises(ValueError, match="need a backbone name"):
        get("projected", backbone=Lookup(), run=str(tmp_path / "m.safetensors"), device="cpu")
    with pytest.raises(ValueError, match="7-d"):
        get("projected", backbone="test-lookup", run=str(tmp_path / "m.safetensors"), side="audio")
