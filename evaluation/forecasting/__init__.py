"""Forecast evaluation for the product: target attainment (the probability of reaching a target, its status,
the growth view, what-if), the published backtest metrics, the recalibration of attainment probabilities and
the ordinal levels' backtest. The forecaster itself, its metrics and its rolling origin live in :mod:`models`.
"""

__all__ = ["attainment", "ordinal_backtest", "origin_backtest", "recalibration"]
