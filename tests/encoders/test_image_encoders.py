"""Image encoders: Pillow preprocessing, a tiny random-weight CLIP image tower, EfficientNet-Lite0."""

import os

import numpy as np
import pytest

from pairspace.encoders import available, get
from pairspace.encoders.image import CLIP_MEAN, CLIP_STD, load_image, preprocess

torch = pytest.importorskip("torch")
Image = pytest.importorskip("PIL.Image")


def test_preprocess_resizes_shorter_side_and_crops_centre():
    # 40 x 80 (H x W) image: left half black, right half white, with a 20-px red band in the middle
    arr = np.zeros((40, 80, 3), dtype=np.uint8)
    arr[:, 40:] = 255
    arr[:, 30:50, 1:] = 0
    arr[:, 30:50, 0] = 255
    x = preprocess(arr, 20, (0, 0, 0), (1, 1, 1), resample="bilinear")
    assert x.shape == (3, 20, 20) and x.dtype == np.float32
    # resized to 20 x 40, cropped columns 10..30: the red band (columns 15..25) sits in the centre
    assert np.allclose(x[:, :, 8:12], [[[1.0]], [[0.0]], [[0.0]]], atol=0.02)
    assert x[1, :, 0].max() < 0.05 and x[1, :, -1].min() > 0.95
    y = preprocess(Image.fromarray(arr), 20, CLIP_MEAN, CLIP_STD, resample="bilinear")
    np.testing.assert_allclose(y, (x - np.array(CLIP_MEAN)[:, None, None]) /
                               np.array(CLIP_STD)[:, None, None], atol=1e-5)


def test_load_image_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_image(tmp_path / "nope.png")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="could not read"):
        load_image(tmp_path / "bad.png")
    with pytest.raises(ValueError, match="uint8"):
        load_image(np.zeros((4, 4, 3)))
    Image.fromarray(np.full((5, 7), 9, np.uint8)).save(tmp_path / "gray.png")
    assert load_image(tmp_path / "gray.png").mode == "RGB"


def test_tiny_clip_image_tower(tmp_path):
    from transformers import CLIPConfig, CLIPModel

    torch.manual_seed(0)
    cfg = CLIPConfig(text_config=dict(hidden_size=32, intermediate_size=37, num_hidden_layers=1,
                                      num_attention_heads=2),
                     vision_config=dict(image_size=32, patch_size=8, hidden_size=32, intermediate_size=37,
                                        num_hidden_layers=1, num_attention_heads=2),
                     projection_dim=16)
    model = CLIPModel(cfg)
    enc = get("clip-image", model_id="tiny-random", model=model)
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 256, size=(48, 40, 3), dtype=np.uint8) for _ in range(3)]
    Image.fromarray(imgs[2]).save(tmp_path / "im.png")
    X = enc.encode([imgs[0], Image.fromarray(imgs[1]), str(tmp_path / "im.png")], batch_size=2)
    assert X.shape == (3, 16) and X.dtype == np.float32
    pix = torch.from_numpy(np.stack([preprocess(im, 32, CLIP_MEAN, CLIP_STD) for im in imgs]))
    with torch.no_grad():
        out = model.get_image_features(pixel_values=pix)
    ref = (out if hasattr(out, "shape") else out.pooler_output).numpy()
    np.testing.assert_allclose(X, ref, atol=1e-5)
    assert enc.provenance.preprocessing["size"] == 32


def test_efficientnet_lite0_recognizes_a_real_photo():
    pytest.importorskip("efficientnet_lite_pytorch")
    import matplotlib

    photo = os.path.join(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg")
    logits = get("efficientnet-lite0", features="logits").encode([photo])
    assert logits.shape == (1, 1000)
    assert int(np.argmax(logits[0])) == 652  # ImageNet class 652: "military uniform"
    enc = get("efficientnet-lite0")
    F = enc.encode([photo, np.zeros((32, 32, 3), np.uint8)])
    assert F.shape == (2, 1280) and enc.dim == 1280
    assert len(enc.provenance.weights_sha256) == 64
    assert {"clip-image", "open-clip-image", "efficientnet-lite0"} <= {
        e["name"] for e in available() if e["modality"] == "image"}


def test_open_clip_adapters_follow_the_open_clip_api(monkeypatch):
    """open_clip needs torchvision (absent here): a stand-in module with open_clip's API checks the
    adapters' wiring (create_model_and_transforms, get_tokenizer, encode_text, encode_image)."""
    import sys
    import types

    class TinyOpenCLIP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.tok = torch.nn.Embedding(100, 12)
            self.img = torch.nn.Linear(3 * 8 * 8, 12)

        def encode_text(self, tokens):
            return self.tok(tokens).mean(1)

        def encode_image(self, x):
            return self.img(x.flatten(1))

    def transform(im):
        arr = np.asarray(im.resize((8, 8)), dtype=np.float32) / 255.0
        return torch.from_numpy(arr.transpose(2, 0, 1).copy())

    def tokenizer(texts):
        return torch.tensor([[min(99, len(w)) for w in (t.split() + ["", "", ""])[:4]] for t in texts])

    calls = {}

    def create_model_and_transforms(arch, pretrained=None, device=None):
        calls["args"] = (arch, pretrained)
        return TinyOpenCLIP(), None, transform

    fake = types.SimpleNamespace(create_model_and_transforms=create_model_and_transforms,
                                 get_tokenizer=lambda arch: tokenizer)
    monkeypatch.setitem(sys.modules, "open_clip", fake)
    txt = get("open-clip-text", arch="ViT-B-32", pretrained="laion2b_s34b_b79k")
    assert calls["args"] == ("ViT-B-32", "laion2b_s34b_b79k") and txt.dim == 12
    T = txt.encode(["a photo of a cat", "dog"])
    with torch.no_grad():
        ref = txt.module.encode_text(tokenizer(["a photo of a cat", "dog"])).numpy()
    np.testing.assert_allclose(T, ref, atol=1e-6)
    img = get("open-clip-image")
    im = np.full((10, 12, 3), 200, np.uint8)
    I_ = img.encode([im])
    with torch.no_grad():
        ref = img.module.encode_image(transform(load_image(im))[None]).numpy()
    np.testing.assert_allclose(I_, ref, atol=1e-6)
    assert img.dim == 12 and img.provenance.model_id == "ViT-B-32/openai"


def test_pixel_baseline_is_low_res_pixels_and_a_colour_histogram() -> None:
    from pairspace.encoders import get

    enc = get("pixels", grid=2, bins=2)
    assert enc.dim == 3 * 4 + 8
    img = np.zeros((4, 4, 3), np.uint8)
    img[:, 2:] = 255  # left half black, right half white
    v = enc.encode([img])[0]
    pix = v[:12].reshape(2, 2, 3)
    assert np.allclose(pix[:, 0], -1.0) and np.allclose(pix[:, 1], 1.0)
    hist = v[12:]
    assert np.isclose(hist[0], 0.5) and np.isclose(hist[7], 0.5) and np.isclose(hist.sum(), 1.0)
    rep = enc.encode_report([img, "/no/such/image.png"])
    assert rep.ok == [0] and "not found" in rep.failures[0][1]
    with pytest.raises(ValueError, match="grid"):
        get("pixels", grid=0)
