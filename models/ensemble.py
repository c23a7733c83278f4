"""Combining forecasts: point combinations, quantile averaging, and the linear pool of probabilities.

* ``combine_points``: mean or median of member point forecasts (arrays of one shape);
* ``quantile_average``: average members' quantile functions on a common probability grid
  (Vincentisation), which keeps the combined distribution's spread near the members';
* ``linear_pool``: average of members' event probabilities (a mixture of their distributions);
* :class:`Combination`: a :class:`~models.base.Forecaster` built from registered members.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Self

import numpy as np

from models.base import DEFAULT_LEVELS, Forecast, Forecaster, dense_probs, level_probs, make_model, register


def combine_points(points: Sequence[np.ndarray], how: Literal["mean", "median"] = "mean") -> np.ndarray:
    """Element-wise mean or median over members (all of one shape); returns a new array.

    >>> combine_points([np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([8.0, 0.0])], "median").tolist()
    [3.0, 2.0]
    """
    stack = np.stack([np.asarray(p, dtype=float) for p in points])
    return np.median(stack, axis=0) if how == "median" else stack.mean(axis=0)


def quantile_average(forecasts: Sequence[Forecast], probs: np.ndarray | None = None) -> Forecast:
    """Average the members' quantile functions on ``probs`` (default: the first member's grid).

    >>> a = Forecast(np.zeros(1), np.array([0.1, 0.9]), np.array([[-1.0, 1.0]]))
    >>> b = Forecast(np.ones(1), np.array([0.1, 0.9]), np.array([[0.0, 2.0]]))
    >>> quantile_average([a, b]).quantiles.tolist()
    [[-0.5, 1.5]]
    """
    grid = forecasts[0].probs if probs is None else probs
    q = np.mean([np.stack([f.quantile(p) for p in grid], axis=1) for f in forecasts], axis=0)
    mean = np.mean([f.mean for f in forecasts], axis=0)
    return Forecast(mean=mean, probs=np.asarray(grid, dtype=float), quantiles=np.sort(q, axis=1))


def linear_pool(probabilities: Sequence[np.ndarray], weights: Sequence[float] | None = None) -> np.ndarray:
    """Weighted average of members' event probabilities (equal weights by default).

    >>> linear_pool([np.array([0.2]), np.array([0.6])]).tolist()
    [0.4]
    """
    stack = np.stack([np.asarray(p, dtype=float) for p in probabilities])
    w = np.full(stack.shape[0], 1.0 / stack.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    if w.shape[0] != stack.shape[0] or np.any(w < 0) or not np.isclose(w.sum(), 1.0):
        raise ValueError("linear_pool: give one non-negative weight per member, summing to 1")
    return np.tensordot(w, stack, axes=1)


@register("combination")
class Combination:
    """Fit each registered member and combine: point by ``how``, quantiles by averaging.

    Args:
        members: registered model names.
        how: ``mean`` or ``median`` of member point forecasts.
        member_settings: optional per-member settings, e.g. ``{"logistic": {"upper": 100}}``.

    >>> fc = Combination(("naive", "drift")).fit(np.array([1.0, 2.0, 3.0])).predict(1)
    >>> fc.mean.tolist()
    [3.5]
    """

    def __init__(
        self,
        members: Sequence[str] = ("theta_np", "damped_np", "drift"),
        how: Literal["mean", "median"] = "mean",
        member_settings: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.members = tuple(members)
        self.how = how
        self.member_settings = member_settings

    def fit(self, history: np.ndarray) -> Self:
        settings = self.member_settings or {}
        self.models_: list[Forecaster] = [
            make_model(m, **settings.get(m, {})).fit(history) for m in self.members
        ]
        return self

    def predict(self, horizon: int, levels: Sequence[float] = DEFAULT_LEVELS) -> Forecast:
        grid = np.union1d(dense_probs(0.01), level_probs(levels))
        wide = sorted({round(float(200 * (p - 0.5)), 8) for p in grid if p > 0.5})
        member = [m.predict(horizon, levels=wide) for m in self.models_]
        avg = quantile_average(member, grid)
        mean = combine_points([f.mean for f in member], self.how)
        return Forecast(mean=mean, probs=avg.probs, quantiles=avg.quantiles)

    def sample(self, horizon: int, n: int, seed: int = 0) -> np.ndarray:
        """Paths drawn from the averaged quantile function (one uniform rank per path)."""
        fc = self.predict(horizon)
        u = np.random.default_rng(seed).uniform(fc.probs[0], fc.probs[-1], n)
        return np.stack([np.interp(u, fc.probs, fc.quantiles[h]) for h in range(horizon)], axis=1)
