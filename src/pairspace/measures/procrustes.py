r"""The orthogonal Procrustes distance between two paired representations.

Schönemann (1966); Ding, Denain & Steinhardt (NeurIPS 2021). After centering the columns and
scaling each space to unit Frobenius norm,

.. math:: d_P(X, Y) = \min_{Q^\top Q = I} \|X - Y Q\|_F = \sqrt{2 - 2\|X^\top Y\|_*},

with :math:`\|\cdot\|_*` the nuclear norm (the narrower space is implicitly zero-padded). In
:math:`[0, \sqrt 2]`, 0 iff the spaces agree up to rotation, translation and scale.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_pair
from .cka import _centered_cross


def procrustes(X: Any, Y: Any) -> float:
    r"""Orthogonal Procrustes distance after centering and scaling to unit Frobenius norm.

    .. math:: d_P(X, Y) = \sqrt{2 - 2\|X^\top Y\|_*}

    Parameters
    ----------
    X, Y : array-like, shapes (n, dx) and (n, dy)
        Paired point clouds; ``dx`` may differ from ``dy``.

    Returns
    -------
    float
        In ``[0, sqrt(2)]`` (lower = more similar); 0 iff Y is a rotation/reflection of X up to
        translation and isotropic scale.

    References
    ----------
    Schönemann, Psychometrika 1966; Ding, Denain & Steinhardt, "Grounding representation
    similarity with statistical testing", NeurIPS 2021.
    """
    A, B = check_pair(X, Y, dtype=None)
    nx = float(np.trace(_centered_cross(A, A)))
    ny = float(np.trace(_centered_cross(B, B)))
    if nx <= 0.0 or ny <= 0.0:
        raise ValueError("a space is constant (zero variance); the Procrustes distance is undefined")
    nuc = float(np.linalg.svd(_centered_cross(A, B), compute_uv=False).sum()) / np.sqrt(nx * ny)
    return float(np.sqrt(max(2.0 - 2.0 * nuc, 0.0)))
