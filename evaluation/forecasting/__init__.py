"""Forecast evaluation: metrics, rolling-origin backtests, calibration, the champion, attainment."""
