r"""Zero-shot classification from prompt templates (CLIP/CLAP style).

A zero-shot classifier has one weight vector per class built from text alone (Radford et al.,
"Learning Transferable Visual Models From Natural Language Supervision", ICML 2021). Each class name
is written into each prompt template, every prompt is embedded, and for class :math:`c`

.. math::

    w_c = \frac{\bar w_c}{\|\bar w_c\|}, \qquad
    \bar w_c = \frac{1}{T} \sum_{t=1}^{T} \frac{e_{t,c}}{\|e_{t,c}\|},

where :math:`e_{t,c}` is the text embedding of template :math:`t` applied to class :math:`c`. A single
template is the special case :math:`T = 1`. An item with media embedding :math:`x` gets the scores
:math:`s_c = \langle x / \|x\|, w_c \rangle` (cosine similarity) and is predicted as
:math:`\arg\max_c s_c`, ties going to the lower class index.

**One zero-shot path.** :func:`build_zero_shot_classifier` (the role of open_clip's
``build_zero_shot_classifier``) serves a pretrained model and a trained one alike: give it a text
encoder (a pretrained text tower, or a backbone wrapped with trained heads,
:class:`~pairspace.encoders.projected.ProjectedEncoder`) or the prompt embeddings already computed,
and it returns a :class:`ZeroShotClassifier` whose :meth:`~ZeroShotClassifier.evaluate` scores media
embeddings in the same space. The protocols (:mod:`pairspace.tasks.protocols`), the trained-model
helpers (:mod:`pairspace.align.evaluate`), ``pairspace zeroshot``, the audio demo and the template
study all go through it.

Metrics (:func:`zeroshot_metrics`): top-1 and top-5 accuracy, balanced accuracy (the mean over the
classes present of the per-class recall), per-class accuracy and the confusion matrix. Two evaluation
protocols are common in audio: the "all items" protocol (one score over the whole set, as for
CIFAR-100) and the per-fold protocol of ESC-50 and UrbanSound8K (the mean and standard deviation
over the official folds, :func:`fold_metrics`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import as_matrix, check_finite, resolve_memory_budget, rows_per_block, unit_rows
from ..data.templates import check_template


def l2_normalize(A: Any, name: str = "embeddings") -> np.ndarray:
    r"""Unit vectors along the last axis, :math:`\hat a = a / \lVert a \rVert_2` (float64, any rank).

    :func:`pairspace._validation.unit_rows` on the rows of the last axis: an all-zero vector is a
    ``ValueError`` (its direction is undefined).
    """
    A = np.asarray(A, dtype=np.float64)
    return unit_rows(A.reshape(-1, A.shape[-1]), name).reshape(A.shape)


def classifier_weights(text_embeddings: Any) -> np.ndarray:
    r"""Zero-shot classifier weights from per-template text embeddings.

    .. math:: w_c = \frac{\sum_t e_{t,c}/\|e_{t,c}\|}{\big\|\sum_t e_{t,c}/\|e_{t,c}\|\big\|}

    Parameters
    ----------
    text_embeddings : array-like, shape (T, C, d) or (C, d)
        Embedding of template ``t`` applied to class ``c``. A 2-D array is one template.

    Returns
    -------
    numpy.ndarray, shape (C, d), float64
        Unit-norm class weights.

    References
    ----------
    Radford et al., ICML 2021 (the prompt-ensembling recipe of the CLIP notebooks).
    """
    if hasattr(text_embeddings, "detach"):
        text_embeddings = text_embeddings.detach().cpu().numpy()
    E = np.asarray(text_embeddings, dtype=np.float64)
    if E.ndim == 2:
        E = E[None]
    if E.ndim != 3 or min(E.shape) < 1:
        raise ValueError(
            "text_embeddings must have shape (templates, classes, dim) or (classes, dim); "
            f"got {np.shape(text_embeddings)}"
        )
    check_finite(E.reshape(-1, E.shape[-1]), "text_embeddings")
    mean = l2_normalize(E, name="text embeddings").mean(axis=0)
    norms = np.linalg.norm(mean, axis=1, keepdims=True)
    if np.any(norms < 1e-12):
        bad = int(np.argmax(norms[:, 0] < 1e-12))
        raise ValueError(f"the template average of class {bad} is zero (templates cancel out)")
    return mean / norms


def format_prompts(templates: Sequence[str], class_names: Sequence[str]) -> list[str]:
    """Every template applied to every class name, template-major (``T * C`` strings).

    A template holds one ``{}`` (or ``{c}``) placeholder for the class name.
    """
    if not templates:
        raise ValueError("no templates given")
    if not class_names:
        raise ValueError("no class names given")
    out = []
    for t in templates:
        check_template(t)
        out += [t.replace("{c}", "{}").format(c) for c in class_names]
    return out


def text_embeddings_for(encoder: Any, templates: Sequence[str], class_names: Sequence[str],
                        batch_size: int = 64, progress: bool | None = None) -> np.ndarray:
    r"""Embed every (template, class) prompt with ``encoder``: :math:`e_{t,c}`, shape (T, C, d).

    The one path from a text encoder to zero-shot prompt embeddings. ``encoder`` is anything with
    ``encode(texts, batch_size=..., progress=...) -> (n, d)``: a pretrained text tower, or a
    backbone wrapped with trained projection heads (the projected prompts of an aligned model).

    Parameters
    ----------
    encoder : object with ``encode``
        Text encoder.
    templates : sequence of str
        Prompt templates, each with one ``{}`` placeholder.
    class_names : sequence of str
        The ``C`` class names.
    batch_size : int
        Passed to ``encode``.
    progress : bool or None
        Passed to ``encode``.

    Returns
    -------
    numpy.ndarray, shape (T, C, d)
        Template-major prompt embeddings (:func:`classifier_weights` ensembles them).
    """
    if not callable(getattr(encoder, "encode", None)):
        raise ValueError(f"the text encoder must have an encode(texts) method; got {type(encoder).__name__}")
    prompts = format_prompts(templates, class_names)
    E = encoder.encode(prompts, batch_size=batch_size, progress=progress)
    E = np.asarray(E.detach().cpu().numpy() if hasattr(E, "detach") else E)
    if E.ndim != 2 or E.shape[0] != len(prompts):
        raise ValueError(f"encoder returned shape {E.shape} for {len(prompts)} prompts")
    return E.reshape(len(templates), len(class_names), E.shape[1])


@dataclass(frozen=True)
class ZeroShotClassifier:
    r"""A zero-shot classifier: unit class weights :math:`w_c` built from prompt embeddings.

    Attributes
    ----------
    weights : numpy.ndarray, shape (C, d)
        :func:`classifier_weights` of ``prompt_embeddings``.
    class_names : list of str
        The ``C`` classes, in the order of the weights.
    prompt_embeddings : numpy.ndarray, shape (T, C, d)
        The embedded prompts :math:`e_{t,c}` (template-major).
    """

    weights: np.ndarray
    class_names: list[str]
    prompt_embeddings: np.ndarray

    @classmethod
    def from_prompt_embeddings(cls, prompt_embeddings: Any,
                               class_names: Sequence[str]) -> ZeroShotClassifier:
        """The classifier of prompt embeddings (T, C, d) or (C, d) computed elsewhere."""
        if hasattr(prompt_embeddings, "detach"):
            prompt_embeddings = prompt_embeddings.detach().cpu().numpy()
        E = np.asarray(prompt_embeddings)
        E = E[None] if E.ndim == 2 else E
        W = classifier_weights(E)
        if W.shape[0] != len(class_names):
            raise ValueError(f"{len(class_names)} class names for {W.shape[0]} classes of prompts")
        return cls(W, [str(c) for c in class_names], E)

    def scores(self, media: Any) -> np.ndarray:
        """Cosine scores of media embeddings in the classifier's space (n x C)."""
        return zeroshot_scores(media, self.weights)

    def evaluate(self, media: Any, labels: Sequence[Any] | np.ndarray,
                 folds: Sequence[Any] | np.ndarray | None = None) -> dict[str, Any]:
        """:func:`zeroshot_metrics` of the media (all items), or :func:`fold_metrics` with ``folds``."""
        S = self.scores(media)
        if folds is not None:
            return fold_metrics(S, labels, folds, self.class_names)
        return zeroshot_metrics(S, labels, self.class_names)


