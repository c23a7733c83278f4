"""One expert's pairwise matrix reviewed: parsed from numbers or fractions, its weights, consistency ratio and
the judgement most at odds with the others (the one to revisit first).

Used by the service when an expert saves a matrix and by the dashboard's AHP form, which shows the same
figures live while the expert types, so the page and the API never disagree about a matrix.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from evaluation.assessment.weights import ahp_weights

# Saaty's 1/9 … 9 scale, the values a judgement may be revised to.
SAATY = (1 / 9, 1 / 8, 1 / 7, 1 / 6, 1 / 5, 1 / 4, 1 / 3, 1 / 2, 1, 2, 3, 4, 5, 6, 7, 8, 9)


def parse_judgement(value: Any) -> float:
    """A judgement as a positive float, from a number or a fraction like ``"1/3"`` (``ValueError`` otherwise).

    >>> parse_judgement("1/3") == 1 / 3, parse_judgement(5), parse_judgement(" 2 ")
    (True, 5.0, 2.0)
    """
    try:
        x = float(Fraction(str(value).strip()))
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{value!r} is not a positive number or a fraction like 1/3") from None
    if not math.isfinite(x) or x <= 0:
        raise ValueError(f"{value!r} is not a positive number")
    return x


def parse_matrix(raw: list[list[Any]], n: int) -> np.ndarray:
    """A complete reciprocal ``n × n`` matrix from numbers or fractions like ``"1/3"`` (``ValueError`` otherwise)."""
    if len(raw) != n or any(len(row) != n for row in raw):
        raise ValueError(f"the matrix must be {n} × {n}")
    try:
        a = np.array([[parse_judgement(v) for v in row] for row in raw], dtype=np.float64)
    except ValueError:
        raise ValueError("every judgement is a positive number or a fraction like 1/3") from None
    if not np.allclose(np.diag(a), 1.0):
        raise ValueError("the diagonal is 1 (a criterion compared with itself)")
    if not np.allclose(a * a.T, 1.0, rtol=1e-3):
        i, j = np.argwhere(~np.isclose(a * a.T, 1.0, rtol=1e-3))[0]
        raise ValueError(f"row {i + 1}, column {j + 1}: a[j][i] must be 1 / a[i][j] (reciprocal)")
    return a


def from_upper(upper: dict[tuple[int, int], Any], n: int) -> np.ndarray:
    """The reciprocal matrix whose upper triangle is ``upper[(i, j)]`` (``i < j``), as a form fills it.

    >>> from_upper({(0, 1): "3"}, 2).tolist() == [[1.0, 3.0], [1 / 3, 1.0]]
    True
    """
    a = np.ones((n, n), dtype=np.float64)
    for i in range(n):
        for j in range(i + 1, n):
            x = parse_judgement(upper[(i, j)])
            a[i, j], a[j, i] = x, 1.0 / x
    return a


def reciprocal_text(value: Any) -> str:
    """The text of ``1 / value`` as the form shows it below the diagonal (``"?"`` for an unreadable value).

    >>> reciprocal_text("3"), reciprocal_text("1/5"), reciprocal_text(2.5), reciprocal_text("x")
    ('1/3', '5', '2/5', '?')
    """
    try:
        x = parse_judgement(value)
    except ValueError:
        return "?"
    return str(Fraction(1 / x).limit_denominator(100))


def review(
    a: np.ndarray,
    order: list[str],
    *,
    method: Literal["eigenvector", "geometric"] = "eigenvector",
    ri_table: str = "saaty",
    max_cr: float = 0.1,
) -> dict[str, Any]:
    """Weights, consistency ratio and the most inconsistent judgement of one matrix.

    The most inconsistent judgement is the pair (i, j) whose ``a[i][j]`` is furthest, in log terms, from the
    ratio ``w_i / w_j`` the weights imply; ``suggested`` is the nearest value on Saaty's 1/9…9 scale.

    Returns:
        ``{"weights": {id: w}, "cr", "limit", "consistent", "most_inconsistent": {"row", "column", "value",
        "implied", "suggested"} | None}`` (None below three criteria, where every matrix is consistent).

    >>> r = review(np.array([[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]]), ["a", "b", "c"])
    >>> round(r["cr"], 9), r["consistent"], round(r["weights"]["a"], 4)
    (0.0, True, 0.5714)
    """
    w, cr = ahp_weights(a, method=method, ri_table=ri_table)
    worst: dict[str, Any] | None = None
    n = len(order)
    if n >= 3:
        err = np.abs(np.log(a * (w[None, :] / w[:, None])))
        iu = np.triu_indices(n, 1)
        k = int(np.argmax(err[iu]))
        i, j = int(iu[0][k]), int(iu[1][k])
        implied = float(w[i] / w[j])
        suggested = min(SAATY, key=lambda s: abs(math.log(s) - math.log(implied)))
        worst = {"row": order[i], "column": order[j], "value": float(a[i, j]), "implied": implied,
                 "suggested": str(Fraction(suggested).limit_denominator(9))}
    return {"weights": dict(zip(order, [float(x) for x in w], strict=True)), "cr": float(cr), "limit": max_cr,
            "consistent": bool(cr <= max_cr), "most_inconsistent": worst}
