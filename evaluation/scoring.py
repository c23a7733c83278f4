"""Plain multi-criteria scoring functions on numpy arrays (the contract fixed in DESIGN.md).

Rows are alternatives, columns are criteria; ``types`` holds +1 for a benefit and -1 for a cost
criterion, as pymcdm does; ``weights`` must be non-negative and sum to 1. Nothing here reads files or
knows about schemes; :mod:`evaluation.assessment` builds the scheme-driven engine on top.

Normalisations (see :mod:`evaluation.assessment.normalize`): ``"minmax"`` (constant column → 1),
``"vector"`` (cost column → ``1 - x/‖x‖``), ``"sum"`` and ``"zscore"``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evaluation.assessment import aggregate, normalize
from evaluation.assessment import weights as _weights

FloatArray = NDArray[np.float64]

__all__ = ["ahp_weights", "critic_weights", "entropy_weights", "topsis", "vikor", "wsm"]


def topsis(
    matrix: ArrayLike,
    weights: ArrayLike,
    types: ArrayLike,
    normalization: Literal["minmax", "vector"] = "minmax",
) -> FloatArray:
    """TOPSIS closeness to the ideal solution (higher is better).

    Args:
        matrix: ``(n, m)`` decision matrix.
        weights: ``m`` weights summing to 1.
        types: ``m`` criteria types (+1 benefit, -1 cost).
        normalization: ``"minmax"`` or ``"vector"``.

    Returns:
        ``n`` closeness values in [0, 1].

    >>> topsis([[1, 3000], [2, 3750], [5, 4500]], [0.5, 0.5], [-1, 1]).round(3).tolist()
    [0.5, 0.617, 0.5]
    """
    if normalization not in ("minmax", "vector"):
        raise ValueError(f"TOPSIS normalisation must be 'minmax' or 'vector', got {normalization!r}")
    x, t = normalize.as_problem(matrix, types)
    w = aggregate.check_weights(weights, x.shape[1])
    # Normalise-then-weight is an affine map per column; fold it so the big matrix is touched few times.
    if normalization == "minmax":
        lo, hi = x.min(axis=0), x.max(axis=0)
        span = hi - lo
        const = normalize.constant_columns(lo, hi)
        slope = np.where(const, 0.0, w / np.where(const, 1.0, span))
        a = np.where(t > 0, slope, -slope)
        b = np.where(t > 0, -lo * slope, hi * slope)
    else:
        norm = np.sqrt(np.einsum("ij,ij->j", x, x))
        slope = w / np.where(norm == 0, 1.0, norm)
        a = np.where(t > 0, slope, -slope)
        b = np.where(t > 0, 0.0, w)
    return aggregate.topsis_affine(x, a, b)


def vikor(matrix: ArrayLike, weights: ArrayLike, types: ArrayLike, v: float = 0.5) -> FloatArray:
    """VIKOR compromise index Q (lower is better).

    The raw values are used (VIKOR's ratios are invariant to a linear rescaling of a column); a
    constant column contributes nothing. Use
    :func:`evaluation.assessment.aggregate.vikor_normalized` for S, R and the compromise set.

    Args:
        matrix: ``(n, m)`` decision matrix.
        weights: ``m`` weights summing to 1.
        types: ``m`` criteria types.
        v: weight of the group-utility strategy, in [0, 1].

    Returns:
        ``n`` values of Q in [0, 1].

    >>> m = [[78, 56, 34, 6], [4, 45, 3, 97], [18, 2, 50, 63], [9, 14, 11, 92], [85, 9, 100, 29]]
    >>> vikor(m, [0.25] * 4, [1, 1, 1, 1]).round(4).tolist()
    [0.5679, 0.7667, 1.0, 0.7493, 0.0]
    """
    x, t = normalize.as_problem(matrix, types)
    w = aggregate.check_weights(weights, x.shape[1])
    return aggregate.vikor_normalized(normalize.minmax(x, t), w, v).q


def wsm(
    matrix: ArrayLike,
    weights: ArrayLike,
    types: ArrayLike,
    normalization: Literal["minmax", "vector", "sum", "zscore"] = "minmax",
) -> FloatArray:
    """Weighted sum of the normalised matrix (higher is better).

    Args:
        matrix: ``(n, m)`` decision matrix.
        weights: ``m`` weights summing to 1.
        types: ``m`` criteria types.
        normalization: ``"minmax"``, ``"vector"``, ``"sum"`` or ``"zscore"``.

    Returns:
        ``n`` scores (in [0, 1] for min-max).

    >>> wsm([[1, 10], [3, 30], [2, 20]], [0.5, 0.5], [1, -1]).tolist()
    [0.5, 0.5, 0.5]
    """
    x, t = normalize.as_problem(matrix, types)
    w = aggregate.check_weights(weights, x.shape[1])
    return aggregate.wsm_normalized(normalize.normalize(x, t, normalization), w)


def ahp_weights(pairwise: ArrayLike) -> tuple[FloatArray, float]:
    """AHP priority vector (principal eigenvector) and Saaty consistency ratio.

    Uses Saaty's random-index table; missing judgements (NaN) are completed by Harker's method. See
    :func:`evaluation.assessment.weights.ahp_weights` for the geometric-mean method, other RI tables
    and the CR limit.

    Args:
        pairwise: ``(n, n)`` positive reciprocal matrix.

    Returns:
        ``(weights, consistency_ratio)``.

    >>> w, cr = ahp_weights([[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]])
    >>> w.round(4).tolist(), round(cr, 6)
    ([0.5714, 0.2857, 0.1429], 0.0)
    """
    return _weights.ahp_weights(pairwise)


def entropy_weights(matrix: ArrayLike) -> FloatArray:
    """Entropy weights of an ``(n, m)`` non-negative matrix (``m`` values summing to 1).

    >>> entropy_weights([[1, 2], [1, 4]]).tolist()
    [0.0, 1.0]
    """
    return _weights.entropy_weights(matrix)


def critic_weights(matrix: ArrayLike, types: ArrayLike) -> FloatArray:
    """CRITIC weights of an ``(n, m)`` matrix; cost columns are reversed before correlating.

    >>> critic_weights([[1, 2], [2, 1], [3, 3]], [1, 1]).round(3).tolist()
    [0.5, 0.5]
    """
    return _weights.critic_weights(matrix, types)
