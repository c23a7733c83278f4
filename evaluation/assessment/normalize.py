"""Column normalisation of a decision matrix (rows = alternatives, columns = criteria).

Every function takes a 2-D float array ``matrix`` of shape ``(n, m)`` and a ``types`` vector of
length ``m`` (+1 benefit, -1 cost) and returns a new ``(n, m)`` float64 array; the input is never
modified. The edge cases are decided here, once, and never produce NaN:

* a **constant column** cannot tell alternatives apart; min-max gives every alternative 1 (as pymcdm
  does, so ranks are unaffected), z-score gives 0;
* an **all-zero column** gives 0 under vector normalisation (1 for a cost column, by the
  ``1 - x/‖x‖`` convention) and ``1/n`` under sum normalisation;
* **zeros and negative values** are fine for min-max, vector, z-score and threshold scoring; sum
  normalisation needs non-negative values (and strictly positive ones on cost columns, which it
  inverts), and raises a :class:`ValueError` saying which column to fix otherwise.

Threshold scoring is the government-scorecard rule: 0 at the floor, 1 at the target, linear between,
capped at both ends. For a cost indicator the floor lies above the target (e.g. 72 h → 24 h).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
Normalization = Literal["minmax", "vector", "sum", "zscore"]


def as_problem(matrix: ArrayLike, types: ArrayLike | None = None) -> tuple[FloatArray, FloatArray]:
    """Check and convert a decision matrix and its criteria types.

    Args:
        matrix: ``(n, m)`` numbers, rows = alternatives, columns = criteria; must be finite.
        types: ``m`` entries, each +1 (benefit) or -1 (cost); ``None`` means all benefit.

    Returns:
        ``(matrix, types)`` as float64 arrays of shapes ``(n, m)`` and ``(m,)``; the matrix may share
        memory with the input (no copy when it already is float64), so callers must not write into it.

    Raises:
        ValueError: wrong shapes, non-finite values or types other than ±1.

    >>> as_problem([[1, 2], [3, 4]], [1, -1])[1]
    array([ 1., -1.])
    """
    x = np.asarray(matrix, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"the decision matrix must be 2-D (alternatives × criteria), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        bad = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(
            f"the decision matrix holds a non-finite value at row {bad[0]}, column {bad[1]}; "
            "fill or drop missing values before scoring (see evaluation.assessment.missing)"
        )
    t = np.ones(x.shape[1]) if types is None else np.array(types, dtype=np.float64).reshape(-1)
    if t.shape != (x.shape[1],):
        raise ValueError(f"types has {t.size} entries but the matrix has {x.shape[1]} criteria")
    if not np.all(np.isin(t, (-1.0, 1.0))):
        raise ValueError(f"types must hold +1 (benefit) or -1 (cost) only, got {np.unique(t).tolist()}")
    return x, t


def constant_columns(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Which columns are constant at float resolution: a span below the smallest normal float, or below
    1e-12 of the column's magnitude, would blow up ``1 / span`` into inf and NaN.

    >>> constant_columns(np.array([0.0, 0.0, 1e300, 0.0]), np.array([0.0, 1e-310, 1e300 + 1e287, 1.0])).tolist()
    [True, True, True, False]
    """
    span = np.asarray(hi, dtype=float) - np.asarray(lo, dtype=float)
    scale = np.maximum(np.abs(lo), np.abs(hi))
    return np.asarray(span <= np.maximum(np.finfo(float).tiny, 1e-12 * scale))


def minmax(matrix: ArrayLike, types: ArrayLike | None = None) -> FloatArray:
    """Min-max normalisation to [0, 1]; cost columns reversed; constant columns give 1.

    Args:
        matrix: ``(n, m)`` decision matrix.
        types: ``m`` criteria types (+1 benefit, -1 cost).

    Returns:
        ``(n, m)`` array in [0, 1]; the best value in each column maps to 1.

    >>> minmax([[1.0, 10.0], [3.0, 30.0], [2.0, 20.0]], [1, -1]).tolist()
    [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]]
    """
    x, t = as_problem(matrix, types)
    lo, hi = x.min(axis=0), x.max(axis=0)
    span = hi - lo
    const = constant_columns(lo, hi)
    safe = np.where(const, 1.0, span)
    up = (x - lo) / safe
    out = np.where(t > 0, up, 1.0 - up)
    out[:, const] = 1.0
    return out


def vector(matrix: ArrayLike, types: ArrayLike | None = None) -> FloatArray:
    """Vector normalisation ``x / ‖x‖₂``; cost columns as ``1 - x / ‖x‖₂`` (pymcdm's convention).

    The cost convention is a shift, so TOPSIS closeness is the same as with the textbook rule that
    keeps ``x / ‖x‖`` and takes the minimum as ideal. An all-zero column gives 0 (1 if cost).

    Args:
        matrix: ``(n, m)`` decision matrix; negative values are allowed.
        types: ``m`` criteria types.

    Returns:
        ``(n, m)`` array.

    >>> vector([[3.0, 0.0], [4.0, 0.0]]).tolist()
    [[0.6, 0.0], [0.8, 0.0]]
    """
    x, t = as_problem(matrix, types)
    norm = np.sqrt(np.sum(x * x, axis=0))
    r = x / np.where(norm == 0, 1.0, norm)
    return np.where(t > 0, r, 1.0 - r)


