r"""Train projection heads on two frozen embedding tables from a pair manifest.

The backbones ran once (their outputs are :class:`~pairspace.data.table.EmbeddingTable` files), so
training touches only two small heads and a logit scale and runs in minutes on a CPU.

Protocol
--------
* **Pairs** come from a manifest (CSV with a header, or JSONL) with columns ``audio_id`` and
  ``text_id`` (aliases ``audio``/``text``), naming rows of the audio and text tables.
* **Held-out selection split**: a fraction ``val_fraction`` of the *audio items* of the training
  pairs (with all their captions) is held out, chosen with ``seed``. The epoch with the lowest
  validation InfoNCE loss is kept (``selection="val"``, the default). ``selection="last"`` keeps the
  last epoch. ``selection="oracle"`` picks the epoch that maximizes a user-supplied score on the
  *test* set; it is optimistic, exists only to reproduce published protocols that did so, and is
  labeled ``"oracle (test-set selection)"`` in every output.
* **Optimization**: AdamW, linear warm-up for ``warmup`` of the steps then cosine decay to 0,
  gradient-norm clipping, a learnable logit scale (see :mod:`pairspace.align.losses`).
* **Determinism**: the initialization uses ``seed``; epoch ``e`` shuffles with a generator seeded by
  ``(seed, e)`` and re-seeds dropout the same way, so a run resumed from the checkpoint of epoch
  ``e`` continues exactly as an uninterrupted run would.
* **Run folder**: ``config.json``; ``last.safetensors`` (heads, optimizer state and progress after
  the last finished epoch, written atomically); ``model.safetensors`` (the selected heads);
  ``metrics.jsonl`` (one line per epoch); ``summary.json``; optional TensorBoard events.
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .._atomic import atomic_write_bytes, write_json
from .._progress import progress_bar
from ..data.table import EmbeddingTable
from .heads import HEADS, build_head
from .losses import LogitScale, contrastive_loss, scaled_logits, soft_contrastive_loss

LOSSES = ("infonce", "soft")
SELECTIONS = ("val", "last", "oracle")
ORACLE_LABEL = "oracle (test-set selection; optimistic, for reproducing published protocols only)"


@dataclass
class TrainConfig:
    """Hyper-parameters of a head-training run (all of them change the result).

    Attributes
    ----------
    head : {"clap", "mlp", "linear"}
        Projection head used for both modalities.
    dim : int
        Shared embedding dimension.
    dropout : float
        Dropout inside the heads.
    loss : {"infonce", "soft"}
        Symmetric InfoNCE or the soft-labeled loss of arXiv 2305.01864 (teacher = the frozen
        backbone embeddings of the batch).
    beta : float
        Weight of the teacher similarities in the soft targets.
    epochs, batch_size, lr, weight_decay : training schedule and AdamW settings.
    warmup : float
        Fraction of all steps spent in the linear warm-up.
    grad_clip : float
        Largest gradient norm (0 disables clipping).
    seed : int
        Seed of the initialization, the split and the shuffling.
    val_fraction : float
        Fraction of the training audio items held out for model selection.
    selection : {"val", "last", "oracle"}
        Model selection (see the module docstring).
    """

    head: str = "clap"
    dim: int = 256
    dropout: float = 0.1
    loss: str = "infonce"
    beta: float = 0.3
    epochs: int = 30
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.05
    grad_clip: float = 1.0
    seed: int = 0
    val_fraction: float = 0.1
    selection: str = "val"

    def __post_init__(self) -> None:
        if self.head not in HEADS:
            raise ValueError(f"unknown head {self.head!r}; choose one of {', '.join(HEADS)}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}")
        if self.selection not in SELECTIONS:
            raise ValueError(f"unknown selection {self.selection!r}; choose one of {', '.join(SELECTIONS)}")
        if self.epochs < 1 or self.batch_size < 2 or self.dim < 1:
            raise ValueError("epochs >= 1, batch_size >= 2 and dim >= 1 are required")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must lie in [0, 1); got {self.val_fraction}")
        if self.selection == "val" and self.val_fraction == 0.0:
            raise ValueError("selection='val' needs val_fraction > 0 (or use selection='last')")
        if not 0.0 <= self.warmup < 1.0:
            raise ValueError(f"warmup is a fraction of the steps in [0, 1); got {self.warmup}")
        if self.lr <= 0 or self.weight_decay < 0 or self.grad_clip < 0:
            raise ValueError("lr must be > 0, weight_decay and grad_clip >= 0")
        if not 0.0 <= self.beta <= 1.0:
            raise ValueError(f"beta must lie in [0, 1]; got {self.beta}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


class AlignmentModel(nn.Module):
    """Two projection heads and a learnable logit scale."""

    def __init__(self, d_audio: int, d_text: int, head: str = "clap", dim: int = 256,
                 dropout: float = 0.1) -> None:
        super().__init__()
        self.d_audio, self.d_text = int(d_audio), int(d_text)
        self.audio_head = build_head(head, d_audio, dim, dropout)
        self.text_head = build_head(head, d_text, dim, dropout)
        self.logit_scale = LogitScale()

    def forward(self, audio: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """Scaled, clamped logits (rows audio, columns text)."""
        return scaled_logits(self.audio_head(audio), self.text_head(text), self.logit_scale())

    @torch.no_grad()
    def _project(self, head: nn.Module, x: Any, d: int, batch: int = 4096) -> np.ndarray:
        X = np.asarray(x, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != d:
            raise ValueError(f"expected embeddings of shape (n, {d}); got {X.shape}")
        was = self.training
        self.eval()
        out = [nn.functional.normalize(head(torch.from_numpy(X[i:i + batch])), dim=1).numpy()
               for i in range(0, X.shape[0], batch)]
        self.train(was)
        return np.concatenate(out) if out else np.zeros((0, 1), np.float32)

    def project_audio(self, x: Any) -> np.ndarray:
        """L2-normalized projections of audio backbone embeddings (eval mode, float32)."""
        return self._project(self.audio_head, x, self.d_audio)

    def project_text(self, x: Any) -> np.ndarray:
        """L2-normalized projections of text backbone embeddings (eval mode, float32)."""
        return self._project(self.text_head, x, self.d_text)


# ------------------------------------------------------------------ pairs and split
def load_pairs(path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """Read a pair manifest (CSV with header or JSONL) with ``audio_id`` and ``text_id`` columns."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"pair manifest not found: {path}")
    if path.suffix.lower() in (".jsonl", ".json"):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    else:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    pairs = []
    for i, r in enumerate(rows):
        a = r.get("audio_id", r.get("audio"))
        t = r.get("text_id", r.get("text"))
        if a is None or t is None:
            raise ValueError(f"{path} row {i + 1} lacks the 'audio_id' and 'text_id' columns")
        pairs.append((str(a), str(t)))
    if not pairs:
        raise ValueError(f"pair manifest {path} is empty")
    return pairs


