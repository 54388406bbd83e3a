r"""Train projection heads on two frozen embedding tables from a pair manifest.

The backbones ran once (their outputs are :class:`~pairspace.data.table.EmbeddingTable` files), so
training touches only two small heads and a logit scale and runs in minutes on a CPU. The first
table is modality ``a`` (audio in the demo), the second modality ``b`` (text).

Protocol
--------
* **Pairs** come from a manifest (:func:`pairspace.data.pairs.load_pairs`) or a list of
  ``(a_id, b_id)``. ``extra_pairs`` (curated pseudo-pairs, ids of the same tables) are mixed in per
  batch: a batch comes from them with probability ``extra_prob``, otherwise from the original pairs
  (replay), as in arXiv 2305.01864 (:func:`pairspace.align.sampling.mixed_batches`).
* **Model selection** (``selection``): ``"heldout_classes"`` holds out a fraction ``val_fraction``
  of the *classes* of the training pairs (labels of the first table) and keeps the epoch with the
  lowest InfoNCE loss on them: it tracks transfer to new classes, which zero-shot accuracy measures.
  ``"val"`` holds out items (a clip with all its captions) of the training classes. ``"auto"`` (the
  default) is ``"heldout_classes"`` when the first table has labels and ``"val"`` otherwise.
  ``"last"`` keeps the last epoch. ``"oracle"`` picks the epoch that maximizes a user-supplied
  score on the *test* set; it is optimistic, exists only to reproduce published protocols that did
  so, and is labeled ``"oracle (test-set selection)"`` in every output.
* **Loss**: InfoNCE, or the soft-labeled loss with targets from a frozen trained teacher
  (:mod:`pairspace.align.teacher`; ``soft_targets="backbone"`` names the raw-backbone variant).
* **Optimization**: AdamW, linear warm-up for ``warmup`` of the steps then cosine decay to 0
  (:func:`pairspace.align.schedule.lr_at`), gradient-norm clipping, a learnable logit scale.
* **Determinism**: the initialization uses ``seed``; epoch ``e`` shuffles with a generator seeded by
  ``(seed, e)`` and re-seeds dropout the same way, so a run resumed from the checkpoint of epoch
  ``e`` continues exactly as an uninterrupted run would.
* **Run folder**: ``config.json`` (with ``status``: running, incomplete, complete or failed);
  ``last.safetensors`` (heads, optimizer state and progress after the last finished epoch, written
  atomically); ``model.safetensors`` (the selected heads); ``metrics.jsonl`` (one line per epoch);
  ``summary.json`` (the ``pairspace.train/1`` result envelope, :mod:`pairspace.align.summary`);
  optional TensorBoard events. A run that diverged writes ``FAILED`` (the error) and
  ``summary.json`` with ``status: failed``, and no ``model.safetensors``.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .._atomic import atomic_write_bytes, write_json
from .._outputs import output_lock
from .._progress import progress_bar
from ..data.pairs import as_pairs, load_pairs
from ..data.table import EmbeddingTable
from ..envelope import Envelope
from .checkpoints import load_model, optimizer_tensors, resume_state, save_model, save_tensors
from .config import ORACLE_LABEL, TrainConfig
from .losses import contrastive_loss
from .model import AlignmentModel
from .pairdata import TrainData, prepare
from .registry import LOSSES
from .runfolder import check_out, mark_failed, mark_status_failed, open_out, tensorboard_writer
from .sampling import epoch_batches, mixed_batches, steps_per_epoch
from .schedule import lr_at
from .summary import SCHEMA, TrainResult, failed_document, run_inputs
from .teacher import init_from, load_teacher, teacher_projections
from .threads import choose_threads

# AlignmentModel, TrainConfig, load_model, save_model and load_pairs are re-exported for the
# callers of the single-module trainer (pairspace.align.trainer.*).
__all__ = ["ORACLE_LABEL", "AlignmentModel", "TrainConfig", "TrainResult", "TrainingDiverged",
           "load_model", "load_pairs", "save_model", "train"]


class TrainingDiverged(ValueError):
    """The loss or the logits became NaN or infinite (usually: the learning rate is too high)."""


def _out_and_config(a: Any, b: Any) -> tuple[Path, TrainConfig]:
    """``(out, config)``; the swapped order ``(config, out)`` still works but is deprecated."""
    if isinstance(a, TrainConfig) or (b is not None and not isinstance(b, TrainConfig)):
        import warnings

        warnings.warn("train(..., config, out) is deprecated: pass the run folder first, "
                      "train(audio, text, pairs, out, config)", DeprecationWarning, stacklevel=3)
        a, b = b, a
    if a is None:
        raise ValueError("train() needs an output folder (out)")
    return Path(a), b or TrainConfig()


def train(audio: EmbeddingTable, text: EmbeddingTable,
          pairs: Sequence[tuple[str, str]] | str | os.PathLike[str],
          out: str | os.PathLike[str] | None = None, config: TrainConfig | None = None, *,
          oracle: Callable[[AlignmentModel], float] | None = None, resume: bool = True,
          stop_after: int | None = None, tensorboard: bool = False, progress: bool | None = None,
          threads: int | str | None = 1,
          extra_pairs: Sequence[tuple[str, str]] | str | os.PathLike[str] | None = None,
          desc: str = "train heads",
          table_files: Sequence[str | os.PathLike[str] | None] | None = None) -> TrainResult:
    """Train projection heads on frozen embeddings of two modalities.

    Parameters
    ----------
    audio, text : EmbeddingTable
        Backbone embeddings of modality ``a`` and ``b``; ``pairs`` name their ids.
    pairs : sequence of (a_id, b_id) or path
        The training pairs, or a manifest read by :func:`pairspace.data.pairs.load_pairs`.
    out, config : path and TrainConfig
        Run folder (created; an unfinished run with the same config is resumed) and
        hyper-parameters (defaults when None).
    oracle : callable, optional
        ``oracle(model) -> score`` (higher is better), evaluated on the *test* set after each epoch;
        required by and used only for ``selection="oracle"`` (labeled as such in every output).
    resume : bool
        Continue from ``out/last.safetensors`` when it exists (its config must match); False starts
        over (and clears a failed run's marker).
    stop_after : int, optional
        Stop after this many epochs in this call (a time-sliced job); a later call resumes.
    tensorboard : bool
        Also log to TensorBoard (needs the ``tensorboard`` package).
    progress : bool or None
        Show a progress bar (None: only on a terminal).
    threads : int, "auto" or None
        ``torch.set_num_threads`` during training (None leaves it alone; ``"auto"`` measures a few
        steps at 1 and 2 threads and keeps the faster, :mod:`pairspace.align.threads`; the choice is
        written to ``config.json``). The count changes the last digits of the weights.
    extra_pairs : sequence of (a_id, b_id) or path, optional
        A second pair set (curated pseudo-pairs) over the same tables; each batch comes from it with
        probability ``config.extra_prob``. Pairs whose ``a`` item is held out for selection are
        dropped (counted in ``config.json`` as ``n_extra_dropped``).
    desc : str
        The progress bar's label (e.g. one per run when a study trains several).
    table_files : (path or None, path or None), optional
        The files ``audio`` and ``text`` were read from, recorded (path, size, SHA-256) in the
        result's inputs; without them a table is described by its rows, dimension and encoder.

    Returns
    -------
    TrainResult
        Its ``to_dict()`` is the ``pairspace.train/1`` document written to ``summary.json`` once
        every epoch ran (:mod:`pairspace.align.summary`); a diverged run writes the same envelope
        with ``status: failed``.

    Raises
    ------
    TrainingDiverged
        When the loss becomes NaN or infinite; the run folder is then marked failed.
    """
    out, config = _out_and_config(out, config)
    if not isinstance(audio, EmbeddingTable) or not isinstance(text, EmbeddingTable):
        raise ValueError("audio and text must be EmbeddingTable objects")
    pair_list = as_pairs(pairs)
    extra_list = as_pairs(extra_pairs, "extra_pairs") if extra_pairs is not None else None
    if len(pair_list) < 2:
        raise ValueError(f"at least 2 pairs are needed; got {len(pair_list)}")
    if config.selection == "oracle" and oracle is None:
        raise ValueError("selection='oracle' needs an oracle(model) -> score callable on the test set")
    check_out(out, resume)
    inputs = run_inputs(audio, text, pairs, pair_list, extra_pairs, extra_list, table_files)
    with output_lock(out, owner="train"):  # one writer per run folder (a second train is refused)
        return _train_locked(audio, text, pair_list, extra_list, out, config, oracle, resume,
                             stop_after, tensorboard, progress, threads, desc, inputs)


def _train_locked(audio: EmbeddingTable, text: EmbeddingTable, pair_list: list[tuple[str, str]],
                  extra_list: list[tuple[str, str]] | None, out: Path, config: TrainConfig,
                  oracle: Callable[[AlignmentModel], float] | None, resume: bool,
                  stop_after: int | None, tensorboard: bool, progress: bool | None,
                  threads: int | str | None, desc: str, inputs: dict[str, Any]) -> TrainResult:
    """:func:`train` once the inputs were checked and the run folder's lock is held."""
    check_out(out, resume)  # again under the lock: another run may have failed meanwhile
    teacher, teacher_info = load_teacher(config, audio.dim, text.dim)
    inputs = {**inputs, "teacher": teacher_info or None}
    data = prepare(audio, text, pair_list, extra_list, config)
    open_out(out, resume)  # created only once the inputs were found valid
    run_cfg = data.run_config(config, audio, text)
    if teacher is not None:
        run_cfg["teacher"] = teacher_info
        if LOSSES.entry(config.loss).meta.get("teacher") and config.soft_targets == "teacher":
            data.targets = teacher_projections(teacher, data.A, data.B)
    old_threads = torch.get_num_threads()
    runtime = _runtime(threads, config, data)
    if runtime["threads"] is not None:
        torch.set_num_threads(int(runtime["threads"]))
    try:
        return _fit(config, run_cfg, out, data, teacher, oracle, resume, stop_after, tensorboard,
                    progress, runtime, desc, inputs)
    except TrainingDiverged as exc:
        mark_failed(out, run_cfg, str(exc),
                    failed_document(inputs, _settings(config, runtime), out, str(exc)))
        raise
    except Exception as exc:  # a full disk, a bug: the folder never keeps saying "running"
        mark_status_failed(out, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        torch.set_num_threads(old_threads)


def _runtime(threads: int | str | None, config: TrainConfig, data: TrainData) -> dict[str, Any]:
    """The thread count of the run (measured for ``"auto"``), written to ``config.json``."""
    if threads != "auto":
        return {"threads": threads}
    chosen, timing = choose_threads(config, data)
    # unrounded: the recorded times are the ones the choice was made from (steps of tiny runs take
    # ~1e-4 s, so rounding made ties that no longer showed which count won)
    return {"threads": chosen, "seconds_per_step": {str(k): v for k, v in timing.items()}}


def _settings(config: TrainConfig, runtime: dict[str, Any]) -> dict[str, Any]:
    """The envelope's settings: the configuration and the thread count of the run."""
    return {**config.to_dict(), "threads": runtime["threads"]}


def _new_model(config: TrainConfig, data: TrainData) -> AlignmentModel:
    torch.manual_seed(config.seed)
    return AlignmentModel(data.A.shape[1], data.B.shape[1], config.head, config.dim, config.dropout,
                          names=data.names)


def _fit(config: TrainConfig, run_cfg: dict[str, Any], out: Path, data: TrainData,
         teacher: AlignmentModel | None, oracle: Callable[[AlignmentModel], float] | None,
         resume: bool, stop_after: int | None, tensorboard: bool,
         progress: bool | None, runtime: dict[str, Any], desc: str,
         inputs: dict[str, Any]) -> TrainResult:
    model = _new_model(config, data)
    if teacher is not None and config.init_from_teacher:
        init_from(model, teacher)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    n_steps = _steps(config, data)
    start_epoch, best, history = 0, {"epoch": -1, "score": -math.inf, "state": None}, []
    last_path = out / "last.safetensors"
    if resume and last_path.exists():
        start_epoch, best, history = resume_state(out, run_cfg, model, opt)
    write_json(out / "config.json", {**run_cfg, "status": "running", "runtime": runtime})
    metrics_path = out / "metrics.jsonl"
    atomic_write_bytes(metrics_path, "".join(json.dumps(h) + "\n" for h in history).encode())

    writer = tensorboard_writer(out) if tensorboard else None
    end_epoch = config.epochs if stop_after is None else min(config.epochs, start_epoch + int(stop_after))
    bar = progress_bar(total=(end_epoch - start_epoch) * n_steps, desc=desc,
                       progress=progress, unit="step")
    try:
        for epoch in range(start_epoch, end_epoch):
            t0 = time.perf_counter()
            rec = _epoch(model, opt, data, config, epoch, n_steps, bar)
            if data.a_va.shape[0] >= 2:
                rec.update(_validate(model, data.a_va, data.b_va, config.batch_size))
            if oracle is not None:
                rec["oracle_score"] = float(oracle(model))
            score = _score(rec, data.selection, epoch)
            if score > best["score"]:
                best = {"epoch": epoch, "score": score,
                        "state": {k: v.detach().clone() for k, v in model.state_dict().items()}}
            rec["seconds"] = round(time.perf_counter() - t0, 4)
            history.append(rec)
            with open(metrics_path, "a") as f:
                f.write(json.dumps(rec) + "\n")
            if writer is not None:
                for k, v in rec.items():
                    if k not in ("epoch", "step"):
                        writer.add_scalar(k, v, rec["step"])
            ckpt = dict(model.state_dict())
            ckpt.update(optimizer_tensors(opt))
            ckpt.update({f"best.{k}": v for k, v in best["state"].items()})
            save_tensors(last_path, ckpt, {"run": run_cfg, "epoch": epoch,
                                           "best_epoch": best["epoch"], "best_score": best["score"]})
    finally:
        bar.close()
        if writer is not None:
            writer.close()
    return _finish(config, {**run_cfg, "runtime": runtime}, out, data, best, history, start_epoch,
                   end_epoch, inputs)


def _finish(config: TrainConfig, run_cfg: dict[str, Any], out: Path, data: TrainData,
            best: dict[str, Any], history: list[dict[str, Any]], start_epoch: int,
            end_epoch: int, inputs: dict[str, Any]) -> TrainResult:
    done = end_epoch >= config.epochs
    if done and best["state"] is not None:
        final = _new_model(config, data)
        final.load_state_dict(best["state"])
        save_model(out / "model.safetensors", final, config,
                   {"best_epoch": best["epoch"], "selection": run_cfg["selection_label"],
                    "text_encoder": run_cfg["text_encoder"]})
    status = "complete" if done else "incomplete"
    result = TrainResult(str(out), run_cfg["selection_label"], int(best["epoch"]), float(best["score"]),
                         len(history), start_epoch, int(data.tr_a.shape[0]), int(data.a_va.shape[0]),
                         history, status, int(data.ex_a.shape[0]),
                         _settings(config, run_cfg["runtime"]), Envelope.new(SCHEMA, inputs))
    write_json(out / "config.json", {**run_cfg, "status": status})
    if done:
        write_json(out / "summary.json", result.to_dict())
    return result


def _steps(config: TrainConfig, data: TrainData) -> int:
    n, n_extra = data.tr_a.shape[0], data.ex_a.shape[0]
    if n_extra and config.epoch_over == "all":
        return steps_per_epoch(n, n_extra, config.batch_size)
    return len(epoch_batches(n, config.batch_size, torch.Generator().manual_seed(0)))


def _score(rec: dict[str, Any], selection: str, epoch: int) -> float:
    if selection in ("val", "heldout_classes"):
        return -rec.get("val_loss", math.nan)
    if selection == "last":
        return float(epoch)
    return rec.get("oracle_score", math.nan)


def _epoch(model: AlignmentModel, opt: torch.optim.Optimizer, data: TrainData, config: TrainConfig,
           epoch: int, n_steps: int, bar: Any) -> dict[str, Any]:
    """One epoch of optimization; the record of its metrics."""
    torch.manual_seed(config.seed * 100003 + epoch)  # dropout stream of this epoch
    gen = torch.Generator().manual_seed(config.seed * 1000003 + epoch)
    if data.ex_a.shape[0]:
        plan = mixed_batches(data.tr_a.shape[0], data.ex_a.shape[0], config.batch_size,
                             config.extra_prob, gen, steps=n_steps)
    else:
        plan = [(0, idx) for idx in epoch_batches(data.tr_a.shape[0], config.batch_size, gen)]
    model.train()
    losses, n_extra = [], 0
    total = n_steps * config.epochs
    for b, (src, idx) in enumerate(plan):
        step = epoch * n_steps + b
        for g in opt.param_groups:
            g["lr"] = lr_at(step, total, config.lr, config.warmup)
        ra, rb = (data.tr_a, data.tr_b) if src == 0 else (data.ex_a, data.ex_b)
        try:
            loss = batch_loss(model, data, config, ra[idx], rb[idx])
            if not torch.isfinite(loss):
                raise TrainingDiverged("the loss is NaN or infinite")
        except TrainingDiverged as exc:
            raise TrainingDiverged(_diverged(epoch, b, config, str(exc))) from None
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        opt.step()
        losses.append(loss.item())
        n_extra += src
        bar.update(1)
    rec = {"epoch": epoch, "step": (epoch + 1) * n_steps, "lr": opt.param_groups[0]["lr"],
           "train_loss": float(np.mean(losses)), "logit_scale": model.logit_scale().item()}
    if data.ex_a.shape[0]:
        rec["extra_batches"] = n_extra
    return rec


def _diverged(epoch: int, batch: int, config: TrainConfig, what: str) -> str:
    return (f"training diverged at epoch {epoch}, batch {batch} ({what}); lower the learning rate "
            f"(lr={config.lr:g})" + ("" if config.grad_clip else " or clip the gradients (grad_clip)"))


def batch_loss(model: AlignmentModel, data: TrainData, config: TrainConfig, rows_a: torch.Tensor,
               rows_b: torch.Tensor) -> torch.Tensor:
    """The training loss of one batch given by table rows of the two modalities.

    The soft loss takes its targets from ``data.targets`` (the frozen teacher's projections of the
    tables) or, with ``soft_targets="backbone"``, from the batch's backbone embeddings.
    """
    a, b = data.A[rows_a], data.B[rows_b]
    logits = model(a, b)
    if not torch.isfinite(logits).all():
        raise TrainingDiverged("the logits are NaN or infinite")
    entry = LOSSES.entry(config.loss)
    if not entry.meta.get("teacher", False):
        return entry.obj(logits)
    if config.soft_targets == "teacher":
        ta, tb = data.targets[0][rows_a], data.targets[1][rows_b]
    else:
        ta, tb = a, b
    return entry.obj(logits, ta, tb, beta=config.beta)


@torch.no_grad()
def _validate(model: AlignmentModel, a: torch.Tensor, b: torch.Tensor, batch_size: int) -> dict[str, float]:
    """Held-out InfoNCE (fixed, unshuffled batches) and a-to-b R@1 over the whole split."""
    model.eval()
    losses, weights = [], []
    for idx in epoch_batches(a.shape[0], batch_size, None):
        if len(idx) >= 2:
            losses.append(float(contrastive_loss(model(a[idx], b[idx]))))
            weights.append(len(idx))
    pa = nn.functional.normalize(model.head_a(a), dim=1)
    pb = nn.functional.normalize(model.head_b(b), dim=1)
    sim = pa @ pb.t()
    r1 = float((sim.argmax(dim=1) == torch.arange(a.shape[0])).float().mean())
    model.train()
    return {"val_loss": float(np.average(losses, weights=weights)), "val_r1_a2t": r1}

