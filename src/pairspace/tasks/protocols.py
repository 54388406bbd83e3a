r"""Zero-shot evaluation protocols: which prompts, whether they are ensembled, how the set is split.

Two presets (:data:`PROTOCOLS`):

``ensemble`` (the default of ``pairspace zeroshot``)
    The templates given by the caller, averaged per class (Radford et al., ICML 2021; see
    :func:`pairspace.tasks.zeroshot.classifier_weights`), one score over every item of the table.
``msclap-p3``
    The published MS-CLAP zero-shot protocol P3 (Elizalde et al., "CLAP: Learning Audio Concepts
    from Natural Language Supervision", ICASSP 2023; the setting compared in Wang et al. 2023,
    arXiv 2305.01864): one prompt, ``"this is a sound of " + label`` (the shipped template set
    ``msclap_p3``), no ensembling, so :math:`w_c = e_c / \|e_c\|`. A table with a ``subset`` column
    (the TUT Acoustic Scenes 2017 evaluation set) is scored on its ``subset == "evaluation"`` rows;
    otherwise a table with a ``fold`` column (ESC-50 folds 1-5, UrbanSound8K folds 1-10) is scored
    per fold and summarised by the mean and population standard deviation over folds
    (:func:`pairspace.tasks.zeroshot.fold_metrics`). A table with neither column is refused.

The protocol fixes the prompt: :func:`protocol_templates` refuses a different template set instead of
silently using one or the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .zeroshot import ZeroShotClassifier, fold_metrics, zeroshot_metrics

_KEYS = ("top1", "top5", "balanced_accuracy")


@dataclass(frozen=True)
class Protocol:
    """A zero-shot evaluation protocol.

    Attributes
    ----------
    name : str
        Preset name (a key of :data:`PROTOCOLS`).
    templates : str or None
        The shipped template set the protocol prescribes; None when the caller chooses.
    ensemble : bool
        Average several templates per class; False requires exactly one prompt per class.
    split : str
        ``"all"`` (one score over every item) or ``"official"`` (the ``subset == "evaluation"``
        rows of a table with a ``subset`` column, else the per-fold mean and std of a ``fold``
        column).
    description : str
        One line for outputs and help.
    """

    name: str
    templates: str | None
    ensemble: bool
    split: str
    description: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {"name": self.name, "templates": self.templates, "ensemble": self.ensemble,
                "split": self.split, "description": self.description}


PROTOCOLS: dict[str, Protocol] = {
    "ensemble": Protocol("ensemble", None, True, "all",
                         "the given templates averaged per class; one score over all items"),
    "msclap-p3": Protocol("msclap-p3", "msclap_p3", False, "official",
                          "MS-CLAP P3: one prompt 'this is a sound of ' + label, no ensembling; "
                          "per-fold mean and std (ESC-50, UrbanSound8K) or the TUT2017 "
                          "evaluation subset"),
}


#: The protocol names (the keys of :data:`PROTOCOLS`; ``pairspace zeroshot --protocol`` reads them).
PROTOCOL_NAMES = tuple(PROTOCOLS)


def get_protocol(name: str | Protocol) -> Protocol:
    """The preset called ``name`` (a :class:`Protocol` passes through); unknown names are an error."""
    if isinstance(name, Protocol):
        return name
    if name not in PROTOCOLS:
        raise ValueError(f"unknown zero-shot protocol {name!r}; known: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]


def protocol_templates(protocol: str | Protocol, templates: str | None = None) -> Any:
    """The :class:`~pairspace.data.templates.TemplateSet` a protocol evaluates with.

    ``templates`` (a shipped name or a file, as for
    :func:`~pairspace.data.templates.load_templates`) is required when the protocol leaves the
    choice open, and may only repeat the prescribed set otherwise (anything else is a
    ``ValueError``: the two never silently contradict each other).
    """
    from ..data.templates import load_templates

    p = get_protocol(protocol)
    if p.templates is None:
        if templates is None:
            raise ValueError(f"the {p.name} protocol needs templates (--templates NAME or a file)")
        return load_templates(templates)
    if templates is not None and str(templates) != p.templates:
        raise ValueError(f"the {p.name} protocol prescribes the template set {p.templates!r}; "
                         f"got templates {str(templates)!r} (drop them, or use the ensemble "
                         "protocol to evaluate other templates)")
    return load_templates(p.templates)


def protocol_split(protocol: str | Protocol, n: int,
                   columns: Mapping[str, Sequence[Any]] | None = None) -> dict[str, Any]:
    """Which rows a protocol scores and how: ``{"kind", "rows", "folds"}``.

    ``kind`` is ``"all"``, ``"subset"`` (rows with ``subset == "evaluation"``; ``rows`` is their
    index array) or ``"folds"`` (``folds`` is the fold of every row, compared as given).
    """
    p = get_protocol(protocol)
    cols = dict(columns or {})
    if p.split == "all":
        return {"kind": "all", "rows": np.arange(n), "folds": None}
    if "subset" in cols:
        sub = np.asarray([str(v) for v in cols["subset"]])
        rows = np.flatnonzero(sub == "evaluation")
        if rows.size == 0:
            raise ValueError(f"the {p.name} protocol scores the subset == 'evaluation' rows, and the "
                             f"table has none (subsets: {sorted(set(sub.tolist()))[:5]})")
        return {"kind": "subset", "rows": rows, "folds": None}
    if "fold" in cols:
        folds = np.asarray(cols["fold"])
        if any(v is None for v in folds.tolist()):
            raise ValueError("the fold column has missing values")
        return {"kind": "folds", "rows": np.arange(n), "folds": folds}
    raise ValueError(f"the {p.name} protocol needs a 'fold' column (ESC-50, UrbanSound8K) or a "
                     "'subset' column (TUT2017 evaluation set); this table has "
                     f"{', '.join(sorted(cols)) or 'no extra columns'}")


def evaluate_protocol(protocol: str | Protocol, media: Any, labels: Sequence[Any],
                      prompt_embeddings: Any, class_names: Sequence[str],
                      columns: Mapping[str, Sequence[Any]] | None = None,
                      templates: Sequence[str] | None = None) -> dict[str, Any]:
    r"""Zero-shot metrics of media embeddings under a protocol.

    Parameters
    ----------
    protocol : str or Protocol
        A preset name of :data:`PROTOCOLS`.
    media : array-like, shape (n, d)
        Media embeddings in the text space (e.g. projected by trained heads).
    labels : sequence, length n
        Class name (or index) of each item.
    prompt_embeddings : array-like, shape (T, C, d) or (C, d)
        Prompt embeddings :math:`e_{t,c}` (:func:`~pairspace.tasks.zeroshot.text_embeddings_for`).
        Without ensembling ``T`` must be 1.
    class_names : sequence of str
        The ``C`` candidate classes.
    columns : mapping, optional
        Extra per-item columns of the table (``fold``, ``subset``).
    templates : sequence of str, optional
        The template texts, recorded in the output as ``prompts``.

    Returns
    -------
    dict
        ``protocol`` (its fields), ``prompts``, ``split`` (``kind``; ``folds`` or ``subset`` and
        ``n``), ``top1``, ``top5``, ``balanced_accuracy`` (the fold means under a fold split),
        ``chance``, ``n_classes``, ``n``, ``classes`` (the class names, in the order of the
        confusion matrix) and ``confusion`` (``C x C`` counts over every scored item as nested
        lists of int: :math:`N_{ij} = \#\{\text{items of class } i \text{ predicted as } j\}`, row
        = true class, column = top-1 predicted class; under a fold split the sum of the per-fold
        matrices); under a fold split ``std`` (over folds) and ``per_fold`` (fold -> ``top1``,
        ``top5``, ``balanced_accuracy``, ``n``); otherwise ``per_class``.
    """
    p = get_protocol(protocol)
    E = np.asarray(prompt_embeddings, dtype=np.float64)
    if not p.ensemble and E.ndim == 3 and E.shape[0] != 1:
        raise ValueError(f"the {p.name} protocol uses one prompt per class without ensembling; "
                         f"got {E.shape[0]} templates")
    lab = np.asarray(list(labels))
    split = protocol_split(p, len(lab), columns)
    rows = split["rows"]
    clf = ZeroShotClassifier.from_prompt_embeddings(E, class_names)
    S = clf.scores(np.asarray(media)[rows])
    whole = zeroshot_metrics(S, lab[rows], clf.class_names)  # every scored item at once
    out: dict[str, Any] = {"protocol": p.to_dict(),
                           "prompts": list(templates) if templates is not None else None,
                           "split": {"kind": split["kind"], "n": int(rows.size)},
                           "classes": list(clf.class_names),
                           "confusion": whole.pop("confusion").tolist()}
    if split["kind"] == "folds":
        res = fold_metrics(S, lab[rows], split["folds"][rows], clf.class_names)
        out["split"]["folds"] = list(res["folds"])
        out.update({k: res["mean"][k] for k in _KEYS})
        out["std"] = dict(res["std"])
        out["per_fold"] = {f: {**{k: m[k] for k in _KEYS}, "n": m["n"]}
                           for f, m in res["folds"].items()}
        out.update(chance=1.0 / len(class_names), n_classes=len(class_names), n=int(rows.size))
        return out
    if split["kind"] == "subset":
        out["split"]["subset"] = "evaluation"
    out.update({k: whole[k] for k in (*_KEYS, "chance", "n_classes", "n", "per_class")})
    return out
