"""Forecasting models behind one small interface, and the champion the product runs.

Rooms:

- :mod:`models.base` — the ``Forecaster`` protocol, the ``Forecast`` distribution, the registry
  (:data:`~models.base.MODELS`, filled by :func:`~models.base.load_families`) and quantile arithmetic;
- one module per family: :mod:`~models.simple` (naive, drift, …), :mod:`~models.ets`, :mod:`~models.theta`,
  :mod:`~models.arima`, :mod:`~models.prophet_model`, :mod:`~models.saturation` (logistic, Gompertz),
  :mod:`~models.pooled` (one model across a panel);
- :mod:`~models.transforms` (scales, gap filling), :mod:`~models.calibration` (conformal and quantile tools);
- :mod:`~models.metrics` — the one metric registry; :mod:`~models.backtest` — the one rolling origin;
- :mod:`models.champion` — the calibrated ensemble behind every published forecast.

Importing the package imports nothing heavy: families load on first use (``make_model``, ``load_families``).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["DEFAULT_LEVELS", "MODELS", "Forecast", "Forecaster", "load_families", "make_model", "register"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(import_module("models.base"), name)
    raise AttributeError(f"module 'models' has no attribute {name!r}")
