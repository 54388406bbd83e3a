"""Input validation shared by every public function (the boundary of the library).

Every check raises :class:`ValueError` (or :class:`TypeError`) with a message that names what is
wrong, so a user never gets a silent wrong number.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

# The working-memory setting: its initial value and the resolver of every ``memory_budget=None``
# (defined in the torch- and numpy-free pairspace._config, re-exported here for the library).
from ._config import DEFAULT_MEMORY_BUDGET as DEFAULT_MEMORY_BUDGET
from ._config import resolve_memory_budget as resolve_memory_budget

METRICS = ("euclidean", "cosine", "inner")


def native_float(X: Any) -> type:
    """float32 for float32 inputs (so a float32 memmap is not copied), float64 otherwise."""
    dt = getattr(X, "dtype", None)
    if dt is not None and str(dt) in ("float32", "torch.float32"):
        return np.float32
    return np.float64


def _is_frame(X: Any) -> bool:
    """A pandas DataFrame (checked without importing pandas)."""
    return type(X).__module__.split(".")[0] == "pandas" and hasattr(X, "columns") \
        and hasattr(X, "index")


def _is_tensor(X: Any) -> bool:
    """A torch tensor (checked without importing torch)."""
    return type(X).__module__.split(".")[0] == "torch" and hasattr(X, "detach")


def _texty(col: Any) -> bool:
    """A pandas column of text (the kind of column the CLI reads as ids)."""
    kind = getattr(col.dtype, "kind", "O")
    return kind in "OSU" or str(col.dtype) in ("string", "str")


def frame_parts(X: Any, name: str = "X") -> tuple[list[str] | None, Any]:
    """Ids and numeric feature columns of a pandas DataFrame, by the rule of the command line.

    The id column is ``id`` when there is one, else the first text column (as for CSV and parquet
    inputs, :func:`pairspace.data.table.read_table`); without an id column the index gives the
    ids unless it is the default ``0..n-1``. Every other column must be numeric.

    Returns
    -------
    ids : list of str or None
        None when the frame carries no ids (no id column and a default index).
    features : pandas.DataFrame
        The numeric columns.
    """
    cols = list(X.columns)
    id_col = "id" if "id" in cols else next((c for c in cols if _texty(X[c])), None)
    feats = X.drop(columns=[id_col]) if id_col is not None else X
    bad = [c for c in feats.columns if getattr(feats[c].dtype, "kind", "O") not in "biuf"]
    if bad:
        raise ValueError(f"{name} (a DataFrame) has non-numeric column(s) {bad[:5]}; keep one id "
                         "column (named 'id') and numeric features")
    if id_col is not None:
        values = X[id_col].tolist()
        missing = [i for i, v in enumerate(values) if v is None or v != v]
        if missing:
            raise ValueError(f"{name}: the id column {id_col!r} has missing values (first in row "
                             f"{missing[0]})")
        ids = [str(v) for v in values]
    else:
        idx = X.index
        default = type(idx).__name__ == "RangeIndex" and idx.start == 0 and idx.step == 1
        ids = None if default else [str(v) for v in idx.tolist()]
    if ids is not None and len(set(ids)) != len(ids):
        seen: set[str] = set()
        dup = [i for i in ids if i in seen or seen.add(i)][:5]  # type: ignore[func-returns-value]
        raise ValueError(f"{name} (a DataFrame) has duplicated ids {dup}; ids must be unique")
    return ids, feats


def align_ids(ids_x: list[str], ids_y: list[str], show: int = 5) -> np.ndarray:
    """Row order of Y that matches X's ids; an error names ids that are on one side only."""
    pos = {v: i for i, v in enumerate(ids_y)}
    only_x = [i for i in ids_x if i not in pos]
    sx = set(ids_x)
    only_y = [i for i in ids_y if i not in sx]
    if only_x or only_y:
        parts = []
        if only_x:
            parts.append(f"{len(only_x)} id(s) only in X, e.g. {only_x[:show]}")
        if only_y:
            parts.append(f"{len(only_y)} id(s) only in Y, e.g. {only_y[:show]}")
        raise ValueError("the two inputs do not hold the same items: " + "; ".join(parts))
    return np.fromiter((pos[i] for i in ids_x), dtype=np.int64, count=len(ids_x))


