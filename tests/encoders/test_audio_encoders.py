import numpy as np
import pytest
import soundfile as sf
import torch

from pairspace.data.audio import AudioReadError
from pairspace.encoders import available, get
from pairspace.encoders.audio import (
    int16_roundtrip,
    laion_clap_audio,
    log_mel,
    mel_filterbank,
    msclap_audio,
    panns_cnn14,
)

torch.set_num_threads(1)


def tone(freq, sr=16000, seconds=1.0, amp=0.3):
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_registry_lists_audio_encoders():
    names = {e["name"]: e["modality"] for e in available()}
    for n in ("logmel", "whisper", "clap-audio", "laion-clap-audio", "msclap-audio", "panns-cnn14"):
        assert names.get(n) == "audio"


def test_mel_filterbank_and_tone_band():
    fb = mel_filterbank(16000, 512, 40)
    assert fb.shape == (40, 257) and fb.min() >= 0 and fb.max() <= 1 + 1e-9
    freqs = np.linspace(0, 8000, 257)
    centres = freqs[np.argmax(fb, axis=1)]
    assert np.all(np.diff(centres) >= 0)  # filters ordered by frequency
    for f in (200.0, 1000.0, 4000.0):
        S = log_mel(tone(f), 16000, n_mels=40)
        band = int(np.argmax(S.mean(axis=1)))
        assert abs(centres[band] - f) / f < 0.2  # the loudest band sits at the tone frequency


def test_logmel_encoder_shapes_and_discrimination():
    enc = get("logmel", duration=1.0, n_mels=32)
    assert enc.dim == 128
    X = enc.encode([tone(300), tone(300, amp=0.31), tone(3000)], progress=False)
    assert X.shape == (3, 128) and X.dtype == np.float32
    assert np.linalg.norm(X[0] - X[1]) < np.linalg.norm(X[0] - X[2])
    with pytest.raises(ValueError, match="seed"):
        get("logmel", crop="random")


def test_whisper_offline_encoder(tmp_path):
    enc = get("whisper", duration=1.0)
    assert enc.dim == 384 and enc.provenance.weights_sha256
    assert enc.provenance.preprocessing["frames"] == 100
    paths = []
    for i, f in enumerate((220, 880, 3000)):
        p = tmp_path / f"t{i}.wav"
        sf.write(p, tone(f, 22050, 1.5), 22050)  # another rate: resampled on load
        paths.append(p)
    X = enc.encode(paths, batch_size=2, progress=False)
    assert X.shape == (3, 384) and np.isfinite(X).all()
    X1 = enc.encode(paths, batch_size=1, progress=False)
    np.testing.assert_allclose(X, X1, rtol=1e-4, atol=1e-4)  # batching does not change the result
    assert not np.allclose(X[0], X[2])
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"")
    rep = enc.encode_report([paths[0], bad, paths[1]], progress=False)
    assert rep.ok == [0, 2] and rep.failures[0][0] == str(bad) and rep.vectors.shape == (2, 384)
    with pytest.raises(AudioReadError, match="bad.wav"):
        enc.encode([paths[0], bad], progress=False)
    with pytest.raises(ValueError, match="not a CTranslate2 Whisper folder"):
        get("whisper", model=str(tmp_path))


def tiny_clap_audio():
    """A random-weight transformers ClapModel and its feature extractor (1-s clips at 48 kHz)."""
    tr = pytest.importorskip("transformers")
    ac = dict(
        hidden_size=16,
        patch_embeds_hidden_size=8,
        depths=[1, 1],
        num_attention_heads=[1, 2],
        window_size=8,
        num_mel_bins=64,
        spec_size=256,
        patch_size=4,
        patch_stride=(4, 4),
        projection_dim=16,
        num_hidden_layers=2,
        num_classes=10,
    )
    tc = dict(
        vocab_size=100,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        projection_dim=16,
        max_position_embeddings=40,
    )
    torch.manual_seed(0)
    model = tr.ClapModel(tr.ClapConfig(text_config=tc, audio_config=ac, projection_dim=16)).eval()
    fe = tr.ClapFeatureExtractor(
        feature_size=64,
        sampling_rate=48000,
        max_length_s=1,
        fft_window_size=1024,
        hop_length=480,
        truncation="rand_trunc",
    )
    return model, fe


