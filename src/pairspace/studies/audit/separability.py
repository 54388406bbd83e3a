r"""Class separability already present in an embedding space (Tavares et al., ICASSP 2025).

Three views of "how well do the classes separate before any cross-modal training":

* **cosine silhouette** (Rousseeuw 1987): :math:`s_i = (b_i - a_i) / \max(a_i, b_i)` with
  :math:`a_i` the mean cosine distance of item :math:`i` to its own class and :math:`b_i` the
  smallest mean distance to another class; per class the mean of :math:`s_i`;
* **leave-one-out kNN accuracy**: each item is classified by the majority label of its ``k``
  nearest other items (cosine; ties to the nearest neighbor's label);
* **cross-validated linear probe**: a multinomial logistic regression on standardized features,
  stratified ``folds``-fold, per-class recall of the out-of-fold predictions.

:func:`centroid_prompt_nngs` measures whether the *text* class prompts are arranged like the
*audio* class centroids: the NNGS curve (Tavares, Ayres & Smaragdis, arXiv 2411.08687) between the
two C-point clouds, with the exact chance level of :func:`pairspace.nngs_chance`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._validation import unit_rows


def _one_thread() -> Any:
    """Limit BLAS/OpenMP pools to one thread: t-SNE and the probe slow down ~10x on a shared machine
    when their threads compete."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1)


def _encode(labels: Sequence[Any], X: np.ndarray) -> tuple[np.ndarray, list[str]]:
    labels = [str(v) for v in labels]
    if len(labels) != X.shape[0]:
        raise ValueError(f"{len(labels)} labels for {X.shape[0]} rows")
    names = sorted(set(labels))
    if len(names) < 2:
        raise ValueError("separability needs at least 2 classes")
    pos = {c: i for i, c in enumerate(names)}
    return np.array([pos[v] for v in labels], dtype=np.int64), names


def _per_class(y: np.ndarray, values: np.ndarray, names: list[str]) -> dict[str, float]:
    return {c: float(values[y == i].mean()) for i, c in enumerate(names)}


@dataclass
class Separability:
    """Per-class and overall separability of one space (see the module docstring)."""

    space: str
    n: int
    n_classes: int
    silhouette: float
    knn_accuracy: float
    probe_accuracy: float | None
    per_class: dict[str, dict[str, float | None]]
    k: int
    folds: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return dict(self.__dict__)


def silhouette(X: Any, labels: Sequence[Any]) -> tuple[float, dict[str, float]]:
    """Cosine silhouette overall and per class (scikit-learn ``silhouette_samples``)."""
    from sklearn.metrics import silhouette_samples

    U = unit_rows(X, "embeddings")
    y, names = _encode(labels, U)
    with _one_thread():
        s = silhouette_samples(U, y, metric="cosine")
    return float(s.mean()), _per_class(y, s, names)


def knn_accuracy(X: Any, labels: Sequence[Any], k: int = 1) -> tuple[float, dict[str, float]]:
    """Leave-one-out ``k``-NN accuracy (cosine) overall and per class.

    The neighbors come from :func:`pairspace.knn` (exact, blocked, the item itself excluded, ties
    to the lower index); a vote tie goes to the nearest neighbor's label.
    """
    correct, y, names = knn_hits(X, labels, k)
    return float(correct.mean()), _per_class(y, correct, names)


