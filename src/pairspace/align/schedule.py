r"""The learning-rate schedule of head training: linear warm-up, then cosine decay to 0."""

from __future__ import annotations

import math


def lr_at(step: int, total: int, base: float, warmup: float) -> float:
    r"""Learning rate of step ``step`` (0-based) out of ``total``.

    With :math:`w = \lceil \text{warmup} \cdot \text{total} \rceil` warm-up steps,

    .. math::

        \eta_s = \begin{cases} \eta\,(s+1)/w & s < w \\
        \tfrac{\eta}{2}\bigl(1 + \cos(\pi \min(1, \tfrac{s - w}{\max(1, \text{total} - w)}))\bigr)
        & s \ge w \end{cases}

    (the warm-up + cosine schedule of CLIP, Radford et al. 2021, and Microsoft CLAP).
    """
    w = int(math.ceil(warmup * total))
    if step < w:
        return base * (step + 1) / w
    prog = (step - w) / max(1, total - w)
    return base * 0.5 * (1.0 + math.cos(math.pi * min(1.0, prog)))
