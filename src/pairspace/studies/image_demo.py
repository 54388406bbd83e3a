r"""The offline image-text alignment demo (``pairspace demo --image``).

1. Render (or reuse) the OpenMoji emoji benchmark (:mod:`pairspace.data.datasets.emoji`) in the
   user's cache folder.
2. Embed the images with EfficientNet-Lite0 (ImageNet-1k supervised, 1280-d pooled features at the
   render size) and with the weight-free ``pixels`` baseline (low-resolution pixels and a colour
   histogram, the image counterpart of ``logmel``), the captions and the prompts with MiniLM; every
   table is cached beside the dataset and reused while the encoders and inputs are unchanged.
3. Train CLIP-style heads (a linear projection per side, symmetric InfoNCE with a learnable
   temperature; :data:`IMAGE_CONFIG`) with the toolkit's trainer on the captions of the *seen*
   classes only, model selection on held-out seen classes; one run per image backbone.
4. On the *unseen* classes: zero-shot top-1/top-5 (the 18 CLIP templates ensembled) against chance,
   with a class-level bootstrap interval; caption <-> image retrieval in both directions; untrained
   heads as the floor.
5. The template study over the 53 templates of the NNGS paper (``nngs53``) on the trained
   EfficientNet model, twice: the toolkit's default (L2-normalized, euclidean, k = 3, RBF CKA at 0.8
   x the median distance) and the paper-exact mode (:data:`~pairspace.studies.templates.PAPER_EXACT`,
   on the heads' unnormalized outputs, as CLIP's ``image_embeds``/``text_embeds`` are).
6. The leakage side (Tavares et al., ICASSP 2025, arXiv 2408.13068): which unseen classes carry
   the name of an ImageNet-1k class (the backbone's supervised labels), and, for those against the
   others, the zero-shot top-1 and the backbone's own separability (leave-one-out 1-NN accuracy among
   the unseen images, cosine), each for EfficientNet and for the weight-free baseline, with
   intervals and the paired-by-design differences.

:func:`run` returns an :class:`ImageDemoResult`; ``to_dict()`` is the ``pairspace.image_demo/1``
document in the result envelope of :mod:`pairspace.envelope` (its JSON Schema ships as
``resources/schemas/image_demo-1.json``). The study reports its stages through :mod:`logging` (logger
``pairspace.studies.image_demo``) and progress bars, and never prints.
:mod:`pairspace.report.image_demo` writes the files and renders the docs tables.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..align.trainer import AlignmentModel, TrainConfig
from ..data.datasets.emoji import EmojiSet, render_emoji
from ..data.table import EmbeddingTable
from ..envelope import Envelope
from ..tasks.zeroshot import format_prompts
from .image_leakage import N_BOOT, class_bootstrap, imagenet_overlap, overlap_table, separability

SCHEMA = "pairspace.image_demo/1"

#: The training configuration shared by the runs: CLIP-style linear heads, InfoNCE, selection on
#: held-out *seen* classes (never the unseen ones).
IMAGE_CONFIG = TrainConfig(head="linear", dim=256, dropout=0.0, loss="infonce", epochs=30,
                           batch_size=256, lr=1e-3, weight_decay=0.01, warmup=0.05, grad_clip=1.0,
                           seed=0, val_fraction=0.1, selection="heldout_classes")
#: Image backbones: registry name -> options (the render size is added to EfficientNet's).
BACKBONES: dict[str, dict[str, Any]] = {"efficientnet-lite0": {}, "pixels": {}}
MAIN = "efficientnet-lite0"
#: The template set of the template study and the subset ensembled for zero-shot classification.
TEMPLATES = "nngs53"
ZEROSHOT_TEMPLATES = "cifar100_clip"


_log = logging.getLogger(__name__)


def _heads(model: AlignmentModel, X: np.ndarray, side: str, normalize: bool = True) -> np.ndarray:
    """The heads' output of one side, L2-normalized (``model.project``) or raw (the paper-exact input)."""
    if normalize:
        return model.project_a(X) if side == "a" else model.project_b(X)
    import torch

    head = model.head_a if side == "a" else model.head_b
    was = model.training
    model.eval()
    with torch.no_grad():
        out = head(torch.from_numpy(np.asarray(X, dtype=np.float32))).numpy()
    model.train(was)
    return out.astype(np.float64)


