r"""Attribution: where the zero-shot accuracy comes from, in numbers and in one paragraph.

* **Separability against accuracy**: per evaluation class, the backbone's separability (linear-probe
  recall, else leave-one-out kNN recall) against the zero-shot recall of the ``full`` control, with
  Spearman's :math:`\rho` and its p-value.
* **Flagged against unflagged classes**: mean zero-shot recall of the classes some training caption
  names (lexical kinds) minus that of the others, with a percentile bootstrap interval that
  resamples classes within each group.
* **Clean against full**: the paired (same seed) difference of zero-shot top-1, mean and spread.
* **Verdict**: a short plain-language reading that quotes the numbers behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def flagged_gap(per_class: dict[str, float], flagged: Sequence[str], n_resamples: int = 2000,
                level: float = 0.95, seed: int = 0) -> dict[str, Any]:
    r"""Mean recall of flagged minus unflagged classes with a bootstrap interval over classes.

    .. math:: \Delta = \bar r_{\text{flagged}} - \bar r_{\text{unflagged}}

    Each replicate resamples, with replacement, the flagged classes and the unflagged classes
    separately; the interval is the ``(1 - level) / 2`` and ``(1 + level) / 2`` percentiles.
    """
    fl = set(flagged)
    a = np.array([v for c, v in per_class.items() if c in fl], dtype=np.float64)
    b = np.array([v for c, v in per_class.items() if c not in fl], dtype=np.float64)
    out: dict[str, Any] = {"n_flagged": int(a.size), "n_unflagged": int(b.size),
                           "flagged_mean": float(a.mean()) if a.size else None,
                           "unflagged_mean": float(b.mean()) if b.size else None,
                           "difference": None, "ci_low": None, "ci_high": None, "level": level}
    if a.size == 0 or b.size == 0:
        return out
    rng = np.random.default_rng(seed)
    reps = (a[rng.integers(0, a.size, (n_resamples, a.size))].mean(axis=1)
            - b[rng.integers(0, b.size, (n_resamples, b.size))].mean(axis=1))
    lo, hi = np.quantile(reps, [(1 - level) / 2, (1 + level) / 2])
    out.update(difference=float(a.mean() - b.mean()), ci_low=float(lo), ci_high=float(hi))
    return out


def separability_vs_accuracy(separability: dict[str, float | None], accuracy: dict[str, float]
                             ) -> dict[str, Any]:
    """Spearman's rho (and p) between per-class separability and zero-shot recall."""
    from scipy.stats import spearmanr

    cls = [c for c in accuracy if separability.get(c) is not None]
    x = np.array([separability[c] for c in cls], dtype=np.float64)
    y = np.array([accuracy[c] for c in cls], dtype=np.float64)
    rho = p = None
    if len(cls) >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0:
        r = spearmanr(x, y)
        rho, p = float(r.statistic), float(r.pvalue)
    return {"n_classes": len(cls), "spearman": rho, "p_value": p,
            "points": [{"class": c, "separability": float(a), "zeroshot": float(b)}
                       for c, a, b in zip(cls, x, y, strict=True)]}


def clean_gap(controls: dict[str, Any]) -> dict[str, Any] | None:
    """Paired full-minus-clean top-1 per seed: ``{"per_seed", "mean", "std", "min", "max"}``."""
    from .controls import spread

    if "full" not in controls or "clean" not in controls:
        return None
    d = [f - c for f, c in zip(controls["full"]["top1"], controls["clean"]["top1"], strict=True)]
    return {"per_seed": d, **spread(d)}


def _f(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def _pm(s: dict[str, Any]) -> str:
    return f"{s['mean']:.3f}" + (f" ± {s['std']:.3f}" if s.get("std") is not None else "")


def verdict(doc: dict[str, Any]) -> list[str]:
    """Plain-language findings from an audit document (each sentence quotes its numbers)."""
    out: list[str] = []
    leaks = doc["caption_leaks"]
    n_cls = len(doc["classes"])
    named = leaks["classes_with_lexical_leaks"]
    out.append(f"{len(named)} of {n_cls} evaluation classes are named, fully or by a shared content word, "
               f"in {leaks['n_flagged_lexical_texts']} of {leaks['n_texts']} training captions; "
               f"{sum(v['all_words_shared'] for v in leaks['per_class'].values())} of them have every "
               "word of their name in some caption.")
    sep = doc["separability"].get("audio backbone")
    ctl = doc.get("controls", {}).get("controls", {})
    if sep is not None:
        zs = ctl.get("full", {}).get("mean")
        out.append(f"The audio backbone already separates the evaluation classes: linear probe "
                   f"{_f(sep['probe_accuracy'])}, leave-one-out 1-NN {_f(sep['knn_accuracy'])}, "
                   f"silhouette {_f(sep['silhouette'])}"
                   + (f", against zero-shot top-1 {zs:.3f}" if zs else "")
                   + f" (chance {1 / n_cls:.3f}).")
    if ctl:
        parts = [f"{k} {_pm(v)}" for k, v in ctl.items()]
        out.append("Zero-shot top-1 of the controls (mean ± sd over seeds): " + "; ".join(parts) + ".")
        ci = doc["controls"]["chance_interval"]
        if "shuffled" in ctl:
            inside = ci[0] <= ctl["shuffled"]["mean"] <= ci[1]
            out.append(f"With the pairing broken the heads reach {_pm(ctl['shuffled'])}, "
                       f"{'inside' if inside else 'outside'} the chance interval [{ci[0]:.3f}, {ci[1]:.3f}].")
    att = doc.get("attribution", {})
    gap = att.get("clean_gap")
    if gap is not None:
        n_removed = ctl["full"]["n_pairs"] - ctl["clean"]["n_pairs"]
        out.append(f"Removing the {n_removed} captions that name (or share a word with) evaluation classes "
                   f"changes top-1 by {-gap['mean']:+.3f} (full minus clean {_pm(gap)} over seeds)"
                   + (f"; a random subset of the same size ({ctl['matched']['n_pairs']} pairs) "
                      f"reaches {_pm(ctl['matched'])}." if "matched" in ctl else "."))
        if "matched" in ctl and ctl["matched"]["std"] is not None and ctl["clean"]["std"] is not None:
            m, c = ctl["matched"], ctl["clean"]
            if m["mean"] - c["mean"] > 2 * max(m["std"], c["std"]):
                out.append("The loss comes from the captions that name the classes, not from having fewer "
                           f"pairs: {m['mean']:.3f} with as many random pairs against {c['mean']:.3f} "
                           "without the naming captions.")
    fg = att.get("flagged_vs_unflagged")
    if fg and fg["difference"] is not None:
        out.append(f"Classes named (or sharing a word) in training captions reach {fg['flagged_mean']:.3f} "
                   "zero-shot recall "
                   f"against {fg['unflagged_mean']:.3f} for the others (difference {fg['difference']:+.3f}, "
                   f"95% bootstrap interval [{fg['ci_low']:+.3f}, {fg['ci_high']:+.3f}]).")
    sv = att.get("separability_vs_accuracy")
    if sv and sv["spearman"] is not None:
        out.append(f"Per class, backbone separability and zero-shot recall correlate with Spearman "
                   f"rho = {sv['spearman']:.2f} (p = {sv['p_value']:.2g}, {sv['n_classes']} classes).")
    return out
