r"""The unsupervised-improvement experiment: a teacher, curated pseudo-pairs, and students.

Wang, Subakan, Subramani, Wu, Tavares, Ayres & Smaragdis, "Unsupervised Improvement of Audio-Text
Cross-Modal Representations", WASPAA 2023 (arXiv 2305.01864; authors' code zhepeiw/clap_curation).
For every seed, which draws its own split *and* its own training seed:

1. train the **teacher** (InfoNCE) on its captioned pairs;
2. project the unpaired audio pool, the unpaired text pool, the teacher's own captions, the target
   task's prompts and (for a2a only) the target task's clips with it, fix the thresholds by
   :func:`threshold_rule` and **curate**
   (:func:`pairspace.studies.curation_run.run_curation`):

   - **DU**: unpaired audio pool x unpaired text pool, cosine :math:`\ge \tau_{DU}`;
   - **DS**: the teacher's *own* training pairs whose caption is close to a target prompt
     ``"this is a sound of {label}"`` (the authors' ``{ds}_insper_t2t_ds.csv``: "audio-text pairs from
     the original training set that are relevant to the downstream task");
   - **ADS**: the DS captions x the unpaired audio pool, cosine :math:`\ge \tau_{ADS}`;
   - **a2a**: unpaired pool clips whose best cosine to any target-task clip is
     :math:`\ge \tau_{a2a}`, each with its 5 nearest DS captions (transductive: it reads the test
     clips' audio, never their labels);

3. train a **student** per method and loss (InfoNCE, or the soft loss with the frozen teacher's
   targets, :math:`\beta = 0.3`): it starts from the teacher's heads and draws each batch from the
   curated pairs with probability ``extra_prob`` (0.5), otherwise from the teacher's pairs
   (replay). The ``replay`` student (no curated pairs, the same schedule) is the control for the
   extra training;
4. evaluate every model zero-shot on the target task's test clips and keep each clip's top-1
   correctness: the MS-CLAP/P3 prompt (one prompt, ``"this is a sound of " + label``) and the
   ensembled ``audio`` templates.

Every comparison (each student against its teacher, soft against InfoNCE for each method, each
curated student against the replay control with the same loss) is paired per clip and seed with
:func:`pairspace.stats.paired.paired_difference` (two-stage bootstrap over seeds and clips, sign-flip
p-value). Nothing that selects sees a test label: epochs are chosen on the teacher's held-out
classes (``selection="heldout_classes"``), thresholds by :func:`threshold_rule`; the threshold sweep
is reported and never used to choose.

Two settings of the rendered-instrument benchmark (:func:`instrument_data`):

``paper``
    The paper's design. The teacher's captioned set covers the target domain loosely: a few
    captioned clips of every target instrument beside the seen ones (as AudioCaps and Clotho cover
    ESC-50's sounds); the test clips of the target instruments are disjoint from the teacher's
    data and from every pool.
``strict``
    Strict zero-shot: the teacher never sees a captioned clip of a target instrument; everything
    else as in ``paper`` (DS still draws from the teacher's own pairs, which then hold no target
    instrument).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from .._progress import log_info
from ..data.table import EmbeddingTable
from .curation import DEFAULT_SWEEP, PROMPT, TARGET_USE
from .curation_names import CURATION_METHODS, LOSSES, SETTINGS, STUDENT_METHODS
from .curation_run import run_curation, teacher_prompts
from .improve_data import ImproveData, _project, instrument_data, threshold_rule
from .improve_summary import SCHEMA, ImproveReport, ImproveResult, _key, envelope, summarize

__all__ = ["CURATION_METHODS", "LOSSES", "SCHEMA", "SETTINGS", "STUDENT_METHODS", "ImproveData",
           "ImproveReport", "ImproveResult", "envelope", "improve_study", "instrument_data",
           "instrument_experiment", "summarize", "threshold_rule"]

TARGET_USE_STUDENT = {"replay": "none", **TARGET_USE}


# ------------------------------------------------------------------ the one zero-shot path
def _zeroshot_correct(model: Any, X: np.ndarray, labels: Sequence[str], classes: Sequence[str],
                      prompts: np.ndarray) -> np.ndarray:
    """Top-1 correctness (0/1) of every clip: backbone prompts ``(T, C, d)`` projected and ensembled.

    The one zero-shot evaluation of this study: the toolkit's
    :class:`pairspace.tasks.zeroshot.ZeroShotClassifier` of the projected prompts (argmax ties go
    to the lower class index).
    """
    from ..tasks.zeroshot import ZeroShotClassifier

    T, C, d = prompts.shape
    clf = ZeroShotClassifier.from_prompt_embeddings(
        _project(model, prompts.reshape(T * C, d), "text").reshape(T, C, -1), classes)
    S = clf.scores(_project(model, X, "audio"))
    pos = {c: i for i, c in enumerate(classes)}
    y = np.array([pos[lab] for lab in labels])
    return (np.argmax(S, axis=1) == y).astype(np.int8)


# ------------------------------------------------------------------ the experiment
def _check_choice(values: Sequence[Any], allowed: Sequence[Any], what: str) -> list[Any]:
    values = list(values)
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValueError(f"unknown {what} {bad}; choose from {', '.join(map(str, allowed))}")
    dup = sorted({str(v) for v in values if values.count(v) > 1})
    if dup:
        raise ValueError(f"{what} {', '.join(dup)} given more than once; each must be given once")
    return values


def check_seeds(seeds: Sequence[int]) -> list[int]:
    """Seeds as a list of distinct non-negative ints (a clear error for none or a repeat)."""
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed (e.g. seeds=(0, 1, 2))")
    if any(s < 0 for s in seeds):
        raise ValueError(f"seeds must be non-negative; got {seeds}")
    dup = sorted({s for s in seeds if seeds.count(s) > 1})
    if dup:
        raise ValueError(f"seed(s) {dup} given more than once: a repeated seed repeats its split and "
                         "training exactly and would count one result twice")
    return seeds


def improve_study(audio: EmbeddingTable, text: EmbeddingTable,
                  data: ImproveData | Callable[[int], ImproveData], text_encoder: Any,
                  out: str | Path, *, config: Any, seeds: Sequence[int] = (0, 1, 2),
                  losses: Sequence[str] = LOSSES, methods: Sequence[str] = STUDENT_METHODS,
                  thresholds: Mapping[str, float | str] | None = None, extra_prob: float = 0.5,
                  a2a_top_k: int = 5, templates: Sequence[str] | None = None,
                  sweep: Sequence[float | str] = DEFAULT_SWEEP, student_epochs: int | None = None,
                  n_resamples: int = 2000, n_permutations: int = 10_000,
                  progress: bool | None = None, log: Callable[[str], None] = log_info,
                  setting: str = "own", encoders: Mapping[str, str] | None = None) -> ImproveResult:
    """Run the experiment (see the module docstring); run folders go under ``out/seed<s>/``.

    Parameters
    ----------
    audio, text : EmbeddingTable
        Backbone embeddings holding every id of the splits; the audio table's labels are read for
        the teacher's held-out classes (:func:`threshold_rule`) and the curation precision only.
    data : ImproveData or callable
        The split, or ``data(seed)`` giving each seed its own split (the instrument experiment).
        A fixed split makes the seeds vary the training only (recorded in the settings).
    text_encoder : encoder
        The text backbone of ``text`` (embeds the prompts).
    out : path
        Folder of the training runs.
    config : TrainConfig
        The teacher's configuration; students copy it with their loss, seed, teacher and mixing.
        Teacher and students select their epoch on held-out *seen classes*
        (``selection="heldout_classes"``), never on the target task.
    seeds : sequence of int
        Distinct seeds; each draws its split (when ``data`` is callable) and its training.
    losses, methods : what to run (``methods`` from :data:`STUDENT_METHODS`; each once).
    thresholds : mapping, optional
        Thresholds that replace :func:`threshold_rule`'s, per method (numbers or ``"q..."``
        quantiles of the pool's similarities), recorded as given.
    extra_prob : float
        Probability that a student's batch comes from the curated pairs.
    a2a_top_k : int
        DS captions paired with each clip a2a keeps (the authors' 5).
    templates : sequence of str, optional
        Templates of the ensembled evaluation (default: the shipped ``audio`` set).
    sweep : thresholds at which the curated pairs are counted (reported only).
    student_epochs : int, optional
        Epochs of every student (default: the teacher's); students start from the teacher.
    n_resamples, n_permutations : bootstrap replicates and sign-flip patterns of the statistics.
    setting, encoders : what the run is called in the report: the data setting (``"own"`` for a
        user's split) and the audio and text backbones (default: the tables' sources).
    """
    from ..align.trainer import TrainConfig, load_model, train
    from ..data.templates import load_templates

    seeds = check_seeds(seeds)
    methods = _check_choice(methods, STUDENT_METHODS, "student method")
    losses = _check_choice(losses, LOSSES, "loss")
    if not methods or not losses:
        raise ValueError("give at least one student method and one loss")
    out = Path(out)
    templates = list(templates or load_templates("audio").templates)
    split_of = data if callable(data) else (lambda s: data)  # noqa: E731
    rows: list[dict[str, Any]] = []
    curation: list[dict[str, Any]] = []
    outcomes: dict[str, Any] = {}
    runs: dict[str, Any] = {}
    splits: dict[str, ImproveData] = {}
    timings = {"teacher": 0.0, "curate": 0.0, "students": 0.0}
    base = {**config.to_dict(), "selection": "heldout_classes"}
    s_epochs = int(student_epochs or base["epochs"])
    cur_methods = [m for m in CURATION_METHODS if m in methods]
    rules = {}
    for seed in seeds:
        d = split_of(seed)
        splits[f"seed{seed}"] = d
        classes = list(d.target_classes)
        P3, ENS = _prompt_tables(text_encoder, classes, templates)
        X = audio.select(d.test_audio).vectors
        t0 = time.perf_counter()
        tdir = out / f"seed{seed}" / "teacher"
        train(audio, text, d.teacher_pairs, tdir,
              TrainConfig(**{**base, "seed": seed, "loss": "infonce"}), resume=False, progress=progress)
        teacher = load_model(tdir)[0]
        res_seed = {"teacher": _outcome(teacher, X, d, P3, ENS)}
        rows.append(_row(seed, "teacher", "infonce", res_seed["teacher"], 0))
        t1 = time.perf_counter()
        rule = threshold_rule(teacher, audio, text, d, text_encoder, base["val_fraction"], seed)
        rules[f"seed{seed}"] = rule
        thr = {m: (thresholds or {}).get(m, rule[m]) for m in CURATION_METHODS}
        cur = _curate(teacher, audio, text, d, text_encoder, cur_methods, thr, a2a_top_k, sweep, progress)
        if cur is not None:
            runs[f"seed{seed}"] = cur
            curation += [{"seed": seed, **st, "sweep": cur.results[st["method"]].sweep,
                          "threshold_source": "given" if st["method"] in (thresholds or {}) else "rule"}
                         for st in cur.stats]
        t2 = time.perf_counter()
        timings["teacher"] += t1 - t0
        timings["curate"] += t2 - t1
        rows += _students(audio, text, d, out / f"seed{seed}", base, seed, s_epochs, methods, losses, cur,
                          extra_prob, (X, P3, ENS), res_seed, progress, log)
        timings["students"] += time.perf_counter() - t2
        outcomes[f"seed{seed}"] = {"test_audio": list(d.test_audio), **{
            k: {m: v.astype(int).tolist() for m, v in o.items()} for k, o in res_seed.items()}}
    models = [("teacher", "infonce")] + [(m, lo) for m in methods for lo in losses]
    per = {s: {k: v for k, v in o.items() if k != "test_audio"} for s, o in outcomes.items()}
    table, comps = summarize(per, models, n_resamples=n_resamples, n_permutations=n_permutations)
    settings = {"seeds": seeds, "losses": losses, "methods": methods,
                "thresholds_given": dict(thresholds or {}),
                "threshold_rule": {k: {m: r[m] for m in CURATION_METHODS} | {"rule": r["rule"]}
                                   for k, r in rules.items()},
                "extra_prob": extra_prob, "a2a_top_k": a2a_top_k, "teacher_config": base,
                "student_epochs": s_epochs, "split_per_seed": callable(data),
                "n_templates_ensembled": len(templates), "out": str(out),
                **_fixed_settings(splits[f"seed{seeds[0]}"], methods, n_resamples, n_permutations),
                "setting": setting, "encoders": dict(encoders or {
                    "audio": str(audio.metadata.get("source")), "text": str(text.metadata.get("source"))})}
    return ImproveResult(rows, table, comps, curation, settings, outcomes,
                         {k: round(v, 2) for k, v in timings.items()},
                         {"audio_table": audio.metadata.get("source"),
                          "text_table": text.metadata.get("source")},
                         runs=runs, data=splits)


def _students(audio: EmbeddingTable, text: EmbeddingTable, d: ImproveData, folder: Path,
              base: dict[str, Any], seed: int, epochs: int, methods: Sequence[str], losses: Sequence[str],
              cur: Any, extra_prob: float, test: tuple[np.ndarray, np.ndarray, np.ndarray],
              res_seed: dict[str, Any], progress: bool | None,
              log: Callable[[str], None]) -> list[dict[str, Any]]:
    """Train and evaluate one seed's students (each from the teacher in ``folder/teacher``); their
    per-clip outcomes go into ``res_seed``, their rows are returned."""
    from ..align.trainer import TrainConfig, load_model, train

    X, P3, ENS = test
    rows = []
    for method in methods:
        extra = _student_pairs(cur, method)
        for loss in losses:
            sdir = folder / f"{method}-{loss}"
            scfg = TrainConfig(**{**base, "seed": seed, "loss": loss, "epochs": epochs,
                                  "teacher": str(folder / "teacher"), "init_from_teacher": True,
                                  "soft_targets": "teacher", "extra_prob": extra_prob if extra else 0.0,
                                  "epoch_over": "replay"})
            train(audio, text, d.teacher_pairs, sdir, scfg, resume=False, progress=progress,
                  extra_pairs=extra or None)
            res_seed[_key(method, loss)] = o = _outcome(load_model(sdir)[0], X, d, P3, ENS)
            rows.append(_row(seed, method, loss, o, len(extra)))
            log(f"seed {seed} {method}-{loss}: P3 top-1 {rows[-1]['top1_p3']:.3f} "
                f"(teacher {res_seed['teacher']['top1_p3'].mean():.3f}, {len(extra)} curated pairs)")
    return rows


def _curate(teacher: Any, audio: EmbeddingTable, text: EmbeddingTable, d: ImproveData, text_encoder: Any,
            methods: Sequence[str], thr: Mapping[str, float | str], a2a_top_k: int,
            sweep: Sequence[float | str], progress: bool | None) -> Any:
    """One seed's curation in the teacher's space: DU on the pools, DS among the teacher's own
    pairs, ADS on the pool audio, a2a on the pool audio near the test clips (None: no method)."""
    if not methods:
        return None
    classes = list(d.target_classes)
    return run_curation(
        _space(teacher, audio.select(d.audio_pool), "audio"),
        _space(teacher, text.select(d.text_pool), "text"), methods, thresholds=thr,
        class_names=classes, prompts=teacher_prompts(teacher, text_encoder, classes),
        captions=_space(teacher, text.select([t for _, t in d.teacher_pairs]), "text"),
        owners=[a for a, _ in d.teacher_pairs],
        target_audio=_space(teacher, audio.select(d.test_audio), "audio") if "a2a" in methods else None,
        a2a_top_k=a2a_top_k, sweep=sweep, progress=progress)


def _fixed_settings(first: ImproveData, methods: Sequence[str], n_resamples: int,
                    n_permutations: int) -> dict[str, Any]:
    """The settings every run records whatever its options (sizes, target use, statistics, protocol)."""
    return {"sizes": first.sizes(), "data": first.description, "prompt_p3": PROMPT,
            "target_use": {m: TARGET_USE_STUDENT[m] for m in methods},
            "target_classes": list(first.target_classes), "chance": 1.0 / len(first.target_classes),
            "statistics": {"n_resamples": n_resamples, "n_permutations": n_permutations,
                           "interval": "95% two-stage percentile bootstrap over seeds and clips",
                           "test": "paired sign-flip (stratified McNemar)"},
            "ads_student": "ADS pairs only as the curated stream; replay = the teacher's pairs",
            "student_epoch": "the replay set's batches; curated batches replace replay batches with "
                             "probability extra_prob while the curated set cycles (authors' loop)",
            "selection": "epochs on the teacher's held-out seen classes (InfoNCE loss)"}


def _space(model: Any, table: EmbeddingTable, side: str) -> EmbeddingTable:
    """``table`` projected by the teacher's head of ``side`` (unit rows; ids and labels kept)."""
    return EmbeddingTable(table.ids, _project(model, table.vectors, side), table.labels,
                          {**table.metadata, "projected_by": "teacher heads"})


def _prompt_tables(text_encoder: Any, classes: Sequence[str],
                   templates: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Backbone embeddings of the P3 prompt (1, C, d) and of the ensembled templates (T, C, d)."""
    from ..tasks.zeroshot import format_prompts

    P3 = np.asarray(text_encoder.encode(format_prompts([PROMPT], classes), progress=False))
    ENS = np.asarray(text_encoder.encode(format_prompts(templates, classes), progress=False))
    return P3[None], ENS.reshape(len(templates), len(classes), -1)


def _outcome(model: Any, X: np.ndarray, d: ImproveData, P3: np.ndarray,
             ENS: np.ndarray) -> dict[str, np.ndarray]:
    return {"top1_p3": _zeroshot_correct(model, X, d.test_labels, d.target_classes, P3),
            "top1_ens": _zeroshot_correct(model, X, d.test_labels, d.target_classes, ENS)}


def _row(seed: int, model: str, loss: str, o: dict[str, np.ndarray], n_extra: int) -> dict[str, Any]:
    return {"seed": seed, "model": model, "loss": loss, "n_extra": n_extra,
            "uses_target_labels": model in ("ds", "ads", "a2a"), "transductive": model == "a2a",
            **{m: float(v.mean()) for m, v in o.items()}, "n_test": int(next(iter(o.values())).size)}


def _student_pairs(cur: Any, method: str) -> list[tuple[str, str]]:
    """The curated (audio_id, text_id) pairs of a student (none for the replay control)."""
    if method == "replay" or cur is None:
        return []
    return cur.results[method].id_pairs()


def instrument_experiment(out: str | Path, *, setting: str = "paper", seeds: Sequence[int] = (0, 1, 2),
                          losses: Sequence[str] = LOSSES, methods: Sequence[str] = STUDENT_METHODS,
                          thresholds: Mapping[str, float | str] | None = None, extra_prob: float = 0.5,
                          a2a_top_k: int = 5, epochs: int = 40, student_epochs: int = 20,
                          teacher_clips: int = 4, target_teacher_clips: int = 2, test_clips: int = 6,
                          clips_per_class: int = 16, audio_encoder_name: str | None = None,
                          progress: bool | None = None,
                          log: Callable[[str], None] = log_info) -> ImproveResult:
    """The experiment on the rendered-instrument benchmark (cached render and tables), one setting.

    Renders ``clips_per_class`` clips per instrument, embeds them with the audio demo's backbones
    (Whisper tiny.en, else log-mel; ``audio_encoder_name="whisper-base"`` for Whisper base; MiniLM
    for text), draws each seed's split with :func:`instrument_data` and runs
    :func:`improve_study` with the audio demo's head configuration (``epochs`` for the teacher,
    ``student_epochs`` for each student, which starts from the teacher). The target task is the
    unseen instruments.
    """
    import torch

    from ..data.datasets.instruments import render_instruments
    from ..encoders import get
    from .audio_demo import DEMO_CONFIG, audio_encoder, embed_tables

    if setting not in SETTINGS:
        raise ValueError(f"unknown setting {setting!r}; choose one of {', '.join(SETTINGS)}")
    seeds = check_seeds(seeds)
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    ds = render_instruments(clips_per_class=clips_per_class, progress=progress)
    a_enc = (get("whisper-base", threads=1) if audio_encoder_name == "whisper-base"
             else audio_encoder(audio_encoder_name))
    t_enc = get("minilm")
    audio, text, info = embed_tables(ds, a_enc, t_enc, progress=progress)
    t1 = time.perf_counter()
    log(f"instrument set {ds.root}: {len(ds.clips)} clips, audio {a_enc.name} "
        f"({'reused' if info['audio_reused'] else 'computed'}), text {t_enc.name}; setting {setting}")

    def split(seed: int) -> ImproveData:
        return instrument_data(ds, setting, teacher_clips, target_teacher_clips, test_clips, seed)

    cfg = type(DEMO_CONFIG)(**{**DEMO_CONFIG.to_dict(), "epochs": int(epochs)})
    res = improve_study(audio, text, split, t_enc, out, config=cfg, seeds=seeds, losses=losses,
                        methods=methods, thresholds=thresholds, extra_prob=extra_prob,
                        a2a_top_k=a2a_top_k, student_epochs=student_epochs,
                        progress=progress, log=log, setting=setting,
                        encoders={"audio": a_enc.name, "text": t_enc.name})
    res.timings = {"data_and_embeddings": round(t1 - t0, 2), **res.timings,
                   "total": round(time.perf_counter() - t0, 2)}
    prov = getattr(a_enc, "provenance", None)
    res.inputs = {"dataset": str(ds.root), "clips": len(ds.clips), "clips_per_class": clips_per_class,
                  "audio_encoder": a_enc.name, "text_encoder": t_enc.name,
                  "audio_provenance": asdict(prov) if hasattr(prov, "__dataclass_fields__") else None}
    return res
