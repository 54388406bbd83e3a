"""The leaky-backbone experiment: a backbone pre-trained with class supervision that included the
evaluation classes, against the same backbone pre-trained on the training classes only.

Both backbones are the same small MLP on the weight-free log-mel features, trained to classify the
instruments of a *separate* rendering of the benchmark (another seed: other notes, dynamics and
lengths; never the evaluation clips). ``all classes`` sees every instrument, ``seen only`` only the
instruments the heads are trained on. Its 128-d penultimate layer is the audio backbone of an
otherwise unchanged audit; the audit should attribute the higher unseen zero-shot accuracy of the
``all classes`` backbone to the separability it brought (linear probe, 1-NN) rather than to
alignment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..._progress import log_info
from ...data.table import EmbeddingTable


def supervised_backbone(X: np.ndarray, labels: Sequence[str], dim: int = 128, epochs: int = 60,
                        seed: int = 0) -> Callable[[np.ndarray], np.ndarray]:
    """Train an MLP classifier (standardized input -> 512 -> ``dim`` -> classes, cross-entropy,
    AdamW) and return the map to its ``dim``-d penultimate layer."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    names = sorted(set(labels))
    y = torch.tensor([names.index(v) for v in labels])
    mu, sd = X.mean(axis=0), X.std(axis=0) + 1e-6
    Xt = torch.tensor((X - mu) / sd, dtype=torch.float32)
    body = nn.Sequential(nn.Linear(X.shape[1], 512), nn.GELU(), nn.Dropout(0.2), nn.Linear(512, dim),
                         nn.GELU())
    head = nn.Linear(dim, len(names))
    opt = torch.optim.AdamW([*body.parameters(), *head.parameters()], lr=1e-3, weight_decay=1e-2)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(y), generator=gen).split(64):
            loss = nn.functional.cross_entropy(head(body(Xt[idx])), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    body.eval()

    def embed(A: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return body(torch.tensor((np.asarray(A) - mu) / sd, dtype=torch.float32)).numpy()

    return embed


def leaky_backbone(b: dict[str, Any], st: Any, out: Path, log: Callable[[str], None] = log_info
                   ) -> dict[str, Any]:
    """Audit the benchmark with the two supervised backbones (see the module docstring)."""
    from ...data.datasets.instruments import render_instruments
    from ...encoders import get
    from ..audio_demo import embed_tables
    from .controls import ControlSettings
    from .instruments import inputs
    from .study import run

    extra = render_instruments(seed=1, progress=False)  # a separate rendering (other clips)
    feats = embed_tables(extra, get("logmel"), b["text_encoder"], progress=False)[0]
    lab = {c["audio_id"]: c["instrument"] for c in extra.clips}
    seen = set(b["seen"])
    X = np.asarray(feats.vectors, dtype=np.float64)
    y = [lab[i] for i in feats.ids]
    res: dict[str, Any] = {"n_extra_clips": len(y)}
    for name, keep in (("all classes", [True] * len(y)), ("seen only", [v in seen for v in y])):
        rows = np.flatnonzero(keep)
        embed = supervised_backbone(X[rows], [y[i] for i in rows])
        base = b["logmel"]
        table = EmbeddingTable(base.ids, embed(base.vectors), base.labels,
                               {"backbone": f"supervised MLP, {name}"})
        inp = inputs({**b, "audio": table}, st.config.val_fraction, st.config.seed)
        slug = name.replace(" ", "-")
        cst = ControlSettings(st.config, st.seeds, ("full", "shuffled"), out / f"runs-backbone-{slug}")
        doc = run(inp, controls=cst, tsne=False, log=log).doc
        sep = doc["separability"]["audio backbone"]
        res[name] = {"n_pretrain_clips": int(rows.size), "n_pretrain_classes": len({y[i] for i in rows}),
                     "probe_accuracy": sep["probe_accuracy"], "knn_accuracy": sep["knn_accuracy"],
                     "silhouette": sep["silhouette"], "zeroshot": doc["controls"]["controls"]["full"],
                     "shuffled": doc["controls"]["controls"]["shuffled"]}
        log(f"leaky backbone, {name}: probe {sep['probe_accuracy']:.3f}, 1-NN {sep['knn_accuracy']:.3f}, "
            f"zero-shot {doc['controls']['controls']['full']['mean']:.3f}")
    return res
