r"""The unsupervised-improvement experiment: a teacher, curated pseudo-pairs, and students.

Wang et al., "Unsupervised Improvement of Audio-Text Cross-Modal Representations", WASPAA 2023
(arXiv 2305.01864). For every seed:

1. train the **teacher** (InfoNCE) on the captioned training pairs;
2. project the unpaired audio pool, the text pool and the target task's prompts with it and
   **curate** DU, DS and ADS pairs (:func:`pairspace.studies.curation_run.run_curation`);
3. train a **student** per method and loss (InfoNCE, or the soft loss with the frozen teacher's
   targets, beta 0.3): it starts from the teacher's heads and draws each batch from the curated
   pairs with probability ``extra_prob`` (0.5), otherwise from the teacher's pairs (replay). The
   ``replay`` student (no curated pairs, the same schedule) is the control for the extra training;
4. evaluate every model zero-shot on the target task: the MS-CLAP/P3 prompt (one prompt,
   ``"this is a sound of " + label``) and the ensembled ``audio`` templates.

The result holds per-seed rows, the table of means and spreads beside chance, each student's
per-seed gain over its teacher, and the curation statistics. DS and ADS use the target task's
label names; every row says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.table import EmbeddingTable
from .curation import DEFAULT_SWEEP, PROMPT, TARGET_USE
from .curation_run import run_curation, teacher_prompts, teacher_space

STUDENT_METHODS = ("replay", "du", "ds", "ads")
LOSSES = ("infonce", "soft")


@dataclass
class ImproveData:
    """The data of one experiment: ids into an audio and a text backbone table.

    Attributes
    ----------
    teacher_pairs : list of (audio_id, text_id)
        Captioned pairs the teacher trains on (and the students replay).
    audio_pool : list of str
        Unpaired audio (captions withheld).
    text_pool : list of str
        Unpaired captions; ``owners[i]`` is the clip ``text_pool[i]`` describes (DS pairs it with it).
    test_audio, test_labels : the target task's clips and their classes.
    target_classes : list of str
        The target task's class names (the zero-shot classes; DS prompts).
    description : dict
        How the split was made (recorded in the outputs).
    """

    teacher_pairs: list[tuple[str, str]]
    audio_pool: list[str]
    text_pool: list[str]
    owners: list[str]
    test_audio: list[str]
    test_labels: list[str]
    target_classes: list[str]
    description: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the format of ``pairspace improve --split``)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImproveData:
        """Read :meth:`to_dict` output; every list is checked for length and type."""
        need = ("teacher_pairs", "audio_pool", "text_pool", "owners", "test_audio", "test_labels",
                "target_classes")
        missing = [k for k in need if k not in d]
        if missing:
            raise ValueError(f"the split lacks {', '.join(missing)}")
        if len(d["text_pool"]) != len(d["owners"]) or len(d["test_audio"]) != len(d["test_labels"]):
            raise ValueError("owners must match text_pool and test_labels must match test_audio, "
                             "one entry each")
        pairs = [tuple(map(str, p)) for p in d["teacher_pairs"]]
        if any(len(p) != 2 for p in pairs):
            raise ValueError("teacher_pairs must be [audio_id, text_id] pairs")
        unknown = sorted(set(d["test_labels"]) - set(d["target_classes"]))
        if unknown:
            raise ValueError(f"test labels {unknown[:5]} are not target classes")
        return cls(pairs, *([str(x) for x in d[k]] for k in need[1:]),  # type: ignore[arg-type]
                   description=dict(d.get("description", {})))

    def sizes(self) -> dict[str, int]:
        """How many items each part of the split holds."""
        return {"teacher_pairs": len(self.teacher_pairs),
                "teacher_clips": len({a for a, _ in self.teacher_pairs}),
                "audio_pool": len(self.audio_pool), "text_pool": len(self.text_pool),
                "text_pool_clips": len(set(self.owners)), "test_audio": len(self.test_audio),
                "target_classes": len(self.target_classes)}


def instrument_data(ds: Any, teacher_clips: int = 4, test_clips: int = 6, seed: int = 0) -> ImproveData:
    """The split of the rendered-instrument benchmark used by the offline demonstration.

    Per instrument, its clips are shuffled (seeded). A *seen* instrument gives ``teacher_clips``
    captioned clips to the teacher; the rest are split evenly between the unpaired audio pool
    (captions withheld) and the owners of the text pool (their captions are the unpaired text;
    their audio is not in the audio pool). An *unseen* instrument (the target task) gives
    ``test_clips`` clips to the test set and the rest to the two pools the same way.
    """
    by_class: dict[str, list[dict[str, Any]]] = {}
    for c in ds.clips:
        by_class.setdefault(c["instrument"], []).append(c)
    caps: dict[str, list[dict[str, Any]]] = {}
    for c in ds.captions:
        caps.setdefault(c["audio_id"], []).append(c)
    classes = {c["instrument"]: c["split"] for c in ds.classes}
    tp, ap, text, own, test, test_lab = [], [], [], [], [], []
    for k, (name, clips) in enumerate(sorted(by_class.items())):
        order = np.random.default_rng([seed, k, 13]).permutation(len(clips))
        clips = [clips[i] for i in order]
        head = teacher_clips if classes[name] == "seen" else test_clips
        if len(clips) < head + 2:
            raise ValueError(f"{name} has {len(clips)} clips; the split needs at least {head + 2}")
        first, rest = clips[:head], clips[head:]
        if classes[name] == "seen":
            tp += [(c["audio_id"], t["text_id"]) for c in first for t in caps[c["audio_id"]]]
        else:
            test += [c["audio_id"] for c in first]
            test_lab += [name] * len(first)
        half = len(rest) // 2
        ap += [c["audio_id"] for c in rest[:half]]
        for c in rest[half:]:
            text += [t["text_id"] for t in caps[c["audio_id"]]]
            own += [c["audio_id"]] * len(caps[c["audio_id"]])
    desc = {"dataset": str(ds.root), "teacher_clips_per_seen_class": teacher_clips,
            "test_clips_per_unseen_class": test_clips, "split_seed": seed,
            "pools": "remaining clips of every instrument, half audio-only, half caption-only"}
    return ImproveData(tp, ap, text, own, test, test_lab, ds.class_names("unseen"), desc)


@dataclass
class ImproveResult:
    """Per-seed rows, the summary table, the gains over the teacher and the curation statistics."""

    rows: list[dict[str, Any]]
    table: list[dict[str, Any]]
    gains: list[dict[str, Any]]
    curation: list[dict[str, Any]]
    settings: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    runs: dict[str, Any] = field(default_factory=dict)
    data: ImproveData | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the curation runs and the split, written beside it)."""
        d = {k: v for k, v in asdict(self).items() if k not in ("runs", "data")}
        return {"schema": "pairspace.improve/1", **d}


