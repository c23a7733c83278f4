"""Naive and drift (random walk with drift): the benchmarks every other model must beat.

Both give normal marginals: naive ``σ√h``; drift ``σ√(h(1 + h/(n−1)))`` (the drift estimate's own
uncertainty included), with ``σ`` the standard deviation of first differences.
"""

from __future__ import annotations

from typing import Self

import numpy as np

from models.base import GaussianModel, check_history, register


def _diff_sigma(y: np.ndarray, centred: bool) -> float:
    d = np.diff(y)
    if d.size == 0:
        return 0.0
    resid = d - d.mean() if centred else d
    dof = max(d.size - (1 if centred else 0), 1)
    return float(np.sqrt(np.sum(resid**2) / dof))


@register("naive")
class Naive(GaussianModel):
    """Last value carried forward.

    >>> Naive().fit(np.array([1.0, 2.0, 4.0])).predict(2).mean.tolist()
    [4.0, 4.0]
    """

    def fit(self, history: np.ndarray) -> Self:
        y = check_history(history, min_points=2, name="naive")
        self.last_ = float(y[-1])
        self.sigma_ = _diff_sigma(y, centred=False)
        return self

    def _mean_sigma(self, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        h = np.arange(1, horizon + 1, dtype=float)
        return np.full(horizon, self.last_), self.sigma_ * np.sqrt(h)


@register("drift")
class Drift(GaussianModel):
    """Last value plus ``h`` times the average historical step.

    Args:
        damping: multiply the step by ``damping**k`` at step ``k`` (1 = plain drift).

    >>> Drift().fit(np.array([1.0, 2.0, 3.0])).predict(2).mean.tolist()
    [4.0, 5.0]
    """

    def __init__(self, damping: float = 1.0) -> None:
        self.damping = damping

    def fit(self, history: np.ndarray) -> Self:
        y = check_history(history, min_points=2, name="drift")
        self.last_ = float(y[-1])
        self.slope_ = float((y[-1] - y[0]) / (y.size - 1))
        self.sigma_ = _diff_sigma(y, centred=True)
        self.n_ = int(y.size)
        return self

    def _mean_sigma(self, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        h = np.arange(1, horizon + 1, dtype=float)
        steps = np.cumsum(self.damping ** np.arange(1, horizon + 1, dtype=float)) if self.damping != 1 else h
        sigma = self.sigma_ * np.sqrt(h * (1 + h / max(self.n_ - 1, 1)))
        return self.last_ + self.slope_ * steps, sigma
