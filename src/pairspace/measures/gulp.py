r"""GULP: the distance between representations by what a linear read-out can do with them.

**GULP** (Boix-Adsera, Lawrence, Stepaniants & Rigollet, "GULP: a prediction-based metric between
representations", NeurIPS 2022). With column-centered features, covariances
:math:`\Sigma_X = X^\top X / n`, :math:`\Sigma_{XY} = X^\top Y / n` and the ridge inverses
:math:`\Sigma_X^{-\lambda} = (\Sigma_X + \lambda I)^{-1}`,

.. math::

    d_\lambda^2(X, Y) = \mathrm{tr}\big((\Sigma_X^{-\lambda}\Sigma_X)^2\big)
      + \mathrm{tr}\big((\Sigma_Y^{-\lambda}\Sigma_Y)^2\big)
      - 2\,\mathrm{tr}\big(\Sigma_X^{-\lambda}\Sigma_{XY}\Sigma_Y^{-\lambda}\Sigma_{YX}\big),

which equals :math:`\|P_X - P_Y\|_F^2` for the in-sample ridge hat matrices
:math:`P_X = X (X^\top X + n\lambda I)^{-1} X^\top`: the mean squared difference of the two
``lambda``-ridge predictors over isotropic random targets. GULP is a distance (lower = more
similar), invariant to orthogonal transforms; as :math:`\lambda \to 0` it becomes invariant to
every invertible linear map (CCA-like). It costs :math:`O(n d^2 + d^3)`.

The orthogonal Procrustes distance lives in :mod:`pairspace.measures.procrustes` (re-exported
here).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_pair
from .cka import _centered_cross
from .procrustes import procrustes


def _total_variance(xx: np.ndarray) -> float:
    """Total variance ``tr(xx)`` (the divisor giving ``tr(cov) = 1``), rejecting constant spaces."""
    tr = float(np.trace(xx))
    if tr <= 0.0:
        raise ValueError("a space is constant (zero variance); the distance is undefined")
    return tr


def gulp(X: Any, Y: Any, lam: float = 1e-2, normalize: bool = True) -> float:
    r"""GULP distance between two paired representations (lower = more similar).

    .. math:: d_\lambda(X, Y) = \big(\mathrm{tr}((\Sigma_X^{-\lambda}\Sigma_X)^2)
              + \mathrm{tr}((\Sigma_Y^{-\lambda}\Sigma_Y)^2)
              - 2\,\mathrm{tr}(\Sigma_X^{-\lambda}\Sigma_{XY}\Sigma_Y^{-\lambda}\Sigma_{YX})\big)^{1/2}

    Parameters
    ----------
    X, Y : array-like, shapes (n, dx) and (n, dy)
        Paired point clouds (columns are centered internally).
    lam : float
        Ridge penalty :math:`\lambda > 0` (``0`` is allowed and uses pseudo-inverses: the CCA-like
        limit).
    normalize : bool
        Scale each space to unit total variance :math:`\mathrm{tr}(\Sigma) = 1` first, so that
        ``lam`` has the same meaning for spaces of any scale (default). The published code leaves
        scaling to the caller.

    Returns
    -------
    float
        In ``[0, sqrt(dx + dy)]``; 0 for identical spaces.

    References
    ----------
    Boix-Adsera et al., "GULP: a prediction-based metric between representations", NeurIPS 2022.
    """
    if lam < 0 or not np.isfinite(lam):
        raise ValueError(f"lam must be a finite number >= 0; got {lam}")
    A, B = check_pair(X, Y, dtype=None)
    n = A.shape[0]
    sc = normalize  # the rescaling to unit total variance makes the power-of-two prescaling exact
    sxx = _centered_cross(A, A, scaled=sc) / n
    syy = _centered_cross(B, B, scaled=sc) / n
    sxy = _centered_cross(A, B, scaled=sc) / n
    if normalize:
        fx, fy = _total_variance(sxx), _total_variance(syy)
        sxx, syy, sxy = sxx / fx, syy / fy, sxy / np.sqrt(fx * fy)
    ex, ux = np.linalg.eigh(sxx)
    ey, uy = np.linalg.eigh(syy)
    ex, ey = np.clip(ex, 0.0, None), np.clip(ey, 0.0, None)

    def inv(e: np.ndarray) -> np.ndarray:
        tol = e.max(initial=0.0) * max(sxx.shape[0], syy.shape[0]) * np.finfo(float).eps
        with np.errstate(divide="ignore"):
            return np.where(e + lam > tol, 1.0 / (e + lam), 0.0)

    ix, iy = inv(ex), inv(ey)
    t1 = float(np.sum((ex * ix) ** 2))
    t2 = float(np.sum((ey * iy) ** 2))
    # tr(Sx^-l Sxy Sy^-l Syx) in the eigenbases: M = Ux^T Sxy Uy, sum_ab ix_a M_ab^2 iy_b
    M = ux.T @ sxy @ uy
    t3 = float(np.einsum("a,ab,b->", ix, M * M, iy))
    return float(np.sqrt(max(t1 + t2 - 2.0 * t3, 0.0)))


__all__ = ["gulp", "procrustes"]
