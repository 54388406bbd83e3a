"""pairspace train: train projection heads on two frozen embedding tables from a pair manifest."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._common import (
    add_command,
    check_out_dir,
    emit,
    nonneg_float,
    nonneg_int,
    positive_float,
    positive_int,
    unit_interval,
)


def _fraction_below_one(text: str) -> float:
    value = unit_interval(text)
    if value >= 1.0:
        raise argparse.ArgumentTypeError(f"must lie in [0, 1), got {value:g}")
    return value


def _threads(text: str) -> int | str:
    return "auto" if text == "auto" else positive_int(text)


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ..align.config import BLIND_SELECTIONS, SOFT_TARGETS, TrainConfig  # light: no torch
    from ..align.registry import HEADS, LOSSES

    d = TrainConfig()

    p = add_command(sub, "train", help="train audio/text projection heads on frozen embeddings",
                    description="Train projection heads on two frozen embedding tables (audio and "
                    "text backbones) from a pair manifest. The soft loss takes its targets from a "
                    "trained teacher run (--teacher RUN); --soft-targets backbone names the variant "
                    "whose targets are the raw backbone embeddings of the batch. The run folder's "
                    "summary.json is the pairspace.train/1 result document (--json prints it).",
                    produces_result=True)
    p.add_argument("--audio", required=True, help="audio embedding table (.parquet/.npz)")
    p.add_argument("--text", required=True, help="text embedding table (.parquet/.npz)")
    p.add_argument("--pairs", required=True, help="pair manifest (CSV/JSONL with audio_id, text_id)")
    p.add_argument("--out", required=True, help="run folder (an unfinished run there is resumed)")
    p.add_argument("--loss", default=d.loss, choices=LOSSES.names(),
                   help="; ".join(f"{e.name}: {e.description}" for e in LOSSES.entries()))
    p.add_argument("--head", default=d.head, choices=HEADS.names(),
                   help="; ".join(f"{e.name}: {e.description}" for e in HEADS.entries()))
    p.add_argument("--teacher", default=None,
                   help="trained run folder (or checkpoint): the frozen teacher of --loss soft")
    p.add_argument("--init-from-teacher", action="store_true",
                   help="start from the teacher's heads and logit scale")
    p.add_argument("--soft-targets", default=d.soft_targets, choices=list(SOFT_TARGETS),
                   help="where --loss soft takes its targets: the teacher's projections, or the raw "
                   "backbone embeddings of the batch (named variant)")
    p.add_argument("--extra-pairs", default=None,
                   help="a second pair manifest (curated pseudo-pairs over the same tables)")
    p.add_argument("--extra-prob", type=unit_interval, default=d.extra_prob,
                   help="probability that a batch comes from --extra-pairs")
    p.add_argument("--dim", type=positive_int, default=d.dim, help="shared embedding dimension")
    p.add_argument("--dropout", type=_fraction_below_one, default=d.dropout, help="dropout in the heads")
    p.add_argument("--beta", type=unit_interval, default=d.beta, help="soft-label weight of --loss soft")
    p.add_argument("--epochs", type=positive_int, default=d.epochs, help="training epochs")
    p.add_argument("--batch-size", type=positive_int, default=d.batch_size, help="pairs per batch (>= 2)")
    p.add_argument("--lr", type=positive_float, default=d.lr, help="peak learning rate of AdamW")
    p.add_argument("--weight-decay", type=nonneg_float, default=d.weight_decay, help="AdamW weight decay")
    p.add_argument("--warmup", type=_fraction_below_one, default=d.warmup,
                   help="warm-up fraction of the steps")
    p.add_argument("--grad-clip", type=nonneg_float, default=d.grad_clip,
                   help="largest gradient norm (0: off)")
    p.add_argument("--seed", type=nonneg_int, default=d.seed, help="seed of init, split and shuffling")
    p.add_argument("--val-fraction", type=_fraction_below_one, default=d.val_fraction,
                   help="fraction of training classes (heldout_classes) or clips (val) held out "
                   "for model selection")
    p.add_argument("--selection", default=d.selection, choices=BLIND_SELECTIONS,
                   help="model selection: auto = heldout_classes when the audio table has labels, "
                   "else val (held-out clips); oracle test-set selection exists only in the Python API")
    p.add_argument("--threads", type=_threads, default=1,
                   help="torch threads, or auto: time a few steps at 1 and 2 threads and keep the faster "
                   "(the count changes the last digits of the weights)")
    p.add_argument("--tensorboard", action="store_true", help="also log to TensorBoard")
    p.add_argument("--restart", action="store_true",
                   help="ignore an unfinished (or failed) run in --out and start over")
    p.set_defaults(func=run)


def render(res: Any) -> str:
    """The run in one line and its selection table (from the result's document)."""
    from ._render import table

    doc = res.to_dict()
    cfg, inputs, r = doc["settings"], doc["inputs"], doc["results"]
    last = r["history"][-1] if r["history"] else {}
    head = (f"trained {cfg['head']} heads ({inputs['audio_table']['d']}/{inputs['text_table']['d']} -> "
            f"{cfg['dim']}) with {cfg['loss']} on {r['n_train']} pairs ({r['n_val']} held out"
            + (f", {r['n_extra']} extra" if r["n_extra"] else "") + ")"
            + (f", resumed at epoch {r['resumed_from']}" if r["resumed_from"] else ""))
    return "\n".join([head, table(["selection", "best epoch", "final train loss", "final val loss",
                                    "val R@1 a->t"],
                                   [(r["selection"], r["best_epoch"], last.get("train_loss"),
                                     last.get("val_loss"), last.get("val_r1_a2t"))])])


def run(args: argparse.Namespace) -> int:
    from ..align.config import TrainConfig
    from ..align.trainer import train
    from ..data.table import EmbeddingTable
    from ..report.training import write_train_report

    out = check_out_dir(args.out)
    if args.teacher:
        t = Path(args.teacher)
        weights = t / "model.safetensors" if t.is_dir() else t
        if not weights.is_file():
            raise FileNotFoundError(f"--teacher {args.teacher}: no trained model at {weights}")
    cfg = TrainConfig(head=args.head, dim=args.dim, dropout=args.dropout, loss=args.loss, beta=args.beta,
                      epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                      weight_decay=args.weight_decay, warmup=args.warmup, grad_clip=args.grad_clip,
                      seed=args.seed, val_fraction=args.val_fraction, selection=args.selection,
                      teacher=args.teacher, init_from_teacher=args.init_from_teacher,
                      soft_targets=args.soft_targets, extra_prob=args.extra_prob)
    audio, text = EmbeddingTable.load(args.audio), EmbeddingTable.load(args.text)
    res = train(audio, text, args.pairs, out, cfg, resume=not args.restart,
                tensorboard=args.tensorboard, progress=args.progress, threads=args.threads,
                extra_pairs=args.extra_pairs, table_files=(args.audio, args.text))
    report = write_train_report(out)
    files = {name: out / name for name in ("model.safetensors", "metrics.jsonl", "summary.json")}
    return emit(args, res, render, {**files, **report})
