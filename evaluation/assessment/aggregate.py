"""Aggregation of a normalised decision matrix: weighted sum, TOPSIS, VIKOR; ranks with ties.

The ``*_normalized`` functions take a matrix already normalised so that **higher is better in every
column** (``(n, m)`` floats) and weights of length ``m``; the public wrappers in
:mod:`evaluation.scoring` normalise raw matrices first.

Tie rule: alternatives with equal scores share the average of the ranks they span (rank 1 = best),
as ``scipy.stats.rankdata(method="average")``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import rankdata

from evaluation.assessment.normalize import constant_columns

FloatArray = NDArray[np.float64]
WEIGHT_TOL = 1e-6


def check_weights(weights: ArrayLike, m: int) -> FloatArray:
    """Validate a weight vector: ``m`` finite non-negative numbers summing to 1 (±1e-6).

    >>> check_weights([0.25, 0.75], 2).tolist()
    [0.25, 0.75]
    """
    w = np.array(weights, dtype=np.float64).reshape(-1)
    if w.shape != (m,):
        raise ValueError(f"weights has {w.size} entries but the matrix has {m} criteria")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    if abs(w.sum() - 1.0) > WEIGHT_TOL:
        raise ValueError(f"weights must sum to 1, they sum to {w.sum():.6g}; divide them by their sum")
    return w


def wsm_normalized(r: FloatArray, w: FloatArray) -> FloatArray:
    """Weighted sum ``r @ w`` of an ``(n, m)`` benefit-oriented matrix; returns ``n`` scores.

    >>> wsm_normalized(np.array([[1.0, 0.0], [0.5, 0.5]]), np.array([0.75, 0.25])).tolist()
    [0.75, 0.5]
    """
    return r @ w


def topsis_normalized(r: FloatArray, w: FloatArray) -> FloatArray:
    """TOPSIS closeness ``D⁻ / (D⁺ + D⁻)`` of an ``(n, m)`` benefit-oriented matrix.

    The ideal (anti-ideal) is the column maximum (minimum) of the weighted matrix. When every
    alternative is equal on every weighted column (``D⁺ = D⁻ = 0``) all closeness values are 0.5.

    Returns:
        ``n`` closeness values in [0, 1], higher is better.

    >>> topsis_normalized(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0.5, 0.5])).tolist()
    [0.5, 0.5, 1.0]
    """
    v = r * w
    dp = np.sqrt(np.sum((v - v.max(axis=0)) ** 2, axis=1))
    dm = np.sqrt(np.sum((v - v.min(axis=0)) ** 2, axis=1))
    den = dp + dm
    return np.where(den > 0, dm / np.where(den > 0, den, 1.0), 0.5)


def topsis_affine(x: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    """TOPSIS closeness when the weighted normalised matrix is the affine map ``v = x·a + b`` per column.

    Min-max and vector normalisation followed by weighting are both such maps, so the weighted
    matrix is built in one pass and the ideal / anti-ideal follow from each column's min and max
    (no second scan of ``v``). Same numbers as :func:`topsis_normalized` on the normalised matrix.

    Args:
        x: ``(n, m)`` raw matrix.
        a, b: ``m`` slopes and offsets.

    Returns:
        ``n`` closeness values (0.5 where ``D⁺ = D⁻ = 0``).

    >>> x = np.array([[1.0, 3000.0], [2.0, 3750.0], [5.0, 4500.0]])
    >>> a = np.array([-0.5 / 4, 0.5 / 1500]); b = np.array([0.5 * 5 / 4, -0.5 * 3000 / 1500])
    >>> topsis_affine(x, a, b).round(3).tolist()
    [0.5, 0.617, 0.5]
    """
    lo, hi = x.min(axis=0), x.max(axis=0)
    v_lo, v_hi = a * lo + b, a * hi + b
    best, worst = np.maximum(v_lo, v_hi), np.minimum(v_lo, v_hi)
    u = x * a
    u += b - best  # v - ideal
    dp = np.sqrt(np.einsum("ij,ij->i", u, u))
    u += best - worst  # v - anti-ideal
    dm = np.sqrt(np.einsum("ij,ij->i", u, u))
    den = dp + dm
    return np.where(den > 0, dm / np.where(den > 0, den, 1.0), 0.5)


@dataclass(frozen=True)
class VikorResult:
    """VIKOR's three indices (all lower is better) and the compromise set.

    Attributes:
        s: group utility ``S_i`` (length ``n``).
        r: individual regret ``R_i``.
        q: compromise index ``Q_i``.
        compromise: indices of the compromise solution(s), best first (Opricovic & Tzeng 2004).
    """

    s: FloatArray
    r: FloatArray
    q: FloatArray
    compromise: tuple[int, ...]


def _unit(x: FloatArray) -> FloatArray:
    lo, hi = x.min(), x.max()
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)


def vikor_normalized(r: FloatArray, w: FloatArray, v: float = 0.5) -> VikorResult:
    """VIKOR on an ``(n, m)`` benefit-oriented matrix.

    ``d_ij = w_j (f*_j - r_ij) / (f*_j - f⁻_j)`` (0 on a constant column), ``S = Σ_j d``, ``R = max_j d``,
    ``Q = v·unit(S) + (1-v)·unit(R)`` where ``unit`` rescales to [0, 1] (0 when constant).

    Compromise set: with ``a1`` best by Q and ``DQ = 1/(n-1)``, if ``a1`` has *acceptable advantage*
    (``Q(a2) - Q(a1) ≥ DQ``) and *acceptable stability* (also best by S or R) it alone is the
    compromise; with stability only, ``{a1, a2}``; without advantage, every ``a_k`` with
    ``Q(a_k) - Q(a1) < DQ``.

    >>> res = vikor_normalized(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0.5, 0.5]))
    >>> res.q.tolist(), res.compromise
    ([1.0, 1.0, 0.0], (2,))
    """
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"VIKOR's v must lie in [0, 1], got {v}")
    fstar, fminus = r.max(axis=0), r.min(axis=0)
    span = fstar - fminus
    const = constant_columns(fminus, fstar)
    d = w * (fstar - r) / np.where(const, 1.0, span)
    d[:, const] = 0.0
    s, rr = d.sum(axis=1), d.max(axis=1)
    q = v * _unit(s) + (1.0 - v) * _unit(rr)
    return VikorResult(s=s, r=rr, q=q, compromise=vikor_compromise(s, rr, q))


def vikor_compromise(s: FloatArray, r: FloatArray, q: FloatArray) -> tuple[int, ...]:
    """The VIKOR compromise set from ``S``, ``R`` and ``Q`` (see :func:`vikor_normalized`).

    >>> vikor_compromise(np.array([0.1, 0.2]), np.array([0.1, 0.2]), np.array([0.0, 1.0]))
    (0,)
    """
    n = q.size
    order = np.argsort(q, kind="stable")
    if n == 1:
        return (int(order[0]),)
    a1, a2 = int(order[0]), int(order[1])
    dq = 1.0 / (n - 1)
    advantage = q[a2] - q[a1] >= dq - 1e-12
    stable = s[a1] <= s.min() + 1e-12 or r[a1] <= r.min() + 1e-12
    if advantage and stable:
        return (a1,)
    if advantage:
        return (a1, a2)
    return tuple(int(k) for k in order if q[k] - q[a1] < dq - 1e-12)


def rank_desc(scores: ArrayLike) -> FloatArray:
    """Ranks with 1 = highest score; ties share their average rank.

    >>> rank_desc([0.2, 0.9, 0.2]).tolist()
    [2.5, 1.0, 2.5]
    """
    x = np.asarray(scores, dtype=np.float64)
    return np.asarray(rankdata(-x, method="average"), dtype=np.float64)
