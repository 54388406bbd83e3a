"""The offline audio-text alignment demo (``pairspace demo --audio``).

1. Render (or reuse) the General MIDI instrument benchmark
   (:mod:`pairspace.data.datasets.instruments`) in the user's cache folder.
2. Embed the clips with Whisper tiny.en (CTranslate2; the weight-free ``logmel`` baseline when the
   Whisper package is missing) and the captions with MiniLM; both tables are cached beside the
   dataset and reused while the encoders and inputs are unchanged.
3. Train CLAP projection heads on the captions of the *seen* instruments only, model selection on
   held-out seen clips: with the symmetric InfoNCE loss, then with the soft-labeled loss of Wang et
   al. (WASPAA 2023, arXiv 2305.01864; beta = 0.3) as in the paper: the frozen InfoNCE run is the
   teacher (targets from its projected, L2-normalized embeddings) and the student starts from its
   weights. A third run, labeled as not the paper's, takes the soft targets from the raw backbone
   embeddings (``soft_targets="backbone"``) for comparison.
4. On the *unseen* instruments: zero-shot top-1/top-5/balanced accuracy against chance (prompts
   from the shipped ``audio`` template set, ensembled), caption<->clip retrieval R@1/R@10, and the
   template study (NNGS of class centroids vs per-template text embeddings, correlated with the
   per-template accuracy) on the trained model. Untrained heads give the floor.

:func:`run` takes plain arguments and returns an :class:`AudioDemoResult` (``to_dict()`` is the
``pairspace.audio_demo/2`` document, in the result envelope of :mod:`pairspace.envelope`); it reports
stages through :mod:`logging` (logger ``pairspace.studies.audio_demo``) and progress bars, and never
prints. :mod:`pairspace.report.audio_demo` writes the files and ``pairspace demo --audio`` renders the
tables.

Determinism: the backbone embeddings, the training and the evaluation run with a fixed number of CPU
threads (``threads``, 1 by default, for CTranslate2 and torch alike), so that the numbers do not follow
the machine's core count.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._progress import progress_bar
from ..align.evaluate import projected_prompts, retrieval_eval, zeroshot_eval
from ..align.trainer import AlignmentModel, TrainConfig
from ..data.datasets.instruments import InstrumentSet, render_instruments
from ..data.table import EmbeddingTable
from ..envelope import Envelope
from .audio_demo_runs import BEST, DEMO_CONFIG, MODELS, RUNS, run_config, train_models

# The runs' settings live in audio_demo_runs; these names stay importable from here.
__all__ = ["BEST", "DEMO_CONFIG", "MODELS", "RUNS", "SCHEMA", "AudioDemoResult", "audio_encoder",
           "embed_tables", "evaluate_models", "evaluate_unseen", "run", "run_config", "train_models"]

SCHEMA = "pairspace.audio_demo/2"
_log = logging.getLogger(__name__)


#: Whisper's options in the demo. float32 rather than CTranslate2's int8 default: the int8 kernels
#: differ between CPU instruction sets (AVX2, AVX-512, generic) by about 1% of each embedding, the
#: float32 ones only by float rounding (about 1e-6 relative), at the same speed on this machine.
WHISPER_OPTIONS: dict[str, Any] = {"compute_type": "float32"}


def audio_encoder(name: str | None = None, threads: int | None = 1,
                  options: dict[str, Any] | None = None) -> Any:
    """Whisper tiny.en (offline) or, when it cannot be loaded, the weight-free log-mel baseline.

    ``threads`` fixes CTranslate2's intra-op threads of the Whisper encoder (None: its default, which
    follows the machine's core count); ``options`` replace :data:`WHISPER_OPTIONS`.
    """
    from ..encoders import get

    whisper_options = dict(WHISPER_OPTIONS if options is None else options)
    if threads is not None:
        whisper_options["threads"] = int(threads)
    if name and name != "whisper":
        return get(name)
    try:
        return get("whisper", **whisper_options)
    except ImportError as exc:
        if name:
            raise
        _log.warning(f"whisper unavailable ({exc}); using the logmel baseline")
        return get("logmel")


def embed_tables(
    ds: InstrumentSet, audio_enc: Any, text_enc: Any, progress: bool | None = True
) -> tuple[EmbeddingTable, EmbeddingTable, dict[str, Any]]:
    """Embed (or reuse) the clips and the captions of ``ds``; tables live in ``ds.root/embeddings``."""
    from ..data.embed import embed_manifest
    from ..data.manifests import Manifest

    emb = ds.root / "embeddings"
    clips = Manifest(
        [c["audio_id"] for c in ds.clips],
        [str(ds.root / c["path"]) for c in ds.clips],
        "path",
        [c["instrument"] for c in ds.clips],
        source=str(ds.root / "clips.csv"),
    )
    caps = Manifest(
        [c["text_id"] for c in ds.captions],
        [c["text"] for c in ds.captions],
        "text",
        [c["label"] for c in ds.captions],
        source=str(ds.root / "captions.csv"),
    )
    t0 = time.perf_counter()
    a = embed_manifest(audio_enc, clips, emb / f"audio-{audio_enc.name}.parquet", progress=progress)
    t1 = time.perf_counter()
    t = embed_manifest(text_enc, caps, emb / f"captions-{text_enc.name}.parquet", progress=progress)
    t2 = time.perf_counter()
    info = {
        "audio_reused": a.reused,
        "text_reused": t.reused,
        "audio_seconds": round(t1 - t0, 2),
        "text_seconds": round(t2 - t1, 2),
        "audio_table": str(a.path),
        "text_table": str(t.path),
    }
    return a.table, t.table, info


def evaluate_unseen(
    model: AlignmentModel,
    ds: InstrumentSet,
    audio: EmbeddingTable,
    text: EmbeddingTable,
    prompts: np.ndarray,
    classes: list[str],
    family_prompts: np.ndarray | None = None,
) -> dict[str, Any]:
    """Zero-shot (instrument, and family when ``family_prompts`` is given) and retrieval on unseen clips."""
    clips = [c for c in ds.clips if c["split"] == "unseen"]
    caps = [c for c in ds.captions if c["split"] == "unseen"]
    A = audio.select([c["audio_id"] for c in clips])
    T = text.select([c["text_id"] for c in caps])
    row = {c["audio_id"]: i for i, c in enumerate(clips)}
    zs = zeroshot_eval(model, A.vectors, [c["instrument"] for c in clips], classes, prompts)
    rt = retrieval_eval(model, A.vectors, T.vectors, [row[c["audio_id"]] for c in caps])
    keys = ("top1", "top5", "balanced_accuracy", "chance", "n", "n_classes")
    out = {
        "zeroshot": {k: zs[k] for k in keys},
        "retrieval": {
            d: {k: rt[d][k] for k in ("R@1", "R@5", "R@10", "mAP@10", "median_rank")}
            for d in ("text_to_audio", "audio_to_text")
        },
    }
    if family_prompts is not None:
        fams = sorted({c["family"] for c in ds.classes})
        fz = zeroshot_eval(model, A.vectors, [c["family"] for c in clips], fams, family_prompts)
        out["zeroshot_family"] = {k: fz[k] for k in keys}
    return out


@dataclass
class AudioDemoResult:
    """Everything the audio demo measured; ``to_dict()`` is the ``pairspace.audio_demo/2`` document.

    Attributes
    ----------
    dataset : dict
        ``root``, ``n_clips``, ``n_captions``, ``seen_classes``, ``unseen_classes``.
    encoders : dict
        ``audio`` and ``text`` provenance, and ``embeddings`` (tables, reuse, seconds).
    train_config : dict
        The shared training configuration (the loss and the teacher vary per run).
    results : dict
        Model label (:data:`MODELS`) -> ``zeroshot``, ``zeroshot_family`` and ``retrieval`` metrics on
        the unseen instruments.
    template_study : TemplateStudyResult
        The template study on the trained InfoNCE model.
    n_templates : int
        The number of ensembled prompt templates.
    run_dirs : dict
        Run name (:data:`RUNS`) -> the training run folder.
    run_configs : dict
        Run name -> that run's full training configuration (loss, soft targets, teacher).
    timings_s : dict
        Seconds per stage (``dataset``, ``embed``, ``train``, ``evaluate``, ``total``).
    threads : int or None
        CPU threads used by CTranslate2 and torch.
    envelope : Envelope
        When, by which command and package version the result was made.
    """

    dataset: dict[str, Any]
    encoders: dict[str, Any]
    train_config: dict[str, Any]
    results: dict[str, dict[str, Any]]
    template_study: Any
    n_templates: int
    run_dirs: dict[str, str] = field(default_factory=dict)
    run_configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)
    threads: int | None = 1
    envelope: Envelope = field(default_factory=lambda: Envelope.new(SCHEMA))

    def to_dict(self) -> dict[str, Any]:
        """The ``pairspace.audio_demo/2`` document.

        Version 2 puts the dataset and the encoders under ``inputs``, the classes, training
        configurations, threads and template count under ``settings``, and the per-model metrics
        (``results.models``, version 1's ``results``), the template study's own document, the run
        folders and the timings under ``results``.
        """
        inputs = {"dataset": self.dataset["root"], "n_clips": self.dataset["n_clips"],
                  "n_captions": self.dataset["n_captions"], "audio_encoder": self.encoders["audio"],
                  "text_encoder": self.encoders["text"], "embeddings": self.encoders["embeddings"]}
        settings = {"seen_classes": self.dataset["seen_classes"],
                    "unseen_classes": self.dataset["unseen_classes"],
                    "train_config": self.train_config, "threads": self.threads,
                    "n_templates": self.n_templates, "run_configs": self.run_configs}
        stamp = Envelope(**{**vars(self.envelope), "inputs": inputs})
        return stamp.document(settings, {"models": self.results,
                                         "template_study": self.template_study.to_dict(),
                                         "run_dirs": self.run_dirs, "timings_s": self.timings_s})



class _MemoEncoder:
    """A text encoder that embeds each list of prompts once: every model projects the same backbone
    embeddings of the prompts, so they are computed for the first model and reused."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder
        self._cache: dict[tuple[str, ...], np.ndarray] = {}

    def encode(self, items: list[str], batch_size: int = 32, progress: bool | None = None) -> np.ndarray:
        key = tuple(items)
        if key not in self._cache:
            self._cache[key] = np.asarray(self.encoder.encode(items, batch_size=batch_size,
                                                              progress=progress))
        return self._cache[key]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.encoder, name)


