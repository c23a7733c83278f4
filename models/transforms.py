"""Scales that keep forecasts inside their natural bounds, and the wrapper that applies them.

* shares (bounded ``[lower, upper]``) are modelled on a logit scale inside the bounds, so no
  quantile can leave them;
* counts and amounts (positive) on a log scale;
* cumulative stocks never decrease: each quantile path is made non-decreasing and never below the
  last observation;
* survey KPIs (measured with a standard error) get their sampling variance added to the predictive
  spread on the original scale.

Quantiles map through a monotone back-transform unchanged; the mean on the original scale is taken
as the average of back-transformed quantiles on a fine grid (a midpoint rule), not the back-transformed
model-scale mean, which would be biased for log and logit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Literal, Self

import numpy as np
from scipy import stats

from models.base import DEFAULT_LEVELS, Forecast, Forecaster, dense_probs, level_probs

ScaleName = Literal["identity", "log", "logit"]

# how far inside a bound an observation on it is moved before logit/log (as a share of the range)
_EDGE = 1e-3


@dataclass(frozen=True)
class Scale:
    """A monotone transform with its inverse.

    Attributes:
        name: ``identity``, ``log`` (values above ``lower``) or ``logit`` (values within
            ``[lower, upper]``).
        lower: lower bound (``log`` and ``logit``); ``0`` for a plain log.
        upper: upper bound (``logit`` only).
    """

    name: ScaleName = "identity"
    lower: float = 0.0
    upper: float = 1.0

    def forward(self, y: np.ndarray) -> np.ndarray:
        """Map values to the model scale (a new array); values on a bound are nudged inside.

        On the log scale a value at or below ``lower`` is floored at 0.1 % of the largest distance from
        ``lower`` along the last axis, so each row of a stack of series (one series per row) is floored
        relative to its own size, never to the largest series in the stack.

        >>> Scale("logit", 0, 100).forward(np.array([50.0])).tolist()
        [0.0]
        >>> np.exp(Scale("log").forward(np.array([[0.0, 2.0], [0.0, 2000.0]]))).round(6).tolist()
        [[0.002, 2.0], [2.0, 2000.0]]
        """
        y = np.asarray(y, dtype=float)
        if self.name == "identity":
            return y.copy()
        if self.name == "log":
            if y.size == 0:
                return y.copy()
            size = np.nanmax(np.abs(y - self.lower), axis=-1, keepdims=True)
            eps = _EDGE * np.maximum(1.0, np.nan_to_num(size, nan=1.0))
            return np.log(np.maximum(y - self.lower, eps))
        width = self.upper - self.lower
        u = np.clip((y - self.lower) / width, _EDGE, 1 - _EDGE)
        return np.log(u / (1 - u))

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """Map model-scale values back (a new array), always inside the bounds.

        >>> Scale("log").inverse(np.array([0.0])).tolist()
        [1.0]
        """
        z = np.asarray(z, dtype=float)
        if self.name == "identity":
            return z.copy()
        if self.name == "log":
            return self.lower + np.exp(np.clip(z, -700, 700))
        return self.lower + (self.upper - self.lower) * (1.0 / (1.0 + np.exp(-np.clip(z, -700, 700))))


def choose_scale(kind: str, lower: float | None, upper: float | None, values: np.ndarray) -> Scale:
    """Pick the model scale for a KPI ``kind`` with natural bounds and the observed ``values``.

    Shares with both bounds → logit; counts, amounts and rates that are all above their lower bound
    (0 if unknown) → log; anything else (levels, series touching or crossing zero) → identity.

    >>> choose_scale("share", 0, 100, np.array([10.0, 20.0])).name
    'logit'
    >>> choose_scale("count", 0, None, np.array([3.0, 5.0])).name
    'log'
    >>> choose_scale("amount", None, None, np.array([-1.0, 5.0])).name
    'identity'
    """
    if kind == "share" and lower is not None and upper is not None and upper > lower:
        return Scale("logit", float(lower), float(upper))
    if kind in {"count", "amount", "rate", "share"}:
        low = 0.0 if lower is None else float(lower)
        if values.size and np.all(values > low):
            return Scale("log", low)
    return Scale("identity")


def fill_gaps(z: np.ndarray) -> np.ndarray:
    """Fill NaN gaps by linear interpolation between the observed points (a new array).

    A filled value leans on the next observation, so a backtest must not cut inside a gap: pass
    ``np.isfinite(z)`` as ``observed`` to :func:`models.champion.fit_champion`.

    >>> fill_gaps(np.array([1.0, np.nan, 3.0])).tolist()
    [1.0, 2.0, 3.0]
    """
    idx = np.arange(z.size)
    ok = np.isfinite(z)
    return np.interp(idx, idx[ok], z[ok])


def monotone_quantiles(quantiles: np.ndarray, floor: float) -> np.ndarray:
    """Make each quantile path non-decreasing along the horizon and at least ``floor`` (a new array).

    Args:
        quantiles: shape ``(h, k)``.
        floor: the last observed value of the cumulative series.

    >>> monotone_quantiles(np.array([[5.0], [4.0], [6.0]]), 4.5).ravel().tolist()
    [5.0, 5.0, 6.0]
    """
    return np.maximum.accumulate(np.maximum(quantiles, floor), axis=0)


@dataclass(eq=False)
class Transformed:
    """Fit ``base`` on a transformed scale and return forecasts on the original one.

    Args:
        base: any :class:`~models.base.Forecaster`.
        scale: the transform (see :func:`choose_scale`).
        cumulative: the series is a stock that never decreases.
        std_error: survey standard error of an observation (original units), added in quadrature to
            the predictive spread; ``None`` for administrative counts.
        grid_step: spacing of the quantile grid used to compute the back-transformed mean.
    """

    base: Forecaster
    scale: Scale
    _: KW_ONLY
    cumulative: bool = False
    std_error: float | None = None
    grid_step: float = 0.01

    def fit(self, history: np.ndarray) -> Self:
        y = np.asarray(history, dtype=float)
        self.last_ = float(y[-1])
        self.base.fit(self.scale.forward(y))
        return self

    def fit_pool(self, histories: Sequence[np.ndarray]) -> Self:
        """Pass transformed ``histories`` to a pooled base model's ``fit_pool`` (others need none)."""
        pool = getattr(self.base, "fit_pool", None)
        if pool is not None:
            pool([self.scale.forward(np.asarray(h, dtype=float)) for h in histories])
        return self

    def predict(self, horizon: int, levels: Sequence[float] = DEFAULT_LEVELS) -> Forecast:
        grid = np.union1d(dense_probs(self.grid_step), level_probs(levels))
        inner = self.base.predict(horizon, levels=_levels_for(grid))
        z = np.stack([inner.quantile(p) for p in grid], axis=1)
        q = self.scale.inverse(z)
        if self.std_error:
            q = widen_quantiles(q, grid, self.std_error, self.scale)
        if self.cumulative:
            q = monotone_quantiles(q, self.last_)
        q = np.sort(q, axis=1)
        # the dense part of the grid is even in probability, so its row average is a midpoint-rule mean
        even = np.isin(grid, dense_probs(self.grid_step))
        return Forecast(mean=q[:, even].mean(axis=1), probs=grid, quantiles=q)

    def sample(self, horizon: int, n: int, seed: int = 0) -> np.ndarray:
        paths = self.scale.inverse(self.base.sample(horizon, n, seed))
        if self.std_error:
            rng = np.random.default_rng(seed + 1)
            paths = paths + rng.normal(0.0, self.std_error, paths.shape)
            if self.scale.name != "identity":
                paths = np.clip(
                    paths, self.scale.lower, self.scale.upper if self.scale.name == "logit" else None
                )
        if self.cumulative:
            paths = np.maximum.accumulate(np.maximum(paths, self.last_), axis=1)
        return paths


