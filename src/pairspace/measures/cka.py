r"""Centered kernel alignment (CKA): linear (feature space) and RBF (Gram matrices).

Linear CKA (Kornblith et al., "Similarity of Neural Network Representations Revisited", ICML 2019),
computed in feature space in :math:`O(n (d_x + d_y)^2)` without an :math:`n \times n` Gram matrix:
with column-centered :math:`X` and :math:`Y`,

.. math:: \mathrm{CKA}(X, Y) = \frac{\|Y^\top X\|_F^2}{\|X^\top X\|_F \, \|Y^\top Y\|_F}.

**Debiased CKA.** Replacing the biased HSIC by the unbiased estimator of Song et al. (2012),

.. math::

    \mathrm{HSIC}_1(K, L) = \frac{1}{n(n-3)} \Big[ \mathrm{tr}(\tilde K \tilde L)
      + \frac{\mathbf 1^\top \tilde K \mathbf 1 \; \mathbf 1^\top \tilde L \mathbf 1}{(n-1)(n-2)}
      - \frac{2}{n-2} \mathbf 1^\top \tilde K \tilde L \mathbf 1 \Big],

where :math:`\tilde K` is :math:`K` with its diagonal set to zero, gives debiased CKA
:math:`\mathrm{HSIC}_1(K, L) / \sqrt{\mathrm{HSIC}_1(K, K)\,\mathrm{HSIC}_1(L, L)}` (Kornblith et al.
2019, Sec. 3 and appendix), which is near 0 for independent spaces even when :math:`d \gg n`.

For the linear kernel :math:`K = XX^\top` every term has a feature-space form. With row norms
:math:`a_i = \|x_i\|^2`, :math:`b_i = \|y_i\|^2` and column sums :math:`s = X^\top \mathbf 1`,
:math:`t = Y^\top \mathbf 1`:

.. math::

    \mathrm{tr}(\tilde K \tilde L) = \|X^\top Y\|_F^2 - a^\top b, \qquad
    \mathbf 1^\top \tilde K \mathbf 1 = \|s\|^2 - \mathbf 1^\top a,

    \mathbf 1^\top \tilde K \tilde L \mathbf 1 = (Xs - a)^\top (Yt - b)
      = s^\top (X^\top Y) t - s^\top X^\top b - t^\top Y^\top a + a^\top b,

all accumulated in one pass over row blocks (:math:`O(n d^2)` time, :math:`O(d^2)` memory). The
unbiased HSIC is invariant to translating either space; the columns are centered first only for
numerical accuracy.

RBF CKA builds the two :math:`n \times n` Gram matrices :math:`K_{ij} = \exp(-\|x_i - x_j\|^2 /
(2\sigma^2))`, so it refuses inputs above ``max_n`` items. Its default width is a fraction of the
median *distance* (``bandwidth="median_distance"``, Kornblith et al. 2019); the reference code of
Tavares, Ayres & Smaragdis (arXiv 2411.08687, ``estimate_sigma``) takes the fraction of the median
*squared* distance, ``bandwidth="median_squared_distance"`` (:func:`rbf_cka_paper`). That width is
not a length (it grows with the square of the data's scale), so the value depends on the units of
the embeddings; it is offered to reproduce the paper, not as a default.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_pair

RBF_MAX_N = 5000
RBF_SIGMA_FRACTION = 0.8
RBF_BANDWIDTHS = ("median_distance", "median_squared_distance")
"""The width rules of :func:`rbf_cka`: ``sigma_fraction`` times the median distance (default) or
times the median squared distance (the NNGS paper's reference code)."""


def _scale_of(A: np.ndarray, block_rows: int = 65536) -> float:
    r"""A power of two :math:`2^{-e}` that brings ``max |A|`` into :math:`[1/2, 1)`.

    Every measure of this module and of :mod:`pairspace.measures.gulp` is invariant to isotropic
    scaling, so it is computed on :math:`2^{-e} A`: the fourth powers of the entries (the norms of
    :math:`X^\top X`) then neither overflow for values near 1e100 nor underflow for tiny ones, and
    multiplying by a power of two is exact, so ordinary inputs give bit-identical results.
    """
    m = 0.0
    for s in range(0, A.shape[0], block_rows):
        m = max(m, float(np.max(np.abs(np.asarray(A[s : s + block_rows], dtype=np.float64)))))
    if m == 0.0 or not np.isfinite(m):
        return 1.0
    return float(2.0 ** -np.frexp(m)[1])


def _column_means(A: np.ndarray, block_rows: int = 65536, scale: float = 1.0) -> np.ndarray:
    m = np.zeros(A.shape[1])
    for s in range(0, A.shape[0], block_rows):
        m += np.asarray(A[s : s + block_rows], dtype=np.float64).sum(0) * scale
    return m / A.shape[0]


def _centered_block(A: np.ndarray, s: int, block_rows: int, mean: np.ndarray,
                    scale: float) -> np.ndarray:
    return np.asarray(A[s : s + block_rows], dtype=np.float64) * scale - mean


def _centered_cross(A: np.ndarray, B: np.ndarray, block_rows: int = 65536,
                    scaled: bool = True) -> np.ndarray:
    """:math:`(A - \bar A)^\top (B - \bar B)` in float64, accumulated over row blocks.

    With ``scaled`` (the default) each space is first multiplied by its :func:`_scale_of`, so the
    result is that of the rescaled spaces (for scale-invariant measures only).
    """
    sa = _scale_of(A, block_rows) if scaled else 1.0
    sb = (sa if B is A else _scale_of(B, block_rows)) if scaled else 1.0
    ma, mb = _column_means(A, block_rows, sa), _column_means(B, block_rows, sb)
    cross = np.zeros((A.shape[1], B.shape[1]))
    for s in range(0, A.shape[0], block_rows):
        cross += (_centered_block(A, s, block_rows, ma, sa).T
                  @ _centered_block(B, s, block_rows, mb, sb))
    return cross


def _hsic1(cross: np.ndarray, s: np.ndarray, t: np.ndarray, a_b: float, sum_a: float,
           sum_b: float, at_b: np.ndarray, bt_a: np.ndarray, n: int) -> float:
    """Unbiased HSIC of two linear kernels from their feature-space moments."""
    tr = float(np.sum(cross * cross)) - a_b
    one_k_one = float(s @ s) - sum_a
    one_l_one = float(t @ t) - sum_b
    one_kl_one = float(s @ cross @ t) - float(s @ at_b) - float(t @ bt_a) + a_b
    return (tr + one_k_one * one_l_one / ((n - 1) * (n - 2)) - 2.0 * one_kl_one / (n - 2)) / (
        n * (n - 3))


def _debiased_linear_cka(A: np.ndarray, B: np.ndarray, block_rows: int = 65536) -> float:
    n = A.shape[0]
    if n < 4:
        raise ValueError(f"debiased CKA needs at least 4 items; got {n}")
    fa, fb = _scale_of(A, block_rows), _scale_of(B, block_rows)
    ma, mb = _column_means(A, block_rows, fa), _column_means(B, block_rows, fb)
    dx, dy = A.shape[1], B.shape[1]
    xy, xx, yy = np.zeros((dx, dy)), np.zeros((dx, dx)), np.zeros((dy, dy))
    s, t = np.zeros(dx), np.zeros(dy)
    xa, xb, ya, yb = np.zeros(dx), np.zeros(dx), np.zeros(dy), np.zeros(dy)
    aa = bb = ab = sa = sb = 0.0
    for r in range(0, n, block_rows):
        x = _centered_block(A, r, block_rows, ma, fa)
        y = _centered_block(B, r, block_rows, mb, fb)
        a = np.einsum("ij,ij->i", x, x)
        b = np.einsum("ij,ij->i", y, y)
        xy += x.T @ y
        xx += x.T @ x
        yy += y.T @ y
        s += x.sum(0)
        t += y.sum(0)
        xa += x.T @ a
        xb += x.T @ b
        ya += y.T @ a
        yb += y.T @ b
        aa += float(a @ a)
        bb += float(b @ b)
        ab += float(a @ b)
        sa += float(a.sum())
        sb += float(b.sum())
    hxy = _hsic1(xy, s, t, ab, sa, sb, xb, ya, n)
    hxx = _hsic1(xx, s, s, aa, sa, sa, xa, xa, n)
    hyy = _hsic1(yy, t, t, bb, sb, sb, yb, yb, n)
    if hxx <= 0.0 or hyy <= 0.0:
        raise ValueError("debiased CKA is undefined: the unbiased self-HSIC of a space is not "
                         "positive (constant or near-constant features, or too few items)")
    return float(hxy / np.sqrt(hxx * hyy))


def _centered_gram(A: np.ndarray, block_cols: int = 4096) -> np.ndarray:
    r"""The centered linear Gram matrix :math:`X_c X_c^\top` (n x n, float64), over column blocks.

    Each block of columns is scaled by :func:`_scale_of` and centered on its own (centering acts
    column by column), so no more than ``n x block_cols`` float64 values exist at once.
    """
    scale = _scale_of(A)
    n = A.shape[0]
    K = np.zeros((n, n))
    for j in range(0, A.shape[1], block_cols):
        c = np.asarray(A[:, j : j + block_cols], dtype=np.float64) * scale
        c -= c.mean(axis=0)
        K += c @ c.T
    return K


def _hsic1_gram(K: np.ndarray, L: np.ndarray) -> float:
    """The unbiased HSIC of Song et al. (2012) from two n x n Gram matrices (module docstring)."""
    n = K.shape[0]
    Kt = K - np.diag(np.diag(K))
    Lt = L - np.diag(np.diag(L))
    kl1 = Kt @ Lt.sum(axis=1)
    return float((np.sum(Kt * Lt) + Kt.sum() * Lt.sum() / ((n - 1) * (n - 2))
                  - 2.0 / (n - 2) * kl1.sum()) / (n * (n - 3)))


def _gram_linear_cka(A: np.ndarray, B: np.ndarray, debiased: bool) -> float:
    r"""Linear CKA in the Gram form, for :math:`n^2 < d_x^2 + d_y^2 + d_x d_y` (wide inputs).

    .. math:: \mathrm{CKA} = \frac{\langle K_c, L_c \rangle_F}{\|K_c\|_F \, \|L_c\|_F},
       \quad K_c = X_c X_c^\top,\ L_c = Y_c Y_c^\top,

    equal to the feature-space form because :math:`\langle K_c, L_c\rangle_F = \|Y_c^\top
    X_c\|_F^2` and :math:`\|K_c\|_F = \|X_c^\top X_c\|_F`; it needs :math:`O(n^2)` memory
    instead of :math:`O(d^2)` (Kornblith et al. 2019, Sec. 3).
    """
    n = A.shape[0]
    if debiased and n < 4:
        raise ValueError(f"debiased CKA needs at least 4 items; got {n}")
    K, L = _centered_gram(A), _centered_gram(B)
    if debiased:
        hxy, hxx, hyy = _hsic1_gram(K, L), _hsic1_gram(K, K), _hsic1_gram(L, L)
        if hxx <= 0.0 or hyy <= 0.0:
            raise ValueError("debiased CKA is undefined: the unbiased self-HSIC of a space is not "
                             "positive (constant or near-constant features, or too few items)")
        return float(hxy / np.sqrt(hxx * hyy))
    den = np.linalg.norm(K) * np.linalg.norm(L)
    if den == 0.0:
        raise ValueError("linear CKA is undefined when a space is constant (zero variance)")
    return float(np.sum(K * L) / den)


def _use_gram(n: int, dx: int, dy: int) -> bool:
    """Whether the n x n Gram form is smaller than the feature form's d x d moments."""
    return n * n < dx * dx + dy * dy + dx * dy


def linear_cka(X: Any, Y: Any, debiased: bool = False) -> float:
    r"""Linear CKA of two paired spaces, in feature space or, for wide inputs, in Gram form.

    .. math:: \mathrm{CKA}(X, Y) = \frac{\|Y_c^\top X_c\|_F^2}{\|X_c^\top X_c\|_F\,\|Y_c^\top Y_c\|_F}

    Parameters
    ----------
    X, Y : array-like, shapes (n, dx) and (n, dy)
        Paired point clouds (columns are centered internally); memmaps are read in row blocks.
        When :math:`n^2 < d_x^2 + d_y^2 + d_x d_y` (e.g. ``n = 10``, ``d = 200,000``) the
        :math:`n \times n` Gram form is used instead of the :math:`d \times d` moments, which
        would not fit in memory; both forms give the same value.
    debiased : bool
        Use the unbiased HSIC estimator (Song et al. 2012) in place of the biased one; see the
        module docstring for the feature-space derivation. Needs ``n >= 4``.

    Returns
    -------
    float
        Biased: in ``[0, 1]``. Debiased: at most 1 and near 0 (possibly slightly negative) for
        independent spaces. Both are invariant to orthogonal transforms, isotropic scaling and
        translation of either space.

    References
    ----------
    Kornblith, Norouzi, Lee & Hinton, ICML 2019. Song, Smola, Gretton, Bedo & Borgwardt, "Feature
    selection via dependence maximization", JMLR 2012.
    """
    A, B = check_pair(X, Y, dtype=None)
    if _use_gram(A.shape[0], A.shape[1], B.shape[1]):
        return _gram_linear_cka(A, B, debiased)
    if debiased:
        return _debiased_linear_cka(A, B)
    xy = _centered_cross(A, B)
    xx = _centered_cross(A, A)
    yy = _centered_cross(B, B)
    den = np.linalg.norm(xx) * np.linalg.norm(yy)
    if den == 0.0:
        raise ValueError("linear CKA is undefined when a space is constant (zero variance)")
    return float(np.sum(xy * xy) / den)


def check_rbf_size(n: int, max_n: int = RBF_MAX_N) -> None:
    """Refuse ``n > max_n`` items for RBF CKA (two float64 ``n x n`` Gram matrices)."""
    if n > max_n:
        raise ValueError(
            f"rbf_cka builds two n x n Gram matrices; n={n} exceeds max_n={max_n} "
            f"(~{2 * 8 * n * n / 2**30:.1f} GiB). Subsample the items, raise max_n, or use "
            "linear_cka (feature space, no size limit)."
        )


def median_distance(A: np.ndarray) -> float:
    """Median euclidean distance over the pairs ``i < j``."""
    return float(np.sqrt(median_squared_distance(A)))


def median_squared_distance(A: np.ndarray) -> float:
    """Median squared euclidean distance over the pairs ``i < j`` (the same median as over every
    ordered pair ``i != j``, the off-diagonal of the distance matrix)."""
    from scipy.spatial.distance import pdist

    return float(np.median(pdist(A, "sqeuclidean")))


def _rbf_gram(A: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.spatial.distance import pdist, squareform

    return np.exp(-squareform(pdist(A, "sqeuclidean")) / (2.0 * sigma * sigma))


def hsic_unbiased_gram(K: np.ndarray, L: np.ndarray) -> float:
    """Unbiased HSIC (Song et al. 2012) of two ``n x n`` Gram matrices (see the module docstring)."""
    n = K.shape[0]
    Kt = K - np.diag(np.diag(K))
    Lt = L - np.diag(np.diag(L))
    k1, l1 = Kt.sum(1), Lt.sum(1)
    return float((np.sum(Kt * Lt) + k1.sum() * l1.sum() / ((n - 1) * (n - 2))
                  - 2.0 * (k1 @ l1) / (n - 2)) / (n * (n - 3)))


def rbf_cka(X: Any, Y: Any, sigma: float | None = None, sigma_y: float | None = None,
            sigma_fraction: float = RBF_SIGMA_FRACTION, debiased: bool = False,
            max_n: int = RBF_MAX_N, bandwidth: str = "median_distance") -> float:
    r"""CKA with Gaussian (RBF) kernels, from the two ``n x n`` Gram matrices.

    .. math::

        K_{ij} = \exp\!\Big(-\frac{\|x_i - x_j\|^2}{2\sigma_x^2}\Big), \qquad
        \mathrm{CKA} = \frac{\langle HKH, HLH\rangle_F}{\|HKH\|_F \|HLH\|_F}

    Parameters
    ----------
    X, Y : array-like, shapes (n, dx) and (n, dy)
        Paired point clouds.
    sigma, sigma_y : float, optional
        Kernel widths of X and Y. **Default:** ``sigma_fraction`` times the median euclidean
        distance between distinct items of that space (Kornblith et al. 2019 set the width as a
        fraction of the median distance and report the fractions 0.2, 0.4 and 0.8).
        ``sigma_y`` defaults to the same rule on Y (not to ``sigma``).
    sigma_fraction : float
        Fraction of the median distance used when a width is not given (default 0.8).
    bandwidth : {"median_distance", "median_squared_distance"}
        The rule of a width not given: :math:`\sigma = f\,\mathrm{median}_{i<j}\|x_i - x_j\|`
        (default) or, as in the NNGS paper's reference code (arXiv 2411.08687, ``estimate_sigma``),
        :math:`\sigma = f\,\mathrm{median}_{i<j}\|x_i - x_j\|^2`, which is not scale-equivariant:
        the result then depends on the units of the data (see :func:`rbf_cka_paper`).
    debiased : bool
        Use the unbiased HSIC estimator instead of the biased ``HKH`` one (needs ``n >= 4``).
    max_n : int
        Largest accepted ``n`` (default 5000: two float64 Gram matrices of 200 MB each).

    Returns
    -------
    float
        In ``[0, 1]`` (biased); as ``sigma`` grows RBF CKA tends to linear CKA.

    Raises
    ------
    ValueError
        If ``n > max_n`` (use :func:`linear_cka`, which has no size limit, or subsample).
    """
    A, B = check_pair(X, Y)
    n = A.shape[0]
    check_rbf_size(n, max_n)
    if sigma_fraction <= 0:
        raise ValueError(f"sigma_fraction must be positive; got {sigma_fraction}")
    if bandwidth not in RBF_BANDWIDTHS:
        raise ValueError(f"bandwidth must be one of {', '.join(RBF_BANDWIDTHS)}; got {bandwidth!r}")
    sa, sb = _scale_of(A), _scale_of(B)  # exact powers of two: no overflow in the distances
    A, B = A * sa, B * sb

    def width(M: np.ndarray, scale: float) -> float:
        # widths of the rescaled data: a length scales by `scale`; the paper's rule is computed on
        # the original units (median_sq / scale**2) and then rescaled like a length
        if bandwidth == "median_distance":
            return sigma_fraction * median_distance(M)
        return sigma_fraction * median_squared_distance(M) / scale

    sx = sigma * sa if sigma is not None else width(A, sa)
    sy = sigma_y * sb if sigma_y is not None else width(B, sb)
    for name, v in (("sigma", sx), ("sigma_y", sy)):
        if not np.isfinite(v) or v <= 0.0:
            raise ValueError(f"{name} must be a positive width; got {v} (are most rows identical?)")
    K, L = _rbf_gram(A, sx), _rbf_gram(B, sy)
    if debiased:
        if n < 4:
            raise ValueError(f"debiased CKA needs at least 4 items; got {n}")
        hxy, hxx, hyy = hsic_unbiased_gram(K, L), hsic_unbiased_gram(K, K), hsic_unbiased_gram(L, L)
        if hxx <= 0.0 or hyy <= 0.0:
            raise ValueError("debiased RBF CKA is undefined: a self-HSIC is not positive")
        return float(hxy / np.sqrt(hxx * hyy))
    for G in (K, L):  # G <- H G H in place
        G -= G.mean(0, keepdims=True)
        G -= G.mean(1, keepdims=True)
    den = np.linalg.norm(K) * np.linalg.norm(L)
    if den == 0.0:
        raise ValueError("RBF CKA is undefined when a space is constant")
    return float(np.sum(K * L) / den)


def rbf_cka_paper(X: Any, Y: Any, max_n: int = RBF_MAX_N) -> float:
    r"""RBF CKA with the NNGS paper's width: 0.8 times the median *squared* distance of each space.

    :func:`rbf_cka` with ``bandwidth="median_squared_distance"`` and ``sigma_fraction=0.8``, as in
    ``estimate_sigma`` of the reference code of Tavares, Ayres & Smaragdis (arXiv 2411.08687), used
    for their RBF CKA baseline of the template study. For embeddings with a median distance above
    about 1 the width is large and the value approaches linear CKA.
    """
    return rbf_cka(X, Y, sigma_fraction=RBF_SIGMA_FRACTION, bandwidth="median_squared_distance",
                   max_n=max_n)