def evaluate_models(models: dict[str, AlignmentModel], ds: InstrumentSet, audio: EmbeddingTable,
                    text: EmbeddingTable, text_enc: Any, templates: Any,
                    progress: bool | None = True) -> tuple[dict[str, Any], Any]:
    """Every model on the unseen instruments, then the template study on :data:`BEST`.

    Returns the per-model results and the :class:`~pairspace.studies.templates.TemplateStudyResult`.
    """
    from .templates import template_study

    unseen = ds.class_names("unseen")
    families = sorted({c["family"] for c in ds.classes})
    text_enc = _MemoEncoder(text_enc)
    results: dict[str, Any] = {}
    prompts: dict[str, np.ndarray] = {}
    with progress_bar(total=len(models) + 1, desc="evaluate unseen", progress=progress,
                      unit="step") as bar:
        for name, model in models.items():
            bar.set_postfix_str(name)
            prompts[name] = projected_prompts(model, text_enc, unseen, templates.templates, progress=False)
            fam = projected_prompts(model, text_enc, families, templates.templates, progress=False)
            results[name] = evaluate_unseen(model, ds, audio, text, prompts[name], unseen, fam)
            bar.update()
        bar.set_postfix_str("template study")
        clips = [c for c in ds.clips if c["split"] == "unseen"]
        media = EmbeddingTable(
            [c["audio_id"] for c in clips],
            models[BEST].project_a(audio.select([c["audio_id"] for c in clips]).vectors),
            [c["instrument"] for c in clips],
        )
        study = template_study(media, templates, class_names=unseen, text_embeddings=prompts[BEST],
                               k=3, metric="euclidean", progress=False)
        bar.update()
    return results, study


