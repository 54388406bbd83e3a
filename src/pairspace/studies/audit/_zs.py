"""The audit's zero-shot path: projections of trained heads and the toolkit's one classifier.

Every zero-shot number of the audit (controls, generalized zero-shot, the backbone comparison)
and every projected space goes through :func:`project_audio`, :func:`project_text` and
:func:`class_scores`. The classifier is the toolkit's own
(:class:`pairspace.tasks.zeroshot.ZeroShotClassifier`, the class weights of
:func:`~pairspace.tasks.zeroshot.build_zero_shot_classifier`) built from the projected prompts; the
audit keeps its prompts as text-backbone rows (T, C, d) because each control projects them with its
own heads. The heads' sides are ``project_a`` (audio) and ``project_b`` (text).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def project_audio(model: Any, X: Any) -> np.ndarray:
    """L2-normalized audio-side projections (``project_a``) of backbone rows (n, dim)."""
    return model.project_a(np.asarray(X, dtype=np.float32))


def project_text(model: Any, X: Any) -> np.ndarray:
    """L2-normalized text-side projections (``project_b``) of backbone rows (n, dim); a (T, C, d)
    array keeps its shape."""
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 3:
        T, C, d = X.shape
        return model.project_b(X.reshape(T * C, d)).reshape(T, C, -1)
    return model.project_b(X)


def classifier(model: Any, prompts: Any, classes: Any = None) -> Any:
    """The toolkit's :class:`~pairspace.tasks.zeroshot.ZeroShotClassifier` of the projected prompts
    (text-backbone rows (T, C, d) or (C, d)); ``classes`` default ``0 .. C-1``."""
    from ...tasks.zeroshot import ZeroShotClassifier

    P = np.asarray(prompts, dtype=np.float32)
    if P.ndim == 2:
        P = P[None]
    names = [str(i) for i in range(P.shape[1])] if classes is None else list(classes)
    return ZeroShotClassifier.from_prompt_embeddings(project_text(model, P), names)


def class_scores(model: Any, audio: Any, prompts: Any) -> np.ndarray:
    r"""Zero-shot scores :math:`s_{ic} = \cos(g_a(x_i), w_c)` of projected clips against the
    template-ensembled projected prompts :math:`w_c` (Radford et al., ICML 2021), (n, C).
    """
    return classifier(model, prompts).scores(project_audio(model, audio))