def knn_hits(X: Any, labels: Sequence[Any], k: int = 1) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per-item 0/1 correctness of the leave-one-out ``k``-NN vote (see :func:`knn_accuracy`),
    with the encoded labels and the sorted class names."""
    from ...neighbors import knn

    U = unit_rows(X, "embeddings")
    y, names = _encode(labels, U)
    n = U.shape[0]
    if not 1 <= k < n:
        raise ValueError(f"k must lie in [1, {n - 1}]; got {k}")
    nn = knn(U, k, "cosine", exact_distances=False).indices
    votes = np.zeros((n, len(names)))
    np.add.at(votes, (np.repeat(np.arange(n), k), y[nn].ravel()), 1.0)
    votes[np.arange(n), y[nn[:, 0]]] += 0.5  # ties go to the nearest neighbor's label
    correct = (votes.argmax(axis=1) == y).astype(np.float64)
    return correct, y, names


def probe_accuracy(X: Any, labels: Sequence[Any], folds: int = 4, seed: int = 0, C: float = 1.0
                   ) -> tuple[float, dict[str, float]]:
    """Stratified ``folds``-fold logistic-regression probe: out-of-fold accuracy, per-class recall."""
    hit, y, names = probe_hits(X, labels, folds, seed, C)
    return float(hit.mean()), _per_class(y, hit, names)


def probe_hits(X: Any, labels: Sequence[Any], folds: int = 4, seed: int = 0, C: float = 1.0
               ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per-item 0/1 out-of-fold correctness of the probe of :func:`probe_accuracy`, with the encoded
    labels and the sorted class names."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    A = np.asarray(X, dtype=np.float64)
    y, names = _encode(labels, A)
    smallest = int(np.bincount(y).min())
    if folds < 2 or smallest < folds:
        raise ValueError(f"a {folds}-fold probe needs >= {folds} items in every class; the smallest has "
                         f"{smallest}")
    pred = np.empty_like(y)
    with _one_thread():
        for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(A, y):
            clf = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
            clf.fit(A[tr], y[tr])
            pred[te] = clf.predict(A[te])
    return (pred == y).astype(np.float64), y, names


def separability(X: Any, labels: Sequence[Any], space: str = "space", k: int = 1, folds: int = 4,
                 seed: int = 0, probe: bool = True) -> Separability:
    """Silhouette, leave-one-out kNN and (when ``probe``) linear-probe accuracy of one space.

    Parameters
    ----------
    X : array-like, shape (n, d)
        Embeddings of the evaluation items.
    labels : sequence
        Class of each item (at least 2 classes).
    space : str
        Name of the space (``"audio backbone"``, ``"projected"``...), kept in the result.
    k, folds, seed : int
        kNN size, probe folds and the seed of the fold split.
    probe : bool
        Also fit the cross-validated probe (skipped when a class has fewer than ``folds`` items).
    """
    sil, sil_c = silhouette(X, labels)
    acc, acc_c = knn_accuracy(X, labels, k=k)
    p_acc: float | None = None
    p_c: dict[str, float] = {}
    if probe and int(np.min(np.unique([str(v) for v in labels], return_counts=True)[1])) >= folds:
        p_acc, p_c = probe_accuracy(X, labels, folds=folds, seed=seed)
    per = {c: {"silhouette": sil_c[c], "knn_accuracy": acc_c[c], "probe_accuracy": p_c.get(c)}
           for c in sil_c}
    return Separability(space, int(np.shape(X)[0]), len(per), sil, acc, p_acc, per, k, folds)


def class_centroids(X: Any, labels: Sequence[Any], class_names: Sequence[str]) -> np.ndarray:
    """Mean of the unit-normalized rows of each class, in ``class_names`` order (C, d)."""
    U = unit_rows(X, "embeddings")
    labels = [str(v) for v in labels]
    out = []
    for c in class_names:
        rows = [i for i, v in enumerate(labels) if v == c]
        if not rows:
            raise ValueError(f"class {c!r} has no item")
        out.append(U[rows].mean(axis=0))
    return np.vstack(out)


def centroid_prompt_nngs(X: Any, labels: Sequence[Any], class_names: Sequence[str], prompts: Any,
                         ks: int | Sequence[int] | None = None) -> dict[str, Any]:
    """NNGS curve between audio class centroids and class-prompt embeddings (C points each).

    ``prompts`` is (C, d_text) (or (T, C, d), ensembled by the unit-norm template mean). Returns
    ``{"k", "nngs", "chance", "normalized", "n"}`` lists from :func:`pairspace.nngs_curve`.
    """
    from ...measures import nngs_curve

    P = np.asarray(prompts, dtype=np.float64)
    if P.ndim == 3:
        P = np.stack([unit_rows(p, "prompts") for p in P]).mean(axis=0)
    if P.shape[0] != len(class_names):
        raise ValueError(f"{P.shape[0]} prompt rows for {len(class_names)} classes")
    cent = class_centroids(X, labels, class_names)
    n = len(class_names)
    if n < 4:
        raise ValueError(f"the centroid NNGS curve needs >= 4 classes; got {n}")
    kmax = min(n - 2, 10) if ks is None else ks
    curve = nngs_curve(cent, P, kmax, metric="cosine")
    return {"k": [int(v) for v in curve.k], "nngs": [float(v) for v in curve.nngs],
            "chance": [float(v) for v in curve.chance],
            "normalized": [float(v) for v in curve.normalized], "n": n}


def tsne_map(X: Any, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """A 2-D t-SNE map (cosine, PCA initialization) of the rows of ``X`` (n, 2)."""
    from sklearn.manifold import TSNE

    U = unit_rows(X, "embeddings")
    perp = float(min(perplexity, max(2.0, (U.shape[0] - 1) / 3.0)))
    with _one_thread():
        return TSNE(2, perplexity=perp, metric="cosine", init="pca", random_state=seed).fit_transform(U)
