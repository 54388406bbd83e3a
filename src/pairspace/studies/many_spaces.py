r"""Many paired spaces at once: similarity matrices, every pair's normalized NNGS spectrum, an
ordering of the spaces, and item-bootstrap intervals.

Each space is searched once at ``k_max`` (:func:`pairspace.search_spaces`); every matrix and every
pair's spectrum comes from merging the kept lists. The spaces are ordered by average-linkage
clustering of the distance :math:`1 - \max(0, \mathrm{NNGS}_n)` at the first reported ``k``
(:math:`\mathrm{NNGS}_n` the normalized NNGS: 0 at chance, 1 for identical graphs).

**Scale of convergence.** For every pair the spectrum :math:`\mathrm{NNGS}_n(k)` is summarized by
the ``k`` where it peaks (the neighborhood size at which the two spaces agree most beyond chance)
and where it is lowest, with the values there. The interval of NNGS at each reported ``k`` is the
percentile bootstrap of the per-item Jaccard over items on the fixed graphs (the ``"items"`` scheme of
:func:`pairspace.bootstrap_ci`); the normalized interval is the same interval mapped through
:math:`v \mapsto (v - E[J]) / (1 - E[J])` (monotone).

Result schema ``pairspace.compare_many/1``
------------------------------------------
``{"schema", "pairspace_version", "created", "command", "inputs", "settings", "results"}`` with
``results``:

``names``
    The spaces, in input order (the rows and columns of every matrix).
``order``
    The names in dendrogram order; ``linkage``: the scipy linkage rows ``[i, j, distance, size]``.
``matrices``
    One entry per measure and ``k``: ``{"measure", "k" (None for linear CKA), "values" (M x M),
    "normalized" (M x M, NNGS only, else None)}``.
``spectrum``
    ``{"k", "chance", "pairs": [{"a", "b", "nngs", "normalized"}]}`` over ``k = 1..k_max``.
``pairs``
    Per pair: ``{"a", "b", "k_peak", "normalized_peak", "k_trough", "normalized_trough", "at":
    [{"k", "nngs", "ci_low", "ci_high", "normalized", "normalized_low", "normalized_high"}],
    "scale_change"}``; ``scale_change`` (None for one ``k``) is ``{"k_from", "k_to", "change",
    "change_low", "change_high"}``: normalized NNGS at the last reported ``k`` minus at the first,
    with its item-bootstrap interval (the same resampled items at both sizes, so the difference is
    paired per item).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import resolve_k
from ..envelope import Envelope, encoder_input, file_input

SCHEMA = "pairspace.compare_many/1"
MEASURES = ("nngs", "mutual_knn", "cknna", "linear_cka")
"""Measures a many-space comparison can tabulate (one matrix per measure and ``k``)."""
DEFAULT_MEASURES = ("nngs", "mutual_knn", "linear_cka")
KNN_MEASURES = ("nngs", "mutual_knn", "cknna")


@dataclass
class ManySpacesResult:
    """Everything :func:`compare_many` computed (see the module docstring for the schema)."""

    names: list[str]
    n: int
    dims: list[int]
    ks: list[int]
    k_max: int
    spectrum: Any  # NNGSMatrix over 1..k_max
    matrices: list[dict[str, Any]]
    pairs: list[dict[str, Any]]
    order: list[str]
    linkage: list[list[float]]
    settings: dict[str, Any]
    envelope: Envelope = field(default_factory=lambda: Envelope.new(SCHEMA))

    @property
    def inputs(self) -> dict[str, Any]:
        """The document's ``inputs``: names, row count, dimensions and the provenance."""
        return {"names": self.names, "n": self.n, "dims": self.dims, **self.envelope.inputs}

    def matrix(self, measure: str, k: int | None = None) -> np.ndarray:
        """The ``(M, M)`` matrix of ``measure`` (at ``k`` for kNN measures)."""
        for m in self.matrices:
            if m["measure"] == measure and (k is None or m["k"] == k):
                return np.asarray(m["values"])
        raise ValueError(f"no matrix for measure {measure!r} at k={k}")

    def to_dict(self) -> dict[str, Any]:
        """The ``pairspace.compare_many/1`` document."""
        sp = self.spectrum
        M = len(self.names)
        pairs = [{"a": self.names[a], "b": self.names[b], "nngs": _clean(sp.nngs[:, a, b]),
                  "normalized": _clean(sp.normalized[:, a, b])}
                 for a in range(M) for b in range(a + 1, M)]
        stamp = Envelope(**{**vars(self.envelope), "inputs": self.inputs})
        return stamp.document(self.settings, {
                "names": self.names, "order": self.order, "linkage": self.linkage,
                "matrices": [{**m, "values": _clean(np.asarray(m["values"])),
                              "normalized": None if m["normalized"] is None
                              else _clean(np.asarray(m["normalized"]))} for m in self.matrices],
                "spectrum": {"k": [int(v) for v in sp.k], "chance": _clean(sp.chance),
                             "pairs": pairs},
                "pairs": self.pairs,
            })