def split_pairs(pairs: Sequence[tuple[str, str]], val_fraction: float,
                seed: int) -> tuple[list[int], list[int]]:
    """Indices of training and held-out pairs; whole audio items go to one side (seeded)."""
    audio_ids = sorted({a for a, _ in pairs})
    rng = np.random.default_rng([seed, 7])
    n_val = int(round(val_fraction * len(audio_ids)))
    if val_fraction > 0 and n_val < 2:
        n_val = min(2, len(audio_ids) - 2)
    order = rng.permutation(len(audio_ids))
    val_audio = {audio_ids[i] for i in order[:max(n_val, 0)]}
    train = [i for i, (a, _) in enumerate(pairs) if a not in val_audio]
    val = [i for i, (a, _) in enumerate(pairs) if a in val_audio]
    if len(train) < 2:
        raise ValueError(f"only {len(train)} training pairs remain after holding out {len(val)}")
    return train, val


def lr_at(step: int, total: int, base: float, warmup: float) -> float:
    r"""Learning rate: linear warm-up over ``ceil(warmup * total)`` steps, then cosine decay to 0."""
    w = int(math.ceil(warmup * total))
    if step < w:
        return base * (step + 1) / w
    prog = (step - w) / max(1, total - w)
    return base * 0.5 * (1.0 + math.cos(math.pi * min(1.0, prog)))


# ------------------------------------------------------------------ checkpoints
def _save_safetensors(path: Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    from safetensors.torch import save

    blob = save({k: v.detach().contiguous().cpu() for k, v in tensors.items()},
                metadata={"pairspace": json.dumps(meta, default=str)})
    atomic_write_bytes(path, blob)


def _load_safetensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    from safetensors import safe_open

    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {}).get("pairspace", "{}"))
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    except Exception as exc:  # safetensors raises its own error types for corrupt files
        raise ValueError(f"could not read checkpoint {path}: {exc}") from exc
    return tensors, meta


