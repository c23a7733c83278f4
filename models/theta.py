"""The Theta method (SES with drift, Hyndman & Billah 2003): statsmodels' ``ThetaModel`` and a numpy twin.

Forecast ``ℓ_n + (b/2)·(h − 1 + 1/α − (1 − α)^n/α)`` with ``ℓ`` the simple-exponential-smoothing
level and ``b`` the least-squares slope on time; marginals are normal with the SES variance
``σ²(1 + (h − 1)α²)``.
"""

from __future__ import annotations

from typing import Self

import numpy as np
from scipy import stats

from models.base import GaussianModel, check_history, register

_ALPHAS = np.linspace(0.05, 1.0, 96)


def fit_ses_grid(y: np.ndarray) -> tuple[float, float, float]:
    """Simple exponential smoothing, ``α`` by least squares over a grid.

    Returns:
        ``(level, alpha, sigma)`` at the last observation.

    >>> fit_ses_grid(np.array([2.0, 2.0, 2.0]))[0]
    2.0
    """
    level = np.full(_ALPHAS.shape, y[0])
    sse = np.zeros(_ALPHAS.shape)
    for t in range(1, y.size):
        err = y[t] - level
        sse += err**2
        level = level + _ALPHAS * err
    best = int(np.argmin(sse))
    return float(level[best]), float(_ALPHAS[best]), float(np.sqrt(sse[best] / max(y.size - 2, 1)))


def theta_path(level: float, slope: float, alpha: float, n: int, horizon: int) -> np.ndarray:
    """Theta-method forecast path of shape ``(horizon,)``.

    >>> theta_path(10.0, 0.0, 0.5, 5, 2).tolist()
    [10.0, 10.0]
    """
    h = np.arange(1, horizon + 1, dtype=float)
    return level + 0.5 * slope * (h - 1 + 1 / alpha - (1 - alpha) ** n / alpha)


@register("theta_np")
class ThetaNumpy(GaussianModel):
    """Theta method with ``α`` chosen on a grid (numpy).

    >>> fc = ThetaNumpy().fit(np.arange(8.0)).predict(3)
    >>> bool(np.all(np.diff(fc.mean) > 0))
    True
    """

    def fit(self, history: np.ndarray) -> Self:
        y = check_history(history, min_points=3, name="theta_np")
        self.level_, self.alpha_, self.sigma_ = fit_ses_grid(y)
        self.slope_ = float(np.polyfit(np.arange(y.size, dtype=float), y, 1)[0])
        self.n_ = int(y.size)
        return self

    def _mean_sigma(self, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        h = np.arange(1, horizon + 1, dtype=float)
        mean = theta_path(self.level_, self.slope_, self.alpha_, self.n_, horizon)
        return mean, self.sigma_ * np.sqrt(1 + (h - 1) * self.alpha_**2)


@register("theta")
class Theta(GaussianModel):
    """statsmodels ``ThetaModel`` (no deseasonalisation: annual data), normal intervals."""

    def fit(self, history: np.ndarray) -> Self:
        from statsmodels.tsa.forecasting.theta import ThetaModel

        y = check_history(history, min_points=3, name="theta")
        self.result_ = ThetaModel(y, period=1, deseasonalize=False).fit()
        return self

    def _mean_sigma(self, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        mean = np.asarray(self.result_.forecast(horizon), dtype=float)
        bounds = np.asarray(self.result_.prediction_intervals(horizon, alpha=0.05), dtype=float)
        sigma = (bounds[:, 1] - bounds[:, 0]) / (2 * stats.norm.ppf(0.975))
        return mean, np.maximum(sigma, 0.0)


def prefix_theta(z: np.ndarray, horizon: int) -> np.ndarray:
    """Theta forecasts from every cutoff in one pass, shape ``(n, horizon)``.

    Row ``t`` is what :class:`ThetaNumpy` fitted on ``z[:t + 1]`` forecasts (rows ``t < 2`` are NaN):
    the SES levels and running squared errors of every grid ``α`` are carried along the series once,
    and the least-squares slope of each prefix comes from running sums.

    >>> y = np.array([1.0, 2.0, 2.5, 4.0, 4.2, 5.1])
    >>> bool(np.allclose(prefix_theta(y, 2)[-1], ThetaNumpy().fit(y).predict(2).mean))
    True
    """
    n = z.size
    out = np.full((n, horizon), np.nan)
    level = np.full(_ALPHAS.shape, z[0])
    sse = np.zeros(_ALPHAS.shape)
    t_idx = np.arange(n, dtype=float)
    st, stt, sz, stz = (np.cumsum(v) for v in (t_idx, t_idx**2, z, t_idx * z))
    for t in range(1, n):
        err = z[t] - level
        sse += err**2
        level = level + _ALPHAS * err
        if t < 2:
            continue
        m = t + 1
        denom = m * stt[t] - st[t] ** 2
        slope = (m * stz[t] - st[t] * sz[t]) / denom if denom > 0 else 0.0
        best = int(np.argmin(sse))
        out[t] = theta_path(float(level[best]), float(slope), float(_ALPHAS[best]), m, horizon)
    return out