def _clean(a: np.ndarray) -> Any:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        return float(a) if np.isfinite(a) else None
    return [_clean(v) for v in a]


def check_measures(measures: Sequence[str]) -> list[str]:
    """The requested measures, checked against :data:`MEASURES` (order kept, no repeats)."""
    ms = list(dict.fromkeys(measures))
    unknown = [m for m in ms if m not in MEASURES]
    if unknown or not ms:
        raise ValueError(f"unknown measure(s) {unknown}; choose from {', '.join(MEASURES)}")
    return ms


def order_spaces(normalized: np.ndarray) -> tuple[list[int], list[list[float]]]:
    r"""Dendrogram order and linkage of the spaces from a normalized NNGS matrix.

    Average linkage on :math:`D_{ab} = 1 - \max(0, \mathrm{NNGS}_n(a, b))` (0 on the diagonal).
    """
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    M = normalized.shape[0]
    if M < 3:
        return list(range(M)), [[0.0, 1.0, float(1.0 - max(0.0, normalized[0, 1])), 2.0]]
    D = 1.0 - np.clip(np.nan_to_num(normalized, nan=0.0), 0.0, 1.0)
    D = (D + D.T) / 2.0
    np.fill_diagonal(D, 0.0)
    Z = linkage(squareform(D, checks=False), method="average", optimal_ordering=True)
    return [int(v) for v in leaves_list(Z)], [[float(v) for v in row] for row in Z]


def _pair_summary(graphs: Any, spec: Any, a: int, b: int, ks: list[int], n_resamples: int,
                  level: float, seed: int) -> dict[str, Any]:
    from ..stats.bootstrap import _item_bootstrap

    counts = graphs.overlap_counts(a, b)
    kk = np.asarray(ks, dtype=np.int64)
    c = counts[:, kk - 1].astype(np.float64)
    J = c / (2.0 * kk[None, :] - c)
    alpha = 1.0 - level
    at = []
    for j, k in enumerate(ks):
        ch = float(spec.chance[k - 1])
        est = float(J[:, j].mean())
        lo = hi = None
        if n_resamples:
            rng = np.random.default_rng([seed, a, b, k])
            _, reps = _item_bootstrap(J[:, j : j + 1], lambda m: m[..., 0], n_resamples, rng,
                                      "nngs", False)
            lo, hi = (float(v) for v in np.quantile(reps, [alpha / 2, 1 - alpha / 2]))

        def nz(v: float | None, ch: float = ch) -> float | None:
            return None if v is None or ch >= 1.0 else (v - ch) / (1.0 - ch)

        at.append({"k": int(k), "nngs": est, "ci_low": lo, "ci_high": hi, "normalized": nz(est),
                   "normalized_low": nz(lo), "normalized_high": nz(hi)})
    scale = None
    if len(ks) >= 2:
        # paired over items: both sizes are resampled with the same items
        c0, c1 = float(spec.chance[ks[0] - 1]), float(spec.chance[ks[-1] - 1])

        def change(m: np.ndarray) -> np.ndarray:
            return (m[..., 1] - c1) / (1.0 - c1) - (m[..., 0] - c0) / (1.0 - c0)

        pair_J = J[:, [0, len(ks) - 1]]
        est = float(change(pair_J.mean(axis=0)))
        lo = hi = None
        if n_resamples and c0 < 1.0 and c1 < 1.0:
            rng = np.random.default_rng([seed, a, b, 0])
            _, reps = _item_bootstrap(pair_J, change, n_resamples, rng, "nngs", False)
            lo, hi = (float(v) for v in np.quantile(reps, [alpha / 2, 1 - alpha / 2]))
        scale = {"k_from": int(ks[0]), "k_to": int(ks[-1]), "change": est, "change_low": lo,
                 "change_high": hi}
    norm = spec.normalized[:, a, b]
    p = int(np.argmax(np.where(np.isfinite(norm), norm, -np.inf)))
    q = int(np.argmin(np.where(np.isfinite(norm), norm, np.inf)))
    return {"a": graphs.names[a], "b": graphs.names[b], "k_peak": int(spec.k[p]),
            "normalized_peak": float(norm[p]), "k_trough": int(spec.k[q]),
            "normalized_trough": float(norm[q]), "at": at, "scale_change": scale}


