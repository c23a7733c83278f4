"""Forecasting models behind one small interface (see :mod:`models.base`).

Importing the package registers every family in :data:`models.base.MODELS`.
"""

from __future__ import annotations

from models import (
    arima,
    calibration,
    ets,
    pooled,
    prophet_model,
    saturation,
    simple,
    theta,
    transforms,
)
from models.base import DEFAULT_LEVELS, MODELS, Forecast, Forecaster, make_model, register

__all__ = [
    "DEFAULT_LEVELS",
    "MODELS",
    "Forecast",
    "Forecaster",
    "arima",
    "calibration",
    "ets",
    "make_model",
    "pooled",
    "prophet_model",
    "register",
    "saturation",
    "simple",
    "theta",
    "transforms",
]