@dataclass
class ImageDemoResult:
    """Everything the image demo measured; ``to_dict()`` is the ``pairspace.image_demo/1`` envelope."""

    inputs: dict[str, Any]
    settings: dict[str, Any]
    n_classes: int
    zeroshot: dict[str, Any]
    models: dict[str, dict[str, Any]]
    template_study: Any
    template_study_paper: Any
    imagenet_overlap: dict[str, Any]
    timings_s: dict[str, float] = field(default_factory=dict)
    envelope: Envelope = field(default_factory=lambda: Envelope.new(SCHEMA))

    def to_dict(self) -> dict[str, Any]:
        """The envelope: ``results`` holds ``n_classes``, ``zeroshot`` (``top1`` beside ``chance``),
        ``models``, ``template_study`` (with ``templates``, the 53 strings) and the paper-exact study,
        ``imagenet_overlap`` and ``timings_s``."""
        def study(res: Any) -> dict[str, Any]:
            d = res.to_dict()
            r = d["results"]
            return {"schema": d["schema"], "templates": list(res.templates), "groups": list(res.groups),
                    "settings": d["settings"], "correlations": r["correlations"],
                    "comparisons": r["comparisons"], "ensemble": r["ensemble"],
                    "per_template": r["templates"]}

        stamp = Envelope(**{**vars(self.envelope), "inputs": self.inputs})
        return stamp.document(self.settings, {
            "n_classes": self.n_classes,
            "n_seen_classes": len(self.inputs["seen_classes"]),
            "n_unseen_classes": len(self.inputs["unseen_classes"]),
            "zeroshot": self.zeroshot,
            "models": self.models,
            "template_study": study(self.template_study),
            "template_study_paper": study(self.template_study_paper),
            "imagenet_overlap": self.imagenet_overlap,
            "timings_s": self.timings_s,
        })


def embed_all(ds: EmojiSet, image_encoders: dict[str, Any], text_enc: Any, prompts: list[str],
              prompt_ids: list[str], progress: bool | None = True
              ) -> tuple[dict[str, EmbeddingTable], EmbeddingTable, EmbeddingTable, dict[str, Any]]:
    """Embed (or reuse) the images with every backbone, the captions and the prompts."""
    from ..data.embed import embed_manifest
    from ..data.manifests import Manifest

    emb = ds.root / "embeddings"
    images = Manifest([r["image_id"] for r in ds.images], [str(ds.root / r["path"]) for r in ds.images],
                      "path", [r["label"] for r in ds.images], source=str(ds.root / "images.csv"))
    caps = Manifest([c["text_id"] for c in ds.captions], [c["text"] for c in ds.captions], "text",
                    [c["label"] for c in ds.captions], source=str(ds.root / "captions.csv"))
    pro = Manifest(prompt_ids, prompts, "text", None, source="prompts of the unseen classes")
    info: dict[str, Any] = {}
    tables = {}
    for name, enc in image_encoders.items():
        t0 = time.perf_counter()
        r = embed_manifest(enc, images, emb / f"images-{enc.name}.parquet", progress=progress)
        tables[name] = r.table
        info[name] = {"reused": r.reused, "seconds": round(time.perf_counter() - t0, 2),
                      "table": str(r.path), "failures": len(r.failures)}
    t0 = time.perf_counter()
    t = embed_manifest(text_enc, caps, emb / f"captions-{text_enc.name}.parquet", progress=progress)
    info["captions"] = {"reused": t.reused, "seconds": round(time.perf_counter() - t0, 2),
                        "table": str(t.path)}
    t0 = time.perf_counter()
    p = embed_manifest(text_enc, pro, emb / f"prompts-{TEMPLATES}-{text_enc.name}.parquet",
                       progress=progress)
    info["prompts"] = {"reused": p.reused, "seconds": round(time.perf_counter() - t0, 2),
                       "table": str(p.path)}
    return tables, t.table, p.table, info