def compare_many(
    spaces: Sequence[Any] | Mapping[str, Any],
    ks: Sequence[int] = (10,),
    k_max: int | None = 100,
    *,
    names: Sequence[str] | None = None,
    metric: str | Sequence[str] = "cosine",
    chance: str = "exact",
    measures: Sequence[str] = DEFAULT_MEASURES,
    bootstrap: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    progress: bool | None = None,
    provenance: Mapping[str, Any] | None = None,
    **search: Any,
) -> ManySpacesResult:
    """Compare ``M`` paired spaces: matrices at ``ks``, every pair's spectrum up to ``k_max``.

    Parameters
    ----------
    spaces : sequence or mapping
        Paired spaces with the same rows (see :func:`pairspace.search_spaces`).
    ks : sequence of int
        Neighborhood sizes of the matrices (and of the intervals); the first orders the spaces.
    k_max : int or None
        Largest ``k`` of the spectra (capped at ``n - 1``; None: ``max(ks)``).
    names, metric : see :func:`pairspace.search_spaces`.
    chance : {"exact", "approx"}
        Chance level of the normalization (:func:`pairspace.nngs_chance`).
    measures : sequence of str
        From :data:`MEASURES`.
    bootstrap : int
        Item-bootstrap resamples of each pair's NNGS at each ``k`` (0: no intervals).
    level : float
        Interval coverage.
    seed : int
        Seed of the resampling.
    progress : bool or None
        Progress bars of the searches (None: only on a terminal).
    provenance : mapping, optional
        Where the spaces come from (``files``, ``texts``, ``encoders``; see
        :func:`gather_spaces`), recorded in the document's ``inputs``.
    **search
        Options of :func:`pairspace.search_spaces` and :func:`pairspace.knn`.

    Returns
    -------
    ManySpacesResult
    """
    from ..measures.many import _metrics, resolve_spaces
    from ..measures.nngs import CHANCE_METHODS
    from ..measures.space_graphs import SpaceGraphs

    ms = check_measures(measures)
    if chance not in CHANCE_METHODS:
        raise ValueError(f"chance must be one of {', '.join(CHANCE_METHODS)}; got {chance!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1); got {level}")
    if isinstance(bootstrap, bool) or int(bootstrap) < 0 or int(bootstrap) == 1:
        raise ValueError(f"bootstrap must be 0 or at least 2 resamples; got {bootstrap}")
    nm, mats, ids, sources = resolve_spaces(spaces, names)
    n = int(np.shape(mats[0])[0])
    kvals = list(dict.fromkeys(resolve_k(int(k), n) for k in ks))
    if not kvals:
        raise ValueError("ks is empty")
    K = max(kvals) if k_max is None else max(min(int(k_max), n - 1), max(kvals))
    metrics = _metrics(metric, len(mats))
    with SpaceGraphs(nm, mats, K, metrics, ids, sources, progress=progress, **search) as g:
        spec = g.spectrum(None, chance)
        matrices: list[dict[str, Any]] = []
        knn_vals = g.knn_matrices(kvals, [m for m in ms if m in ("nngs", "mutual_knn")]) \
            if any(m in ("nngs", "mutual_knn") for m in ms) else {}
        for m in ms:
            if m == "linear_cka":
                matrices.append({"measure": m, "k": None, "values": g.linear_cka(),
                                 "normalized": None})
                continue
            for j, k in enumerate(kvals):
                vals = knn_vals[m][j] if m in knn_vals else g.cknna(k)
                norm = spec.normalized[k - 1] if m == "nngs" else None
                matrices.append({"measure": m, "k": int(k), "values": vals, "normalized": norm})
        pairs = [_pair_summary(g, spec, a, b, kvals, int(bootstrap), level, seed)
                 for a, b in g.pairs()]
        order, link = order_spaces(spec.normalized[kvals[0] - 1])
        dims = [int(s.shape[1]) for s in g.spaces]
        inputs = {"sources": g.sources, "has_ids": ids is not None,
                  "recall": g.recall, **dict(provenance or {})}
    settings = {"ks": kvals, "k_max": K, "metrics": metrics, "chance": chance, "measures": ms,
                "bootstrap": int(bootstrap), "level": level, "seed": seed,
                "order_by": f"average linkage of 1 - normalized NNGS at k={kvals[0]}"}
    return ManySpacesResult(nm, n, dims, kvals, K, spec, matrices, pairs,
                            [nm[i] for i in order], link, settings, Envelope.new(SCHEMA, inputs))


