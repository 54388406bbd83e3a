r"""Route L1 of Tavares et al. (ICASSP 2025): a backbone supervised on the evaluation names.

musicnn (``MTT_musicnn``) was trained to predict MagnaTagATune's 50 tags; some of them name
instruments (guitar, piano, violin, flute, sitar, harpsichord, cello, harp, strings, synth, drums,
voice...). Among the evaluation instruments of a split, the *tagged* ones are those whose name or a
synonym contains such a tag (:func:`tagged_classes`); the others are *untagged*. If supervision on
the names leaks into zero-shot accuracy, the supervised backbone should gain more on the tagged
instruments than a backbone without that supervision (Whisper tiny.en, trained on speech; the
weight-free log-mel features).

For each backbone and seed (each seed with its own split and training seed, as in the controls):

* zero-shot recall of the ``full`` heads on the tagged and untagged clips, and their gap
  :math:`\Delta = \bar o_{\text{tagged}} - \bar o_{\text{untagged}}`;
* backbone separability per clip (leave-one-out 1-NN and 4-fold linear-probe out-of-fold
  correctness) on the tagged and untagged clips, and its gap;
* between backbones, the paired difference per clip (musicnn − other) on each group, and the
  difference of the gaps (the interaction: does musicnn gain *more* where its tags name the class?).

Group means carry the two-stage bootstrap interval of :func:`pairspace.stats.paired.mean_interval`;
gaps carry :func:`group_gap`'s (seeds, then items within each group) with a p-value that permutes
the group labels within each seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..._progress import log_info

INSTRUMENT_TAGS = ("guitar", "strings", "drums", "piano", "violin", "synth", "harpsichord", "flute",
                   "sitar", "harp", "cello", "choir", "voice", "vocal", "vocals", "choral")
"""The MagnaTagATune-50 tags that name an instrument or a voice (genre, mood and tempo tags excluded)."""



def tagged_classes(classes: Sequence[str], tags: Sequence[str],
                   synonyms: Mapping[str, Sequence[str]] | None = None) -> dict[str, list[str]]:
    """Classes whose name or a synonym contains a tag as whole words (normalized, singular): ``class ->
    tags``. ``steel string guitar`` -> ``guitar, strings``; ``guitarist`` would not match ``guitar``."""
    from .text import contains_phrase, words

    tw = [(t, words(t)) for t in tags]
    out: dict[str, list[str]] = {}
    for c in classes:
        names = [words(n) for n in (c, *(synonyms or {}).get(c, ()))]
        hit = [t for t, w in tw if w and any(contains_phrase(n, w) for n in names)]
        if hit:
            out[str(c)] = hit
    return out


def group_gap(values: Sequence[Any], masks: Sequence[Any], *, level: float = 0.95,
              n_resamples: int = 2000, n_permutations: int = 2000, seed: int = 0) -> dict[str, Any]:
    r"""Mean over seeds of :math:`\bar v_{\text{in}} - \bar v_{\text{out}}` (items in the mask against
    the others), with a two-stage bootstrap interval and a group-permutation p-value.

    Seeds where either group is empty are left out. The bootstrap draws seeds with replacement, then
    items with replacement within each group of each drawn seed; the p-value permutes the mask
    within each seed (:math:`H_0`: the outcome does not depend on the group).
    """
    pairs = [(np.asarray(v, np.float64), np.asarray(m, bool)) for v, m in zip(values, masks, strict=True)]
    pairs = [(v, m) for v, m in pairs if m.any() and (~m).any()]
    if not pairs:
        return {"estimate": None, "ci_low": None, "ci_high": None, "p_value": None, "n_seeds": 0}

    def stat(ps: list[tuple[np.ndarray, np.ndarray]]) -> float:
        return float(np.mean([v[m].mean() - v[~m].mean() for v, m in ps]))

    est = stat(pairs)
    rng = np.random.default_rng(seed)
    S = len(pairs)
    reps = np.empty(n_resamples)
    for r in range(n_resamples):
        tot = 0.0
        for s in rng.integers(0, S, size=S):
            v, m = pairs[s]
            a, b = v[m], v[~m]
            tot += a[rng.integers(0, a.size, a.size)].mean() - b[rng.integers(0, b.size, b.size)].mean()
        reps[r] = tot / S
    lo, hi = np.quantile(reps, [(1 - level) / 2, (1 + level) / 2])
    hits = sum(abs(stat([(v, rng.permutation(m)) for v, m in pairs])) >= abs(est) - 1e-12
               for _ in range(n_permutations))
    return {"estimate": est, "ci_low": float(min(lo, est)), "ci_high": float(max(hi, est)),
            "p_value": (1 + hits) / (1 + n_permutations), "level": level, "n_seeds": S,
            "n_in": int(sum(m.sum() for _, m in pairs)), "n_out": int(sum((~m).sum() for _, m in pairs)),
            "test": "group labels permuted within seed"}


def _tables(b: dict[str, Any], name: str) -> tuple[Any, dict[str, Any]]:
    """The audio table of backbone ``name`` and ``{"reused", "seconds"}`` of its embedding."""
    from ...encoders import get
    from ..audio_demo import embed_tables

    known = b.get("embedding", {})
    if name == "logmel":
        return b["logmel"], known.get("logmel", {})
    if name == b["audio_encoder"]:
        return b["audio"], known.get(name, {})
    table, _, info = embed_tables(b["ds"], get(name), b["text_encoder"], progress=False)
    return table, {"reused": bool(info.get("audio_reused")), "seconds": info.get("audio_seconds")}


def l1_comparison(b: dict[str, Any], backbones: Sequence[str], seeds: Sequence[int], config: Any,
                  out: str | Path, log: Callable[[str], None] = log_info, main_runs: str | Path | None = None,
                  folds: int = 4) -> dict[str, Any]:
    """Route L1 on the instrument benchmark (see the module docstring).

    Parameters
    ----------
    b : dict
        :func:`pairspace.studies.audit.instruments.benchmark`'s pieces.
    backbones : sequence of str
        Audio encoder names (the first is the supervised one the others are compared with).
    seeds : sequence of int
        Seeds (split and training), as in the controls.
    config : TrainConfig
        The heads' configuration.
    out : path
        Run folder (one sub-folder per backbone; finished runs are reused).
    main_runs : path, optional
        The main audit's run folder: the ``full`` runs of ``b``'s own backbone are reused from it.
    """
    from ...stats.paired import mean_interval, paired_difference
    from .controls import ControlSettings, run_controls
    from .instruments import split_inputs
    from .overlap import shipped_labels
    from .separability import knn_hits, probe_hits
    from .study import seed_data

    tags = [t for t in shipped_labels("magnatagatune_50") if t in INSTRUMENT_TAGS]
    res: dict[str, Any] = {"tags": tags, "backbones": list(backbones), "per_seed": [], "per_backbone": {}}
    hits: dict[str, dict[str, list[np.ndarray]]] = {}
    masks: list[np.ndarray] = []
    for name in backbones:
        t0 = time.perf_counter()
        table, embedding = _tables(b, name)
        bb = {**b, "audio": table}
        splits = [split_inputs(bb, s, config.val_fraction, s) for s in seeds]
        folder = Path(main_runs) if main_runs is not None and name == b["audio_encoder"] else Path(out) / name
        st = ControlSettings(config, tuple(seeds), ("full",), folder)
        ctl = run_controls([seed_data(inp, s) for inp, s in zip(splits, seeds, strict=True)], st, log)
        full = ctl["controls"]["full"]["per_seed"]
        h: dict[str, list[np.ndarray]] = {"zeroshot": [], "knn": [], "probe": []}
        for inp, row in zip(splits, full, strict=True):
            X = np.asarray(table.select(inp.eval_ids).vectors)
            h["zeroshot"].append(np.asarray(row["correct"], np.float64))
            h["knn"].append(knn_hits(X, inp.eval_labels, 1)[0])
            h["probe"].append(probe_hits(X, inp.eval_labels, folds, 0)[0])
        hits[name] = h
        if not masks:
            for inp, s in zip(splits, seeds, strict=True):
                tc = tagged_classes(inp.classes, tags, inp.synonyms)
                masks.append(np.array([c in tc for c in inp.eval_labels]))
                res["per_seed"].append({"seed": s, "tagged_classes": tc,
                                        "untagged_classes": [c for c in inp.classes if c not in tc]})
        log(f"L1 {name}: zero-shot top-1 {np.mean([v.mean() for v in h['zeroshot']]):.3f}")
        pb: dict[str, Any] = {"dim": table.dim, "embedding": embedding,
                              "seconds": round(time.perf_counter() - t0, 2)}
        for measure, vals in h.items():
            pb[measure] = {
                "tagged": mean_interval([v[m] for v, m in zip(vals, masks, strict=True) if m.any()]),
                "untagged": mean_interval([v[~m] for v, m in zip(vals, masks, strict=True) if (~m).any()]),
                "gap": group_gap(vals, masks)}
        res["per_backbone"][name] = pb
    ref = backbones[0]
    res["contrasts"] = {}
    for other in backbones[1:]:
        c: dict[str, Any] = {}
        for measure in ("zeroshot", "knn", "probe"):
            a, o = hits[ref][measure], hits[other][measure]
            tag = [(x[m], y[m]) for x, y, m in zip(a, o, masks, strict=True) if m.any()]
            unt = [(x[~m], y[~m]) for x, y, m in zip(a, o, masks, strict=True) if (~m).any()]
            c[measure] = {
                "tagged": paired_difference([x for x, _ in tag], [y for _, y in tag]).to_dict(),
                "untagged": paired_difference([x for x, _ in unt], [y for _, y in unt]).to_dict(),
                "gap_difference": group_gap([x - y for x, y in zip(a, o, strict=True)], masks)}
        res["contrasts"][f"{ref} - {other}"] = c
    return res
