"""Results of the improve experiment: the per-seed outcomes, the table and the paired comparisons.

:func:`summarize` turns each model's per-clip top-1 correctness under every seed into a table
(mean over seeds with a two-stage bootstrap interval) and the paired comparisons of
:func:`pairspace.stats.paired.paired_difference`; :func:`envelope` writes the ``pairspace.improve``
result envelope of one or more runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .improve_data import ImproveData

__all__ = ["SCHEMA", "ImproveReport", "ImproveResult", "envelope", "summarize"]

SCHEMA = "pairspace.improve/2"


@dataclass
class ImproveResult:
    """Per-seed outcomes, the summary with intervals, the paired comparisons, the curation statistics."""

    rows: list[dict[str, Any]]
    table: list[dict[str, Any]]
    comparisons: list[dict[str, Any]]
    curation: list[dict[str, Any]]
    settings: dict[str, Any]
    outcomes: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    runs: dict[str, Any] = field(default_factory=dict)
    data: dict[str, ImproveData] = field(default_factory=dict)

    def run_dict(self) -> dict[str, Any]:
        """This run's part of the envelope's ``results["runs"]``."""
        return {"setting": self.settings.get("setting"),
                "audio_encoder": self.settings.get("encoders", {}).get("audio"),
                "settings": self.settings, "inputs": self.inputs, "table": self.table,
                "comparisons": self.comparisons, "rows": self.rows, "curation": self.curation,
                "outcomes": self.outcomes, "timings": self.timings}

    def to_dict(self) -> dict[str, Any]:
        """The ``pairspace.improve/2`` document of this one run (:class:`ImproveReport`)."""
        return ImproveReport.new([self]).to_dict()


def _run_name(r: ImproveResult) -> str:
    return f"{r.settings.get('setting')}/{r.settings.get('encoders', {}).get('audio')}"


@dataclass
class ImproveReport:
    """One or more runs (settings x audio encoders) in one ``pairspace.improve/2`` result envelope.

    ``results["runs"]`` holds one entry per run (:meth:`ImproveResult.run_dict`); ``inputs`` maps
    ``"SETTING/AUDIO_ENCODER"`` to each run's inputs. The curated manifests and the splits are
    written beside the document by :func:`pairspace.report.improve.write_improve_report`.
    """

    results: list[ImproveResult]
    stamp: Any

    @classmethod
    def new(cls, results: Sequence[ImproveResult]) -> ImproveReport:
        """The runs, stamped now with the current command line (:mod:`pairspace.envelope`)."""
        from ..envelope import Envelope

        if not results:
            raise ValueError("an improve document needs at least one run")
        return cls(list(results), Envelope.new(SCHEMA, {_run_name(r): r.inputs for r in results}))

    def to_dict(self) -> dict[str, Any]:
        """The result envelope (schema ``pairspace.improve/2``)."""
        settings = {"runs": [[r.settings.get("setting"), r.settings.get("encoders", {}).get("audio")]
                             for r in self.results], "seeds": self.results[0].settings["seeds"]}
        return self.stamp.document(settings, {"runs": [r.run_dict() for r in self.results]})


def envelope(results: Sequence[ImproveResult]) -> dict[str, Any]:
    """The ``pairspace.improve/2`` document of one or more runs (:class:`ImproveReport`)."""
    return ImproveReport.new(results).to_dict()


def _key(model: str, loss: str) -> str:
    return "teacher" if model == "teacher" else f"{model}-{loss}"


def summarize(outcomes: Mapping[str, Mapping[str, Mapping[str, Sequence[int]]]],
              models: Sequence[tuple[str, str]], metrics: Sequence[str] = ("top1_p3", "top1_ens"),
              n_resamples: int = 2000, n_permutations: int = 10_000
              ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The table (mean over seeds with a two-stage bootstrap interval) and the paired comparisons.

    Parameters
    ----------
    outcomes : mapping
        ``outcomes[seed][model_key][metric]`` = per-test-clip 0/1 correctness (the seed's clips).
    models : sequence of (model, loss)
        The rows, ``("teacher", "infonce")`` first.
    metrics : the metrics to summarize and compare.

    Returns
    -------
    table, comparisons
        ``comparisons`` holds, for each metric: every student against the teacher, soft against
        InfoNCE for each method, each curated student against the replay student with its loss
        (each :func:`pairspace.stats.paired.paired_difference`, paired per clip and seed).
    """
    from ..stats.paired import mean_interval, paired_difference

    seeds = list(outcomes)
    if not seeds:
        raise ValueError("no seed's outcomes to summarize")

    def per_seed(key: str, m: str) -> list[np.ndarray]:
        return [np.asarray(outcomes[s][key][m], dtype=np.float64) for s in seeds]

    table = []
    for model, loss in models:
        k = _key(model, loss)
        row: dict[str, Any] = {"model": model, "loss": loss, "key": k, "n_seeds": len(seeds),
                               "uses_target_labels": model in ("ds", "ads", "a2a"),
                               "transductive": model == "a2a"}
        for m in metrics:
            row[m] = mean_interval(per_seed(k, m), n_resamples=n_resamples)
        table.append(row)
    keys = {_key(m, lo) for m, lo in models}
    pairs: list[tuple[str, str, str]] = []
    for model, loss in models:
        if model != "teacher":
            pairs.append((_key(model, loss), "teacher", "student vs teacher"))
    for model in dict.fromkeys(m for m, _ in models if m != "teacher"):
        if f"{model}-soft" in keys and f"{model}-infonce" in keys:
            pairs.append((f"{model}-soft", f"{model}-infonce", "soft vs InfoNCE"))
    for model, loss in models:
        if model not in ("teacher", "replay") and f"replay-{loss}" in keys:
            pairs.append((_key(model, loss), f"replay-{loss}", "method vs replay control"))
    comps = []
    for m in metrics:
        for a, b, kind in pairs:
            d = paired_difference(per_seed(a, m), per_seed(b, m), n_resamples=n_resamples,
                                  n_permutations=n_permutations)
            comps.append({"a": a, "b": b, "kind": kind, "metric": m, **d.to_dict()})
    return table, comps
