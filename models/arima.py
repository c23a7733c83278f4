"""ARIMA with drift (statsmodels), order chosen by AICc among a few small candidates.

Annual KPI series are short, so the search is deliberately small: ``(0,1,0)``, ``(1,1,0)``,
``(0,1,1)`` each with a drift term, and ``(1,0,0)`` with a trend. Marginals are the model's normal
forecast distribution.
"""

from __future__ import annotations

import logging
import warnings
from typing import Self

import numpy as np

from models.base import GaussianModel, check_history, register

log = logging.getLogger(__name__)

ORDERS: tuple[tuple[tuple[int, int, int], str], ...] = (
    ((0, 1, 0), "t"),
    ((1, 1, 0), "t"),
    ((0, 1, 1), "t"),
    ((1, 0, 0), "ct"),
)


@register("arima")
class Arima(GaussianModel):
    """ARIMA by maximum likelihood, order by AICc over :data:`ORDERS`.

    Args:
        orders: candidate ``((p, d, q), trend)`` pairs.
    """

    def __init__(self, orders: tuple[tuple[tuple[int, int, int], str], ...] = ORDERS) -> None:
        self.orders = orders

    def fit(self, history: np.ndarray) -> Self:
        from statsmodels.tools.sm_exceptions import ConvergenceWarning, EstimationWarning
        from statsmodels.tsa.arima.model import ARIMA

        y = check_history(history, min_points=4, name="arima")
        best = None
        for order, trend in self.orders:
            with warnings.catch_warnings():
                # short series often stop short of the optimum; the AICc comparison still ranks them
                warnings.simplefilter("ignore", ConvergenceWarning)
                warnings.simplefilter("ignore", EstimationWarning)
                warnings.simplefilter("ignore", UserWarning)
                try:
                    res = ARIMA(y, order=order, trend=trend).fit()
                except (np.linalg.LinAlgError, ValueError) as exc:
                    log.debug("arima %s failed: %s", order, exc)
                    continue
            aicc = float(res.aicc) if np.isfinite(res.aicc) else float(res.aic)
            if best is None or aicc < best[0]:
                best = (aicc, order, res)
        if best is None:
            raise ValueError(
                "arima: no candidate order could be fitted; check the series for constant values"
            )
        _, self.order_, self.result_ = best
        return self

    def _mean_sigma(self, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        pred = self.result_.get_forecast(horizon)
        return np.asarray(pred.predicted_mean, dtype=float), np.sqrt(
            np.asarray(pred.var_pred_mean, dtype=float)
        )
