"""Criteria weights: AHP (subjective), entropy and CRITIC (objective), and their combinations.

AHP follows Saaty: the priority vector is the principal right eigenvector of the pairwise matrix
(``method="eigenvector"``) or the normalised row geometric means (``method="geometric"``); the
consistency ratio is ``CR = CI / RI`` with ``CI = (λmax - n) / (n - 1)`` from the principal
eigenvalue in both cases. Two random-index tables are provided and named:

* ``"saaty"`` — Saaty (1980), *The Analytic Hierarchy Process*, Table 1.7 extended to n = 15
  (0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59);
* ``"tummala_ling"`` — Tummala & Ling (1998), the table pymcdm uses.

Several experts' matrices are pooled by the element-wise geometric mean (which keeps reciprocity);
a matrix with missing judgements (NaN) is completed by Harker's (1987) method before use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evaluation.assessment.normalize import as_problem, minmax

FloatArray = NDArray[np.float64]

RANDOM_INDEX: dict[str, tuple[float, ...]] = {
    "saaty": (0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59),
    "tummala_ling": (
        0.0,
        0.0,
        0.5799,
        0.8921,
        1.1159,
        1.2358,
        1.3322,
        1.3952,
        1.4537,
        1.4882,
        1.5117,
        1.5356,
        1.5571,
        1.5714,
        1.5831,
    ),
}
CR_LIMIT = 0.10


class InconsistentJudgementsError(ValueError):
    """An AHP matrix's consistency ratio is above the accepted limit."""


def _check_pairwise(pairwise: ArrayLike, *, allow_missing: bool) -> FloatArray:
    a = np.array(pairwise, dtype=np.float64, copy=True)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] < 1:
        raise ValueError(f"a pairwise matrix must be square, got shape {a.shape}")
    missing = np.isnan(a)
    if missing.any() and not allow_missing:
        raise ValueError(
            "the pairwise matrix has missing judgements (NaN); complete it with complete_pairwise()"
        )
    known = a[~missing]
    if np.any(~np.isfinite(known)) or np.any(known <= 0):
        raise ValueError("pairwise judgements must be positive finite numbers (Saaty's 1/9 … 9 scale)")
    if np.any(missing[np.diag_indices_from(a)]) or not np.allclose(np.diag(a), 1.0):
        raise ValueError("the diagonal of a pairwise matrix must be 1 (each criterion equals itself)")
    both = ~missing & ~missing.T
    prod = np.where(both, a * a.T, 1.0)
    # Judgements are often typed as 0.33 for 1/3, hence the loose tolerance.
    if not np.allclose(prod, 1.0, rtol=0.02):
        i, j = np.argwhere(~np.isclose(prod, 1.0, rtol=0.02))[0]
        raise ValueError(
            f"the pairwise matrix is not reciprocal at ({i}, {j}): {a[i, j]:g} × {a[j, i]:g} ≠ 1; "
            "enter a[j, i] = 1 / a[i, j]"
        )
    if missing.any() and np.any(missing != missing.T):
        raise ValueError("a missing judgement must be missing on both sides of the diagonal")
    return a


def principal_eigen(a: FloatArray) -> tuple[float, FloatArray]:
    """Principal eigenvalue and its eigenvector (normalised to sum 1) of a positive matrix.

    Args:
        a: ``(n, n)`` positive matrix.

    Returns:
        ``(λmax, w)`` with ``w`` of length ``n`` summing to 1.

    >>> lam, w = principal_eigen(np.array([[1.0, 2.0], [0.5, 1.0]]))
    >>> round(lam, 6), w.round(4).tolist()
    (2.0, [0.6667, 0.3333])
    """
    vals, vecs = np.linalg.eig(a)
    k = int(np.argmax(vals.real))
    w = np.abs(vecs[:, k].real)
    return float(vals[k].real), w / w.sum()


def random_index(n: int, table: str = "saaty") -> float:
    """Random consistency index for an ``n × n`` matrix from a named table.

    >>> random_index(3), random_index(4, "tummala_ling")
    (0.58, 0.8921)
    """
    try:
        values = RANDOM_INDEX[table]
    except KeyError:
        raise ValueError(
            f"unknown random-index table {table!r}; choose one of {sorted(RANDOM_INDEX)}"
        ) from None
    if n > len(values):
        raise ValueError(
            f"no random index for n = {n} (table {table!r} stops at {len(values)}); split the node"
        )
    return values[n - 1]


