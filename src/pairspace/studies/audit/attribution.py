r"""Attribution: where the zero-shot accuracy comes from, in numbers and in one paragraph.

* **Separability against accuracy**: per evaluation class, the backbone's separability (linear-probe
  recall, else leave-one-out kNN recall) against the zero-shot recall of the ``full`` control, with
  Spearman's :math:`\rho` and its p-value.
* **Flagged against unflagged classes**: mean zero-shot recall of the classes some training caption
  names (lexical kinds) minus that of the others, with a percentile bootstrap interval that
  resamples classes within each group.
* **Clean against full**: the paired (same seed) difference of zero-shot top-1, mean and spread.
* **Decomposition of the clean gap** (:func:`decompose`): with the per-clip outcomes
  :math:`o^{X}_{si}` of control :math:`X` on clip :math:`i` of seed :math:`s`,

  .. math::

     \underbrace{o^{full} - o^{clean}}_{\text{total}}
       = \underbrace{o^{full} - o^{word\_masked}}_{\text{words}}
       + \underbrace{o^{word\_masked} - o^{clean}}_{\text{classes}}

  (the words part: the names deleted, every clip and caption kept; the classes part: what losing the
  captions of the classes that share those words costs beyond their words). Each part is a paired
  difference over clips and seeds with a two-stage bootstrap interval and a sign-flip (stratified
  McNemar) p-value; the estimates add up exactly. ``class_matched`` gives the cost of losing as
  many random classes (``random_classes``) and how much more the relatives cost
  (``relatives = class_matched - clean``); ``matched`` the cost of fewer pairs.
* **Verdict**: a short plain-language reading that quotes every number with its interval.
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


DECOMPOSITION = (
    ("total", "full", "clean", "full - clean: the clean gap"),
    ("words", "full", "word_masked", "full - word_masked: the names' words deleted, every clip kept"),
    ("classes", "word_masked", "clean", "word_masked - clean: the classes clean loses, beyond their words"),
    ("random_classes", "full", "class_matched", "full - class_matched: as many random classes lost"),
    ("relatives", "class_matched", "clean", "class_matched - clean: relatives beyond random classes"),
    ("fewer_pairs", "full", "matched", "full - matched: as many random pairs lost"),
)
"""The parts of :func:`decompose`: ``(name, a, b, meaning)`` for the paired difference ``a - b``."""


def decompose(controls: dict[str, Any], n_resamples: int = 2000, n_permutations: int = 10_000
              ) -> dict[str, Any]:
    """The paired differences of :data:`DECOMPOSITION` whose two controls were run.

    Each is :meth:`pairspace.stats.paired.PairedDifference.to_dict` plus ``a``, ``b`` and
    ``meaning``; ``words + classes == total`` holds exactly for the estimates (and per seed).
    """
    from ...stats.paired import paired_difference
    from .controls import outcomes_of

    out: dict[str, Any] = {}
    for name, a, b, meaning in DECOMPOSITION:
        if a in controls and b in controls:
            d = paired_difference(outcomes_of(controls, a), outcomes_of(controls, b),
                                  n_resamples=n_resamples, n_permutations=n_permutations)
            out[name] = {"a": a, "b": b, "meaning": meaning, **d.to_dict()}
    return out


def fmt_p(p: float | None) -> str:
    """A p-value in scientific notation with 2 significant digits (``3.1e-04``)."""
    return "n/a" if p is None else f"{p:.1e}"


def fmt_ci(d: dict[str, Any], digits: int = 3, p: bool = True) -> str:
    """``+0.041 [95% CI +0.020, +0.063], p = 1.0e-04`` from a paired-difference dictionary."""
    lv = int(round(100 * d.get("level", 0.95)))
    s = (f"{d['estimate']:+.{digits}f} [{lv}% CI {d['ci_low']:+.{digits}f}, {d['ci_high']:+.{digits}f}]")
    return s + (f", p = {fmt_p(d.get('p_value'))}" if p and "p_value" in d else "")


def fmt_acc(a: dict[str, Any], digits: int = 3) -> str:
    """``0.122 [0.101, 0.140]`` from a mean-interval dictionary."""
    return f"{a['estimate']:.{digits}f} [{a['ci_low']:.{digits}f}, {a['ci_high']:.{digits}f}]"


def _f(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def _excludes_zero(d: dict[str, Any]) -> bool:
    return d["ci_low"] > 0 or d["ci_high"] < 0


def verdict(doc: dict[str, Any]) -> list[str]:
    """Plain-language findings from the audit results (each number with its interval)."""
    out: list[str] = []
    leaks = doc["caption_leaks"]
    n_cls = len(doc["classes"])
    named = leaks["classes_with_lexical_leaks"]
    ctl = doc.get("controls", {}).get("controls", {})
    splits = doc.get("controls", {}).get("splits", [])
    if splits:
        distinct = len({tuple(s["unseen_classes"]) for s in splits})
        out.append(f"{len(splits)} seeds, each with its own training seed and {distinct} distinct unseen "
                   f"split{'s' if distinct != 1 else ''} of {n_cls} classes; intervals are 95% two-stage "
                   "bootstrap intervals over seeds and clips, p-values paired sign-flip (stratified "
                   "McNemar) tests per clip.")
    out.append(f"First split: {len(named)} of {n_cls} evaluation classes are named, fully or by a shared "
               f"content word, in {leaks['n_flagged_lexical_texts']} of {leaks['n_texts']} training "
               f"captions; {sum(v['all_words_shared'] for v in leaks['per_class'].values())} of them have "
               "every word of their name in some caption.")
    sep = doc["separability"].get("audio backbone")
    if sep is not None:
        zs = ctl.get("full", {}).get("accuracy")
        out.append(f"The audio backbone already separates the first split's evaluation classes: linear probe "
                   f"{_f(sep['probe_accuracy'])}, leave-one-out 1-NN {_f(sep['knn_accuracy'])}, "
                   f"silhouette {_f(sep['silhouette'])}"
                   + (f", against zero-shot top-1 {fmt_acc(zs)} over seeds" if zs else "")
                   + f" (chance {1 / n_cls:.3f}).")
    if ctl:
        parts = [f"{k} {fmt_acc(v['accuracy'])}" for k, v in ctl.items() if "accuracy" in v]
        out.append("Zero-shot top-1 of the controls (mean over seeds, 95% CI): " + "; ".join(parts) + ".")
        ci = doc["controls"]["chance_interval"]
        if "shuffled" in ctl:
            m = ctl["shuffled"]["accuracy"]
            inside = ci[0] <= m["estimate"] <= ci[1]
            out.append(f"With the pairing broken the heads reach {fmt_acc(m)}, "
                       f"{'inside' if inside else 'outside'} the chance interval [{ci[0]:.3f}, {ci[1]:.3f}].")
    dec = doc.get("attribution", {}).get("decomposition", {})
    if "total" in dec:
        out.append(f"Removing the captions that name (or share a word with) evaluation classes costs top-1 "
                   f"{fmt_ci(dec['total'])} (full - clean, paired per clip and seed).")
    if "words" in dec and "classes" in dec:
        w, c = dec["words"], dec["classes"]
        reading = ("both parts exclude zero" if _excludes_zero(w) and _excludes_zero(c) else
                   "only the words part excludes zero" if _excludes_zero(w) else
                   "only the classes part excludes zero" if _excludes_zero(c) else
                   "neither part excludes zero")
        out.append(f"Of that gap, deleting the names' words with every clip kept (words part) costs "
                   f"{fmt_ci(w)}; losing the captions of the classes that share those words (classes part) "
                   f"costs {fmt_ci(c)}: {reading}.")
    if "random_classes" in dec:
        r = dec["random_classes"]
        txt = (f"Applying clean's removal pattern to random seen classes costs {fmt_ci(r)}")
        if "relatives" in dec:
            txt += (f"; losing the relatives instead of random classes costs {fmt_ci(dec['relatives'])} "
                    "more")
        out.append(txt + ".")
    if "fewer_pairs" in dec:
        out.append(f"As many random pairs removed (matched) costs {fmt_ci(dec['fewer_pairs'])}.")
    lk = doc.get("attribution", {}).get("leak")
    if lk and lk.get("vs_full"):
        rec = [r for r in lk["detector_recall"] if r is not None]
        out.append(f"A planted caption leak (a share of the evaluation classes' own clips captioned by name, "
                   f"{sum(lk['n_leak_captions'])} captions over the seeds) changes top-1 on the other clips "
                   f"by {fmt_ci(lk['vs_full'])}; the audit's detector flags "
                   f"{_f(min(rec)) if rec else 'n/a'} (lowest seed) of those captions by name.")
    fg = doc.get("attribution", {}).get("flagged_vs_unflagged")
    if fg and fg["difference"] is not None:
        out.append(f"First split: classes named (or sharing a word) in training captions reach "
                   f"{fg['flagged_mean']:.3f} zero-shot recall against {fg['unflagged_mean']:.3f} for the "
                   f"others (difference {fg['difference']:+.3f}, 95% bootstrap interval over classes "
                   f"[{fg['ci_low']:+.3f}, {fg['ci_high']:+.3f}]); named classes are also the relatives of "
                   "seen classes, so this gap mixes words and classes (see the decomposition).")
    sv = doc.get("attribution", {}).get("separability_vs_accuracy")
    if sv and sv["spearman"] is not None:
        out.append(f"First split, per class: backbone separability and zero-shot recall correlate with "
                   f"Spearman rho = {sv['spearman']:.2f} (p = {fmt_p(sv['p_value'])}, "
                   f"{sv['n_classes']} classes).")
    return out
