"""Plausible predictive distributions: a robust point forecast and an upper tail the series allows.

**The point forecast is the median.** The published and forecast-file column keeps the name ``mean``
(DESIGN.md fixes it) but holds the median of the predictive distribution (:func:`point_forecast`), the
point the backtests score. The mean of a distribution forecast on a log scale is a moment of its upper
tail: on a volatile series (history between 78 and 10,170) it reached 7.9e6 while the median was 18,478.

**The upper tail rule** (:func:`upper_caps`): at horizon ``h`` no quantile exceeds

    ``max(y) + multiple · r · h``, ``r = max(max(y) − min(y), 0.1 · max|y|)``,

the largest value observed plus ``multiple`` times the observed range per step ahead (the range floored at
a tenth of the largest magnitude, so a flat series may still move), nor the natural upper bound of the
kind (a share's 100 %). ``multiple = 2`` (``ChampionConfig.tail_multiple``) was chosen on M3 yearly
training parts only: over 60,894 (history ≥ 4 points, next 1–6 points) pairs cut from them, the actual
exceeded the cap with ``multiple`` 0.5 / 1 / 2 in 3.7 % / 0.78 % / 0.17 % of cases (0.27 % at ``h = 1``),
so the cap removes tail mass that almost never occurs while a 95 % upper bound can no longer be 10× the
largest value ever observed within 4 years (it is at most ``max + 8·range``).

On the identity scale (series touching zero or negative) the lower tail follows the same rule mirrored,
``min(y) − multiple · r · h``, and a series never observed below zero is never forecast below zero
(:func:`lower_floors`): counts with zeros went to −15 in the forecast file before.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from models.transforms import Scale


def point_forecast(quantiles: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """The median of each predictive distribution, from quantiles ``(..., k)`` at increasing ``probs``.

    >>> point_forecast(np.array([[1.0, 2.0, 1e9]]), np.array([0.1, 0.5, 0.9])).tolist()
    [2.0]
    """
    q = np.asarray(quantiles, dtype=float)
    p = np.asarray(probs, dtype=float)
    j = int(np.searchsorted(p, 0.5))
    if j < p.size and p[j] == 0.5:
        return q[..., j]
    lo, hi = max(j - 1, 0), min(j, p.size - 1)
    w = 0.0 if hi == lo else (0.5 - p[lo]) / (p[hi] - p[lo])
    return q[..., lo] * (1 - w) + q[..., hi] * w


def upper_caps(history: np.ndarray, horizon: int, multiple: float, upper: float | None = None) -> np.ndarray:
    """The tail rule's cap at horizons ``1..horizon`` on the original scale (see the module docstring).

    >>> upper_caps(np.array([78.0, 10170.0, 500.0]), 3, 2.0).tolist()
    [30354.0, 50538.0, 70722.0]
    >>> upper_caps(np.array([40.0, 60.0]), 2, 2.0, upper=100.0).tolist()
    [100.0, 100.0]
    """
    y = np.asarray(history, dtype=float)
    y = y[np.isfinite(y)]
    top = float(y.max())
    r = max(top - float(y.min()), 0.1 * float(np.abs(y).max()))
    caps = top + multiple * r * np.arange(1, horizon + 1)
    return np.minimum(caps, upper) if upper is not None else caps


def cap_quantiles(
    quantiles: np.ndarray,
    histories: Sequence[np.ndarray],
    scale: Scale,
    multiple: float | None,
) -> np.ndarray:
    """Model-scale quantiles ``(n, h, k)`` with every value above the tail rule's cap set to the cap.

    Args:
        histories: the model-scale histories the forecast came from (mapped back by ``scale``).
        multiple: the rule's multiple; ``None`` leaves the quantiles as they are.
    """
    if multiple is None:
        return quantiles
    n, horizon, _ = quantiles.shape
    caps = np.empty((n, horizon))
    for i, z in enumerate(histories):
        raw = np.asarray(scale.inverse(np.asarray(z, dtype=float)), dtype=float)
        upper = scale.upper if scale.name == "logit" else None
        caps[i] = upper_caps(raw, horizon, multiple, upper)
    # a cap at the natural bound is no cap: the logit scale already stays inside it (and mapping the bound
    # itself nudges it inside, below an outcome exactly on it)
    binding = np.isfinite(caps) & ((caps < scale.upper) if scale.name == "logit" else True)
    zcap = np.full(caps.shape, np.inf)
    # one series' caps at a time: the log scale floors each row at 0.1 % of its largest value, so caps mapped
    # as one row would lift a small series' caps to 0.1 % of the largest series' (no cap at all)
    for row in np.flatnonzero(binding.any(axis=1)).tolist():
        zcap[row, binding[row]] = np.asarray(scale.forward(caps[row, binding[row]]), dtype=float)
    out = np.minimum(quantiles, zcap[:, :, None])
    if scale.name == "identity":  # log and logit scales already stay above their lower bound
        floors = np.stack([lower_floors(np.asarray(z, dtype=float), horizon, multiple) for z in histories])
        out = np.maximum(out, floors[:, :, None])
    return out


def lower_floors(history: np.ndarray, horizon: int, multiple: float) -> np.ndarray:
    """The lower side of the tail rule (identity scale): ``min(y) − multiple · r · h``, and never below 0 for a
    series never observed below 0 (a count of zero is a count; it does not go negative).

    >>> lower_floors(np.array([0.0, 3.0, 1.0]), 2, 2.0).tolist()
    [0.0, 0.0]
    >>> lower_floors(np.array([-5.0, 5.0]), 2, 0.5).tolist()
    [-10.0, -15.0]
    """
    y = np.asarray(history, dtype=float)
    y = y[np.isfinite(y)]
    r = max(float(y.max() - y.min()), 0.1 * float(np.abs(y).max()))
    floors = float(y.min()) - multiple * r * np.arange(1, horizon + 1)
    return np.maximum(floors, 0.0) if y.min() >= 0 else floors


def snap_to_bounds(raw_quantiles: np.ndarray, scale: Scale) -> np.ndarray:
    """Original-scale quantiles with values the logit scale could only reach as its nudged edge set to the bound.

    A share observed at its bound (a coverage of exactly 100 %) enters the logit scale nudged inside
    (:meth:`models.transforms.Scale.forward`: 99.9 for 0–100), so its forecast can approach the bound but
    never reach it, and an outcome of exactly 100 would fall outside every interval. Quantiles at or beyond
    the nudged edge are the point mass at the bound and are reported as the bound. Other scales: unchanged.

    >>> snap_to_bounds(np.array([50.0, 99.95, 99.999]), Scale("logit", 0.0, 100.0)).tolist()
    [50.0, 100.0, 100.0]
    """
    q = np.asarray(raw_quantiles, dtype=float)
    if scale.name != "logit":
        return q
    lo_edge, hi_edge = scale.inverse(scale.forward(np.array([scale.lower, scale.upper])))
    return np.where(q >= hi_edge, scale.upper, np.where(q <= lo_edge, scale.lower, q))