def consistency_ratio(pairwise: ArrayLike, ri_table: str = "saaty") -> float:
    """Saaty's consistency ratio ``CI / RI`` (0 for ``n ≤ 2``).

    Args:
        pairwise: complete ``(n, n)`` reciprocal matrix.
        ri_table: name of the random-index table (see :data:`RANDOM_INDEX`).

    >>> consistency_ratio([[1, 2, 4], [0.5, 1, 2], [0.25, 0.5, 1]])
    0.0
    """
    a = _check_pairwise(pairwise, allow_missing=False)
    n = a.shape[0]
    if n <= 2:
        return 0.0
    lam, _ = principal_eigen(a)
    ci = max(lam - n, 0.0) / (n - 1)
    return ci / random_index(n, ri_table)


def complete_pairwise(pairwise: ArrayLike) -> FloatArray:
    """Fill missing judgements (NaN) by Harker's method; complete matrices come back unchanged.

    Harker (1987): set missing entries to 0, add the number of missing entries in each row to its
    diagonal, take the principal eigenvector ``w`` and fill each gap with ``w_i / w_j``.

    Args:
        pairwise: ``(n, n)`` reciprocal matrix, NaN where a judgement is missing (both sides).

    Returns:
        A new complete ``(n, n)`` reciprocal matrix.

    Raises:
        ValueError: the known judgements do not connect all criteria.

    >>> nan = float("nan")
    >>> complete_pairwise([[1, 2, nan], [0.5, 1, 2], [nan, 0.5, 1]])[0, 2].round(6)
    np.float64(4.0)
    """
    a = _check_pairwise(pairwise, allow_missing=True)
    missing = np.isnan(a)
    if not missing.any():
        return a
    n = a.shape[0]
    linked = ~missing
    reach = linked.copy()
    for _ in range(n):
        reach = reach | (reach.astype(np.int64) @ linked.astype(np.int64) > 0)
    if not reach.all():
        raise ValueError("the known judgements do not connect every criterion; add a comparison for each one")
    c = np.where(missing, 0.0, a)
    c[np.diag_indices(n)] = 1.0 + missing.sum(axis=1)
    _, w = principal_eigen(c)
    return np.where(missing, w[:, None] / w[None, :], a)


def aggregate_experts(matrices: Sequence[ArrayLike]) -> FloatArray:
    """Pool several experts' pairwise matrices by the element-wise geometric mean.

    Missing judgements (NaN) are skipped per element; an element nobody judged stays NaN.

    Args:
        matrices: one ``(n, n)`` matrix per expert.

    Returns:
        ``(n, n)`` pooled reciprocal matrix.

    >>> aggregate_experts([[[1, 4], [0.25, 1]], [[1, 1], [1, 1]]]).tolist()
    [[1.0, 2.0], [0.5, 1.0]]
    """
    if len(matrices) == 0:
        raise ValueError("aggregate_experts needs at least one matrix")
    stack = np.stack([_check_pairwise(m, allow_missing=True) for m in matrices])
    logs = np.log(stack)
    count = np.sum(~np.isnan(logs), axis=0)
    total = np.nansum(logs, axis=0)
    return np.where(count > 0, np.exp(total / np.maximum(count, 1)), np.nan)


def ahp_weights(
    pairwise: ArrayLike,
    *,
    method: Literal["eigenvector", "geometric"] = "eigenvector",
    ri_table: str = "saaty",
    max_cr: float | None = None,
) -> tuple[FloatArray, float]:
    """AHP priority vector and consistency ratio of one pairwise matrix.

    Args:
        pairwise: ``(n, n)`` reciprocal matrix; ``a[i, j]`` says how much more important ``i`` is
            than ``j`` on Saaty's 1–9 scale. NaN entries are completed by :func:`complete_pairwise`.
        method: ``"eigenvector"`` (Saaty) or ``"geometric"`` (row geometric mean).
        ri_table: random-index table used for the consistency ratio.
        max_cr: if given, raise when the consistency ratio exceeds it.

    Returns:
        ``(weights, consistency_ratio)``; ``weights`` has length ``n`` and sums to 1.

    Raises:
        InconsistentJudgementsError: ``CR > max_cr``.

    >>> w, cr = ahp_weights([[1, 3], [1 / 3, 1]])
    >>> w.round(4).tolist(), cr
    ([0.75, 0.25], 0.0)
    """
    a = complete_pairwise(pairwise)
    if method == "eigenvector":
        _, w = principal_eigen(a)
    elif method == "geometric":
        g = np.exp(np.log(a).mean(axis=1))
        w = g / g.sum()
    else:
        raise ValueError(f"unknown AHP method {method!r}; choose 'eigenvector' or 'geometric'")
    cr = consistency_ratio(a, ri_table)
    if max_cr is not None and cr > max_cr:
        raise InconsistentJudgementsError(
            f"consistency ratio {cr:.3f} exceeds {max_cr:.2f}; revise the judgements "
            "(or set allow_inconsistent: true for this matrix if you accept it)"
        )
    return w, cr


