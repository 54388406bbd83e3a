"""Safetensors checkpoints of :class:`~pairspace.align.model.AlignmentModel` and its optimizer.

A checkpoint holds tensors only (no pickle, so a file cannot execute code) plus one JSON metadata
entry, ``"pairspace"``. :func:`save_model` writes the heads with the :class:`TrainConfig`, the
backbone dimensions and the modality names; :func:`load_model` rebuilds the model (also from files
written before the modalities had generic names). Files are written atomically.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from .._atomic import atomic_write_bytes
from .config import TrainConfig
from .model import DEFAULT_NAMES, AlignmentModel, upgrade_state


def save_tensors(path: str | os.PathLike[str], tensors: dict[str, torch.Tensor],
                 meta: dict[str, Any]) -> None:
    """Write ``tensors`` and JSON ``meta`` to a safetensors file, atomically."""
    from safetensors.torch import save

    blob = save({k: v.detach().contiguous().cpu() for k, v in tensors.items()},
                metadata={"pairspace": json.dumps(meta, default=str)})
    atomic_write_bytes(Path(path), blob)


def load_tensors(path: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a file written by :func:`save_tensors`: the tensors and the metadata."""
    from safetensors import safe_open

    path = Path(path)
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
    meta = {"config": config.to_dict(), "d_a": model.d_a, "d_b": model.d_b,
            "names": list(model.names), **(extra or {})}
    save_tensors(Path(path), dict(model.state_dict()), meta)
    return Path(path)


def model_file(path: str | os.PathLike[str]) -> Path:
    """``path`` itself, or ``path/model.safetensors`` for a run folder."""
    path = Path(path)
    return path / "model.safetensors" if path.is_dir() else path


def load_model(path: str | os.PathLike[str]) -> tuple[AlignmentModel, TrainConfig, dict[str, Any]]:
    """Rebuild an :class:`AlignmentModel` from :func:`save_model` output (or a run folder).

    Returns
    -------
    model : AlignmentModel
        In eval mode.
    config : TrainConfig
        The configuration it was trained with.
    meta : dict
        The checkpoint metadata (``best_epoch``, ``selection``, ``text_encoder``, ...).
    """
    path = model_file(path)
    if path.parent.joinpath("FAILED").exists() and path.name == "model.safetensors":
        raise ValueError(f"{path.parent} holds a failed run (see {path.parent / 'FAILED'})")
    tensors, meta = load_tensors(path)
    if not isinstance(meta, dict) or "config" not in meta:
        raise ValueError(f"{path} is not a pairspace alignment checkpoint (no config metadata)")
    if not isinstance(meta["config"], dict):
        raise ValueError(f"{path}: the recorded config is not a JSON object "
                         f"({type(meta['config']).__name__}); the checkpoint was edited or is damaged")
    try:
        config = TrainConfig.from_dict(meta["config"])
        d_a, d_b = meta.get("d_a", meta.get("d_audio")), meta.get("d_b", meta.get("d_text"))
        model = AlignmentModel(d_a, d_b, config.head, config.dim, config.dropout,
                               names=meta.get("names", DEFAULT_NAMES))
        state = upgrade_state({k: v for k, v in tensors.items()
                               if not k.startswith(("optim.", "best."))})
        model.load_state_dict(state)
    except (TypeError, ValueError, KeyError, RuntimeError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{path}: the weights do not match the recorded configuration ({first}); "
                         "the checkpoint or its metadata was edited or is damaged") from None
    model.eval()
    return model, config, meta


def optimizer_tensors(opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """The optimizer's per-parameter state as flat tensors named ``optim.<param>.<name>``."""
    out = {}
    for i, st in opt.state_dict()["state"].items():
        for k, v in st.items():
            out[f"optim.{i}.{k}"] = v if isinstance(v, torch.Tensor) else torch.tensor(v)
    return out


def restore_optimizer(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> None:
    """Load the state written by :func:`optimizer_tensors` into ``opt``."""
    sd = opt.state_dict()
    state: dict[int, dict[str, torch.Tensor]] = {}
    for k, v in tensors.items():
        if k.startswith("optim."):
            _, i, name = k.split(".", 2)
            state.setdefault(int(i), {})[name] = v
    sd["state"] = state
    opt.load_state_dict(sd)


def resume_state(out: Path, run_cfg: dict[str, Any], model: AlignmentModel,
                 opt: torch.optim.Optimizer) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
    """Load ``out/last.safetensors`` into ``model`` and ``opt``: the next epoch, the best state so
    far and the metrics history. A checkpoint of another configuration, or one edited by hand
    (shapes, types), is a ``ValueError`` naming the file."""
    last = out / "last.safetensors"
    tensors, meta = load_tensors(last)
    if not isinstance(meta, dict) or meta.get("run") != json.loads(json.dumps(run_cfg, default=str)):
        raise ValueError(f"{out} holds a run with a different configuration or data; "
                         "use another --out folder (or resume=False to start over)")
    metrics = out / "metrics.jsonl"
    try:
        model.load_state_dict({k: v for k, v in tensors.items()
                               if not k.startswith(("optim.", "best."))})
        restore_optimizer(opt, tensors)
        start = int(meta["epoch"]) + 1
        best = {"epoch": int(meta["best_epoch"]), "score": float(meta["best_score"]),
                "state": {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}}
        history = ([json.loads(x) for x in metrics.read_text().splitlines() if x.strip()][:start]
                   if metrics.exists() else [])
    except (TypeError, ValueError, KeyError, RuntimeError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"cannot resume from {last} (or {metrics.name}): {first}; it was edited or "
                         "is damaged: start over with --restart (resume=False)") from None
    return start, best, history