def _levels_for(grid: np.ndarray) -> list[float]:
    upper = grid[grid > 0.5]
    return sorted({round(float(200 * (p - 0.5)), 8) for p in upper})


def widen_quantiles(q: np.ndarray, grid: np.ndarray, std_error: float, scale: Scale) -> np.ndarray:
    """Add survey noise N(0, std_error²) to each row of quantiles ``q`` ``(h, k)`` at probabilities ``grid``.

    Each row is stretched about its mean so its spread becomes ``√(sd² + std_error²)`` (moment
    matching), then clipped to the scale's bounds; returns a new array.

    >>> widen_quantiles(np.array([[1.0, 1.0]]), np.array([0.1, 0.9]), 1.0, Scale()).round(2).tolist()
    [[-0.28, 2.28]]
    """
    mean = q.mean(axis=1, keepdims=True)
    sd = q.std(axis=1, keepdims=True)
    spread = np.sqrt(sd**2 + std_error**2)
    ratio = np.where(sd > 0, spread / np.where(sd > 0, sd, 1.0), 1.0)
    widened = mean + (q - mean) * ratio
    zero_sd = sd[:, 0] == 0
    if zero_sd.any():
        widened[zero_sd] = mean[zero_sd] + std_error * stats.norm.ppf(grid)[None, :]
    low = scale.lower if scale.name != "identity" else -np.inf
    high = scale.upper if scale.name == "logit" else np.inf
    return np.clip(widened, low, high)
