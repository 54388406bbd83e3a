"""Input validation shared by every public function (the boundary of the library).

Every check raises :class:`ValueError` (or :class:`TypeError`) with a message that names what is
wrong, so a user never gets a silent wrong number.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

METRICS = ("euclidean", "cosine", "inner")


def native_float(X: Any) -> type:
    """float32 for float32 inputs (so a float32 memmap is not copied), float64 otherwise."""
    dt = getattr(X, "dtype", None)
    if dt is not None and str(dt) in ("float32", "torch.float32"):
        return np.float32
    return np.float64


def as_matrix(
    X: Any, name: str = "X", dtype: np.dtype | type | None = np.float64, min_rows: int = 1
) -> np.ndarray:
    """Convert numpy arrays, memmaps, torch tensors or nested lists to a finite 2-D array.

    Parameters
    ----------
    X : array-like
        Input matrix (n x d). Torch tensors are detached and moved to the CPU.
    name : str
        Name used in error messages.
    dtype : numpy dtype or None
        Floating dtype of the result (None: float32 for float32 input, float64 otherwise). An
        array or memmap that already has the dtype is returned without a copy.
    min_rows : int
        Smallest number of rows accepted.

    Returns
    -------
    numpy.ndarray
        A 2-D floating array (the input itself when it already has the dtype).
    """
    if dtype is None:
        dtype = native_float(X)
    if hasattr(X, "detach") and hasattr(X, "cpu"):  # torch.Tensor without importing torch
        X = X.detach().cpu().numpy()
    try:
        A = np.asarray(X, dtype=dtype)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} could not be read as a numeric matrix: {exc}") from exc
    if A.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_items x n_features); got shape {A.shape}")
    if A.shape[0] < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} rows; got {A.shape[0]}")
    if A.shape[1] < 1:
        raise ValueError(f"{name} has no feature columns (shape {A.shape})")
    check_finite(A, name)
    return A


def check_finite(A: np.ndarray, name: str, block_rows: int = 65536) -> None:
    """Raise if ``A`` holds NaN or inf, naming the first offending row (blocked for memmaps)."""
    for start in range(0, A.shape[0], block_rows):
        blk = np.asarray(A[start : start + block_rows])
        bad = ~np.isfinite(blk)
        if bad.any():
            row = start + int(np.argmax(bad.any(axis=1)))
            kind = "NaN" if np.isnan(blk).any() else "inf"
            raise ValueError(f"{name} contains {kind} values (first in row {row})")


def check_metric(metric: str, name: str = "metric") -> str:
    """Validate a metric name (``'euclidean'``, ``'cosine'`` or ``'inner'``)."""
    if metric not in METRICS:
        raise ValueError(f"unknown {name} {metric!r}; choose one of {', '.join(METRICS)}")
    return metric


def check_pair(X: Any, Y: Any, dtype: np.dtype | type | None = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Validate two paired spaces: both 2-D, finite, the same number of rows and at least 3 rows."""
    A = as_matrix(X, "X", dtype=dtype)
    B = as_matrix(Y, "Y", dtype=dtype)
    if A.shape[0] != B.shape[0]:
        raise ValueError(
            f"X and Y must have the same number of rows (paired items); got {A.shape[0]} and "
            f"{B.shape[0]}"
        )
    if A.shape[0] < 3:
        raise ValueError(f"paired spaces need at least 3 rows; got {A.shape[0]}")
    return A, B


def resolve_k(k: Any, n: int, name: str = "k") -> int:
    """Resolve a neighborhood size against ``n`` items.

    An integer must lie in ``[1, n - 1]``. A float ``c`` in ``(0, 1)`` means ``k = floor(c * n)``,
    the semantics of the published NNGS code (arXiv 2411.08687).
    """
    if isinstance(k, bool):
        raise ValueError(f"{name} must be an int or a float in (0, 1); got a bool")
    if isinstance(k, numbers.Integral):
        k = int(k)
        if not 1 <= k <= n - 1:
            raise ValueError(f"{name}={k} is out of range: it must lie in [1, n-1] = [1, {n - 1}]")
        return k
    if isinstance(k, numbers.Real):
        c = float(k)
        if not 0.0 < c < 1.0:
            raise ValueError(
                f"a float {name} is a fraction of n and must lie in (0, 1); got {c} "
                "(pass an int for an absolute neighborhood size)"
            )
        kk = int(np.floor(c * n))
        if kk < 1:
            raise ValueError(f"{name}={c} floors to 0 neighbors for n={n}; use a larger fraction")
        return min(kk, n - 1)
    raise ValueError(f"{name} must be an int or a float in (0, 1); got {type(k).__name__}")


DEFAULT_MEMORY_BUDGET = 256 * 2**20
"""Default scratch memory (bytes) of every blocked computation; each takes ``memory_budget=``."""


def rows_per_block(memory_budget: int, bytes_per_row: int, n_rows: int | None = None,
                   cap: int | None = None) -> int:
    r"""Rows of a block whose scratch memory stays within ``memory_budget`` bytes.

    .. math:: b = \max\bigl(1, \min(\lfloor B / r \rfloor, n, \text{cap})\bigr)

    with ``B`` the budget and ``r`` the bytes one row of the block needs. At least one row is
    always processed, so a tiny budget slows the work down but never stops it.

    Parameters
    ----------
    memory_budget : int
        Scratch bytes allowed (must be positive).
    bytes_per_row : int
        Scratch bytes one row of the block needs.
    n_rows, cap : int, optional
        Upper bounds on the block (the rows there are, a cache-friendly maximum).
    """
    if isinstance(memory_budget, bool) or not isinstance(memory_budget, numbers.Integral) \
            or memory_budget <= 0:
        raise ValueError(f"memory_budget must be a positive number of bytes; got {memory_budget!r}")
    b = int(memory_budget) // max(1, int(bytes_per_row))
    for bound in (n_rows, cap):
        if bound is not None:
            b = min(b, int(bound))
    return max(1, b)


def unit_rows(A: Any, name: str = "X", zero: str = "error",
              dtype: np.dtype | type = np.float64) -> np.ndarray:
    r"""Rows scaled to unit L2 norm, :math:`\hat a_i = a_i / \lVert a_i \rVert_2` (a new array).

    The one row normalization of the toolkit. An all-zero row has no direction, so its policy is
    explicit:

    - ``zero="error"`` (the default): a :class:`ValueError` naming how many rows are zero and
      the first one;
    - ``zero="keep"``: the row stays the zero vector, so its cosine with everything is 0. Used
      only where a zero row is legitimate data that must never win a search (the 3CosAdd
      vocabulary).

    Parameters
    ----------
    A : array-like
        An (n x d) matrix (a 1-D vector is treated as one row).
    name : str
        Name used in the error message.
    zero : {"error", "keep"}
        Policy for all-zero rows.
    dtype : numpy dtype
        Floating dtype of the result.
    """
    if zero not in ("error", "keep"):
        raise ValueError(f"zero must be 'error' or 'keep'; got {zero!r}")
    M = np.array(A, dtype=dtype, copy=True)
    one_d = M.ndim == 1
    if one_d:
        M = M[None, :]
    norms = np.linalg.norm(M, axis=1, keepdims=True)
    bad = np.flatnonzero(norms[:, 0] == 0)
    if bad.size and zero == "error":
        raise ValueError(f"{name} has {bad.size} all-zero row(s) (first row {int(bad[0])}); their "
                         "direction is undefined, so they cannot be L2-normalized")
    np.divide(M, norms, out=M, where=norms > 0)
    return M[0] if one_d else M
