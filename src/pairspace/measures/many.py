r"""Similarity matrices of many paired spaces from ONE neighbor search per space.

Comparing :math:`M` spaces pair by pair with :func:`pairspace.nngs` searches every space
:math:`M - 1` times. Here each space :math:`s` is searched once at the largest neighborhood size
:math:`K`, its neighbor list is kept (in memory, or in a temporary memmap when the
:math:`M \times n \times K` indices exceed ``graph_budget``), and each of the
:math:`M(M-1)/2` pairs is merged from the kept lists.

**The merge.** Each kept row is stored sorted by neighbor id, beside the rank of every entry in the
nearest-first order. With the keys :math:`i n + j`, the rows of a space form one sorted run of
length :math:`nK`; two runs are merged (a stable sort of two sorted runs is a linear merge) and the
items shared by the two lists of row :math:`i` show up as equal adjacent keys. An item :math:`j` is
in both :math:`k`-neighborhoods iff :math:`\max(r_a(i, j), r_b(i, j)) < k`, so a histogram of that
maximum per row, accumulated over :math:`k`, gives the overlap counts :math:`c_i(k)` of every
:math:`k \le K` (see :mod:`pairspace.measures.nngs`):

.. math::

    \mathrm{NNGS}_{ab}(k) = \frac{1}{n}\sum_i \frac{c_i(k)}{2k - c_i(k)}, \qquad
    \mathrm{mKNN}_{ab}(k) = \frac{1}{n}\sum_i \frac{c_i(k)}{k}.

Each pair costs :math:`O(nK)` after the searches. CKNNA (Huh et al., 2024) reuses the same merge,
with the centered linear kernel of each space evaluated once on its own list. Linear CKA needs no
neighbors: the columns of each space are centered once and each pair costs one cross product.

**Normalized spectrum** (Tavares, Ayres & Smaragdis, arXiv 2411.08687 v2, the "topological
alignment spectrum"): :math:`(\mathrm{NNGS}(k) - E[J](k)) / (1 - E[J](k))` against :math:`k`,
with the exact chance level :math:`E[J]` of :func:`pairspace.nngs_chance`; 0 is chance, 1 is
identical graphs.

References
----------
Tavares, Ayres & Smaragdis, arXiv 2411.08687 (v2: "Diagnosing Neural Convergence with Topological
Alignment Spectra"). Huh, Cheung, Wang & Isola, "The Platonic Representation Hypothesis", ICML 2024.
Kornblith, Norouzi, Lee & Hinton, "Similarity of Neural Network Representations Revisited", ICML 2019.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._validation import check_metric, resolve_k
from .space_graphs import GRAPH_BUDGET, NNGSMatrix, SpaceGraphs, _item, linear_cka_of

__all__ = ["GRAPH_BUDGET", "NNGSMatrix", "SpaceGraphs", "cknna_matrix", "linear_cka_matrix",
           "mutual_knn_matrix", "nngs_matrix", "nngs_spectra", "resolve_spaces", "search_spaces"]


# ---------------------------------------------------------------- inputs
def _as_space(value: Any, name: str) -> tuple[Any, list[str] | None, str | None]:
    """``(matrix, ids, source)`` of one input: an array, an EmbeddingTable-like object or a path."""
    if isinstance(value, str | os.PathLike):
        from ..data.io import load_space

        sp = load_space(value)
        return sp.vectors, sp.ids, str(sp.path)
    if hasattr(value, "vectors") and hasattr(value, "ids"):
        return value.vectors, list(value.ids) if value.ids is not None else None, None
    return value, None, None


def resolve_spaces(spaces: Sequence[Any] | Mapping[str, Any], names: Sequence[str] | None = None
                   ) -> tuple[list[str], list[Any], list[str] | None, dict[str, str]]:
    """Names, matrices (rows paired), ids and sources of the inputs of a matrix measure.

    A mapping gives the names; a sequence is named by ``names`` or ``"0", "1", ...``. When every
    input carries ids (tables, files with an id column), the rows of each are reordered to the first
    input's ids; otherwise rows are paired by position and the counts must match.
    """
    if isinstance(spaces, Mapping):
        if names is not None:
            raise ValueError("names= is for a sequence of spaces; a mapping already names them")
        names, values = [str(k) for k in spaces], list(spaces.values())
    else:
        if isinstance(spaces, str | os.PathLike | np.ndarray):
            raise ValueError("spaces must be a sequence or mapping of spaces, not one space")
        values = list(spaces)
        names = [str(i) for i in range(len(values))] if names is None else [str(v) for v in names]
        if len(names) != len(values):
            raise ValueError(f"{len(names)} names for {len(values)} spaces")
    if len(values) < 2:
        raise ValueError(f"a similarity matrix needs at least 2 spaces; got {len(values)}")
    if len(set(names)) != len(names):
        dup = sorted({v for v in names if names.count(v) > 1})
        raise ValueError(f"space names must be unique; repeated: {dup}")
    loaded = [_as_space(v, nm) for v, nm in zip(values, names, strict=True)]
    mats, idss = [m for m, _, _ in loaded], [i for _, i, _ in loaded]
    sources = {nm: src for nm, (_, _, src) in zip(names, loaded, strict=True) if src}
    if all(i is not None for i in idss):
        from ..data.io import align_ids

        ref = idss[0]
        for s in range(1, len(mats)):
            try:
                order = align_ids(ref, idss[s])
            except ValueError as exc:
                raise ValueError(f"space {names[s]!r} and space {names[0]!r}: {exc}") from None
            if not np.array_equal(order, np.arange(order.size)):
                mats[s] = np.asarray(mats[s])[order]
        return names, mats, list(ref), sources
    rows = [int(np.shape(m)[0]) if hasattr(m, "shape") else len(m) for m in mats]
    if len(set(rows)) != 1:
        raise ValueError("paired spaces must have the same rows; row counts: "
                         + ", ".join(f"{nm}={r}" for nm, r in zip(names, rows, strict=True)))
    ids = next((i for i in idss if i is not None), None)
    return names, mats, ids, sources


def _metrics(metric: str | Sequence[str], m: int) -> list[str]:
    ms = [metric] * m if isinstance(metric, str) else [str(v) for v in metric]
    if len(ms) != m:
        raise ValueError(f"{len(ms)} metrics for {m} spaces")
    for v in ms:
        check_metric(v)
    return ms


# ---------------------------------------------------------------- public functions
def search_spaces(spaces: Sequence[Any] | Mapping[str, Any], k_max: int | float,
                  metric: str | Sequence[str] = "cosine", *, names: Sequence[str] | None = None,
                  graph_budget: int = GRAPH_BUDGET, spill_dir: str | os.PathLike[str] | None = None,
                  **search: Any) -> SpaceGraphs:
    """Search every space once at ``k_max`` and keep the lists for the matrix measures.

    Parameters
    ----------
    spaces : sequence or mapping
        Paired spaces with the same rows: arrays (or anything :func:`pairspace.knn` reads), objects
        with ``vectors`` and ``ids`` (an :class:`~pairspace.EmbeddingTable`), or file paths (read by
        :func:`pairspace.data.io.load_space`). A mapping names them. When every input has ids, rows
        are aligned to the first input's ids.
    k_max : int or float
        Width of every search (the largest ``k`` of any later measure).
    metric : str or sequence of str
        Distance of every space, or one per space.
    names : sequence of str, optional
        Names of a sequence of spaces (default ``"0", "1", ...``).
    graph_budget : int
        Bytes of neighbor lists kept in memory (8 per entry, ``M n K`` entries); above it they go
        to a temporary memmap under ``spill_dir``.
    spill_dir : path-like, optional
        Folder of the temporary memmap (default: the system's temporary folder).
    **search
        Passed to :func:`pairspace.knn` (``backend``, ``dtype``, ``memory_budget``, ``progress``).

    Returns
    -------
    SpaceGraphs
    """
    nm, mats, ids, sources = resolve_spaces(spaces, names)
    return SpaceGraphs(nm, mats, k_max, _metrics(metric, len(mats)), ids, sources,
                       graph_budget=graph_budget, spill_dir=spill_dir, **search)


def _largest_k(k: Any, n: int) -> int:
    if np.ndim(k) == 0:
        return resolve_k(_item(k), n)
    ks = [resolve_k(_item(v), n) for v in np.ravel(np.asarray(k, dtype=object))]
    if not ks:
        raise ValueError("k is empty")
    return max(ks)


def _rows(spaces: Sequence[Any] | Mapping[str, Any], names: Sequence[str] | None
          ) -> tuple[list[str], list[Any], list[str] | None, dict[str, str]]:
    return resolve_spaces(spaces, names)


def _graphs_for(spaces: Any, k: Any, metric: Any, names: Any, search: dict[str, Any]) -> SpaceGraphs:
    nm, mats, ids, sources = _rows(spaces, names)
    n = int(np.shape(mats[0])[0]) if hasattr(mats[0], "shape") else len(mats[0])
    return SpaceGraphs(nm, mats, _largest_k(k, n), _metrics(metric, len(mats)), ids, sources,
                       **search)


def nngs_matrix(spaces: Sequence[Any] | Mapping[str, Any],
                k: int | float | Sequence[int | float], metric: str | Sequence[str] = "cosine", *,
                names: Sequence[str] | None = None, **search: Any) -> np.ndarray:
    r"""NNGS of every pair of ``M`` paired spaces, from one neighbor search per space.

    .. math:: S_{ab}(k) = \mathrm{NNGS}(X_a, X_b, k), \qquad S_{aa} = 1

    Parameters
    ----------
    spaces : sequence or mapping
        Paired spaces with the same rows (see :func:`search_spaces`).
    k : int, float or sequence
        One neighborhood size (a float in (0, 1) means ``floor(k * n)``) or several; the search
        width is the largest.
    metric : str or sequence of str
        Distance of every space (or one per space).
    names : sequence of str, optional
        Names of a sequence of spaces.
    **search
        ``graph_budget``, ``spill_dir`` (see :func:`search_spaces`) and the options of
        :func:`pairspace.knn`.

    Returns
    -------
    numpy.ndarray
        ``(M, M)`` for one ``k``, ``(len(k), M, M)`` for a sequence (in the given order); entry
        ``[a, b]`` equals ``pairspace.nngs(spaces[a], spaces[b], k)``.

    See Also
    --------
    nngs_spectra : the same with the chance level and the normalized spectrum.
    """
    with _graphs_for(spaces, k, metric, names, search) as g:
        return g.nngs(k)


def nngs_spectra(spaces: Sequence[Any] | Mapping[str, Any],
                 ks: int | float | Sequence[int | float], metric: str | Sequence[str] = "cosine", *,
                 chance: str = "exact", names: Sequence[str] | None = None,
                 **search: Any) -> NNGSMatrix:
    """NNGS matrices at every ``k`` with the chance level and the normalized spectrum.

    ``ks``: an int ``K`` means every ``k`` in ``1..K``; a sequence lists the sizes. The other
    arguments are those of :func:`nngs_matrix`; ``chance`` as in :func:`pairspace.nngs_chance`.
    """
    if chance not in ("exact", "approx"):
        raise ValueError(f"chance must be 'exact' or 'approx'; got {chance!r}")
    with _graphs_for(spaces, ks, metric, names, search) as g:
        return g.spectrum(ks, chance)


def mutual_knn_matrix(spaces: Sequence[Any] | Mapping[str, Any],
                      k: int | float | Sequence[int | float], metric: str | Sequence[str] = "cosine",
                      *, names: Sequence[str] | None = None, **search: Any) -> np.ndarray:
    """Mutual kNN of every pair (shapes as :func:`nngs_matrix`; see :func:`pairspace.mutual_knn`)."""
    with _graphs_for(spaces, k, metric, names, search) as g:
        return g.mutual_knn(k)


def cknna_matrix(spaces: Sequence[Any] | Mapping[str, Any], k: int | float = 10,
                 metric: str | Sequence[str] = "cosine", *, names: Sequence[str] | None = None,
                 **search: Any) -> np.ndarray:
    """CKNNA of every pair at one ``k``, ``(M, M)`` (see :func:`pairspace.cknna`)."""
    with _graphs_for(spaces, k, metric, names, search) as g:
        return g.cknna(k)


def linear_cka_matrix(spaces: Sequence[Any] | Mapping[str, Any], *,
                      names: Sequence[str] | None = None, debiased: bool = False) -> np.ndarray:
    r"""Linear CKA of every pair, ``(M, M)``, each space centered once.

    .. math:: \mathrm{CKA}(X, Y) = \frac{\lVert \tilde Y^\top \tilde X\rVert_F^2}
              {\lVert \tilde X^\top \tilde X\rVert_F \, \lVert \tilde Y^\top \tilde Y\rVert_F}

    with column-centered :math:`\tilde X, \tilde Y` (Kornblith et al., 2019). ``debiased=True``
    calls :func:`pairspace.linear_cka` per pair.
    """
    from .cka import linear_cka

    nm, mats, _, _ = _rows(spaces, names)
    M = len(mats)
    out = np.eye(M)
    if debiased:
        for a in range(M):
            for b in range(a + 1, M):
                out[a, b] = out[b, a] = linear_cka(mats[a], mats[b], debiased=True)
        return out
    return linear_cka_of(mats, nm)
