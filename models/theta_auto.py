"""Optimised and dynamic Theta models (Fiorucci et al. 2016), chosen by in-sample error: ``theta_auto``.

The four models of Fiorucci, Pellegrini, Louzada, Petropoulos & Koehler (2016, IJF 32(4)), the family
statsforecast's ``AutoTheta`` chooses from on annual data (no seasonal step):

* standard (STM, ``θ = 2``) and optimised (OTM, ``θ ≥ 1`` fitted): the trend line ``A + B·t`` is the
  least-squares line of the whole history;
* dynamic standard (DSTM) and dynamic optimised (DOTM): ``A_t, B_t`` are the least-squares line of
  ``y_1..y_t``, updated one observation at a time.

With ``w = 1 − 1/θ`` and ``ℓ`` the simple-exponential-smoothing level started at ``ℓ_0``, the one-step
forecast from ``t − 1`` observations (0-based ``i = t − 1``) is

    μ_i = ℓ_{i−1} + w·[A_{i−1}(1 − α)^i + B_{i−1}(1 − (1 − α)^{i+1})/α],

and forecasts further ahead repeat the recursion with ``μ`` in place of the observation (level, mean and
line updated with it). Given ``α``, every one-step error is linear in ``(ℓ_0, w)``: the level is
``L_{i−1} + (1 − α)^i ℓ_0`` with ``L`` the level started at 0, and the bracket depends on the data and
``α`` only. So the least-squares ``(ℓ_0, w)`` over ``w ∈ [0, 1)`` (``θ ∈ [1, ∞)``) is closed form for
each ``α`` of a grid over statsforecast's bounds ``[0.1, 0.99]``; the criterion is statsforecast's, the sum
of squared one-step errors after the first three. The model with the smallest criterion is kept (the
optimised models nest the standard ones, so an exact optimum never prefers a standard model strictly;
statsforecast's Nelder–Mead sometimes does).

Marginals are normal with the residual standard deviation and the SES growth ``σ²(1 + (h − 1)α²)``
(statsforecast simulates paths; the champion uses members' points only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import numpy as np

from models.base import GaussianModel, check_history, register

ALPHAS = np.round(np.arange(0.10, 0.9901, 0.01), 2)
MODEL_TYPES = ("STM", "OTM", "DSTM", "DOTM")
_W_MAX = 1.0 - 1e-10  # θ ≤ 1e10, statsforecast's upper bound
_BURN = 3  # one-step errors before this index are not scored (statsforecast's e[3:])


@dataclass(frozen=True)
class ThetaFit:
    """One fitted Theta model: its type, parameters and criterion (sum of scored squared errors)."""

    model: str
    level0: float
    alpha: float
    w: float
    sse: float

    @property
    def theta(self) -> float:
        """``θ = 1/(1 − w)``."""
        return 1.0 / (1.0 - self.w)


def ols_line(y: np.ndarray) -> tuple[float, float]:
    """Intercept and slope of the least-squares line of ``y`` on ``t = 1..n``.

    >>> [round(v, 9) for v in ols_line(np.array([3.0, 5.0, 7.0]))]
    [1.0, 2.0]
    """
    n = y.size
    t = np.arange(1, n + 1, dtype=float)
    b = 6.0 * (2.0 * float(np.mean(t * y)) - (n + 1) * float(np.mean(y))) / (n * n - 1)
    return float(np.mean(y)) - (n + 1) * b / 2.0, b


def dynamic_lines(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Running mean, intercept and slope after each observation (``A_0 = y_0``, ``B_0 = 0``).

    ``A_t + B_t·s`` is the least-squares line of ``y_0..y_t`` on ``s = 1..t+1``.

    >>> [float(v) for v in dynamic_lines(np.array([1.0, 3.0, 5.0]))[2]]
    [0.0, 2.0, 2.0]
    """
    n = y.size
    mean, a, b = np.empty(n), np.empty(n), np.empty(n)
    mean[0], a[0], b[0] = y[0], y[0], 0.0
    for t in range(1, n):
        mean[t] = (t * mean[t - 1] + y[t]) / (t + 1)
        b[t] = ((t - 1) * b[t - 1] + 6.0 * (y[t] - mean[t - 1]) / (t + 1)) / (t + 2)
        a[t] = mean[t] - b[t] * (t + 2) / 2.0
    return mean, a, b