def entropy_weights(matrix: ArrayLike) -> FloatArray:
    """Shannon-entropy weights: criteria whose values vary more across alternatives weigh more.

    ``p = x / Σx`` per column, ``E = -Σ p ln p / ln n`` (with ``0 ln 0 = 0``), weights ``∝ 1 - E``.
    An all-zero or constant column has ``E = 1`` and weight 0; if every column is like that (or
    ``n = 1``) the weights are equal.

    Args:
        matrix: ``(n, m)`` non-negative decision matrix (normalise first if it has negatives).

    Returns:
        ``m`` weights summing to 1.

    Raises:
        ValueError: negative values.

    >>> entropy_weights([[1.0, 5.0], [1.0, 1.0]]).round(4).tolist()
    [0.0, 1.0]
    """
    x, _ = as_problem(matrix)
    n, m = x.shape
    if np.any(x < 0):
        raise ValueError("entropy weights need non-negative values; min-max normalise the matrix first")
    if n == 1:
        return np.full(m, 1.0 / m)
    total = x.sum(axis=0)
    p = np.where(total > 0, x / np.where(total > 0, total, 1.0), 1.0 / n)
    plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    e = -plogp.sum(axis=0) / np.log(n)
    # A constant column has entropy exactly 1; set it exactly rather than trusting 1 - 1e-16.
    d = np.where(x.max(axis=0) == x.min(axis=0), 0.0, np.clip(1.0 - e, 0.0, None))
    return d / d.sum() if d.sum() > 0 else np.full(m, 1.0 / m)


def critic_weights(matrix: ArrayLike, types: ArrayLike | None = None) -> FloatArray:
    """CRITIC weights (Diakoulaki et al. 1995): contrast × conflict.

    Columns are min-max normalised with their ``types`` (so a cost column is reversed before the
    correlations are taken; pass ``types=None`` to treat all as benefit, as pymcdm does). Weight
    ``∝ σ_j Σ_k (1 - r_jk)`` with the sample standard deviation; a constant column has weight 0 and
    correlation 0 with the others.

    Args:
        matrix: ``(n, m)`` decision matrix, ``n ≥ 2``.
        types: ``m`` criteria types or ``None``.

    Returns:
        ``m`` weights summing to 1 (equal weights if every column is constant).

    >>> critic_weights([[1.0, 2.0], [2.0, 1.0], [3.0, 3.0]]).round(4).tolist()
    [0.5, 0.5]
    """
    x, t = as_problem(matrix, types)
    n, m = x.shape
    if n < 2:
        raise ValueError("CRITIC needs at least two alternatives")
    r = minmax(x, t)
    sd = r.std(axis=0, ddof=1)
    live = sd > 0
    corr = np.zeros((m, m))
    if live.sum() >= 1:
        z = (r[:, live] - r[:, live].mean(axis=0)) / sd[live]
        corr[np.ix_(live, live)] = (z.T @ z) / (n - 1)
    c = sd * np.sum(1.0 - corr, axis=0)
    return c / c.sum() if c.sum() > 0 else np.full(m, 1.0 / m)


def combine_weights(
    subjective: ArrayLike,
    objective: ArrayLike,
    *,
    method: Literal["linear", "multiplicative"],
    alpha: float = 0.5,
) -> FloatArray:
    """Mix subjective and objective weights.

    ``linear``: ``α·w_s + (1-α)·w_o``; ``multiplicative``: ``w_s·w_o / Σ(w_s·w_o)``.

    Args:
        subjective: ``m`` weights summing to 1 (e.g. AHP).
        objective: ``m`` weights summing to 1 (e.g. entropy).
        method: the mixing rule.
        alpha: share of the subjective weights in the linear mix, in [0, 1].

    Returns:
        ``m`` weights summing to 1.

    >>> combine_weights([0.5, 0.5], [0.8, 0.2], method="multiplicative").tolist()
    [0.8, 0.2]
    """
    s = np.asarray(subjective, dtype=np.float64)
    o = np.asarray(objective, dtype=np.float64)
    if s.shape != o.shape:
        raise ValueError(f"subjective and objective weights differ in length ({s.size} vs {o.size})")
    if method == "linear":
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
        w = alpha * s + (1.0 - alpha) * o
    elif method == "multiplicative":
        w = s * o
        if w.sum() <= 0:
            raise ValueError("multiplicative mix is all zero: no criterion has weight under both schemes")
    else:
        raise ValueError(f"unknown combination {method!r}; choose 'linear' or 'multiplicative'")
    return w / w.sum()
