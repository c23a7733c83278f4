"""One small forecasting interface, the predictive-distribution container, and the registry by name.

Every model family implements :class:`Forecaster`: ``fit(history) -> Self`` learns from a 1-D array of
equally spaced observations (oldest first) and ``predict(horizon, levels)`` returns a :class:`Forecast`
holding the mean path and a grid of quantiles; ``sample(horizon, n, seed)`` draws paths. ``__init__``
only stores settings; what ``fit`` learns ends in ``_``.

Families register themselves with :func:`register`; :func:`make_model` builds one by name and fails
loudly on an unknown name, :func:`register` on a duplicate one. Nothing is ever looked up with ``eval``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, Self, runtime_checkable

import numpy as np
from scipy import stats

DEFAULT_LEVELS: tuple[float, ...] = (80.0, 95.0)


def level_probs(levels: Sequence[float]) -> np.ndarray:
    """Quantile probabilities for central intervals at ``levels`` (in %), plus the median, sorted.

    >>> level_probs([80, 95]).tolist()
    [0.025, 0.1, 0.5, 0.9, 0.975]
    """
    probs = {0.5}
    for level in levels:
        if not 0 < level < 100:
            raise ValueError(f"interval level {level} must lie strictly between 0 and 100 (a percentage)")
        half = level / 200.0
        probs.update((round(0.5 - half, 10), round(0.5 + half, 10)))
    return np.array(sorted(probs))


def dense_probs(step: float = 0.01) -> np.ndarray:
    """An even grid of quantile probabilities ``step, 2·step, …, 1 − step`` for probability work.

    >>> dense_probs(0.25).tolist()
    [0.25, 0.5, 0.75]
    """
    n = round(1.0 / step)
    return np.arange(1, n) / n


@dataclass(frozen=True)
class Forecast:
    """A predictive distribution for ``horizon`` steps.

    Attributes:
        mean: shape ``(horizon,)``, the point forecast (mean of the distribution).
        probs: shape ``(k,)``, increasing quantile probabilities in (0, 1).
        quantiles: shape ``(horizon, k)``; column ``j`` is the ``probs[j]`` quantile, non-decreasing
            along each row.
    """

    mean: np.ndarray
    probs: np.ndarray
    quantiles: np.ndarray

    @property
    def horizon(self) -> int:
        return int(self.mean.shape[0])

    def quantile(self, p: float) -> np.ndarray:
        """The ``p`` quantile path, shape ``(horizon,)``, interpolated linearly between stored probabilities.

        >>> fc = Forecast(np.zeros(1), np.array([0.1, 0.5, 0.9]), np.array([[-1.0, 0.0, 1.0]]))
        >>> fc.quantile(0.7).round(6).tolist()
        [0.5]
        """
        return np.array([np.interp(p, self.probs, row) for row in self.quantiles])

    def interval(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of the central ``level`` % interval, each shape ``(horizon,)``."""
        half = level / 200.0
        return self.quantile(0.5 - half), self.quantile(0.5 + half)

    def prob_above(self, threshold: float, step: int | None = None) -> np.ndarray:
        """P(value ≥ threshold) per step (or at one 0-based ``step``), from the quantile grid.

        The CDF is interpolated linearly between stored quantiles; beyond the outermost ones it is
        taken as the outermost probability (so a coarse grid never claims certainty it does not hold).

        >>> fc = Forecast(np.zeros(1), np.array([0.1, 0.5, 0.9]), np.array([[-1.0, 0.0, 1.0]]))
        >>> fc.prob_above(0.5).round(2).tolist()
        [0.3]
        """
        rows = self.quantiles if step is None else self.quantiles[step : step + 1]
        out = np.array([1.0 - cdf_from_quantiles(threshold, self.probs, row) for row in rows])
        return out if step is None else out[:1]


def cdf_from_quantiles(x: float, probs: np.ndarray, q: np.ndarray, *, left: bool = False) -> float:
    """P(value ≤ x) from one row of quantiles ``q`` at increasing ``probs`` (linear between them); with
    ``left``, P(value < x), the left limit, which differs only on a point mass at ``x``.

    Below the lowest stored quantile the CDF is taken as half its probability, above the highest as
    halfway to 1: a coarse grid never yields certainty. ``1 − cdf(t, left=True)`` is the probability of the
    event ``value ≥ t``, mass at ``t`` included (a cumulative count forecast to stay at its last value, a
    share forecast to stay on its bound).

    >>> cdf_from_quantiles(0.5, np.array([0.1, 0.5, 0.9]), np.array([-1.0, 0.0, 1.0]))
    0.7
    >>> p, q = np.array([0.1, 0.5, 0.9]), np.array([0.0, 1.0, 1.0])   # a point mass at 1
    >>> cdf_from_quantiles(1.0, p, q), cdf_from_quantiles(1.0, p, q, left=True)
    (0.9, 0.5)
    """
    if x < q[0]:
        return float(probs[0]) * 0.5
    if x > q[-1]:
        return float(probs[-1]) + (1.0 - float(probs[-1])) * 0.5
    tied = q == x
    if left and tied.sum() > 1:
        # the mass at x starts at its smallest probability (at the grid's bottom, below it as above)
        return float(probs[0]) * 0.5 if tied[0] else float(probs[tied].min())
    # np.interp needs strictly increasing x; tied quantiles (a point mass, e.g. on a bound) take the
    # largest probability, so P(value ≤ x) includes the mass at x
    uq = np.unique(q)
    last = np.array([probs[q == v].max() for v in uq])
    return float(np.interp(x, uq, last))


