"""Text encoders: the offline MiniLM, HF pooling, tiny random-weight CLIP/CLAP text towers, WordLlama."""

import numpy as np
import pytest

from pairspace.encoders import Encoder, available, get

pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

SENTENCES = ["a photo of a cat.", "the sound of heavy rain on a tin roof at night.", "a dog"]


@pytest.fixture(scope="module")
def minilm():
    return get("minilm")


@pytest.fixture(scope="module")
def bert_tokenizer():
    from transformers import AutoTokenizer

    from pairspace.encoders.text import minilm_path

    return AutoTokenizer.from_pretrained(str(minilm_path()))


def test_registry_lists_text_encoders():
    names = {e["name"]: e["modality"] for e in available()}
    for n in ("minilm", "sentence-transformers", "hf", "clip-text", "clap-text", "open-clip-text",
              "wordllama"):
        assert names[n] == "text"
    with pytest.raises(ValueError, match="unknown encoder"):
        get("no-such-encoder")


def test_minilm_offline(minilm):
    X = minilm.encode(SENTENCES, batch_size=2)
    assert isinstance(minilm, Encoder)
    assert X.shape == (3, 384) and X.dtype == np.float32 and minilm.dim == 384
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)  # model normalizes
    # paraphrases are closer than unrelated sentences
    P = minilm.encode(["a picture of a cat.", "a truck on the highway."])
    assert X[0] @ P[0] > X[0] @ P[1] + 0.2
    # batching does not change the vectors
    np.testing.assert_allclose(minilm.encode(SENTENCES, batch_size=1), X, atol=1e-5)
    prov = minilm.provenance
    assert prov.encoder == "minilm" and len(prov.weights_sha256) == 64
    assert "sentence-transformers" in prov.library
    assert prov.fingerprint() == get("minilm").provenance.fingerprint()
    with pytest.raises(ValueError, match="strings"):
        minilm.encode([1, 2])
    with pytest.raises(ValueError, match="single string"):
        minilm.encode("a cat")


def test_hf_mean_pooling_reproduces_sentence_transformers(minilm):
    from pairspace.encoders.text import minilm_path

    hf = get("hf", model_id=str(minilm_path()), pooling="mean", normalize=True)
    np.testing.assert_allclose(hf.encode(SENTENCES), minilm.encode(SENTENCES), atol=1e-5)
    cls = get("hf", model_id=str(minilm_path()), pooling="cls")
    assert not np.allclose(cls.encode(SENTENCES[:1]), hf.encode(SENTENCES[:1]), atol=1e-3)
    with pytest.raises(ValueError, match="pooling"):
        get("hf", model_id=str(minilm_path()), pooling="max")


def tiny_clip():
    from transformers import CLIPConfig, CLIPModel

    torch.manual_seed(0)
    cfg = CLIPConfig(
        text_config=dict(vocab_size=30522, hidden_size=32, intermediate_size=37, num_hidden_layers=1,
                         num_attention_heads=2, max_position_embeddings=64, eos_token_id=102,
                         pad_token_id=0, bos_token_id=101),
        vision_config=dict(image_size=32, patch_size=8, hidden_size=32, intermediate_size=37,
                           num_hidden_layers=1, num_attention_heads=2),
        projection_dim=16)
    return CLIPModel(cfg)


def tiny_clap():
    from transformers import ClapConfig, ClapModel

    torch.manual_seed(0)
    cfg = ClapConfig(
        text_config=dict(vocab_size=30522, hidden_size=32, intermediate_size=37, num_hidden_layers=1,
                         num_attention_heads=2, max_position_embeddings=80, pad_token_id=0),
        audio_config=dict(depths=[1, 1], num_attention_heads=[1, 1], patch_embeds_hidden_size=8,
                          hidden_size=16, spec_size=64, window_size=4, num_mel_bins=16,
                          patch_stride=[4, 4], patch_size=4, projection_hidden_size=16),
        projection_dim=16)
    return ClapModel(cfg)


@pytest.mark.parametrize("name,factory", [("clip-text", tiny_clip), ("clap-text", tiny_clap)])
def test_tiny_towers_match_the_model_and_ignore_padding(name, factory, bert_tokenizer):
    model = factory()
    enc = get(name, model_id="tiny-random", model=model, tokenizer=bert_tokenizer)
    X = enc.encode(SENTENCES, batch_size=3)
    assert X.shape == (3, 16) and enc.dim == 16
    # each sentence alone (no padding) gives the same vector as in a padded batch
    for i, s in enumerate(SENTENCES):
        np.testing.assert_allclose(enc.encode([s])[0], X[i], atol=1e-5)
    tok = bert_tokenizer([SENTENCES[0]], return_tensors="pt")
    with torch.no_grad():
        out = model.get_text_features(input_ids=tok["input_ids"], attention_mask=tok["attention_mask"])
    ref = (out if hasattr(out, "shape") else out.pooler_output)[0].numpy()
    np.testing.assert_allclose(X[0], ref, atol=1e-5)
    # provenance follows the weights
    fp = enc.provenance.fingerprint()
    with torch.no_grad():
        next(model.parameters()).add_(1.0)
    enc2 = get(name, model_id="tiny-random", model=model, tokenizer=bert_tokenizer)
    assert enc2.provenance.fingerprint() != fp