def _plain(X: Any, name: str) -> Any:
    """Frames to their numeric columns, tensors to numpy (half precision widened to float32).

    Complex values are refused: dropping the imaginary part would be a silent wrong number.
    """
    if _is_frame(X):
        X = frame_parts(X, name)[1].to_numpy()
    if _is_tensor(X):
        if X.is_complex():
            raise ValueError(f"{name} is a complex tensor ({X.dtype}); pairspace works on real "
                             "vectors: pass the real part, the magnitude, or both as features")
        X = X.detach().cpu()
        if str(X.dtype) in ("torch.bfloat16", "torch.float16"):
            X = X.float()  # numpy has no bfloat16: widen (every value is exact in float32)
        X = X.numpy()
    try:
        complex_ = np.iscomplexobj(X)
    except (ValueError, TypeError):  # a ragged list: as_matrix names the problem
        complex_ = False
    if complex_:
        raise ValueError(f"{name} holds complex values (dtype {np.asarray(X).dtype}); pairspace "
                         "works on real vectors: pass the real part, the magnitude, or both as "
                         "features")
    return X


def as_matrix(
    X: Any, name: str = "X", dtype: np.dtype | type | None = np.float64, min_rows: int = 1
) -> np.ndarray:
    """Convert numpy arrays, memmaps, torch tensors, DataFrames or nested lists to a finite 2-D array.

    Parameters
    ----------
    X : array-like
        Input matrix (n x d). Torch tensors are detached and moved to the CPU; bfloat16 and
        float16 tensors are widened to float32. A pandas DataFrame gives its numeric columns (an
        id column, ``id`` or the first text column, is left out; see :func:`frame_parts`).
        Complex values are refused.
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
    X = _plain(X, name)
    if dtype is None:
        dtype = native_float(X)
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
    """Validate two paired spaces: both 2-D, finite, the same number of rows and at least 3 rows.

    pandas DataFrames are paired as the command line pairs files: when both carry ids (an id
    column or a non-default index, :func:`frame_parts`) Y's rows are reordered to X's ids, and an
    id on one side only is an error; a frame with ids against an input without them is refused
    (the pairing would be a guess). Otherwise rows are paired by position.
    """
    if _is_frame(X) or _is_frame(Y):
        ids_x = frame_parts(X, "X")[0] if _is_frame(X) else None
        ids_y = frame_parts(Y, "Y")[0] if _is_frame(Y) else None
        if (ids_x is None) != (ids_y is None):
            side = "X" if ids_x is not None else "Y"
            raise ValueError(f"{side} is a DataFrame with ids (an id column or index) but the other "
                             "input has none, so its rows cannot be aligned by id; pass both with "
                             "ids, or reset the index (DataFrame.reset_index(drop=True)) to pair "
                             "by position")
        if ids_x is not None and ids_y is not None:
            order = align_ids(ids_x, ids_y)
            feats_y = frame_parts(Y, "Y")[1]
            Y = feats_y.iloc[order]
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


def check_distinct(values: Iterable[Any], option: str) -> None:
    """Refuse a list option that repeats a value (``--seeds 0 0`` would count one seed twice)."""
    seen: set[Any] = set()
    dup = [v for v in values if v in seen or seen.add(v)]  # type: ignore[func-returns-value]
    if dup:
        raise ValueError(f"{option} repeats {', '.join(map(str, dict.fromkeys(dup)))}: each value "
                         "may appear once (a repeated seed or method would be counted twice)")


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


CACHE_BLOCK_BYTES = 4 * 2**20
"""Scratch bytes of the blocks that are sized to stay in the CPU cache (the overlap counter, the
CKNNA match table): a speed constant, not a memory limit. Those functions take ``memory_budget=``
too; its None means this size, or the configured setting where that is smaller
(:func:`resolve_memory_budget` with ``cap``)."""


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
    M = np.array(_plain(A, name), dtype=dtype, copy=True)
    one_d = M.ndim == 1
    if one_d:
        M = M[None, :]
    # the norm of a row scaled by its largest entry: rows near 1e-200 (whose squares underflow)
    # or 1e200 (overflow) keep their direction; only a row of zeros has none
    peak = np.max(np.abs(M), axis=1, keepdims=True) if M.shape[1] else np.zeros((M.shape[0], 1))
    safe = np.where(peak > 0, peak, 1.0)
    norms = np.linalg.norm(M / safe, axis=1, keepdims=True) * safe
    norms[peak == 0] = 0.0
    bad = np.flatnonzero(norms[:, 0] == 0)
    if bad.size and zero == "error":
        raise ValueError(f"{name} has {bad.size} all-zero row(s) (first row {int(bad[0])}); their "
                         "direction is undefined, so they cannot be L2-normalized")
    np.divide(M, norms, out=M, where=norms > 0)
    return M[0] if one_d else M