def test_transformers_clap_audio_tower_tiny_random():
    model, fe = tiny_clap_audio()
    enc = get("clap-audio", model_id="tiny-random", model=model, feature_extractor=fe, duration=1.0)
    assert enc.sample_rate == 48000 and enc.dim == 16 and enc.provenance.weights_sha256
    waves = [tone(440, 48000, 0.5), tone(2000, 48000, 1.5)]  # tiled and centre-cropped to 1 s
    X = enc.encode(waves, progress=False)
    ref_in = fe(
        [np.tile(waves[0], 2)[:48000], waves[1][24000:72000]], sampling_rate=48000, return_tensors="pt"
    )
    with torch.no_grad():
        ref = model.get_audio_features(input_features=ref_in["input_features"], is_longer=ref_in["is_longer"])
    ref = ref.pooler_output if hasattr(ref, "pooler_output") else ref
    np.testing.assert_allclose(X, ref.numpy(), rtol=1e-5, atol=1e-6)


class _Recorder:
    """Stands in for a library model: records what the adapter feeds it."""

    def __init__(self, dim):
        self.dim, self.seen = dim, []

    def out(self, x):
        x = np.asarray(x)
        self.seen.append(x)
        return np.stack([np.full(self.dim, float(np.abs(r).mean())) for r in x.reshape(x.shape[0], -1)])


def test_laion_clap_preprocessing():
    rec = _Recorder(512)

    class Fake:
        def get_audio_embedding_from_data(self, x, use_tensor):
            assert use_tensor is False
            return rec.out(x)

    enc = laion_clap_audio(model=Fake(), duration=2.0)
    X = enc.encode([tone(100, 48000, 0.7, amp=1.5)], progress=False)  # clipped and quantized
    fed = rec.seen[-1]
    assert fed.shape == (1, 96000) and X.shape == (1, 512)
    assert fed.max() <= 1.0 and np.allclose(fed * 32767, np.round(fed * 32767), atol=1e-3)
    x = np.array([0.5, -1.2, 0.123456], np.float32)
    np.testing.assert_allclose(int16_roundtrip(x), [16383 / 32767, -1.0, 4045 / 32767], atol=1e-7)


def test_msclap_and_panns_preprocessing():
    rec = _Recorder(1024)

    class Args:
        sampling_rate, duration = 44100, 7

    class FakeMS:
        args = Args()

        def _get_audio_embeddings(self, x):
            assert x.ndim == 3 and x.shape[1] == 1
            return torch.from_numpy(rec.out(x[:, 0].numpy()))

    enc = msclap_audio(model=FakeMS())
    assert enc.sample_rate == 44100 and enc.n_samples == 7 * 44100 and enc.dim == 1024
    enc.encode([tone(440, 44100, 1.0)], progress=False)
    assert rec.seen[-1].shape == (1, 7 * 44100)

    prec = _Recorder(2048)

    class FakePanns:
        def inference(self, x):
            return np.zeros((x.shape[0], 527)), prec.out(x)

    enc = panns_cnn14(model=FakePanns(), duration=1.0)
    X = enc.encode([tone(440, 32000, 3.0), tone(440, 32000, 0.25)], progress=False)
    assert X.shape == (2, 2048) and prec.seen[-1].shape == (2, 32000) and enc.sample_rate == 32000


def test_random_crops_are_seeded_per_file(tmp_path):
    paths = []
    for i in range(3):
        p = tmp_path / f"n{i}.wav"
        sf.write(p, np.random.default_rng(i).normal(size=48000).astype(np.float32) * 0.1, 16000)
        paths.append(p)
    enc = get("logmel", duration=0.5, crop="random", seed=7)
    full = enc.encode(paths, batch_size=3, progress=False)
    alone = enc.encode([paths[2]], progress=False)
    np.testing.assert_allclose(full[2], alone[0], rtol=1e-5)  # same crop whatever the batch
    other = get("logmel", duration=0.5, crop="random", seed=8).encode(paths, progress=False)
    assert not np.allclose(full, other)