def build_zero_shot_classifier(encoder: Any, class_names: Sequence[str], templates: Sequence[str],
                               batch_size: int = 64,
                               progress: bool | None = None) -> ZeroShotClassifier:
    r"""The zero-shot classifier of a text ``encoder`` (the one builder of the toolkit).

    Every (template, class) prompt is embedded (:func:`text_embeddings_for`), L2-normalized,
    averaged over the templates and re-normalized (Radford et al., ICML 2021). ``encoder`` is a
    pretrained text tower or a backbone wrapped with trained heads
    (:class:`~pairspace.encoders.projected.ProjectedEncoder`): the same builder serves both, as
    open_clip's ``build_zero_shot_classifier`` serves training-time evaluation and the benchmark.

    Returns
    -------
    ZeroShotClassifier
    """
    E = text_embeddings_for(encoder, templates, class_names, batch_size, progress)
    return ZeroShotClassifier.from_prompt_embeddings(E, class_names)


def build_classifier(encoder: Any, class_names: Sequence[str], templates: Sequence[str],
                     batch_size: int = 64, progress: bool | None = None) -> np.ndarray:
    r"""The unit class weights :math:`w_c` (C x d) of :func:`build_zero_shot_classifier`."""
    return build_zero_shot_classifier(encoder, class_names, templates, batch_size, progress).weights