def _design(
    y: np.ndarray, alphas: np.ndarray, dynamic: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per ``α`` (rows) and index ``i`` (columns): ``r, d, g`` with one-step error ``r − ℓ_0·d − w·g``,
    and the level started at 0 after the last observation, shape ``(G,)``."""
    n = y.size
    a = alphas[:, None]
    i = np.arange(n, dtype=float)[None, :]
    level = np.zeros((alphas.size, n + 1))  # level[:, i] = L_{i-1}
    for t in range(n):
        level[:, t + 1] = alphas * y[t] + (1 - alphas) * level[:, t]
    if dynamic:
        _, a_run, b_run = dynamic_lines(y)
        a_prev = np.concatenate([[0.0], a_run[:-1]])[None, :]
        b_prev = np.concatenate([[0.0], b_run[:-1]])[None, :]
    else:
        a_line, b_line = ols_line(y)
        a_prev = np.full((1, n), a_line)
        b_prev = np.full((1, n), b_line)
    d = (1 - a) ** i
    g = a_prev * (1 - a) ** i + b_prev * (1 - (1 - a) ** (i + 1)) / a
    return y[None, :] - level[:, :n], d, g, level[:, n]


def fit_theta(y: np.ndarray, model: str, alphas: np.ndarray = ALPHAS) -> ThetaFit:
    """Least-squares fit of one Theta model (``STM``, ``OTM``, ``DSTM`` or ``DOTM``) to ``y`` (≥ 3 points)."""
    if model not in MODEL_TYPES:
        raise ValueError(f"unknown Theta model {model!r}; expected one of {', '.join(MODEL_TYPES)}")
    burn = min(_BURN, y.size - 2)
    r, d, g, _ = _design(y, alphas, dynamic=model.startswith("D"))
    r, d, g = r[:, burn:], d[:, burn:], g[:, burn:]
    dd = np.sum(d * d, axis=1)
    # profile out ℓ_0: residualise r and g on d
    rt = r - d * (np.sum(d * r, axis=1) / dd)[:, None]
    gt = g - d * (np.sum(d * g, axis=1) / dd)[:, None]
    if model.endswith("OTM"):
        gg = np.sum(gt * gt, axis=1)
        safe = gg > 1e-12 * np.maximum(np.sum(rt * rt, axis=1), 1e-300)
        w = np.where(safe, np.sum(rt * gt, axis=1) / np.where(safe, gg, 1.0), 0.5)
        w = np.clip(w, 0.0, _W_MAX)  # the profile is a convex quadratic in w: clipping is optimal
    else:
        w = np.full(alphas.size, 0.5)
    sse = np.sum((rt - w[:, None] * gt) ** 2, axis=1)
    k = int(np.argmin(sse))
    level0 = float(np.sum(d[k] * (r[k] - w[k] * g[k])) / dd[k])
    return ThetaFit(model, level0, float(alphas[k]), float(w[k]), float(sse[k]))


def theta_forecast(y: np.ndarray, fit: ThetaFit, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Forecast path ``(horizon,)`` of a fitted model, and its one-step errors over ``y``."""
    alpha = np.array([fit.alpha])
    dynamic = fit.model.startswith("D")
    r, d, g, level_end = _design(y, alpha, dynamic)
    errors = (r - fit.level0 * d - fit.w * g)[0]
    if dynamic:
        errors[0] = 0.0  # statsforecast's dynamic models start at μ_0 = y_0
    n, a, w = y.size, fit.alpha, fit.w
    level = float(level_end[0]) + (1 - a) ** n * fit.level0
    if dynamic:
        means, a_run, b_run = dynamic_lines(y)
        mean, line_a, line_b = float(means[-1]), float(a_run[-1]), float(b_run[-1])
    else:
        mean = float(np.mean(y))
        line_a, line_b = ols_line(y)
    out = np.empty(horizon)
    for k in range(horizon):
        i = n + k
        mu = level + w * (line_a * (1 - a) ** i + line_b * (1 - (1 - a) ** (i + 1)) / a)
        out[k] = mu
        level = a * mu + (1 - a) * level
        if dynamic:
            line_b = ((i - 1) * line_b + 6.0 * (mu - mean) / (i + 1)) / (i + 2)
            mean = (i * mean + mu) / (i + 1)
            line_a = mean - line_b * (i + 2) / 2.0
    return out, errors


def choose_theta(y: np.ndarray, models: tuple[str, ...] = MODEL_TYPES) -> ThetaFit:
    """The model of ``models`` with the smallest criterion (ties: the first listed)."""
    fits = [fit_theta(y, m) for m in models]
    return min(fits, key=lambda f: f.sse)


@register("theta_auto")
class ThetaAuto(GaussianModel):
    """Standard, optimised, dynamic standard or dynamic optimised Theta, chosen by in-sample error.

    >>> fc = ThetaAuto().fit(np.arange(1.0, 13.0)).predict(3)
    >>> [round(float(v), 6) for v in fc.mean]
    [13.0, 14.0, 15.0]
    """

    def __init__(self, models: tuple[str, ...] = MODEL_TYPES) -> None:
        unknown = [m for m in models if m not in MODEL_TYPES]
        if unknown or not models:
            raise ValueError(f"theta_auto models must be among {', '.join(MODEL_TYPES)}; got {models!r}")
        self.models = tuple(models)

    def fit(self, history: np.ndarray) -> Self:
        y = check_history(history, min_points=3, name="theta_auto")
        self.y_ = y
        self.fit_ = choose_theta(y, self.models)
        _, errors = theta_forecast(y, self.fit_, 1)
        scored = errors[min(_BURN, y.size - 2) :]
        self.sigma_ = float(np.std(scored, ddof=1)) if scored.size > 1 else float(np.abs(scored).max())
        return self

    def _mean_sigma(self, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        h = np.arange(1, horizon + 1, dtype=float)
        mean, _ = theta_forecast(self.y_, self.fit_, horizon)
        return mean, self.sigma_ * np.sqrt(1 + (h - 1) * self.fit_.alpha**2)
