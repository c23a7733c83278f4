"""Prophet with logistic growth between the KPI's bounds (cap = upper, floor = lower).

Annual series carry no seasonality, so every seasonal component is off. Without an upper bound the
growth is linear. Prophet is slow to fit (a Stan optimisation per series), so it is a peer for the
benchmark and an option, not part of the default champion.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np

from models.base import DEFAULT_LEVELS, Forecast, check_history, register, samples_to_forecast


@register("prophet")
@dataclass(eq=False)
class ProphetModel:
    """Prophet on yearly time stamps.

    Args:
        lower: floor for logistic growth (``None`` → linear growth).
        upper: cap for logistic growth (``None`` → linear growth).
        n_samples: predictive samples drawn for quantiles.
        seed: seed for the predictive samples.
        start_year: calendar year given to the first observation (any value works for annual data).
    """

    lower: float | None = None
    upper: float | None = None
    n_samples: int = 500
    seed: int = 0
    start_year: int = 2000

    def _frame(self, n: int) -> Any:
        import pandas as pd

        frame = pd.DataFrame({"ds": pd.to_datetime([f"{self.start_year + i}-01-01" for i in range(n)])})
        if self.logistic_:
            frame["cap"] = self.upper
            frame["floor"] = self.lower
        return frame

    def fit(self, history: np.ndarray) -> Self:
        from prophet import Prophet

        logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
        y = check_history(history, min_points=3, name="prophet")
        self.logistic_ = self.lower is not None and self.upper is not None
        self.n_ = int(y.size)
        frame = self._frame(y.size)
        frame["y"] = y
        model = Prophet(
            growth="logistic" if self.logistic_ else "linear",
            yearly_seasonality=False,
            weekly_seasonality=False,
            daily_seasonality=False,
            uncertainty_samples=self.n_samples,
        )
        self.model_ = model.fit(frame)
        return self

    def sample(self, horizon: int, n: int, seed: int = 0) -> np.ndarray:
        """Predictive paths of shape ``(n, horizon)``; the global numpy RNG state is restored after."""
        future = self._frame(self.n_ + horizon).iloc[self.n_ :].reset_index(drop=True)
        # Prophet draws from numpy's legacy global generator; seed it and put the caller's state back
        state = np.random.get_state()  # noqa: NPY002
        try:
            np.random.seed(seed)  # noqa: NPY002
            draws = np.asarray(self.model_.predictive_samples(future)["yhat"], dtype=float)
        finally:
            np.random.set_state(state)  # noqa: NPY002
        idx = np.random.default_rng(seed).integers(0, draws.shape[1], n)
        paths = draws[:, idx].T
        if self.logistic_:
            paths = np.clip(paths, self.lower, self.upper)
        return paths

    def predict(self, horizon: int, levels: Sequence[float] = DEFAULT_LEVELS) -> Forecast:
        return samples_to_forecast(self.sample(horizon, self.n_samples, self.seed), levels)