def run(out: str | Path = "pairspace-demo", *, audio_encoder_name: str | None = None,
        audio_options: dict[str, Any] | None = None, config: TrainConfig = DEMO_CONFIG,
        threads: int | None = 1, progress: bool | None = None) -> AudioDemoResult:
    """Run the audio demo: render, embed, train on the seen instruments, evaluate on the unseen ones.

    Parameters
    ----------
    out : str or Path
        Folder of the training runs (``run-infonce/``, ``run-soft/``, ``run-soft-backbone/``); the
        report writer
        (:func:`pairspace.report.audio_demo.write_audio_demo`) puts its files there too.
    audio_encoder_name : str, optional
        A registered audio encoder in place of Whisper (``logmel`` for the weight-free baseline).
    audio_options : dict, optional
        Whisper's options in place of :data:`WHISPER_OPTIONS` (e.g. ``{"compute_type": "int8"}``).
    config : TrainConfig
        The training configuration shared by the runs (:data:`RUNS` sets the loss and the teacher).
    threads : int or None
        CPU threads of CTranslate2 (Whisper) and torch (MiniLM, training, evaluation); None leaves
        both libraries' defaults, which follow the machine's core count.
    progress : bool or None
        Progress bars (None: only on a terminal).

    Returns
    -------
    AudioDemoResult
    """
    import torch

    from ..data.templates import load_templates
    from ..encoders import get

    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(int(threads))
    try:
        t_start = time.perf_counter()
        out = Path(out)
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        ds = render_instruments(progress=progress)
        timings["dataset"] = round(time.perf_counter() - t0, 2)
        seen, unseen = ds.class_names("seen"), ds.class_names("unseen")
        _log.info(f"Instrument benchmark: {len(ds.clips)} clips, {len(ds.captions)} captions, "
            f"{len(seen)} seen / {len(unseen)} unseen instruments ({ds.root})")

        t0 = time.perf_counter()
        audio_enc = audio_encoder(audio_encoder_name, threads, audio_options)
        text_enc = get("minilm")
        audio, text, emb_info = embed_tables(ds, audio_enc, text_enc, progress=progress)
        timings["embed"] = round(time.perf_counter() - t0, 2)
        _log.info(f"Embeddings: audio {audio_enc.name} ({audio.dim}-d, "
            f"{'reused' if emb_info['audio_reused'] else 'computed'}), text {text_enc.name} "
            f"({text.dim}-d, {'reused' if emb_info['text_reused'] else 'computed'})")

        t0 = time.perf_counter()
        models, run_dirs, run_configs = train_models(audio, text, ds, out, config, progress, threads)
        timings["train"] = round(time.perf_counter() - t0, 2)

        t0 = time.perf_counter()
        templates = load_templates("audio")
        results, study = evaluate_models(models, ds, audio, text, text_enc, templates, progress)
        timings["evaluate"] = round(time.perf_counter() - t0, 2)
        timings["total"] = round(time.perf_counter() - t_start, 2)
    finally:
        torch.set_num_threads(old_threads)
    return AudioDemoResult(
        dataset={"root": str(ds.root), "n_clips": len(ds.clips), "n_captions": len(ds.captions),
                 "seen_classes": seen, "unseen_classes": unseen},
        encoders={"audio": audio_enc.provenance.to_dict(), "text": text_enc.provenance.to_dict(),
                  "embeddings": emb_info},
        train_config=config.to_dict(), run_configs=run_configs, results=results, template_study=study,
        n_templates=len(templates), run_dirs=run_dirs, timings_s=timings, threads=threads,
    )