def save_model(path: str | os.PathLike[str], model: AlignmentModel, config: TrainConfig,
               extra: dict[str, Any] | None = None) -> Path:
    """Write the heads (and the config needed to rebuild them) to a safetensors file, atomically."""
    meta = {"config": config.to_dict(), "d_audio": model.d_audio, "d_text": model.d_text, **(extra or {})}
    _save_safetensors(Path(path), dict(model.state_dict()), meta)
    return Path(path)


def load_model(path: str | os.PathLike[str]) -> tuple[AlignmentModel, TrainConfig, dict[str, Any]]:
    """Rebuild an :class:`AlignmentModel` from :func:`save_model` output (or a run folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / "model.safetensors"
    tensors, meta = _load_safetensors(path)
    if "config" not in meta:
        raise ValueError(f"{path} is not a pairspace alignment checkpoint (no config metadata)")
    config = TrainConfig.from_dict(meta["config"])
    model = AlignmentModel(meta["d_audio"], meta["d_text"], config.head, config.dim, config.dropout)
    state = {k: v for k, v in tensors.items() if not k.startswith("optim.")}
    model.load_state_dict(state)
    model.eval()
    return model, config, meta


def _optim_tensors(opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    out = {}
    for i, st in opt.state_dict()["state"].items():
        for k, v in st.items():
            out[f"optim.{i}.{k}"] = v if isinstance(v, torch.Tensor) else torch.tensor(v)
    return out


def _restore_optim(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> None:
    sd = opt.state_dict()
    state: dict[int, dict[str, torch.Tensor]] = {}
    for k, v in tensors.items():
        if k.startswith("optim."):
            _, i, name = k.split(".", 2)
            state.setdefault(int(i), {})[name] = v
    sd["state"] = state
    opt.load_state_dict(sd)


# ------------------------------------------------------------------ training
@dataclass
class TrainResult:
    """What a training run produced."""

    run_dir: str
    selection: str
    best_epoch: int
    best_score: float
    epochs_run: int
    resumed_from: int
    n_train: int
    n_val: int
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rows(table: EmbeddingTable, ids: Sequence[str], name: str) -> np.ndarray:
    pos = {v: i for i, v in enumerate(table.ids)}
    missing = [i for i in ids if i not in pos]
    if missing:
        raise ValueError(f"{len(missing)} {name} ids of the pair manifest are not in the {name} table, "
                         f"e.g. {sorted(set(missing))[:5]}")
    return np.fromiter((pos[i] for i in ids), dtype=np.int64, count=len(ids))


def _batches(n: int, batch_size: int, gen: torch.Generator | None) -> list[torch.Tensor]:
    order = torch.randperm(n, generator=gen) if gen is not None else torch.arange(n)
    if n <= batch_size:
        return [order]
    out = [order[i:i + batch_size] for i in range(0, n, batch_size)]
    return out if gen is None or len(out[-1]) == batch_size else out[:-1]  # drop the ragged batch


def train(audio: EmbeddingTable, text: EmbeddingTable,
          pairs: Sequence[tuple[str, str]] | str | os.PathLike[str],
          out: str | os.PathLike[str], config: TrainConfig | None = None, *,
          oracle: Callable[[AlignmentModel], float] | None = None, resume: bool = True,
          stop_after: int | None = None, tensorboard: bool = False, progress: bool | None = None,
          threads: int | None = 1) -> TrainResult:
    """Train projection heads on frozen audio and text embeddings.

    Parameters
    ----------
    audio, text : EmbeddingTable
        Backbone embeddings; ``pairs`` name their ids.
    pairs : sequence of (audio_id, text_id) or path
        The training pairs, or a manifest read by :func:`load_pairs`.
    out : path
        Run folder (created). An unfinished run with the same config is resumed.
    config : TrainConfig
        Hyper-parameters (defaults when None).
    oracle : callable, optional
        ``oracle(model) -> score`` (higher is better), evaluated on the *test* set after each epoch;
        required by and used only for ``selection="oracle"`` (labeled as such in every output).
    resume : bool
        Continue from ``out/last.safetensors`` when it exists (its config must match).
    stop_after : int, optional
        Stop after this many epochs in this call (a time-sliced job); a later call resumes.
    tensorboard : bool
        Also log to TensorBoard (needs the ``tensorboard`` package).
    progress : bool or None
        Show a progress bar (None: only on a terminal).
    threads : int or None
        ``torch.set_num_threads`` during training (None leaves it alone).

    Returns
    -------
    TrainResult
    """
    config = config or TrainConfig()
    if not isinstance(audio, EmbeddingTable) or not isinstance(text, EmbeddingTable):
        raise ValueError("audio and text must be EmbeddingTable objects")
    if isinstance(pairs, str | os.PathLike):
        pair_list = load_pairs(pairs)
    else:
        pair_list = [(str(a), str(t)) for a, t in pairs]
    if len(pair_list) < 2:
        raise ValueError(f"at least 2 pairs are needed; got {len(pair_list)}")
    if config.selection == "oracle" and oracle is None:
        raise ValueError("selection='oracle' needs an oracle(model) -> score callable on the test set")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    a_rows = _rows(audio, [a for a, _ in pair_list], "audio")
    t_rows = _rows(text, [t for _, t in pair_list], "text")
    tr_idx, va_idx = split_pairs(pair_list, config.val_fraction, config.seed)
    A = torch.from_numpy(np.array(audio.vectors, dtype=np.float32))  # a writable copy (tables may be mmapped)
    T = torch.from_numpy(np.array(text.vectors, dtype=np.float32))
    a_tr, t_tr = A[a_rows[tr_idx]], T[t_rows[tr_idx]]
    a_va, t_va = A[a_rows[va_idx]], T[t_rows[va_idx]]

    run_cfg = {"train": config.to_dict(), "d_audio": audio.dim, "d_text": text.dim,
               "n_pairs": len(pair_list), "n_train": len(tr_idx), "n_val": len(va_idx),
               "pairs_sha": _pairs_digest(pair_list),
               "audio_provenance": audio.metadata.get("provenance"),
               "text_provenance": text.metadata.get("provenance"),
               "text_encoder": _encoder_name(text.metadata),
               "selection_label": ORACLE_LABEL if config.selection == "oracle" else config.selection}

    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(int(threads))
    try:
        return _fit(config, run_cfg, out, a_tr, t_tr, a_va, t_va, oracle, resume, stop_after,
                    tensorboard, progress)
    finally:
        torch.set_num_threads(old_threads)


def _pairs_digest(pairs: Sequence[tuple[str, str]]) -> str:
    import hashlib

    h = hashlib.sha256()
    for a, t in pairs:
        h.update(f"{a}\t{t}\n".encode())
    return h.hexdigest()[:16]


def _encoder_name(meta: dict[str, Any]) -> str | None:
    prov = meta.get("provenance")
    if isinstance(prov, dict):
        return prov.get("encoder")
    return meta.get("encoder")


def _fit(config: TrainConfig, run_cfg: dict[str, Any], out: Path, a_tr: torch.Tensor, t_tr: torch.Tensor,
         a_va: torch.Tensor, t_va: torch.Tensor, oracle: Callable[[AlignmentModel], float] | None,
         resume: bool, stop_after: int | None, tensorboard: bool,
         progress: bool | None) -> TrainResult:
    torch.manual_seed(config.seed)
    model = AlignmentModel(a_tr.shape[1], t_tr.shape[1], config.head, config.dim, config.dropout)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = len(_batches(a_tr.shape[0], config.batch_size, torch.Generator().manual_seed(0)))
    total = steps_per_epoch * config.epochs

    start_epoch, best = 0, {"epoch": -1, "score": -math.inf, "state": None}
    history: list[dict[str, Any]] = []
    last_path, metrics_path = out / "last.safetensors", out / "metrics.jsonl"
    if resume and last_path.exists():
        tensors, meta = _load_safetensors(last_path)
        if meta.get("run") != json.loads(json.dumps(run_cfg, default=str)):
            raise ValueError(f"{out} holds a run with a different configuration or data; "
                             "use another --out folder (or resume=False to start over)")
        model.load_state_dict({k: v for k, v in tensors.items()
                               if not k.startswith(("optim.", "best."))})
        _restore_optim(opt, tensors)
        start_epoch = int(meta["epoch"]) + 1
        best = {"epoch": int(meta["best_epoch"]), "score": float(meta["best_score"]),
                "state": {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}}
        history = [json.loads(x) for x in metrics_path.read_text().splitlines()
                   if x.strip()][:start_epoch] if metrics_path.exists() else []
    write_json(out / "config.json", run_cfg)
    atomic_write_bytes(metrics_path, "".join(json.dumps(h) + "\n" for h in history).encode())

    writer = _tensorboard(out) if tensorboard else None
    end_epoch = config.epochs if stop_after is None else min(config.epochs, start_epoch + int(stop_after))
    bar = progress_bar(total=(end_epoch - start_epoch) * steps_per_epoch, desc="train heads",
                       progress=progress, unit="step")
    try:
        for epoch in range(start_epoch, end_epoch):
            t0 = time.perf_counter()
            torch.manual_seed(config.seed * 100003 + epoch)  # dropout stream of this epoch
            gen = torch.Generator().manual_seed(config.seed * 1000003 + epoch)
            model.train()
            losses = []
            for b, idx in enumerate(_batches(a_tr.shape[0], config.batch_size, gen)):
                step = epoch * steps_per_epoch + b
                for g in opt.param_groups:
                    g["lr"] = lr_at(step, total, config.lr, config.warmup)
                loss = _batch_loss(model, a_tr[idx], t_tr[idx], config)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if config.grad_clip > 0:
                    nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                opt.step()
                losses.append(loss.item())
                bar.update(1)
            rec = {"epoch": epoch, "step": (epoch + 1) * steps_per_epoch,
                   "lr": opt.param_groups[0]["lr"], "train_loss": float(np.mean(losses)),
                   "logit_scale": model.logit_scale().item()}
            if a_va.shape[0] >= 2:
                rec.update(_validate(model, a_va, t_va, config.batch_size))
            if oracle is not None:
                rec["oracle_score"] = float(oracle(model))
            score = {"val": -rec.get("val_loss", math.nan), "last": float(epoch),
                     "oracle": rec.get("oracle_score", math.nan)}[config.selection]
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
            ckpt.update(_optim_tensors(opt))
            ckpt.update({f"best.{k}": v for k, v in best["state"].items()})
            _save_safetensors(last_path, ckpt, {"run": run_cfg, "epoch": epoch,
                                                 "best_epoch": best["epoch"], "best_score": best["score"]})
    finally:
        bar.close()
        if writer is not None:
            writer.close()

    done = end_epoch >= config.epochs
    if done and best["state"] is not None:
        final = AlignmentModel(a_tr.shape[1], t_tr.shape[1], config.head, config.dim, config.dropout)
        final.load_state_dict(best["state"])
        save_model(out / "model.safetensors", final, config,
                   {"best_epoch": best["epoch"], "selection": run_cfg["selection_label"],
                    "text_encoder": run_cfg["text_encoder"]})
    result = TrainResult(str(out), run_cfg["selection_label"], int(best["epoch"]), float(best["score"]),
                         len(history), start_epoch, int(a_tr.shape[0]), int(a_va.shape[0]), history)
    if done:
        write_json(out / "summary.json", result.to_dict())
    return result


def _batch_loss(model: AlignmentModel, a: torch.Tensor, t: torch.Tensor, config: TrainConfig) -> torch.Tensor:
    logits = model(a, t)
    if config.loss == "soft":
        return soft_contrastive_loss(logits, a, t, beta=config.beta)
    return contrastive_loss(logits)


@torch.no_grad()
def _validate(model: AlignmentModel, a: torch.Tensor, t: torch.Tensor, batch_size: int) -> dict[str, float]:
    """Held-out InfoNCE (fixed, unshuffled batches) and audio-to-text R@1 over the whole split."""
    model.eval()
    losses, weights = [], []
    for idx in _batches(a.shape[0], batch_size, None):
        if len(idx) >= 2:
            losses.append(float(contrastive_loss(model(a[idx], t[idx]))))
            weights.append(len(idx))
    pa = nn.functional.normalize(model.audio_head(a), dim=1)
    pt = nn.functional.normalize(model.text_head(t), dim=1)
    sim = pa @ pt.t()
    r1 = float((sim.argmax(dim=1) == torch.arange(a.shape[0])).float().mean())
    model.train()
    return {"val_loss": float(np.average(losses, weights=weights)), "val_r1_a2t": r1}


def _tensorboard(out: Path) -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as exc:
        raise ImportError("TensorBoard logging needs the 'tensorboard' package: "
                          "pip install tensorboard") from exc
    return SummaryWriter(log_dir=str(out / "tensorboard"))
