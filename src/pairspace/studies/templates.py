r"""The prompt-template study: does the similarity of paired spaces explain zero-shot accuracy?

The second case study of Tavares, Ayres & Smaragdis (arXiv 2411.08687). For a zero-shot model
(CLIP on CIFAR-100 in the paper) and a prompt template :math:`t`:

- :math:`X \in \mathbb{R}^{C \times d}`: the class centroids of the media embeddings (each embedding
  L2-normalized first by default), the same for every template;
- :math:`Y_t \in \mathbb{R}^{C \times d'}`: the text embeddings of the template applied to each class
  name, paired with :math:`X` by class.

Per template the study measures :math:`\mathrm{NNGS}(X, Y_t, k)` (``k = 3`` by default) and its curve
over ``k`` with the chance level, linear CKA and mutual kNN, and the single-template zero-shot
accuracy (top-1 of the classifier built from :math:`Y_t` alone). Across templates it reports the
Pearson and Spearman correlations (with p-values) between each similarity and the accuracy. The
paper found, for CLIP ViT-B/32 on CIFAR-100 with its 18 templates (euclidean, ``k = 3``), Pearson
0.78 for NNGS against 0.72 for RBF CKA.

One neighbor search of :math:`X` serves every template; each :math:`Y_t` is searched once for the
whole curve.

**Paper-exact mode** (:data:`PAPER_EXACT`, ``pairspace template-study --paper-exact``): the settings of
the authors' runs, unnormalized embeddings, euclidean kNN graphs, ``k = 3`` and RBF CKA with their
width, 0.8 times the median *squared* distance (``rbf="median_squared_distance"``). By default the
toolkit L2-normalizes first and, when RBF CKA is asked for, uses 0.8 times the median distance.

Beside the correlations, :attr:`TemplateStudyResult.comparisons` holds the **paired comparison** of
NNGS's correlation with each other measure's: the difference of the coefficients with a percentile
interval from the same bootstrap resamples of the templates
(:func:`pairspace.stats.correlation.compare_correlations`).

The optional **shuffled control** (``shuffle_pairs=True``) permutes the class rows of every
:math:`Y_t` (a fresh seeded permutation per template) before the similarity measures, so the
similarity no longer reflects the pairing while the accuracy is unchanged: a real effect must vanish.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import as_matrix, check_metric, unit_rows
from ..data.table import EmbeddingTable
from ..data.templates import TemplateSet, load_templates
from ..envelope import Envelope, encoder_input
from ..measures.cka import RBF_BANDWIDTHS, linear_cka, rbf_cka
from ..measures.knn_measures import mutual_knn_from_graphs
from ..measures.nngs import NNGSCurve, curve_from_graphs, resolve_ks
from ..neighbors import knn
from ..stats.correlation import compare_correlations, correlate
from ..tasks.zeroshot import classifier_weights, encode_labels, text_embeddings_for, zeroshot_metrics
from ._summary import TemplateSummary
from .template_synthetic import synthetic_zeroshot  # noqa: F401  (re-exported: its former home)

SCHEMA = "pairspace.template_study/2"
#: The keys of ``settings`` that describe the inputs in the document (the rest are settings).
INPUT_KEYS = ("templates_source", "class_names_source", "n_templates", "n_classes", "n_items")
_RESERVED = {"template", "group", "nngs", "nngs_normalized", "linear_cka", "rbf_cka", "mutual_knn",
             "accuracy", "top5", "balanced_accuracy", "curve"}

#: The settings of the authors' runs (arXiv 2411.08687, reference code ``graph_structure``):
#: unnormalized embeddings, euclidean kNN graphs, k = 3, RBF CKA at 0.8 x the median squared distance.
PAPER_EXACT: dict[str, Any] = {"normalize": False, "metric": "euclidean", "k": 3,
                               "rbf": "median_squared_distance"}


def class_centroids(media: Any, y: np.ndarray, n_classes: int, normalize: bool = True) -> np.ndarray:
    r"""Mean embedding of each class, :math:`\mu_c = \frac{1}{n_c}\sum_{i: y_i = c} x_i` (C x d).

    With ``normalize`` every embedding is L2-normalized before averaging. A class without items is
    an error.
    """
    X = as_matrix(media, "media", dtype=np.float64)
    if normalize:
        X = unit_rows(X, "media embeddings")
    counts = np.bincount(y, minlength=n_classes)
    if np.any(counts == 0):
        raise ValueError(f"class {int(np.argmin(counts))} has no media items; every class needs one")
    sums = np.zeros((n_classes, X.shape[1]))
    np.add.at(sums, y, X)
    return sums / counts[:, None]


def correlation_row(similarity: Sequence[float], accuracy: Sequence[float], n_boot: int = 2000,
                    seed: int = 0) -> dict[str, float]:
    """Pearson and Spearman of one measure against accuracy across templates, as a table row.

    :func:`pairspace.stats.correlation.correlate` flattened to scalars: ``pearson``,
    ``pearson_p``, ``pearson_ci_low``, ``pearson_ci_high`` (the bootstrap interval over templates)
    and the same for ``spearman`` (NaN when a variable is constant).
    """
    x = np.asarray(similarity, dtype=np.float64)
    if x.size < 3:
        raise ValueError(f"correlations across templates need at least 3 templates; got {x.size}")
    if not np.isfinite(x).all():  # a measure undefined for some template: no correlation
        nan = float("nan")
        return {f"{m}{suffix}": nan for m in ("pearson", "spearman")
                for suffix in ("", "_p", "_ci_low", "_ci_high")}
    out: dict[str, float] = {}
    for c in correlate(x, accuracy, n_boot=n_boot, seed=seed):
        out.update({c.method: c.statistic, f"{c.method}_p": c.pvalue, f"{c.method}_ci_low": c.ci_low,
                    f"{c.method}_ci_high": c.ci_high})
    return out


@dataclass(repr=False)
class TemplateStudyResult(TemplateSummary):
    """Per-template similarities and accuracies, and their correlations across templates.

    Attributes
    ----------
    templates, groups : list of str
        The templates and their group labels.
    class_names : list of str
    per_template : list of dict
        For each template: ``template``, ``group``, ``nngs`` (at ``k``), ``nngs_normalized``,
        ``linear_cka``, ``mutual_knn``, any extra measures, ``accuracy`` (top-1),
        ``top5``, ``balanced_accuracy`` and ``curve`` (the NNGS curve, an ``NNGSCurve``).
    correlations : dict
        Measure name -> :func:`correlation_row` against accuracy (coefficients, p-values and
        bootstrap intervals).
    comparisons : dict
        ``"nngs - <measure>"`` -> the paired comparison of the two correlations with accuracy
        (:func:`pairspace.stats.correlation.compare_correlations`, as a dict).
    ensemble : dict
        Zero-shot metrics of the classifier averaged over all templates (no confusion matrix).
    settings : dict
        ``k``, ``metric``, ``n_classes``, ``n_items``, ``chance_nngs``, ``chance_accuracy``,
        ``shuffle_pairs``, ``seed``, ``n_boot``, ``templates_source`` and ``class_names_source``.
    """

    templates: list[str]
    groups: list[str]
    class_names: list[str]
    per_template: list[dict[str, Any]]
    correlations: dict[str, dict[str, Any]]
    ensemble: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)
    comparisons: dict[str, dict[str, Any]] = field(default_factory=dict)
    envelope: Envelope = field(default_factory=lambda: Envelope.new(SCHEMA))

    @property
    def measures(self) -> list[str]:
        """Names of the similarity measures correlated with accuracy."""
        return list(self.correlations)

    def column(self, key: str) -> np.ndarray:
        """One per-template value as an array (``"nngs"``, ``"accuracy"``...)."""
        return np.array([r[key] for r in self.per_template], dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """The ``pairspace.template_study/2`` document (the envelope of :mod:`pairspace.envelope`).

        Version 2 moved the sources and sizes from ``settings`` to ``inputs`` (with the media file
        and the text encoder's provenance when known) and the numbers under ``results``;
        ``results.comparisons`` (the paired differences of the measures' correlations) and the
        ``rbf_cka`` column are additions that readers of version 2 may ignore.
        """
        rows = [{**r, "curve": r["curve"].to_dict()} for r in self.per_template]
        inputs = {**{k: self.settings[k] for k in INPUT_KEYS if k in self.settings},
                  **self.envelope.inputs}
        settings = {k: v for k, v in self.settings.items() if k not in INPUT_KEYS}
        stamp = Envelope(**{**vars(self.envelope), "inputs": inputs})
        return stamp.document(settings, {"class_names": self.class_names, "templates": rows,
                                         "correlations": self.correlations,
                                         "comparisons": self.comparisons,
                                         "ensemble": self.ensemble})

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> TemplateStudyResult:
        """The result a ``pairspace.template_study/2`` document describes (:meth:`to_dict` inverted)."""
        stamp = Envelope.from_dict(doc, SCHEMA)
        res = doc["results"]
        rows = [{**r, "curve": NNGSCurve.from_dict(r["curve"])} for r in res["templates"]]
        extra = {k: v for k, v in stamp.inputs.items() if k not in INPUT_KEYS}
        settings = {**doc["settings"], **{k: stamp.inputs[k] for k in INPUT_KEYS if k in stamp.inputs}}
        return cls([r["template"] for r in rows], [r["group"] for r in rows], list(res["class_names"]),
                   rows, dict(res["correlations"]), dict(res["ensemble"]), settings,
                   dict(res.get("comparisons", {})), Envelope(**{**vars(stamp), "inputs": extra}))


def _resolve_templates(templates: TemplateSet | Sequence[str] | str,
                       groups: Sequence[str] | None) -> tuple[list[str], list[str], str]:
    if isinstance(templates, str):
        templates = load_templates(templates)
    if isinstance(templates, TemplateSet):
        return list(templates.templates), list(groups or templates.groups), templates.source
    ts = [str(t) for t in templates]
    gs = list(groups) if groups is not None else [""] * len(ts)
    if len(gs) != len(ts):
        raise ValueError(f"{len(gs)} groups for {len(ts)} templates")
    return ts, gs, getattr(templates, "source", "") or "given in the call"


def _extra_measures(extra: Mapping[str, Callable[[np.ndarray, np.ndarray], float]] | None
                    ) -> dict[str, Callable[[np.ndarray, np.ndarray], float]]:
    out = dict(extra or {})
    clash = sorted(_RESERVED & set(out))
    if clash:
        raise ValueError(f"extra measure names {clash} clashes with built-in columns; rename them")
    return out


def _media_inputs(media: EmbeddingTable | Any, labels: Any,
                  class_names: Sequence[str] | None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The media matrix, its class indices and the class names."""
    if isinstance(media, EmbeddingTable):
        lab = labels if labels is not None else media.labels
        if lab is None:
            raise ValueError("the media table has no labels; pass labels=")
        if class_names is None:
            class_names = media.class_names()
        M = media.vectors
    else:
        if labels is None:
            raise ValueError("labels are required when media is an array")
        lab, M = labels, media
    M = as_matrix(M, "media", dtype=None)
    if class_names is None:
        raise ValueError("class_names are required (the names written into the templates)")
    names = [str(c) for c in class_names]
    if len(names) < 3:
        raise ValueError(f"the template study needs at least 3 classes; got {len(names)}")
    y = encode_labels(np.asarray(lab) if not isinstance(lab, np.ndarray) else lab, len(names), names)
    if y.size != M.shape[0]:
        raise ValueError(f"{y.size} labels for {M.shape[0]} media rows")
    return M, y, names


def _text_inputs(text_encoder: Any, text_embeddings: Any, tmpl: list[str], names: list[str],
                 batch_size: int, progress: bool | None) -> np.ndarray:
    """The (T, C, d) text embeddings, from the encoder or given."""
    if (text_encoder is None) == (text_embeddings is None):
        raise ValueError("pass exactly one of text_encoder and text_embeddings")
    if text_encoder is not None:
        E = text_embeddings_for(text_encoder, tmpl, names, batch_size=batch_size, progress=progress)
    else:
        E = np.asarray(text_embeddings.detach().cpu() if hasattr(text_embeddings, "detach")
                       else text_embeddings, dtype=np.float64)
    if E.ndim != 3 or E.shape[:2] != (len(tmpl), len(names)):
        raise ValueError(f"text embeddings must have shape ({len(tmpl)}, {len(names)}, d) (templates, "
                         f"classes, dim); got {E.shape}")
    return E


def _template_row(t: int, template: str, group: str, X: np.ndarray, E: np.ndarray, Mn: np.ndarray,
                  y: np.ndarray, names: list[str], gx: Any, ks: np.ndarray, kk: int, metric: str,
                  normalize: bool, perm: np.ndarray | None,
                  extra: Mapping[str, Callable[[np.ndarray, np.ndarray], float]],
                  rbf: str | None = None) -> dict[str, Any]:
    """Similarities and single-template accuracy of template ``t``."""
    Yt = unit_rows(E[t], f"text embeddings of template {template!r}") if normalize else E[t]
    Ys = Yt[perm] if perm is not None else Yt
    gy = knn(Ys, int(ks.max()), metric=metric)
    curve: NNGSCurve = curve_from_graphs(gx, gy, ks)
    row: dict[str, Any] = {
        "template": template, "group": group,
        "nngs": curve.at(kk), "nngs_normalized": float(curve.normalized[ks == kk][0]),
        "linear_cka": linear_cka(X, Ys), "mutual_knn": mutual_knn_from_graphs(gx, gy, kk),
    }
    if rbf is not None:
        row["rbf_cka"] = rbf_cka(X, Ys, bandwidth=rbf)
    for name, fn in extra.items():
        row[name] = float(fn(X, Ys))
    zs = zeroshot_metrics(Mn @ classifier_weights(E[t]).T, y, names)
    row.update({"accuracy": zs["top1"], "top5": zs["top5"],
                "balanced_accuracy": zs["balanced_accuracy"], "curve": curve})
    return row


def template_study(
    media: EmbeddingTable | Any,
    templates: TemplateSet | Sequence[str] | str,
    class_names: Sequence[str] | None = None,
    labels: Sequence[Any] | np.ndarray | None = None,
    text_encoder: Any = None,
    text_embeddings: Any = None,
    k: int = 3,
    k_max: int | None = None,
    metric: str = "euclidean",
    normalize: bool = True,
    groups: Sequence[str] | None = None,
    extra_measures: Mapping[str, Callable[[np.ndarray, np.ndarray], float]] | None = None,
    shuffle_pairs: bool = False,
    seed: int = 0,
    batch_size: int = 64,
    progress: bool | None = None,
    n_boot: int = 2000,
    rbf: str | None = None,
    inputs: Mapping[str, Any] | None = None,
) -> TemplateStudyResult:
    r"""Relate the similarity of (class centroids, template text embeddings) to zero-shot accuracy.

    Parameters
    ----------
    media : EmbeddingTable or array-like (n, d)
        Media embeddings (images, audio) in the joint space, with labels (the table's or ``labels``).
    templates : TemplateSet, sequence of str or str
        Prompt templates (a shipped set name such as ``"cifar100_clip"`` or a file path).
    class_names : sequence of str, optional
        The ``C`` class names written into the templates; labels are indices into this list or names
        from it. Default: the table's distinct labels in order of first appearance.
    labels : sequence, optional
        Labels of the media rows when ``media`` is an array (overrides the table's labels).
    text_encoder : Encoder, optional
        Embeds every (template, class) prompt. Either this or ``text_embeddings``.
    text_embeddings : array-like (T, C, d'), optional
        Precomputed text embeddings, template-major.
    k : int
        Neighborhood size of the headline NNGS and mutual kNN (3 in the paper).
    k_max : int, optional
        Largest ``k`` of the NNGS curve (default ``min(C - 1, 50)``).
    metric : {"euclidean", "cosine", "inner"}
        Distance of both spaces for the kNN measures (the paper used euclidean).
    normalize : bool
        L2-normalize media embeddings before taking class centroids and text embeddings before the
        measures (the zero-shot classifier always uses unit vectors).
    groups : sequence of str, optional
        Group labels of the templates (default: the template set's).
    extra_measures : mapping, optional
        More similarity measures ``name -> f(X, Y_t) -> float`` (e.g. an RBF CKA) to correlate.
    shuffle_pairs : bool
        The shuffled control: permute the class rows of each ``Y_t`` before the similarity measures.
    seed : int
        Seed of the shuffled control and of the bootstrap.
    batch_size : int
        Batch size of the text encoder.
    progress : bool or None
        Progress bars.
    n_boot : int
        Bootstrap resamples of the templates for the correlation intervals.
    rbf : {"median_distance", "median_squared_distance"}, optional
        Also measure RBF CKA (:func:`pairspace.measures.cka.rbf_cka`) with this width rule, 0.8
        times the median distance or 0.8 times the median squared distance (the paper's; see
        :data:`PAPER_EXACT`). None (default): no RBF CKA column.
    inputs : mapping, optional
        Provenance recorded in the document's ``inputs`` (the media file, ...); the text encoder's
        provenance is added when ``text_encoder`` is given.

    Returns
    -------
    TemplateStudyResult

    References
    ----------
    Tavares, Ayres & Smaragdis, arXiv 2411.08687; Radford et al., ICML 2021 (templates).
    """
    check_metric(metric)
    if rbf is not None and rbf not in RBF_BANDWIDTHS:
        raise ValueError(f"rbf must be one of {', '.join(RBF_BANDWIDTHS)} or None; got {rbf!r}")
    stamp = Envelope.new(SCHEMA, {**({"text_encoder": encoder_input(text_encoder)}
                                      if text_encoder is not None else {}), **(inputs or {})})
    tmpl, grp, source = _resolve_templates(templates, groups)
    if len(tmpl) < 3:
        raise ValueError(f"the template study needs at least 3 templates; got {len(tmpl)}")
    M, y, names = _media_inputs(media, labels, class_names)
    C = len(names)
    E = _text_inputs(text_encoder, text_embeddings, tmpl, names, batch_size, progress)
    kk = int(k)
    if not 1 <= kk <= C - 1:
        raise ValueError(f"k={kk} is out of range for {C} classes: it must lie in [1, {C - 1}]")
    ks = resolve_ks(max(int(k_max) if k_max is not None else max(kk, min(C - 1, 50)), kk), C)
    extra = _extra_measures(extra_measures)

    X = class_centroids(M, y, C, normalize=normalize)
    if M.shape[1] != E.shape[2]:
        raise ValueError(f"media dimension {M.shape[1]} differs from the text dimension {E.shape[2]}: "
                         "zero-shot accuracy needs both in the joint space")
    Mn = unit_rows(M, "media embeddings")  # once: the scores of every template are Mn @ W_t^T
    gx = knn(X, int(ks.max()), metric=metric)
    rng = np.random.default_rng(seed)
    rows = [_template_row(t, template, group, X, E, Mn, y, names, gx, ks, kk, metric, normalize,
                          rng.permutation(C) if shuffle_pairs else None, extra, rbf)
            for t, (template, group) in enumerate(zip(tmpl, grp, strict=True))]
    measures = ["nngs", "linear_cka", *(["rbf_cka"] if rbf else []), "mutual_knn", *extra]
    acc = [r["accuracy"] for r in rows]  # (normalized NNGS is affine in NNGS: not correlated again)
    correlations = {m: correlation_row([r[m] for r in rows], acc, n_boot=n_boot, seed=seed)
                    for m in measures}
    comparisons = {}
    for m in measures[1:]:
        a, b = np.array([r["nngs"] for r in rows]), np.array([r[m] for r in rows], dtype=np.float64)
        if np.isfinite(b).all():
            comparisons[f"nngs - {m}"] = compare_correlations(a, b, acc, n_boot=n_boot,
                                                              seed=seed).to_dict()
    ens = zeroshot_metrics(Mn @ classifier_weights(E).T, y, names)
    ens.pop("confusion")
    ens.pop("per_class")
    settings = {"k": kk, "k_max": int(ks.max()), "metric": metric, "normalize": normalize,
                "n_classes": C, "n_items": int(M.shape[0]), "n_templates": len(tmpl),
                "chance_nngs": float(rows[0]["curve"].chance[ks == kk][0]), "chance_accuracy": 1.0 / C,
                "shuffle_pairs": shuffle_pairs, "seed": seed, "n_boot": n_boot, "rbf": rbf,
                "paper_exact": all(v == PAPER_EXACT[key] for key, v in
                                   (("normalize", normalize), ("metric", metric), ("k", kk), ("rbf", rbf))),
                "templates_source": source, "class_names_source": _names_source(class_names)}
    return TemplateStudyResult(tmpl, grp, names, rows, correlations, ens, settings, comparisons, stamp)


def _names_source(class_names: Sequence[str] | None) -> str:
    if class_names is None:
        return "the table's labels"
    return getattr(class_names, "source", "") or "given in the call"
