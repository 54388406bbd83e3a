import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from pairspace.data.audio import AudioReadError, fix_length, load_audio, load_audio_with_rate, load_many


def tone(freq, sr, seconds, channels=1):
    t = np.arange(int(sr * seconds)) / sr
    x = 0.5 * np.sin(2 * np.pi * freq * t).astype(np.float32)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


def peak_hz(x, sr):
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.argmax(spec) * sr / len(x)


@pytest.mark.parametrize("fmt,subtype", [("wav", "PCM_16"), ("flac", "PCM_16"), ("ogg", "VORBIS")])
def test_decode_downmix_resample(tmp_path, fmt, subtype):
    sr = 44100
    stereo = tone(440, sr, 1.0, channels=2)
    stereo[:, 1] = 0.0  # right channel silent: the mono mix is half of the left one
    path = tmp_path / f"a.{fmt}"
    sf.write(path, stereo, sr, subtype=subtype)
    w, out_sr = load_audio_with_rate(path, 16000)
    assert out_sr == 16000 and w.dtype == np.float32 and w.ndim == 1
    assert abs(len(w) - 16000) <= 2
    assert abs(peak_hz(w, 16000) - 440) < 3
    assert np.abs(w).max() == pytest.approx(0.25, abs=0.03)
    native = load_audio(path, None)
    assert len(native) == 44100


def test_pyav_fallback_for_m4a(tmp_path):
    av = pytest.importorskip("av")
    sr = 22050
    x = tone(1000, sr, 1.0)
    path = tmp_path / "a.m4a"
    with av.open(str(path), "w") as c:
        s = c.add_stream("aac", rate=sr)
        s.layout = "mono"
        frame_size = 1024
        for i in range(0, len(x), frame_size):
            chunk = x[i:i + frame_size]
            fr = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
            fr.sample_rate = sr
            for p in s.encode(fr):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    with pytest.raises(Exception):  # noqa: B017 - soundfile cannot read AAC: the fallback is needed
        sf.read(path)
    w = load_audio(path, 16000)
    assert 15000 < len(w) < 17500
    assert abs(peak_hz(w, 16000) - 1000) < 5


def test_bad_files_have_clear_errors_and_batches_go_on(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.flac"
    junk.write_bytes(b"this is not audio" * 20)
    good = tmp_path / "good.wav"
    sf.write(good, tone(300, 16000, 0.5), 16000)
    nosamples = tmp_path / "zero.wav"
    sf.write(nosamples, np.zeros((0,), np.float32), 16000)
    with pytest.raises(AudioReadError, match="empty.wav"):
        load_audio(empty)
    with pytest.raises(AudioReadError, match="junk.flac"):
        load_audio(junk)
    with pytest.raises(AudioReadError, match="not found.*missing.wav"):
        load_audio(tmp_path / "missing.wav")
    with pytest.raises(AudioReadError, match="zero.wav"):
        load_audio(nosamples)
    rep = load_many([empty, good, junk, tmp_path / "missing.wav", good], 16000, duration=1.0, progress=False)
    assert rep.ok == [1, 4] and len(rep.waves) == 2 and all(len(w) == 16000 for w in rep.waves)
    assert [p for p, _ in rep.failures] == [str(empty), str(junk), str(tmp_path / "missing.wav")]
    assert "junk.flac" in rep.summary()
    with pytest.raises(AudioReadError):
        load_many([good, junk], on_error="raise", progress=False)


def test_fix_length_policy():
    x = np.arange(10, dtype=np.float32)
    np.testing.assert_array_equal(fix_length(x, 4), x[3:7])  # centre: (10 - 4) // 2 = 3
    np.testing.assert_array_equal(fix_length(x, 4, crop="start"), x[:4])
    np.testing.assert_array_equal(fix_length(x[:3], 8), [0, 1, 2, 0, 1, 2, 0, 1])
    np.testing.assert_array_equal(fix_length(x[:3], 5, pad="zeros"), [0, 1, 2, 0, 0])
    with pytest.raises(ValueError, match="seed"):
        fix_length(x, 4, crop="random")
    a = fix_length(x, 4, crop="random", seed=3)
    assert np.array_equal(a, fix_length(x, 4, crop="random", seed=3))
    starts = {int(fix_length(x, 4, crop="random", seed=s)[0]) for s in range(40)}
    assert starts == set(range(7))  # every admissible start is reachable
    with pytest.raises(ValueError, match="crop"):
        fix_length(x, 4, crop="middle")
    with pytest.raises(ValueError, match="empty"):
        fix_length(x[:0], 4)


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 300), L=st.integers(1, 300), crop=st.sampled_from(["center", "start", "random"]),
       pad=st.sampled_from(["tile", "zeros"]))
def test_fix_length_properties(n, L, crop, pad):
    x = np.random.default_rng(n).normal(size=n).astype(np.float32)
    y = fix_length(x, L, crop, pad, seed=0)
    assert y.shape == (L,)
    if n >= L:  # a crop is a contiguous window of the input
        s = int(np.flatnonzero(np.all(np.lib.stride_tricks.sliding_window_view(x, L) == y, axis=1))[0])
        assert 0 <= s <= n - L
    else:
        np.testing.assert_array_equal(y[:n], x)
        if pad == "tile":
            np.testing.assert_array_equal(y, x[np.arange(L) % n])
        else:
            assert not y[n:].any()
