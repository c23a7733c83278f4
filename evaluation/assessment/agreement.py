"""Evaluators' ratings: how they combine, how much the raters agree, and which cells they dispute.

Pure numpy. A rating matrix is ``targets × raters`` (scenarios in rows, evaluators in columns), complete
(no missing cells) for the agreement statistics.

* :func:`icc` — Shrout & Fleiss (1979) intraclass correlations from the two-way ANOVA mean squares;
  case 2 (every target rated by the same raters, raters a random sample, absolute agreement):
  ``ICC(2,1)`` for one rater, ``ICC(2,k)`` for the mean of the ``k`` raters.
* :func:`kendall_w` — Kendall's coefficient of concordance over the raters' rankings (ties averaged,
  with the tie correction).
* :func:`combine` — one value per cell from its ratings (mean, median, trimmed mean) and its standard
  error, which enters the rank uncertainty as measurement error.
* :func:`spread` — max − min of a cell's ratings, compared with the indicator's configured limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
Combine = Literal["mean", "median", "trimmed_mean"]
MEDIAN_SE_FACTOR = math.sqrt(math.pi / 2)  # asymptotic SE of a normal sample's median / SE of its mean


@dataclass(frozen=True)
class MeanSquares:
    """Two-way ANOVA of a ``targets × raters`` matrix (Shrout & Fleiss's BMS, JMS, EMS and WMS)."""

    n: int
    k: int
    bms: float  # between targets
    jms: float  # between judges (raters)
    ems: float  # residual
    wms: float  # within targets (judges + residual)


def _matrix(ratings: ArrayLike) -> FloatArray:
    y = np.asarray(ratings, dtype=np.float64)
    if y.ndim != 2:
        raise ValueError(f"ratings must be a targets × raters matrix, got {y.ndim} dimension(s)")
    if y.shape[0] < 2 or y.shape[1] < 2:
        raise ValueError(f"agreement needs at least 2 targets and 2 raters, got {y.shape[0]} × {y.shape[1]}")
    if not np.all(np.isfinite(y)):
        raise ValueError("ratings must be complete and finite (drop targets a rater skipped first)")
    return y


def mean_squares(ratings: ArrayLike) -> MeanSquares:
    """The ANOVA mean squares of a complete ``targets × raters`` matrix.

    >>> ms = mean_squares([[1, 2], [3, 5]])
    >>> (ms.bms, ms.jms, ms.ems)
    (6.25, 2.25, 0.25)
    """
    y = _matrix(ratings)
    n, k = y.shape
    grand = y.mean()
    ss_rows = k * float(((y.mean(axis=1) - grand) ** 2).sum())
    ss_cols = n * float(((y.mean(axis=0) - grand) ** 2).sum())
    ss_total = float(((y - grand) ** 2).sum())
    ss_err = ss_total - ss_rows - ss_cols
    return MeanSquares(
        n=n,
        k=k,
        bms=ss_rows / (n - 1),
        jms=ss_cols / (k - 1),
        ems=ss_err / ((n - 1) * (k - 1)),
        wms=(ss_cols + ss_err) / (n * (k - 1)),
    )


def icc(ratings: ArrayLike, *, average: bool = True) -> float:
    """Shrout & Fleiss ICC(2,1) (``average=False``) or ICC(2,k) (``average=True``, the default).

    ICC(2,1) = (BMS − EMS) / (BMS + (k−1)·EMS + k·(JMS − EMS)/n);
    ICC(2,k) = (BMS − EMS) / (BMS + (JMS − EMS)/n).

    Args:
        ratings: ``targets × raters``, complete.
        average: reliability of the raters' mean (``k``) rather than of one rater (``1``).

    Returns:
        The coefficient (1 = perfect absolute agreement; can be negative when raters disagree more than
        the targets differ). ``nan`` when every rating is the same (nothing to tell apart).

    >>> round(icc([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]), 2)
    0.62
    """
    ms = mean_squares(ratings)
    if average:
        denominator = ms.bms + (ms.jms - ms.ems) / ms.n
    else:
        denominator = ms.bms + (ms.k - 1) * ms.ems + ms.k * (ms.jms - ms.ems) / ms.n
    if denominator == 0:
        return math.nan
    return (ms.bms - ms.ems) / denominator


def _average_ranks(x: FloatArray) -> FloatArray:
    """Ranks 1..n of a vector, ties sharing their average rank.

    >>> _average_ranks(np.array([10.0, 20.0, 10.0])).tolist()
    [1.5, 3.0, 1.5]
    """
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(1, len(x) + 1, dtype=np.float64)
    for value in np.unique(x):
        tied = x == value
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    return ranks


def kendall_w(ratings: ArrayLike) -> float:
    """Kendall's W of ``targets × raters`` (each rater's ratings turned into ranks; tie-corrected).

    W = 12·S / (m²(n³ − n) − m·ΣT), S the squared deviations of the targets' rank sums, m raters,
    n targets, T = Σ(t³ − t) over each rater's groups of ``t`` tied targets. 1 = identical rankings,
    0 = no common ordering. ``nan`` when every rater ties every target.

    >>> kendall_w([[1, 1], [2, 2], [3, 3]])
    1.0
    """
    y = _matrix(ratings)
    n, m = y.shape
    ranks = np.column_stack([_average_ranks(y[:, j]) for j in range(m)])
    sums = ranks.sum(axis=1)
    s = float(((sums - sums.mean()) ** 2).sum())
    ties = 0.0
    for j in range(m):
        _, counts = np.unique(y[:, j], return_counts=True)
        ties += float((counts.astype(np.float64) ** 3 - counts).sum())
    denominator = m**2 * (n**3 - n) - m * ties
    if denominator == 0:
        return math.nan
    return 12.0 * s / denominator


def combine(ratings: ArrayLike, how: Combine = "mean", *, trim: float = 0.2) -> tuple[float, float]:
    """One cell's value from its ratings, and that value's standard error.

    The standard error is the ratings' sample SD over √n (× √(π/2) for the median, its large-sample
    efficiency); ``nan`` with a single rating, so the scheme's default measurement error applies.

    >>> combine([60, 70, 80])
    (70.0, 5.773502691896258)
    >>> combine([1, 2, 3, 4, 100], "trimmed_mean", trim=0.2)[0]
    3.0
    """
    r = np.sort(np.asarray(ratings, dtype=np.float64))
    if r.size == 0 or not np.all(np.isfinite(r)):
        raise ValueError("a cell needs at least one finite rating")
    if how == "mean":
        value = float(r.mean())
    elif how == "median":
        value = float(np.median(r))
    elif how == "trimmed_mean":
        cut = int(trim * r.size)  # as scipy.stats.trim_mean: whole ratings cut from each end
        value = float(r[cut : r.size - cut].mean())
    else:
        raise ValueError(f"unknown combination {how!r}; use mean, median or trimmed_mean")
    if r.size < 2:
        return value, math.nan
    se = float(r.std(ddof=1)) / math.sqrt(r.size)
    return value, se * MEDIAN_SE_FACTOR if how == "median" else se


def spread(ratings: ArrayLike) -> float:
    """max − min of a cell's ratings (0 for a single rating).

    >>> spread([40, 85, 60])
    45.0
    """
    r = np.asarray(ratings, dtype=np.float64)
    return float(r.max() - r.min()) if r.size else math.nan
