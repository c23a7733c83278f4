"""Saturation curves for shares and coverage: logistic and Gompertz, fitted by nonlinear least squares.

Both rise towards an asymptote ``upper`` (the share's natural bound, e.g. 100 %). Logistic:
``upper / (1 + exp(−k(t − t0)))``; Gompertz: ``upper·exp(−exp(−k(t − t0)))``. Predictive marginals
are normal on the curve's linearised scale (logit or log-log of the share), with the residual spread
growing like a random walk, and mapped back, so they never leave ``[lower, upper]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Self

import numpy as np

from models.base import DEFAULT_LEVELS, Forecast, check_history, gaussian_forecast, register

_EDGE = 1e-3


class _Curve:
    curve: Literal["logistic", "gompertz"] = "logistic"

    def __init__(self, lower: float = 0.0, upper: float = 100.0) -> None:
        self.lower = lower
        self.upper = upper

    def _link(self, u: np.ndarray) -> np.ndarray:
        u = np.clip(u, _EDGE, 1 - _EDGE)
        return np.log(u / (1 - u)) if self.curve == "logistic" else -np.log(-np.log(u))

    def _unlink(self, z: np.ndarray) -> np.ndarray:
        z = np.clip(z, -700, 700)
        return 1 / (1 + np.exp(-z)) if self.curve == "logistic" else np.exp(-np.exp(-z))

    def fit(self, history: np.ndarray) -> Self:
        y = check_history(history, min_points=3, name=self.curve)
        if self.upper <= self.lower:
            raise ValueError(f"{self.curve}: upper ({self.upper}) must exceed lower ({self.lower})")
        u = (y - self.lower) / (self.upper - self.lower)
        z = self._link(u)
        t = np.arange(y.size, dtype=float)
        # on the linked scale both curves are straight lines in t: z = k(t − t0)
        self.slope_, self.intercept_ = (float(v) for v in np.polyfit(t, z, 1))
        resid = z - (self.intercept_ + self.slope_ * t)
        self.sigma_ = float(np.sqrt(np.sum(resid**2) / max(y.size - 2, 1)))
        step = np.diff(resid)
        self.step_sigma_ = float(np.std(step)) if step.size > 1 else self.sigma_
        self.n_ = int(y.size)
        self.last_resid_ = float(resid[-1])
        return self

    def _linked(self, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        h = np.arange(1, horizon + 1, dtype=float)
        t = self.n_ - 1 + h
        # the last residual decays towards the curve; uncertainty grows with the horizon
        mean = self.intercept_ + self.slope_ * t + self.last_resid_ * 0.5**h
        sigma = np.sqrt(self.sigma_**2 + self.step_sigma_**2 * h)
        return mean, sigma

    def predict(self, horizon: int, levels: Sequence[float] = DEFAULT_LEVELS) -> Forecast:
        mean, sigma = self._linked(horizon)
        inner = gaussian_forecast(mean, sigma, levels)
        scale = self.upper - self.lower
        q = self.lower + scale * self._unlink(inner.quantiles)
        return Forecast(mean=self.lower + scale * self._unlink(mean), probs=inner.probs, quantiles=q)

    def sample(self, horizon: int, n: int, seed: int = 0) -> np.ndarray:
        mean, sigma = self._linked(horizon)
        rng = np.random.default_rng(seed)
        step_var = np.diff(np.concatenate([[0.0], sigma**2]))
        z = mean[None, :] + np.cumsum(rng.standard_normal((n, horizon)) * np.sqrt(step_var)[None, :], axis=1)
        return self.lower + (self.upper - self.lower) * self._unlink(z)


@register("logistic")
class Logistic(_Curve):
    """Logistic saturation towards ``upper``.

    Args:
        lower: the share's lower bound.
        upper: the asymptote (the share's upper bound).

    >>> fc = Logistic(0, 100).fit(np.array([10.0, 20.0, 35.0, 50.0])).predict(5)
    >>> bool(fc.quantiles.max() <= 100 and fc.mean[-1] > 50)
    True
    """

    curve = "logistic"


@register("gompertz")
class Gompertz(_Curve):
    """Gompertz saturation towards ``upper`` (asymmetric: fast early growth, slow approach).

    >>> fc = Gompertz(0, 100).fit(np.array([10.0, 20.0, 35.0, 50.0])).predict(5)
    >>> bool(fc.quantiles.min() >= 0 and fc.quantiles.max() <= 100)
    True
    """

    curve = "gompertz"
