"""The audit's one zero-shot path: projections and class scores of trained heads.

Every zero-shot number of the audit (controls, generalized zero-shot, the backbone comparison)
and every projected space goes through :func:`project_audio`, :func:`project_text` and
:func:`class_scores`; when the toolkit's zero-shot path or the heads' method names move, only this
module changes.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def project_audio(model: Any, X: Any) -> np.ndarray:
    """L2-normalized audio-side projections of backbone rows (n, dim)."""
    return model.project_audio(np.asarray(X, dtype=np.float32))


def project_text(model: Any, X: Any) -> np.ndarray:
    """L2-normalized text-side projections of backbone rows (n, dim); a (T, C, d) array keeps its shape."""
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 3:
        T, C, d = X.shape
        return model.project_text(X.reshape(T * C, d)).reshape(T, C, -1)
    return model.project_text(X)


def class_scores(model: Any, audio: Any, prompts: Any) -> np.ndarray:
    r"""Zero-shot scores :math:`s_{ic} = \cos(g_a(x_i), w_c)` of projected clips against the
    template-ensembled projected prompts :math:`w_c` (``prompts``: text-backbone rows (T, C, d)).
    """
    from ._api import classifier_weights, zeroshot_scores

    P = np.asarray(prompts, dtype=np.float32)
    if P.ndim == 2:
        P = P[None]
    return zeroshot_scores(project_audio(model, audio), classifier_weights(project_text(model, P)))
