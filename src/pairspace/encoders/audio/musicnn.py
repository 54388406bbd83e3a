r"""musicnn: music-tagging CNNs supervised on MagnaTagATune's 50 tags (``musicnn``).

Pons & Serra, "musicnn: pre-trained convolutional neural networks for music audio tagging", ISMIR
2019 late-breaking demo (arXiv 1909.06654). The ``MTT_musicnn`` model was trained to predict the 50
most frequent MagnaTagATune tags (among them guitar, piano, violin, flute, sitar, harpsichord,
cello, harp, strings, synth, drums), so its embedding space is *supervised* on those names: the
route L1 of Tavares et al. (ICASSP 2025, arXiv 2408.13068) for every evaluation class a tag names.

Front end as in ``musicnn.extractor``: 16 kHz mono, mel power spectrogram (FFT 512, hop 256, 96
bands, librosa), :math:`\log_{10}(1 + 10^4 M)`, one 3-s patch of 187 frames per clip (the clip is
centre-cropped or tiled to 3 s, :func:`pairspace.data.audio.fix_length`). The embedding is one layer
of the network: ``penultimate`` (200-d, the dense layer under the tag outputs, default),
``max_pool`` (753-d) or ``mean_pool`` (753-d); ``taggram`` gives the 50 tag probabilities.

The weights ship inside the ``musicnn`` package (no download). It needs TensorFlow 2 with the
legacy Keras layers: ``pip install 'pairspace[musicnn]'`` and then
``pip install --no-deps musicnn tf-keras`` (their declared dependencies would pull a second
TensorFlow); ``TF_USE_LEGACY_KERAS=1`` is set before TensorFlow is imported.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..._deps import require
from ..base import Provenance, library_version, register
from ._base import AudioEncoder

LAYERS = ("penultimate", "max_pool", "mean_pool", "taggram")
"""The layers :class:`MusicnnEncoder` can return."""

MODELS = ("MTT_musicnn", "MSD_musicnn")
"""The musicnn checkpoints shipped in the package (MagnaTagATune / Million Song Dataset tags)."""

SAMPLE_RATE, N_FFT, HOP, N_MELS, N_FRAMES = 16000, 512, 256, 96, 187


def musicnn_frontend(wave: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    r"""musicnn's input: :math:`\log_{10}(1 + 10^4 M)` of the mel power spectrogram, (frames, 96).

    ``M`` is librosa's mel spectrogram (FFT 512, hop 256, 96 bands, centred frames) rounded to
    float16 as in ``musicnn.extractor``.
    """
    librosa = require("librosa", "musicnn")
    M = librosa.feature.melspectrogram(y=np.asarray(wave, dtype=np.float32), sr=sample_rate,
                                       hop_length=HOP, n_fft=N_FFT, n_mels=N_MELS).T
    return np.log10(10000 * M.astype(np.float16).astype(np.float32) + 1)


class MusicnnEncoder(AudioEncoder):
    """A musicnn tagger as a frozen audio backbone (see the module docstring).

    Parameters
    ----------
    model : {"MTT_musicnn", "MSD_musicnn"}
        The checkpoint (MagnaTagATune or Million Song Dataset tags).
    layer : {"penultimate", "max_pool", "mean_pool", "taggram"}
        Which activation is the embedding.
    crop, pad, seed
        How a clip is brought to 3 s (:class:`~pairspace.encoders.audio.AudioEncoder`).
    threads : int
        TensorFlow intra- and inter-op threads.
    """

    def __init__(self, model: str = "MTT_musicnn", layer: str = "penultimate", crop: str = "center",
                 pad: str = "tile", seed: int | None = None, threads: int = 1) -> None:
        if model not in MODELS:
            raise ValueError(f"model must be one of {', '.join(MODELS)}; got {model!r}")
        if layer not in LAYERS:
            raise ValueError(f"layer must be one of {', '.join(LAYERS)}; got {layer!r}")
        super().__init__(SAMPLE_RATE, 3.0, crop, pad, seed)
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        self._pkg = require("musicnn", "musicnn")
        self.model, self.layer, self.threads = model, layer, int(threads)
        self.tags = list(self._config().MTT_LABELS if model.startswith("MTT") else self._config().MSD_LABELS)
        self.name = "musicnn"
        self.dim = {"penultimate": 200, "max_pool": 753, "mean_pool": 753, "taggram": len(self.tags)}[layer]
        self._session: Any = None
        self.provenance = Provenance(
            "musicnn", f"musicnn:{model}", library_version("musicnn", "tensorflow", "librosa"), "",
            {**self._clip_options(), "layer": layer, "frames": N_FRAMES, "n_mels": N_MELS, "n_fft": N_FFT,
             "hop": HOP, "supervision": f"{len(self.tags)} tags ({model.split('_')[0]})"})

    def _config(self) -> Any:
        import importlib

        return importlib.import_module("musicnn.configuration")

    def _build(self) -> None:
        tf = require("tensorflow", "musicnn")
        import importlib

        models = importlib.import_module("musicnn.models")
        graph = tf.Graph()
        with graph.as_default():
            x = tf.compat.v1.placeholder(tf.float32, [None, N_FRAMES, N_MELS])
            training = tf.compat.v1.placeholder(tf.bool)
            with tf.name_scope("model"):
                out = models.define_model(x, training, self.model, len(self.tags))
            layer = {"taggram": tf.nn.sigmoid(out[0]), "mean_pool": out[6], "max_pool": out[7],
                     "penultimate": out[8]}[self.layer]
            cfg = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=self.threads,
                                           inter_op_parallelism_threads=self.threads)
            sess = tf.compat.v1.Session(graph=graph, config=cfg)
            tf.compat.v1.train.Saver().restore(sess, os.path.join(os.path.dirname(self._pkg.__file__),
                                                                  self.model, ""))
        self._session, self._x, self._training, self._out = sess, x, training, layer

    def _embed(self, batch: np.ndarray) -> np.ndarray:
        if self._session is None:
            self._build()
        feats = np.stack([musicnn_frontend(w, self.sample_rate)[:N_FRAMES] for w in batch])
        if feats.shape[1] < N_FRAMES:
            feats = np.pad(feats, ((0, 0), (0, N_FRAMES - feats.shape[1]), (0, 0)))
        out = self._session.run(self._out, feed_dict={self._x: feats, self._training: False})
        return np.asarray(out, dtype=np.float32).reshape(len(batch), self.dim)


@register("musicnn", "audio", "musicnn tagger (MagnaTagATune-supervised CNN), penultimate layer; "
          "optional extra")
def musicnn(**options: Any) -> MusicnnEncoder:
    """musicnn tagger (MagnaTagATune-supervised CNN), penultimate layer; optional extra."""
    return MusicnnEncoder(**options)