def test_clap_audio_returns_the_backbone_embedding_before_the_projection():
    model, fe = tiny_clap_audio()
    proj = get("clap-audio", model_id="tiny-random", model=model, feature_extractor=fe, duration=1.0)
    back = get("clap-audio", model_id="tiny-random", model=model, feature_extractor=fe, duration=1.0,
               embedding="backbone")
    waves = [tone(440, 48000, 1.0), tone(3000, 48000, 1.0)]
    P, B = proj.encode(waves, progress=False), back.encode(waves, progress=False)
    assert P.shape == (2, 16) and B.shape == (2, back.dim)
    ref_in = fe(waves, sampling_rate=48000, return_tensors="pt")
    with torch.no_grad():
        ref = model.audio_model(input_features=ref_in["input_features"],
                                is_longer=ref_in["is_longer"]).pooler_output
        # the projected embedding is the normalized projection of the backbone one
        again = torch.nn.functional.normalize(model.audio_projection(torch.from_numpy(B)), dim=-1)
    np.testing.assert_allclose(B, ref.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(again.numpy(), P, rtol=1e-4, atol=1e-5)
    assert back.provenance.preprocessing["embedding"] == "backbone"
    assert "embedding" not in proj.provenance.preprocessing
    assert back.provenance.fingerprint() != proj.provenance.fingerprint()
    with pytest.raises(ValueError, match="embedding must be 'projected'.*or 'backbone'"):
        get("clap-audio", model_id="tiny-random", model=model, feature_extractor=fe,
            embedding="pooled")


class _TwoStage(torch.nn.Module):
    """A library model stand-in: a backbone, then ``projection`` (a torch module)."""

    def __init__(self, d_in, d_back, d_out):
        super().__init__()
        torch.manual_seed(1)
        self.backbone = torch.nn.Linear(d_in, d_back)
        self.projection = torch.nn.Linear(d_back, d_out)

    def forward(self, x):
        return self.projection(torch.tanh(self.backbone(x)))

    def backbone_of(self, x):
        return torch.tanh(self.backbone(x))


def test_laion_and_msclap_audio_backbone_embeddings_via_the_projection_input():
    net = _TwoStage(8, 6, 4)

    def first8(x):
        return torch.as_tensor(np.asarray(x, np.float32)[:, :8])

    class FakeLaion:  # CLAP_Module: .model.audio_projection inside get_audio_embedding_from_data
        model = type("Inner", (), {"audio_projection": net.projection})()

        def get_audio_embedding_from_data(self, x, use_tensor):
            with torch.no_grad():
                return net(first8(x)).numpy()

    waves = [tone(300, 48000, 1.0), tone(900, 48000, 1.0), tone(60, 48000, 1.0)]
    P = laion_clap_audio(model=FakeLaion(), duration=1.0).encode(waves, batch_size=2, progress=False)
    enc = laion_clap_audio(model=FakeLaion(), duration=1.0, embedding="backbone")
    B = enc.encode(waves, batch_size=2, progress=False)
    assert P.shape == (3, 4) and B.shape == (3, 6) and enc.dim == 6
    from pairspace.encoders.audio import int16_roundtrip as q

    with torch.no_grad():
        np.testing.assert_allclose(B, net.backbone_of(first8(q(np.stack(waves)))).numpy(), atol=1e-6)

    class Args:
        sampling_rate, duration = 16000, 1

    class FakeMS:  # msclap.CLAP: .clap.audio_encoder.projection inside _get_audio_embeddings
        args = Args()
        clap = type("C", (), {"audio_encoder": type("A", (), {"projection": net.projection})()})()

        def _get_audio_embeddings(self, x):
            return net(x[:, 0, :8])

    enc = msclap_audio(model=FakeMS(), embedding="backbone")
    B = enc.encode([tone(440, 16000, 1.0)], progress=False)
    with torch.no_grad():
        np.testing.assert_allclose(B, net.backbone_of(torch.from_numpy(tone(440)[None, :8])).numpy(),
                                   atol=1e-6)
    assert enc.provenance.preprocessing["embedding"] == "backbone"
