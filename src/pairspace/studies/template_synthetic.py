r"""The synthetic zero-shot model of the template study's tests, examples and benchmarks.

:func:`synthetic_zeroshot` is re-exported by :mod:`pairspace.studies.templates` (its former home).
"""

from __future__ import annotations

import numpy as np

__all__ = ["synthetic_zeroshot"]


def synthetic_zeroshot(n_classes: int = 30, per_class: int = 20, dim: int = 24, n_templates: int = 16,
                       media_noise: float = 0.6, text_noise: tuple[float, float] = (0.2, 2.0),
                       seed: int = 0) -> dict[str, float]:
    r"""A synthetic aligned zero-shot model built from shared class prototypes.

    Prototypes :math:`p_c \sim \mathcal{N}(0, I_d)`; media :math:`x_i = p_{y_i} + \sigma_m \epsilon_i`;
    template :math:`t` embeds class :math:`c` as :math:`e_{t,c} = p_c + \sigma_t \eta_{t,c}` with the
    template noise :math:`\sigma_t` spread evenly over ``text_noise``. Noisier templates give both a
    less similar text space and a less accurate classifier.

    Returns
    -------
    dict
        ``media`` (n x d), ``labels`` (n,), ``class_names``, ``templates`` (with a ``{}``),
        ``groups`` ("low noise" / "high noise"), ``text_embeddings`` (T x C x d), ``text_noise`` (T,).
    """
    rng = np.random.default_rng(seed)
    P = rng.normal(size=(n_classes, dim))
    y = np.repeat(np.arange(n_classes), per_class)
    media = P[y] + media_noise * rng.normal(size=(y.size, dim))
    sig = np.linspace(text_noise[0], text_noise[1], n_templates)
    E = P[None] + sig[:, None, None] * rng.normal(size=(n_templates, n_classes, dim))
    mid = np.median(sig)
    return {"media": media, "labels": y, "class_names": [f"class {c}" for c in range(n_classes)],
            "templates": [f"template {t}: {{}}" for t in range(n_templates)],
            "groups": ["low noise" if s <= mid else "high noise" for s in sig],
            "text_embeddings": E, "text_noise": sig}