def test_wordllama_offline():
    pytest.importorskip("wordllama")
    enc = get("wordllama")
    X = enc.encode(["a cat", "a kitten", "tax law"])
    assert X.shape == (3, 256) and X.dtype == np.float32
    cos = X @ X.T / np.outer(np.linalg.norm(X, axis=1), np.linalg.norm(X, axis=1))
    assert cos[0, 1] > cos[0, 2]
    assert len(enc.provenance.weights_sha256) == 64


def test_missing_optional_library_names_the_extra():
    with pytest.raises(ImportError, match=r"pairspace\[clip\]"):
        get("open-clip-text")


def test_minilm_zero_shot_and_template_study_end_to_end(minilm):
    """A real model through the whole path: sentences classified by prompt templates."""
    from pairspace import zeroshot

    names = ["cat", "guitar", "airplane", "pizza", "rain"]
    media_text = ["my cat purrs on the sofa", "a kitten chasing a ball of yarn",
                  "he tuned the strings of his guitar", "an acoustic guitar solo",
                  "the airplane landed on the runway", "a jet flying above the clouds",
                  "a slice of pizza with cheese", "we ordered a pepperoni pizza",
                  "rain falling on the roof", "a rainy grey afternoon with showers"]
    labels = np.repeat(np.arange(5), 2)
    media = minilm.encode(media_text)
    W = zeroshot.build_classifier(minilm, names, ["a photo of a {}.", "this is about {}."])
    m = zeroshot.zeroshot_metrics(zeroshot.zeroshot_scores(media, W), labels, names)
    assert m["top1"] >= 0.9
    res = zeroshot.template_study(media, ["a photo of a {}.", "{}", "this is about {}.", "not {}"],
                                  names, labels, text_encoder=minilm, k=1, metric="cosine")
    assert len(res.per_template) == 4 and all(r["accuracy"] >= 0.6 for r in res.per_template)


@pytest.mark.parametrize("name,factory", [("clip-text", tiny_clip), ("clap-text", tiny_clap)])
def test_tiny_towers_return_the_backbone_before_the_projection(name, factory, bert_tokenizer):
    model = factory()
    back = get(name, model_id="tiny-random", model=model, tokenizer=bert_tokenizer,
               embedding="backbone")
    B = back.encode(SENTENCES, batch_size=2)
    assert B.shape == (3, 32) and back.dim == 32
    tok = bert_tokenizer(SENTENCES, padding=True, return_tensors="pt")
    with torch.no_grad():
        ref = model.text_model(input_ids=tok["input_ids"],
                               attention_mask=tok["attention_mask"]).pooler_output
        projected = model.text_projection(torch.from_numpy(B))
    np.testing.assert_allclose(B, ref.numpy(), atol=1e-5)
    P = get(name, model_id="tiny-random", model=model, tokenizer=bert_tokenizer).encode(SENTENCES)
    cos = np.sum(projected.numpy() * P, axis=1) / (np.linalg.norm(projected.numpy(), axis=1)
                                                  * np.linalg.norm(P, axis=1))
    np.testing.assert_allclose(cos, 1.0, atol=1e-5)  # same direction: P is the projection of B
    assert back.provenance.preprocessing["embedding"] == "backbone"


def test_library_text_towers_return_the_backbone_before_the_projection():
    from pairspace.encoders.text_libs import laion_clap_text, msclap_text

    torch.manual_seed(0)
    proj = torch.nn.Linear(5, 3)

    def backbone(texts):
        return torch.tensor([[len(t), t.count("a"), t.count(" "), 1.0, -1.0] for t in texts])

    class Inner(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.text_projection = proj

    class FakeLaion(torch.nn.Module):  # CLAP_Module squeezes a batch of one text
        def __init__(self):
            super().__init__()
            self.model = Inner()

        def get_text_embedding(self, texts, use_tensor):
            assert len(texts) > 1
            with torch.no_grad():
                return self.model.text_projection(backbone(texts)).numpy()

    enc = laion_clap_text(model=FakeLaion(), embedding="backbone")
    np.testing.assert_allclose(enc.encode(["a cat", "two", "b"], batch_size=2),
                               backbone(["a cat", "two", "b"]).numpy())
    assert enc.dim == 5 and laion_clap_text(model=FakeLaion()).dim == 3

    class FakeMS:
        clap = torch.nn.Module()

        def get_text_embeddings(self, texts):
            return self.clap.caption_encoder.projection(backbone(texts))

    FakeMS.clap.caption_encoder = torch.nn.Module()
    FakeMS.clap.caption_encoder.projection = proj
    enc = msclap_text(model=FakeMS(), embedding="backbone")
    np.testing.assert_allclose(enc.encode(["a cat"]), backbone(["a cat"]).numpy())
    assert enc.provenance.preprocessing == {"tower": "text", "embedding": "backbone"}
    with pytest.raises(ValueError, match="embedding must be"):
        msclap_text(model=FakeMS(), embedding="joint")