def evaluate(model: AlignmentModel, ds: EmojiSet, images: EmbeddingTable, text: EmbeddingTable,
             prompt_backbone: np.ndarray, zs_rows: Sequence[int], unseen: list[str], seed: int = 0,
             n_boot: int = N_BOOT) -> dict[str, Any]:
    """Zero-shot (ensembled templates ``zs_rows``) and retrieval on the unseen classes."""
    from ..align.evaluate import retrieval_eval
    from ..tasks.zeroshot import classifier_weights, zeroshot_metrics, zeroshot_scores

    rows = [r for r in ds.images if r["split"] == "unseen"]
    caps = [c for c in ds.captions if c["split"] == "unseen"]
    A = images.select([r["image_id"] for r in rows]).vectors
    T = text.select([c["text_id"] for c in caps]).vectors
    Tn, C, d = prompt_backbone.shape
    P = _heads(model, prompt_backbone[list(zs_rows)].reshape(-1, d), "b").reshape(len(zs_rows), C, -1)
    S = zeroshot_scores(model.project_a(A), classifier_weights(P))
    labels = [r["label"] for r in rows]
    zs = zeroshot_metrics(S, labels, unseen)
    y = np.array([unseen.index(v) for v in labels])
    order = np.argsort(-S, axis=1, kind="stable")
    correct1 = order[:, 0] == y
    correct5 = (order[:, :5] == y[:, None]).any(1)
    lo1, hi1 = class_bootstrap(correct1, y, n_boot, seed)
    lo5, hi5 = class_bootstrap(correct5, y, n_boot, seed)
    row = {r["image_id"]: i for i, r in enumerate(rows)}
    rt = retrieval_eval(model, A, T, [row[c["image_id"]] for c in caps])
    return {
        "zeroshot": {"top1": zs["top1"], "top1_ci": [lo1, hi1], "top5": zs["top5"], "top5_ci": [lo5, hi5],
                     "balanced_accuracy": zs["balanced_accuracy"], "chance": zs["chance"],
                     "chance_top5": min(1.0, 5 * zs["chance"]), "n": zs["n"], "n_classes": zs["n_classes"],
                     "interval": "class bootstrap, 95%"},
        "retrieval": {new: {m: rt[k][m] for m in ("R@1", "R@5", "R@10", "mAP@10", "median_rank")}
                      for k, new in (("text_to_audio", "text_to_image"), ("audio_to_text", "image_to_text"))},
        "_correct": correct1, "_labels": y,
    }


def _encoders(backbones: dict[str, dict[str, Any]], size: int) -> tuple[dict[str, Any], Any]:
    """The image backbones (EfficientNet at the render size) and MiniLM."""
    from ..encoders import get

    encs = {}
    for name, opts in backbones.items():
        o = dict(opts)
        if name == "efficientnet-lite0":
            o.setdefault("size", size)
        encs[name] = get(name, **o)
    return encs, get("minilm")