def zeroshot_scores(media: Any, weights: Any, normalize: bool = True,
                    memory_budget: int | None = None) -> np.ndarray:
    r"""Class scores :math:`s_{ic} = \langle x_i / \|x_i\|, w_c \rangle` (n x C).

    Parameters
    ----------
    media : array-like, shape (n, d)
        Media embeddings (images, audio clips), already in the text space.
    weights : array-like, shape (C, d)
        Classifier weights (:func:`classifier_weights`).
    normalize : bool
        L2-normalize the media rows and the weights first (cosine scores). ``False`` gives the plain
        inner product.
    memory_budget : int or None
        Scratch bytes of one block of media rows (converted to float64 block by block; None: the
        configured setting, :func:`pairspace.set_config`).

    Returns
    -------
    numpy.ndarray, shape (n, C), float64
    """
    X = as_matrix(media, "media", dtype=None)
    W = as_matrix(weights, "weights", dtype=np.float64)
    if X.shape[1] != W.shape[1]:
        raise ValueError(
            f"media dimension {X.shape[1]} differs from the classifier dimension {W.shape[1]}: "
            "the media must be embedded in (or projected into) the text space"
        )
    if normalize:
        W = l2_normalize(W, name="classifier weights")
    out = np.empty((X.shape[0], W.shape[0]), dtype=np.float64)
    step = rows_per_block(resolve_memory_budget(memory_budget), 8 * (X.shape[1] + W.shape[0]),
                          cap=8192)
    for s in range(0, X.shape[0], step):
        blk = np.asarray(X[s : s + step], dtype=np.float64)
        if normalize:
            blk = l2_normalize(blk, name="media embeddings")
        out[s : s + blk.shape[0]] = blk @ W.T
    return out


def encode_labels(labels: Sequence[Any] | np.ndarray, n_classes: int,
                  class_names: Sequence[str] | None = None) -> np.ndarray:
    """Class indices (int64) from integer labels or from names listed in ``class_names``."""
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"labels must be 1-D; got shape {arr.shape}")
    if arr.dtype.kind in "iu":
        y = arr.astype(np.int64)
    elif arr.dtype.kind in "USO":
        if class_names is None:
            raise ValueError("string labels need class_names to map them to class indices")
        pos = {str(c): i for i, c in enumerate(class_names)}
        unknown = sorted({str(v) for v in arr if str(v) not in pos})
        if unknown:
            raise ValueError(f"{len(unknown)} labels are not class names, e.g. {unknown[:5]}")
        y = np.fromiter((pos[str(v)] for v in arr), dtype=np.int64, count=arr.size)
    else:
        raise ValueError(f"labels must be integers or class names; got dtype {arr.dtype}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes - 1}]; got range [{y.min()}, {y.max()}]")
    return y


def true_class_rank(scores: np.ndarray, y: np.ndarray) -> np.ndarray:
    """0-based rank of the true class in each row (descending score, ties to the lower index)."""
    s_true = scores[np.arange(scores.shape[0]), y][:, None]
    idx = np.arange(scores.shape[1])[None, :]
    return ((scores > s_true) | ((scores == s_true) & (idx < y[:, None]))).sum(axis=1)


