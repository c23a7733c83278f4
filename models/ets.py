"""Exponential smoothing with a damped additive trend: statsmodels' ETS(A,Ad,N) and a fast numpy twin.

``ets_damped`` fits statsmodels' state-space ``ETSModel`` by maximum likelihood (the reference).
``damped_np`` fits the same recursions by least squares over a small parameter grid, vectorised over
the grid with numpy: about a millisecond per series, which is what a benchmark over hundreds of series
and several backtest origins needs. Both give normal marginals with the ETS(A,Ad,N) variance
``σ²(1 + Σ_{j<h} c_j²)``, ``c_j = α(1 + βφ(1 − φ^j)/(1 − φ))``.
"""

from __future__ import annotations

import logging
from typing import Self

import numpy as np

from models.base import GaussianModel, check_history, register

log = logging.getLogger(__name__)

_ALPHAS = np.array([0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99])
_BETAS = np.array([0.01, 0.05, 0.1, 0.2, 0.3, 0.5])
_PHIS = np.array([0.8, 0.85, 0.9, 0.95, 0.98])


def damped_variance_factors(alpha: float, beta: float, phi: float, horizon: int) -> np.ndarray:
    """Return ``1 + Σ_{j<h} c_j²`` for ``h = 1..horizon`` (ETS(A,Ad,N) forecast-variance factors).

    ``beta`` here is the smoothing of the trend relative to the level (``b_t = φb + αβe``).

    >>> damped_variance_factors(1.0, 0.0, 0.9, 3).tolist()
    [1.0, 2.0, 3.0]
    """
    j = np.arange(1, horizon, dtype=float)
    c = alpha * (1 + beta * phi * (1 - phi**j) / (1 - phi))
    return np.concatenate([[1.0], 1.0 + np.cumsum(c**2)])


def fit_damped_grid(y: np.ndarray) -> tuple[float, float, float, float, float, float]:
    """Least-squares damped-trend smoothing over a parameter grid.

    Args:
        y: shape ``(n,)``, ``n ≥ 3``.

    Returns:
        ``(level, trend, alpha, beta, phi, sigma)`` at the last observation.
    """
    a, b, p = (g.ravel() for g in np.meshgrid(_ALPHAS, _BETAS, _PHIS, indexing="ij"))
    level = np.full(a.shape, y[0])
    trend = np.full(a.shape, (y[min(3, y.size - 1)] - y[0]) / min(3, y.size - 1))
    sse = np.zeros(a.shape)
    for t in range(1, y.size):
        fitted = level + p * trend
        err = y[t] - fitted
        sse += err**2
        level = fitted + a * err
        trend = p * trend + a * b * err
    best = int(np.argmin(sse))
    sigma = float(np.sqrt(sse[best] / max(y.size - 1 - 3, 1)))
    return float(level[best]), float(trend[best]), float(a[best]), float(b[best]), float(p[best]), sigma


@register("damped_np")
class DampedTrendNumpy(GaussianModel):
    """Damped-trend exponential smoothing fitted by grid least squares (numpy).

    >>> fc = DampedTrendNumpy().fit(np.arange(10.0)).predict(2)
    >>> bool(fc.mean[0] > 9.5 and fc.mean[1] > fc.mean[0])
    True
    """

    def fit(self, history: np.ndarray) -> Self:
        y = check_history(history, min_points=3, name="damped_np")
        self.level_, self.trend_, self.alpha_, self.beta_, self.phi_, self.sigma_ = fit_damped_grid(y)
        return self

    def _mean_sigma(self, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        steps = np.cumsum(self.phi_ ** np.arange(1, horizon + 1, dtype=float))
        factors = damped_variance_factors(self.alpha_, self.beta_, self.phi_, horizon)
        return self.level_ + self.trend_ * steps, self.sigma_ * np.sqrt(factors)


@register("ets_damped")
class DampedETS(GaussianModel):
    """statsmodels ``ETSModel(error="add", trend="add", damped_trend=True)`` by maximum likelihood.

    Series shorter than ``min_points`` fall back to :class:`DampedTrendNumpy` (logged), since the
    likelihood has more parameters than such a series has points.
    """

    def __init__(self, min_points: int = 6) -> None:
        self.min_points = min_points

    def fit(self, history: np.ndarray) -> Self:
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        y = check_history(history, min_points=3, name="ets_damped")
        self.n_ = int(y.size)
        self.fallback_: DampedTrendNumpy | None = None
        if y.size < self.min_points:
            log.info("ets_damped: %d points < %d, using the grid fit", y.size, self.min_points)
            self.fallback_ = DampedTrendNumpy().fit(y)
            return self
        model = ETSModel(y, error="add", trend="add", damped_trend=True)
        self.result_ = model.fit(disp=False)
        return self

    def _mean_sigma(self, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        if self.fallback_ is not None:
            return self.fallback_._mean_sigma(horizon)
        res = self.result_
        params = dict(zip(res.model.param_names, res.params, strict=True))
        alpha = float(params["smoothing_level"])
        beta = float(params["smoothing_trend"]) / max(alpha, 1e-9)
        phi = float(params["damping_trend"])
        sigma = float(np.sqrt(res.mse))
        mean = np.asarray(res.forecast(horizon), dtype=float)
        return mean, sigma * np.sqrt(damped_variance_factors(alpha, beta, phi, horizon))


def prefix_damped(z: np.ndarray, horizon: int) -> np.ndarray:
    """Damped-trend forecasts from every cutoff in one pass, shape ``(n, horizon)``.

    Row ``t`` is what :class:`DampedTrendNumpy` fitted on ``z[:t + 1]`` forecasts, for ``t ≥ 3``
    (earlier rows are NaN: the initial trend uses the first four points, so a shorter prefix would
    differ from a fit on it).

    >>> y = np.array([1.0, 2.0, 2.5, 4.0, 4.2, 5.1, 6.3])
    >>> bool(np.allclose(prefix_damped(y, 2)[-1], DampedTrendNumpy().fit(y).predict(2).mean))
    True
    """
    n = z.size
    out = np.full((n, horizon), np.nan)
    if n < 4:
        return out
    a, b, p = (g.ravel() for g in np.meshgrid(_ALPHAS, _BETAS, _PHIS, indexing="ij"))
    level = np.full(a.shape, z[0])
    trend = np.full(a.shape, (z[3] - z[0]) / 3)
    sse = np.zeros(a.shape)
    powers = np.cumsum(p[:, None] ** np.arange(1, horizon + 1)[None, :], axis=1)
    for t in range(1, n):
        fitted = level + p * trend
        err = z[t] - fitted
        sse += err**2
        level = fitted + a * err
        trend = p * trend + a * b * err
        if t >= 3:
            best = int(np.argmin(sse))
            out[t] = level[best] + trend[best] * powers[best]
    return out