def _train_all(img_tables: dict[str, EmbeddingTable], text: EmbeddingTable, ds: EmojiSet, out: Path,
               config: TrainConfig, main: str, threads: int | None, progress: bool | None
               ) -> tuple[dict[str, AlignmentModel], dict[str, str]]:
    """Untrained heads (the floor) and one trained model per image backbone."""
    import torch

    from ..align.trainer import load_model, train

    models: dict[str, AlignmentModel] = {}
    run_dirs: dict[str, str] = {}
    torch.manual_seed(config.seed)
    models["untrained heads"] = AlignmentModel(img_tables[main].dim, text.dim, config.head,
                                               config.dim).eval()
    for i, name in enumerate(img_tables, 1):
        run_dir = out / f"run-{name}"
        _log.info(f"training {i}/{len(img_tables)}: {config.head} heads on {name} ({config.loss}, "
            f"{config.epochs} epochs) -> {run_dir}")
        train(img_tables[name], text, ds.pairs("seen"), run_dir, config, resume=False,
              progress=progress, threads=threads, desc=f"train heads ({name})")
        models[f"trained, {name}"] = load_model(run_dir)[0]
        run_dirs[name] = str(run_dir)
    return models, run_dirs


def _template_studies(model: AlignmentModel, A: np.ndarray, P: np.ndarray, templates: Any,
                      unseen: list[str], labels: list[str], n_boot: int, seed: int) -> dict[str, Any]:
    """The template study on the trained model: default mode and paper-exact mode."""
    from .templates import PAPER_EXACT, template_study

    flat = P.reshape(-1, P.shape[2])
    studies = {}
    for mode, normalize in (("default", True), ("paper", False)):
        media = _heads(model, A, "a", normalize)
        E = _heads(model, flat, "b", normalize).reshape(len(templates), len(unseen), -1)
        opts = dict(PAPER_EXACT) if mode == "paper" else {"normalize": True, "metric": "euclidean",
                                                          "k": 3, "rbf": "median_distance"}
        studies[mode] = template_study(media, templates, class_names=unseen, labels=labels,
                                       text_embeddings=E, n_boot=n_boot, seed=seed, progress=False,
                                       **opts)
    return studies


def _leakage(ds: EmojiSet, results: dict[str, Any], img_tables: dict[str, EmbeddingTable],
             unseen: list[str], n_boot: int, seed: int) -> dict[str, Any]:
    """The ImageNet-overlap table (zero-shot and backbone separability per backbone)."""
    rows = [r for r in ds.images if r["split"] == "unseen"]
    ids = [r["image_id"] for r in rows]
    y = np.array([unseen.index(r["label"]) for r in rows])
    flags = imagenet_overlap([c for c in ds.classes if c["split"] == "unseen"])
    parts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in img_tables:
        r = results[f"trained, {name}"]
        parts[f"zero-shot top-1, {name} heads"] = (r["_correct"], r["_labels"])
    for name, table in img_tables.items():
        parts[f"1-NN separability, {name} backbone"] = (separability(table.select(ids).vectors, y), y)
    return overlap_table(flags, unseen, parts, n_boot, seed)