def gaussian_forecast(mean: np.ndarray, sigma: np.ndarray, levels: Sequence[float]) -> Forecast:
    """Build a :class:`Forecast` from normal marginals.

    Args:
        mean: shape ``(h,)``.
        sigma: shape ``(h,)``, non-negative standard deviations.
        levels: central interval levels in %.

    >>> fc = gaussian_forecast(np.array([0.0]), np.array([1.0]), [95])
    >>> fc.quantiles.round(2).tolist()
    [[-1.96, 0.0, 1.96]]
    """
    probs = level_probs(levels)
    z = stats.norm.ppf(probs)
    quantiles = mean[:, None] + np.maximum(sigma, 0.0)[:, None] * z[None, :]
    return Forecast(mean=mean.astype(float), probs=probs, quantiles=quantiles)


def samples_to_forecast(paths: np.ndarray, levels: Sequence[float]) -> Forecast:
    """Summarise sample paths of shape ``(n, h)`` into a :class:`Forecast` (mean and quantiles)."""
    probs = level_probs(levels)
    return Forecast(mean=paths.mean(axis=0), probs=probs, quantiles=np.quantile(paths, probs, axis=0).T)


def check_history(
    history: np.ndarray | Sequence[float], *, min_points: int = 2, name: str = "model"
) -> np.ndarray:
    """Return ``history`` as a new float array, or raise ``ValueError`` saying how to fix it.

    >>> check_history([1, 2, 3]).tolist()
    [1.0, 2.0, 3.0]
    """
    y = np.array(history, dtype=float, copy=True)
    if y.ndim != 1:
        raise ValueError(f"{name}: history must be a 1-D array of observations, got shape {y.shape}")
    if y.size < min_points:
        raise ValueError(
            f"{name}: needs at least {min_points} observations, got {y.size}; supply a longer series"
        )
    if not np.all(np.isfinite(y)):
        raise ValueError(f"{name}: history holds NaN or infinite values; fill or drop them before fitting")
    return y


@runtime_checkable
class Forecaster(Protocol):
    """What every model offers."""

    def fit(self, history: np.ndarray) -> Self: ...

    def predict(self, horizon: int, levels: Sequence[float] = DEFAULT_LEVELS) -> Forecast: ...

    def sample(self, horizon: int, n: int, seed: int = 0) -> np.ndarray: ...


class GaussianModel:
    """Mixin for models whose predictive marginals are normal: subclasses implement ``_mean_sigma``.

    ``sample`` draws a random walk of innovations matched to the marginal variances, so paths are
    reproducible for a given seed.
    """

    def _mean_sigma(self, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def predict(self, horizon: int, levels: Sequence[float] = DEFAULT_LEVELS) -> Forecast:
        mean, sigma = self._mean_sigma(_check_horizon(horizon))
        return gaussian_forecast(mean, sigma, levels)

    def sample(self, horizon: int, n: int, seed: int = 0) -> np.ndarray:
        """Draw ``n`` paths of shape ``(n, horizon)`` whose marginals match :meth:`predict`."""
        mean, sigma = self._mean_sigma(_check_horizon(horizon))
        rng = np.random.default_rng(seed)
        var = sigma**2
        step_var = np.diff(np.concatenate([[0.0], var]))
        shocks = rng.standard_normal((n, horizon)) * np.sqrt(np.maximum(step_var, 0.0))[None, :]
        return mean[None, :] + np.cumsum(shocks, axis=1)


def _check_horizon(horizon: int) -> int:
    if int(horizon) != horizon or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    return int(horizon)


ModelFactory = Callable[..., Forecaster]
MODELS: dict[str, ModelFactory] = {}


def register(name: str) -> Callable[[type], type]:
    """Class decorator adding a model family to :data:`MODELS` under ``name``; duplicates raise."""

    def deco(cls: type) -> type:
        old = MODELS.get(name)
        # the same definition imported twice (e.g. by a doctest runner) is not a clash
        same = old is not None and (_origin(old) == _origin(cls))
        if name in MODELS and not same:
            raise ValueError(
                f"model name {name!r} is already registered by {MODELS[name]!r}; pick another name"
            )
        MODELS[name] = cls
        return cls

    return deco


def _origin(obj: object) -> tuple[str, str]:
    module = getattr(obj, "__module__", "").rsplit(".", 1)[-1]
    return module, getattr(obj, "__qualname__", "")


# The modules whose classes register themselves in MODELS. They are imported on first use, not with the
# package, so that light readers of ``models.base`` (quantile arithmetic) never load statsmodels or prophet.
FAMILIES = ("arima", "ets", "pooled", "prophet_model", "saturation", "simple", "theta", "theta_auto")


def load_families() -> dict[str, ModelFactory]:
    """Import every family module (each registers its models) and return :data:`MODELS`."""
    for family in FAMILIES:
        importlib.import_module(f"models.{family}")
    return MODELS


def make_model(name: str, **settings: Any) -> Forecaster:
    """Build the registered model ``name`` with ``settings``.

    Raises:
        KeyError: the name is unknown; the message lists the known names.
    """
    try:
        factory = load_families()[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}") from None
    return factory(**settings)