def load_spaces(paths: Sequence[str], names: Sequence[str] | None = None) -> dict[str, Any]:
    """Read space files (any format of :func:`pairspace.data.io.load_space`) by name.

    ``names`` defaults to the file names without their suffix (made unique with the parent
    folder when two files share a name).
    """
    from pathlib import Path

    from ..data.io import load_space

    if names is not None and len(names) != len(paths):
        raise ValueError(f"{len(names)} names for {len(paths)} input files")
    if names is None:
        stems = [Path(p).stem for p in paths]
        names = [f"{Path(p).parent.name}/{s}" if stems.count(s) > 1 else s
                 for p, s in zip(paths, stems, strict=True)]
    if len(set(names)) != len(names):
        raise ValueError(f"space names must be unique; got {list(names)}")
    return {str(nm): load_space(p) for nm, p in zip(names, paths, strict=True)}


def embed_texts(texts: Sequence[str], encoders: Sequence[str],
                options: Mapping[str, Mapping[str, Any]] | None = None, *, batch_size: int = 64,
                progress: bool | None = None, existing: Mapping[str, Any] | None = None
                ) -> dict[str, np.ndarray]:
    """Embed ``texts`` with every encoder; a layered encoder (``layers=...``) gives one space per
    layer, named ``NAME:layerL``.

    Parameters
    ----------
    texts : sequence of str
        The items (rows of every space).
    encoders : sequence of str
        Registered encoder names (:func:`pairspace.encoders.get`), each optionally given a space
        name as ``NAME=ENCODER`` (``glove=word-vectors``).
    options : mapping, optional
        Space name (or encoder name) -> the encoder's options.
    batch_size : int
        Items per encoder call.
    progress : bool or None
        Progress bars of the encoders.
    existing : mapping, optional
        Names already taken (a clash is an error).
    """
    return _embed(texts, encoders, options, batch_size, progress, existing)[0]


def _embed(texts: Sequence[str], encoders: Sequence[str],
           options: Mapping[str, Mapping[str, Any]] | None, batch_size: int,
           progress: bool | None, existing: Mapping[str, Any] | None
           ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """:func:`embed_texts` and, per space name given, the encoder's provenance and options."""
    from ..encoders import get

    options = options or {}
    taken = set(existing or {})
    out: dict[str, np.ndarray] = {}
    info: dict[str, Any] = {}
    for spec in dict.fromkeys(encoders):
        name, _, encoder = spec.partition("=") if "=" in spec else (spec, "", spec)
        if not name or not encoder:
            raise ValueError(f"--encoders entry {spec!r} must be ENCODER or NAME=ENCODER")
        opts = dict(options.get(name, {}))
        enc = get(encoder, **opts)
        vecs = enc.encode(list(texts), batch_size=batch_size, progress=progress)
        layer_names = getattr(enc, "layer_names", None)
        if vecs.ndim == 3:
            parts = {f"{name}:{ln}": vecs[:, j] for j, ln in enumerate(layer_names)}
        else:
            parts = {name: vecs}
        clash = sorted(taken & set(parts))
        if clash:
            raise ValueError(f"space name(s) {clash} are used twice")
        taken |= set(parts)
        out.update(parts)
        info[name] = {"encoder": encoder, "options": {k: str(v) for k, v in opts.items()},
                      "spaces": list(parts), "provenance": encoder_input(enc)}
    return out, info


def gather_spaces(paths: Sequence[str] = (), names: Sequence[str] | None = None, *,
                  texts: str | None = None, encoders: Sequence[str] = (),
                  options: Mapping[str, Mapping[str, Any]] | None = None, batch_size: int = 64,
                  progress: bool | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The spaces of a many-space comparison and where they come from.

    Parameters
    ----------
    paths, names : see :func:`load_spaces`.
    texts : str, optional
        A text file, one item per line (blank lines skipped), embedded by every encoder.
    encoders, options, batch_size, progress : see :func:`embed_texts`.

    Returns
    -------
    spaces : dict
        Space name -> matrix or table, files first.
    provenance : dict
        ``{"files": {name: {path, size, sha256}}, "texts": {path, size, sha256, n_items},
        "encoders": {name: {encoder, options, spaces, provenance}}}`` (keys present when used),
        for :func:`compare_many`'s ``provenance``.
    """
    from pathlib import Path

    if encoders and not texts:
        raise ValueError("--encoders needs --texts (the items to embed)")
    if texts and not encoders:
        raise ValueError("--texts needs --encoders")
    spaces = load_spaces(paths, names)
    prov: dict[str, Any] = {}
    if paths:
        prov["files"] = {nm: file_input(p) for nm, p in zip(spaces, paths, strict=True)}
    if texts:
        items = [t for t in Path(texts).read_text(encoding="utf-8").splitlines() if t.strip()]
        embedded, info = _embed(items, encoders, options, batch_size, progress, spaces)
        spaces.update(embedded)
        prov["texts"] = {**file_input(texts), "n_items": len(items)}
        prov["encoders"] = info
    return spaces, prov