def run(out: str | Path = "pairspace-demo", *, config: TrainConfig = IMAGE_CONFIG,
        threads: int | None = 1, dataset_options: dict[str, Any] | None = None,
        backbones: dict[str, dict[str, Any]] | None = None, n_boot: int = N_BOOT,
        progress: bool | None = None) -> ImageDemoResult:
    """Run the image demo: render, embed, train on the seen classes, evaluate on the unseen ones.

    Parameters
    ----------
    out : str or Path
        Folder of the training runs (``run-<backbone>/``); the report writer puts its files there.
    config : TrainConfig
        The training configuration shared by the runs (:data:`IMAGE_CONFIG`).
    threads : int or None
        CPU threads of torch (backbones, training, evaluation); None leaves torch's default.
    dataset_options : dict, optional
        Options of :func:`~pairspace.data.datasets.emoji.render_emoji` (a small subset for tests).
    backbones : dict, optional
        Image backbones and their options in place of :data:`BACKBONES` (the first is the main one).
    n_boot : int
        Bootstrap resamples of every interval.
    progress : bool or None
        Progress bars (None: only on a terminal).
    """
    import torch

    from ..data.templates import load_templates

    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(int(threads))
    backbones = dict(backbones if backbones is not None else BACKBONES)
    main = next(iter(backbones))
    timings: dict[str, float] = {}
    stamp = Envelope.new(SCHEMA)
    try:
        t_start = t0 = time.perf_counter()
        ds = render_emoji(**{"progress": progress, **(dataset_options or {})})
        timings["dataset"] = round(time.perf_counter() - t0, 2)
        seen, unseen = ds.class_names("seen"), ds.class_names("unseen")
        _log.info(f"Emoji benchmark: {len(ds.images)} images, {len(ds.captions)} captions, "
                  f"{len(seen)} seen / {len(unseen)} unseen classes ({ds.root})")
        templates = load_templates(TEMPLATES)
        zs_rows = [templates.templates.index(t) for t in load_templates(ZEROSHOT_TEMPLATES).templates]
        prompt_ids = [f"t{i}-{c}" for i in range(len(templates)) for c in unseen]
        t0 = time.perf_counter()
        encs, text_enc = _encoders(backbones, int(ds.info["image_size"]))
        img_tables, text, prompt_table, emb_info = embed_all(
            ds, encs, text_enc, format_prompts(templates.templates, unseen), prompt_ids,
            progress)
        P = prompt_table.select(prompt_ids).vectors.astype(np.float32)
        P = P.reshape(len(templates), len(unseen), -1)
        timings["embed"] = round(time.perf_counter() - t0, 2)
        _log.info("Embeddings: " + ", ".join(
            f"{k} {'reused' if v['reused'] else 'computed'} ({v['seconds']} s)" for k, v in emb_info.items()))
        t0 = time.perf_counter()
        models, run_dirs = _train_all(img_tables, text, ds, Path(out), config, main, threads, progress)
        timings["train"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        results = {label: evaluate(model, ds, img_tables[main if label == "untrained heads"
                                                         else label.removeprefix("trained, ")],
                                   text, P, zs_rows, unseen, config.seed, n_boot)
                   for label, model in models.items()}
        rows = [r for r in ds.images if r["split"] == "unseen"]
        studies = _template_studies(models[f"trained, {main}"],
                                    img_tables[main].select([r["image_id"] for r in rows]).vectors, P,
                                    templates, unseen, [r["label"] for r in rows], n_boot, config.seed)
        overlap = _leakage(ds, results, img_tables, unseen, n_boot, config.seed)
        timings["evaluate"] = round(time.perf_counter() - t0, 2)
        timings["total"] = round(time.perf_counter() - t_start, 2)
    finally:
        torch.set_num_threads(old_threads)
    for r in results.values():
        r.pop("_correct")
        r.pop("_labels")
    inputs = {
        "dataset": str(ds.root), "dataset_info": {k: v for k, v in ds.info.items() if k != "classes"},
        "n_images": len(ds.images), "n_captions": len(ds.captions),
        "seen_classes": seen, "unseen_classes": unseen,
        "image_encoders": {k: e.provenance.to_dict() for k, e in encs.items()},
        "text_encoder": text_enc.provenance.to_dict(), "embeddings": emb_info,
        "imagenet_names": "pairspace/resources/imagenet/classnames.txt (open_clip IMAGENET_CLASSNAMES)",
    }
    settings = {"train_config": config.to_dict(), "run_dirs": run_dirs, "main_backbone": main,
                "templates": TEMPLATES, "zeroshot_templates": ZEROSHOT_TEMPLATES,
                "threads": threads, "n_boot": n_boot, "seed": config.seed}
    return ImageDemoResult(
        inputs=inputs, settings=settings, n_classes=len(ds.classes),
        zeroshot={**results[f"trained, {main}"]["zeroshot"], "model": f"trained, {main}"},
        models=results, template_study=studies["default"], template_study_paper=studies["paper"],
        imagenet_overlap=overlap, timings_s=timings,
        envelope=Envelope(**{**vars(stamp), "inputs": inputs}))