def sum_(matrix: ArrayLike, types: ArrayLike | None = None) -> FloatArray:
    """Sum normalisation ``x / Σx``; cost columns as ``(1/x) / Σ(1/x)``.

    Args:
        matrix: ``(n, m)`` decision matrix, non-negative (strictly positive on cost columns).
        types: ``m`` criteria types.

    Returns:
        ``(n, m)`` array whose columns sum to 1; an all-zero benefit column gives ``1/n``.

    Raises:
        ValueError: a negative value, or a zero in a cost column; the message names the column.

    >>> sum_([[1.0, 1.0], [3.0, 3.0]], [1, -1]).tolist()
    [[0.25, 0.75], [0.75, 0.25]]
    """
    x, t = as_problem(matrix, types)
    n = x.shape[0]
    out = np.empty_like(x)
    for j in range(x.shape[1]):
        col = x[:, j]
        if np.any(col < 0):
            raise ValueError(
                f"sum normalisation needs non-negative values, column {j} has {col.min():g}; "
                "use min-max or threshold scoring for indicators that can be negative"
            )
        if t[j] < 0:
            if np.any(col == 0):
                raise ValueError(
                    f"sum normalisation inverts cost column {j}, which holds a zero; "
                    "use min-max or threshold scoring for that indicator"
                )
            inv = 1.0 / col
            out[:, j] = inv / inv.sum()
        else:
            total = col.sum()
            out[:, j] = col / total if total > 0 else 1.0 / n
    return out


def zscore(matrix: ArrayLike, types: ArrayLike | None = None) -> FloatArray:
    """Standardise each column (sample standard deviation); cost columns negated; constant → 0.

    Args:
        matrix: ``(n, m)`` decision matrix.
        types: ``m`` criteria types.

    Returns:
        ``(n, m)`` array with column mean 0 (higher is better in every column).

    >>> zscore([[1.0, 5.0], [3.0, 5.0]], [-1, 1]).round(4).tolist()
    [[0.7071, 0.0], [-0.7071, 0.0]]
    """
    x, t = as_problem(matrix, types)
    ddof = 1 if x.shape[0] > 1 else 0
    sd = x.std(axis=0, ddof=ddof)
    # Decide "constant" exactly (max == min): a float mean of equal values can leave a 1e-16 spread.
    const = (x.max(axis=0) == x.min(axis=0)) | (sd == 0)
    z = (x - x.mean(axis=0)) / np.where(const, 1.0, sd)
    z[:, const] = 0.0
    return z * t


def threshold(matrix: ArrayLike, floor: ArrayLike, target: ArrayLike) -> FloatArray:
    """Scorecard scoring: 0 at ``floor``, 1 at ``target``, linear between, capped to [0, 1].

    The direction is carried by the thresholds: ``target > floor`` for a benefit indicator,
    ``target < floor`` for a cost indicator. Scores do not depend on the other alternatives.

    Args:
        matrix: ``(n, m)`` decision matrix.
        floor: ``m`` values scoring 0.
        target: ``m`` values scoring 1; each must differ from its floor.

    Returns:
        ``(n, m)`` array in [0, 1].

    Raises:
        ValueError: a floor equal to its target.

    >>> threshold([[50.0, 48.0], [95.0, 10.0]], floor=[60, 72], target=[90, 24]).tolist()
    [[0.0, 0.5], [1.0, 1.0]]
    """
    x, _ = as_problem(matrix)
    f = np.asarray(floor, dtype=np.float64).reshape(-1)
    g = np.asarray(target, dtype=np.float64).reshape(-1)
    if f.shape != (x.shape[1],) or g.shape != (x.shape[1],):
        raise ValueError(f"floor and target need {x.shape[1]} entries each, got {f.size} and {g.size}")
    if np.any(f == g):
        raise ValueError(
            f"floor equals target for columns {np.flatnonzero(f == g).tolist()}; they must differ"
        )
    return np.clip((x - f) / (g - f), 0.0, 1.0)


NORMALIZERS: dict[str, Callable[[ArrayLike, ArrayLike | None], FloatArray]] = {
    "minmax": minmax,
    "vector": vector,
    "sum": sum_,
    "zscore": zscore,
}


def normalize(matrix: ArrayLike, types: ArrayLike | None, method: str) -> FloatArray:
    """Normalise with a method chosen by name (``minmax``, ``vector``, ``sum``, ``zscore``).

    Args:
        matrix: ``(n, m)`` decision matrix.
        types: ``m`` criteria types.
        method: one of :data:`NORMALIZERS`.

    Returns:
        ``(n, m)`` normalised array.

    Raises:
        ValueError: unknown method name (the message lists the known ones).

    >>> normalize([[1.0], [2.0]], [1], "minmax").ravel().tolist()
    [0.0, 1.0]
    """
    try:
        fn = NORMALIZERS[method]
    except KeyError:
        raise ValueError(f"unknown normalisation {method!r}; choose one of {sorted(NORMALIZERS)}") from None
    return fn(matrix, types)