def zeroshot_metrics(scores: Any, labels: Sequence[Any] | np.ndarray,
                     class_names: Sequence[str] | None = None,
                     top_k: Sequence[int] = (1, 5)) -> dict[str, Any]:
    r"""Accuracy metrics of a score matrix ("all items" protocol).

    Parameters
    ----------
    scores : array-like, shape (n, C)
        Class scores (larger is better), e.g. from :func:`zeroshot_scores`.
    labels : sequence, length n
        True classes: integers in ``[0, C)`` or names from ``class_names``.
    class_names : sequence of str, optional
        Names of the ``C`` classes (keys of ``per_class``; needed for string labels).
    top_k : sequence of int
        The top-k accuracies to report (k larger than C is clipped to C).

    Returns
    -------
    dict
        ``top1``, ``top5`` (and any other ``top{k}``): fraction of items whose true class is among
        the ``k`` best scores (ties to the lower class index); ``balanced_accuracy``: the mean over the
        classes present of the per-class top-1 recall; ``per_class``: class name -> top-1 recall
        (None for classes without items); ``confusion``: C x C counts (row = true, column =
        predicted); ``chance``: :math:`1/C`; ``n`` and ``n_classes``.
    """
    S = as_matrix(scores, "scores", dtype=np.float64)
    n, C = S.shape
    if class_names is not None and len(class_names) != C:
        raise ValueError(f"{len(class_names)} class names for {C} score columns")
    y = encode_labels(labels, C, class_names)
    if y.size != n:
        raise ValueError(f"{y.size} labels for {n} score rows")
    rank = true_class_rank(S, y)
    pred = np.argmax(S, axis=1)
    confusion = np.bincount(y * C + pred, minlength=C * C).reshape(C, C)
    support = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.diag(confusion) / support
    names = [str(c) for c in class_names] if class_names is not None else [str(i) for i in range(C)]
    out: dict[str, Any] = {}
    for k in top_k:
        out[f"top{int(k)}"] = float(np.mean(rank < min(int(k), C)))
    out.update({
        "balanced_accuracy": float(np.mean(recall[support > 0])),
        "per_class": {nm: (float(r) if s > 0 else None) for nm, r, s in zip(names, recall, support,
                                                                           strict=True)},
        "confusion": confusion,
        "chance": 1.0 / C,
        "n": int(n),
        "n_classes": int(C),
    })
    return out


def fold_metrics(scores: Any, labels: Sequence[Any] | np.ndarray, folds: Sequence[Any] | np.ndarray,
                 class_names: Sequence[str] | None = None,
                 keys: Sequence[str] = ("top1", "top5", "balanced_accuracy")) -> dict[str, Any]:
    """The per-fold protocol: metrics on each fold, then their mean and standard deviation.

    Parameters
    ----------
    scores, labels, class_names
        As in :func:`zeroshot_metrics`.
    folds : sequence, length n
        Fold of each item (ESC-50: 1..5, UrbanSound8K: 1..10).
    keys : sequence of str
        Metrics summarised over folds.

    Returns
    -------
    dict
        ``folds``: fold -> metrics (without the confusion matrix); ``mean`` and ``std`` (population
        std, ``ddof=0``, over folds) for each key; ``n_folds``.
    """
    S = as_matrix(scores, "scores", dtype=np.float64)
    f = np.asarray(folds)
    lab = np.asarray(labels)
    if f.shape != (S.shape[0],) or lab.shape != (S.shape[0],):
        raise ValueError(f"labels ({lab.shape}) and folds ({f.shape}) must both have {S.shape[0]} entries")
    per: dict[str, Any] = {}
    for fold in sorted(set(f.tolist())):
        m = f == fold
        res = zeroshot_metrics(S[m], lab[m], class_names)
        res.pop("confusion")
        per[str(fold)] = res
    summary = {"folds": per, "n_folds": len(per), "mean": {}, "std": {}}
    for k in keys:
        vals = np.array([r[k] for r in per.values()], dtype=np.float64)
        summary["mean"][k] = float(vals.mean())
        summary["std"][k] = float(vals.std())
    return summary


def evaluate(media: Any, labels: Sequence[Any] | np.ndarray, weights: Any,
             class_names: Sequence[str] | None = None,
             folds: Sequence[Any] | np.ndarray | None = None) -> dict[str, Any]:
    """Scores plus metrics: ``{"all": zeroshot_metrics(...), "per_fold": fold_metrics(...) or None}``
    (both protocols from one score matrix; :meth:`ZeroShotClassifier.evaluate` gives either)."""
    S = zeroshot_scores(media, weights)
    return {"all": zeroshot_metrics(S, labels, class_names),
            "per_fold": None if folds is None else fold_metrics(S, labels, folds, class_names)}