def _mean_sd(v: Sequence[float]) -> tuple[float, float]:
    a = np.asarray(v, dtype=np.float64)
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0


def summarize(rows: Sequence[dict[str, Any]], metrics: Sequence[str] = ("top1_p3", "top1_ens")
              ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Mean and sample standard deviation over seeds per model, and each student's gain over its teacher.

    The gain of a student on seed ``s`` is its metric minus the teacher's on the same seed
    (paired by seed); ``wins`` counts the seeds with a positive gain.
    """
    keys = list(dict.fromkeys((r["model"], r["loss"]) for r in rows))
    table, gains = [], []
    teacher = {r["seed"]: r for r in rows if r["model"] == "teacher"}
    for model, loss in keys:
        sel = [r for r in rows if r["model"] == model and r["loss"] == loss]
        row = {"model": model, "loss": loss, "n_seeds": len(sel), "chance": sel[0]["chance"],
               "uses_target_labels": sel[0]["uses_target_labels"]}
        for m in metrics:
            row[m], row[m + "_sd"] = _mean_sd([r[m] for r in sel])
        table.append(row)
        if model != "teacher":
            g = {"model": model, "loss": loss}
            for m in metrics:
                d = [r[m] - teacher[r["seed"]][m] for r in sel if r["seed"] in teacher]
                g[m], g[m + "_sd"] = _mean_sd(d) if d else (float("nan"), float("nan"))
                g[m + "_wins"] = int(sum(x > 0 for x in d))
            gains.append(g)
    return table, gains


def _zeroshot(model: Any, X: np.ndarray, labels: list[str], classes: list[str],
              P3: np.ndarray, ENS: np.ndarray) -> dict[str, float]:
    from ..align.evaluate import zeroshot_eval

    p3 = zeroshot_eval(model, X, labels, classes, model.project_text(P3)[None])
    T, C, _ = ENS.shape
    ens = zeroshot_eval(model, X, labels, classes,
                        model.project_text(ENS.reshape(T * C, -1)).reshape(T, C, -1))
    return {"top1_p3": p3["top1"], "bal_p3": p3["balanced_accuracy"], "top1_ens": ens["top1"],
            "bal_ens": ens["balanced_accuracy"], "chance": p3["chance"]}


def check_plan(seeds: Sequence[int], methods: Sequence[str], losses: Sequence[str],
               prefix: str = "") -> None:
    """Refuse a plan that cannot run, before the teacher trains (a later refusal wastes its run).

    Every list must be non-empty without repeats (``seeds = [0, 0]`` would count one seed twice in
    the intervals), methods and losses must be known, and at least one curated student must be
    among ``methods`` (``replay`` alone curates nothing). ``prefix`` is put before the option
    names in the messages (``"--"`` on the command line).
    """
    from .._validation import check_distinct

    for option, values in (("seeds", seeds), ("methods", methods), ("losses", losses)):
        if not len(values):
            raise ValueError(f"{prefix}{option} is empty")
        check_distinct(values, f"{prefix}{option}")
    bad = [m for m in methods if m not in STUDENT_METHODS] + [x for x in losses if x not in LOSSES]
    if bad:
        raise ValueError(f"unknown student method or loss {bad}")
    curated = [m for m in STUDENT_METHODS if m != "replay"]
    if not any(m in curated for m in methods):
        raise ValueError(f"{prefix}methods {' '.join(methods)} has no curated student; add one of "
                         f"{', '.join(curated)} (replay is the control they are compared with)")


def improve_study(audio: EmbeddingTable, text: EmbeddingTable, data: ImproveData, text_encoder: Any,
                  out: str | Path, *, config: Any, seeds: Sequence[int] = (0, 1, 2),
                  losses: Sequence[str] = LOSSES, methods: Sequence[str] = STUDENT_METHODS,
                  thresholds: dict[str, float | str] | None = None, extra_prob: float = 0.5,
                  templates: Sequence[str] | None = None, sweep: Sequence[float | str] = DEFAULT_SWEEP,
                  student_epochs: int | None = None, progress: bool | None = None,
                  log: Callable[[str], None] = lambda m: None) -> ImproveResult:
    """Run the experiment (see the module docstring); run folders go under ``out/seed<s>/``.

    Parameters
    ----------
    audio, text : EmbeddingTable
        Backbone embeddings holding every id of ``data``.
    data : ImproveData
        Teacher pairs, pools, owners, test clips and target classes.
    text_encoder : encoder
        The text backbone of ``text`` (embeds the prompts).
    out : path
        Folder of the training runs.
    config : TrainConfig
        The teacher's configuration; students copy it with their loss, seed, teacher and mixing.
        Teacher and students select their epoch on held-out *seen classes*
        (``selection="heldout_classes"``), never on the target task.
    seeds, losses, methods : what to run (``methods`` from :data:`STUDENT_METHODS`).
    thresholds : dict, optional
        Curation thresholds per method (numbers or ``"q..."`` quantiles).
    extra_prob : float
        Probability that a student's batch comes from the curated pairs.
    templates : sequence of str, optional
        Templates of the ensembled evaluation (default: the shipped ``audio`` set).
    student_epochs : int, optional
        Epochs of every student (default: the teacher's); students start from the teacher.
    """
    from ..align.trainer import TrainConfig, load_model, train
    from ..data.templates import load_templates

    out = Path(out)
    check_plan(seeds, methods, losses)
    templates = list(templates or load_templates("audio").templates)
    classes = list(data.target_classes)
    evaluate = _evaluator(audio, data, text_encoder, templates)
    apool, tpool = audio.select(data.audio_pool), text.select(data.text_pool)
    rows, curation, runs, timings = [], [], {}, {"teacher": 0.0, "curate": 0.0, "students": 0.0}
    base = {**config.to_dict(), "selection": "heldout_classes"}
    s_epochs = int(student_epochs or base["epochs"])
    for seed in seeds:
        t0 = time.perf_counter()
        tdir = out / f"seed{seed}" / "teacher"
        train(audio, text, data.teacher_pairs, tdir,
              TrainConfig(**{**base, "seed": int(seed), "loss": "infonce"}), resume=False, progress=progress)
        rows.append({"seed": int(seed), "model": "teacher", "loss": "infonce", "uses_target_labels": False,
                     **evaluate(tdir)})
        t1 = time.perf_counter()
        teacher = load_model(tdir)[0]
        cur = run_curation(teacher_space(teacher, apool, "audio"), teacher_space(teacher, tpool, "text"),
                           [m for m in ("du", "ds", "ads") if m in methods],
                           thresholds=thresholds, class_names=classes,
                           prompts=teacher_prompts(teacher, text_encoder, classes),
                           owners=data.owners, sweep=sweep, progress=progress)
        runs[f"seed{seed}"] = cur
        curation += [{"seed": int(seed), **s, "sweep": cur.results[s["method"]].sweep} for s in cur.stats]
        t2 = time.perf_counter()
        timings["teacher"] += t1 - t0
        timings["curate"] += t2 - t1
        for method in methods:
            extra = _student_pairs(cur, method)
            for loss in losses:
                sdir = out / f"seed{seed}" / f"{method}-{loss}"
                scfg = TrainConfig(**{**base, "seed": int(seed), "loss": loss, "epochs": s_epochs,
                                      "teacher": str(tdir), "init_from_teacher": True,
                                      "soft_targets": "teacher", "extra_prob": extra_prob if extra else 0.0})
                train(audio, text, data.teacher_pairs, sdir, scfg, resume=False, progress=progress,
                      extra_pairs=extra)
                rows.append({"seed": int(seed), "model": method, "loss": loss, "n_extra": len(extra),
                             "uses_target_labels": method in ("ds", "ads"), **evaluate(sdir)})
                log(f"seed {seed} {method}-{loss}: P3 top-1 {rows[-1]['top1_p3']:.3f}")
        timings["students"] += time.perf_counter() - t2
    table, gains = summarize(rows)
    settings = {"seeds": list(seeds), "losses": list(losses), "methods": list(methods),
                "thresholds": cur.settings["thresholds"], "extra_prob": extra_prob,
                "teacher_config": base, "student_epochs": s_epochs, "sizes": data.sizes(),
                "data": data.description, "prompt_p3": PROMPT, "n_templates_ensembled": len(templates),
                "target_use": {m: TARGET_USE[m] for m in ("du", "ds", "ads")},
                "target_classes": classes}
    return ImproveResult(rows, table, gains, curation, settings,
                         {k: round(v, 2) for k, v in timings.items()}, runs, data)


def _evaluator(audio: EmbeddingTable, data: ImproveData, text_encoder: Any,
               templates: Sequence[str]) -> Callable[[Path], dict[str, float]]:
    """``evaluate(run_dir)``: zero-shot metrics of a run on the target task (P3 and ensembled)."""
    from ..align.trainer import load_model

    classes = list(data.target_classes)
    P3 = np.asarray(text_encoder.encode([PROMPT.format(c) for c in classes], progress=False))
    ENS = np.asarray(text_encoder.encode([t.format(c) for t in templates for c in classes],
                                         progress=False)).reshape(len(templates), len(classes), -1)
    X = audio.select(data.test_audio).vectors

    def evaluate(run_dir: Path) -> dict[str, float]:
        return _zeroshot(load_model(run_dir)[0], X, data.test_labels, classes, P3, ENS)

    return evaluate


def _student_pairs(cur: Any, method: str) -> list[tuple[str, str]]:
    """The curated (audio_id, text_id) pairs of a student; ADS is augmented DS (DS + ADS pairs)."""
    if method == "replay":
        return []
    extra = cur.results[method].id_pairs()
    if method == "ads":
        extra = list(dict.fromkeys(cur.results["ds"].id_pairs() + extra))
    return extra


DEMO_THRESHOLDS: dict[str, float | str] = {"du": "q0.999", "ds": "q0.8", "ads": "q0.995"}
"""Thresholds of the offline demonstration, as quantiles (the published values are MS-CLAP's)."""


def instrument_experiment(out: str | Path, *, seeds: Sequence[int] = (0, 1, 2),
                          losses: Sequence[str] = LOSSES, methods: Sequence[str] = STUDENT_METHODS,
                          thresholds: dict[str, float | str] | None = None, extra_prob: float = 0.5,
                          epochs: int = 40, student_epochs: int = 20, teacher_clips: int = 4,
                          test_clips: int = 6,
                          clips_per_class: int = 16, audio_encoder_name: str | None = None,
                          progress: bool | None = None,
                          log: Callable[[str], None] = lambda m: None) -> ImproveResult:
    """The offline demonstration on the rendered-instrument benchmark (cached render and tables).

    Renders ``clips_per_class`` clips per instrument (the 8 of the audio demo plus extra renders),
    embeds them with the audio demo's backbones (Whisper tiny.en, else log-mel; MiniLM), splits
    them with :func:`instrument_data` and runs :func:`improve_study` with the audio demo's head
    configuration (``epochs`` epochs for the teacher, ``student_epochs`` for each student, which
    starts from the teacher). The target task is the unseen instruments.
    """
    import torch

    from ..data.datasets.instruments import render_instruments
    from ..encoders import get
    from .audio_demo import DEMO_CONFIG, audio_encoder, embed_tables

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    ds = render_instruments(clips_per_class=clips_per_class, progress=progress)
    a_enc, t_enc = audio_encoder(audio_encoder_name, log), get("minilm")
    audio, text, info = embed_tables(ds, a_enc, t_enc, progress=progress)
    t1 = time.perf_counter()
    log(f"instrument set {ds.root}: {len(ds.clips)} clips, audio {a_enc.name} "
        f"({'reused' if info['audio_reused'] else 'computed'}), text {t_enc.name}")
    data = instrument_data(ds, teacher_clips, test_clips)
    cfg = type(DEMO_CONFIG)(**{**DEMO_CONFIG.to_dict(), "epochs": int(epochs)})
    res = improve_study(audio, text, data, t_enc, out, config=cfg, seeds=seeds, losses=losses,
                        methods=methods, thresholds={**DEMO_THRESHOLDS, **(thresholds or {})},
                        extra_prob=extra_prob, student_epochs=student_epochs, progress=progress,
                        log=log)
    res.timings = {"data_and_embeddings": round(t1 - t0, 2), **res.timings,
                   "total": round(time.perf_counter() - t0, 2)}
    res.settings["encoders"] = {"audio": a_enc.name, "text": t_enc.name}
    return res
