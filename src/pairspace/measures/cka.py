r"""Centered kernel alignment (CKA).

Linear CKA (Kornblith et al., "Similarity of Neural Network Representations Revisited", ICML 2019),
computed in feature space in :math:`O(n (d_x + d_y)^2)` without an :math:`n \times n` Gram matrix:
with column-centered :math:`X` and :math:`Y`,

.. math:: \mathrm{CKA}(X, Y) = \frac{\|Y^\top X\|_F^2}{\|X^\top X\|_F \, \|Y^\top Y\|_F}.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_pair


def _centered_cross(A: np.ndarray, B: np.ndarray, block_rows: int = 65536) -> np.ndarray:
    """:math:`(A - \\bar A)^\\top (B - \\bar B)` in float64, accumulated over row blocks."""
    n = A.shape[0]
    ma = np.zeros(A.shape[1])
    mb = np.zeros(B.shape[1])
    cross = np.zeros((A.shape[1], B.shape[1]))
    for s in range(0, n, block_rows):
        a = np.asarray(A[s : s + block_rows], dtype=np.float64)
        b = np.asarray(B[s : s + block_rows], dtype=np.float64)
        ma += a.sum(0)
        mb += b.sum(0)
        cross += a.T @ b
    ma /= n
    mb /= n
    return cross - n * np.outer(ma, mb)


def linear_cka(X: Any, Y: Any) -> float:
    r"""Linear CKA of two paired spaces, in feature space.

    .. math:: \mathrm{CKA}(X, Y) = \frac{\|Y_c^\top X_c\|_F^2}{\|X_c^\top X_c\|_F\,\|Y_c^\top Y_c\|_F}

    Parameters
    ----------
    X, Y : array-like, shapes (n, dx) and (n, dy)
        Paired point clouds (columns are centered internally).

    Returns
    -------
    float
        In ``[0, 1]``; invariant to orthogonal transforms and isotropic scaling of either space.

    References
    ----------
    Kornblith, Norouzi, Lee & Hinton, ICML 2019.
    """
    A, B = check_pair(X, Y, dtype=None)
    xy = _centered_cross(A, B)
    xx = _centered_cross(A, A)
    yy = _centered_cross(B, B)
    den = np.linalg.norm(xx) * np.linalg.norm(yy)
    if den == 0.0:
        raise ValueError("linear CKA is undefined when a space is constant (zero variance)")
    return float(np.sum(xy * xy) / den)
