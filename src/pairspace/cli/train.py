"""``pairspace train``: train projection heads on two frozen embedding tables from a pair manifest."""

from __future__ import annotations

import argparse

from ..align.heads import HEADS
from ..align.trainer import LOSSES, TrainConfig, train
from ._render import table


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train audio/text projection heads on frozen embeddings",
                       description=__doc__)
    p.add_argument("--audio", required=True, help="audio embedding table (.parquet/.npz)")
    p.add_argument("--text", required=True, help="text embedding table (.parquet/.npz)")
    p.add_argument("--pairs", required=True, help="pair manifest (CSV/JSONL with audio_id, text_id)")
    p.add_argument("--loss", default="infonce", choices=list(LOSSES))
    p.add_argument("--out", required=True, help="run folder (an unfinished run there is resumed)")
    d = TrainConfig()
    p.add_argument("--head", default=d.head, choices=list(HEADS))
    p.add_argument("--dim", type=int, default=d.dim, help="shared embedding dimension")
    p.add_argument("--dropout", type=float, default=d.dropout)
    p.add_argument("--beta", type=float, default=d.beta, help="soft-label weight of --loss soft")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--weight-decay", type=float, default=d.weight_decay)
    p.add_argument("--warmup", type=float, default=d.warmup, help="warm-up fraction of the steps")
    p.add_argument("--grad-clip", type=float, default=d.grad_clip)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--val-fraction", type=float, default=d.val_fraction,
                   help="fraction of training audio items held out for model selection")
    p.add_argument("--selection", default=d.selection, choices=["val", "last"],
                   help="model selection (oracle test-set selection exists only in the Python API)")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--tensorboard", action="store_true", help="also log to TensorBoard")
    p.add_argument("--restart", action="store_true", help="ignore an unfinished run in --out")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.table import EmbeddingTable

    cfg = TrainConfig(head=args.head, dim=args.dim, dropout=args.dropout, loss=args.loss, beta=args.beta,
                      epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                      weight_decay=args.weight_decay, warmup=args.warmup, grad_clip=args.grad_clip,
                      seed=args.seed, val_fraction=args.val_fraction, selection=args.selection)
    audio, text = EmbeddingTable.load(args.audio), EmbeddingTable.load(args.text)
    res = train(audio, text, args.pairs, args.out, cfg, resume=not args.restart,
                tensorboard=args.tensorboard, progress=True, threads=args.threads)
    last = res.history[-1] if res.history else {}
    print(f"trained {cfg.head} heads ({audio.dim}/{text.dim} -> {cfg.dim}) with {cfg.loss} on "
          f"{res.n_train} pairs ({res.n_val} held out)"
          + (f", resumed at epoch {res.resumed_from}" if res.resumed_from else ""))
    print(table(["selection", "best epoch", "final train loss", "final val loss", "val R@1 a->t"],
                [(res.selection, res.best_epoch, last.get("train_loss"), last.get("val_loss"),
                  last.get("val_r1_a2t"))]))
    print(f"wrote {args.out}/model.safetensors, metrics.jsonl and summary.json")
    return 0
