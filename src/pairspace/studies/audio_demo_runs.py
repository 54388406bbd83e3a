"""The training runs of the offline audio demo (:mod:`pairspace.studies.audio_demo`).

The demo trains three pairs of heads on the seen instruments with one shared configuration
(:data:`DEMO_CONFIG`) and the settings of :data:`RUNS`: symmetric InfoNCE; the soft-labeled loss of
Wang et al. (WASPAA 2023, arXiv 2305.01864) as in the paper, with the frozen InfoNCE run as teacher
(targets from its projected, L2-normalized embeddings) and the student initialized from its weights;
and, labeled as not the paper's, the soft loss with targets from the raw backbone embeddings.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..align.trainer import AlignmentModel, TrainConfig, load_model, train
from ..data.datasets.instruments import InstrumentSet
from ..data.table import EmbeddingTable

_log = logging.getLogger(__name__)

#: The models compared, in the order of the table: label -> training run (None: untrained heads).
MODELS = {"untrained heads": None, "trained, infonce": "infonce", "trained, soft": "soft",
          "soft (backbone targets, not the paper's)": "soft-backbone"}
BEST = "trained, infonce"
#: Each training run's settings over the shared configuration; ``teacher`` names an earlier run, whose
#: folder becomes ``TrainConfig.teacher``. ``soft`` is the paper's protocol (arXiv 2305.01864): the
#: frozen InfoNCE run as teacher, the student initialized from it; ``soft-backbone`` is the named
#: variant whose targets come from the raw backbone embeddings of the batch.
RUNS: dict[str, dict[str, Any]] = {
    "infonce": {"loss": "infonce"},
    "soft": {"loss": "soft", "soft_targets": "teacher", "teacher": "infonce",
             "init_from_teacher": True},
    "soft-backbone": {"loss": "soft", "soft_targets": "backbone"},
}

DEMO_CONFIG = TrainConfig(
    head="clap",
    dim=256,
    dropout=0.1,
    epochs=40,
    batch_size=128,
    lr=1e-3,
    weight_decay=0.01,
    warmup=0.05,
    grad_clip=1.0,
    seed=0,
    val_fraction=0.1,
    selection="val",  # held-out seen clips: the published demo numbers
)


def _train_kwargs(run: str, progress: bool | None, threads: int | None) -> dict[str, Any]:
    """Options of :func:`pairspace.align.trainer.train` for one demo run (its own progress label)."""
    return {"resume": False, "progress": progress, "threads": threads, "desc": f"train heads ({run})"}


def run_config(config: TrainConfig, run: str, run_dirs: dict[str, str]) -> TrainConfig:
    """The configuration of the demo run ``run`` (:data:`RUNS`): ``config`` with the run's settings,
    its ``teacher`` the folder of the named earlier run (which must have been trained first)."""
    settings = dict(RUNS[run])
    if "teacher" in settings:
        settings["teacher"] = run_dirs[settings["teacher"]]
    return TrainConfig.from_dict({**config.to_dict(), **settings})


def train_models(audio: EmbeddingTable, text: EmbeddingTable, ds: InstrumentSet, out: Path,
                 config: TrainConfig = DEMO_CONFIG, progress: bool | None = True, threads: int | None = 1,
                 ) -> tuple[dict[str, AlignmentModel], dict[str, str], dict[str, dict[str, Any]]]:
    """The untrained floor and one trained model per run of :data:`MODELS` (in ``out/run-RUN``).

    Returns the models by label, the run folders and the run configurations by run name.
    """
    import torch

    torch.manual_seed(config.seed)
    models = {label: AlignmentModel(audio.dim, text.dim, config.head, config.dim).eval()
              for label, run in MODELS.items() if run is None}
    runs = [(label, run) for label, run in MODELS.items() if run is not None]
    run_dirs: dict[str, str] = {}
    configs: dict[str, dict[str, Any]] = {}
    for i, (label, run) in enumerate(runs, 1):
        cfg = run_config(config, run, run_dirs)
        run_dir = out / f"run-{run}"
        teacher = f", teacher {cfg.teacher}" if cfg.teacher else ""
        _log.info(f"training {i}/{len(runs)}: {run} heads ({cfg.loss} loss{teacher}), "
            f"{cfg.epochs} epochs -> {run_dir}")
        train(audio, text, ds.pairs("seen"), run_dir, cfg, **_train_kwargs(run, progress, threads))
        models[label] = load_model(run_dir)[0]
        run_dirs[run] = str(run_dir)
        configs[run] = cfg.to_dict()
    return models, run_dirs, configs
