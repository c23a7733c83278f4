"""The KPI page plots the history the forecast was fitted on: annual values of the forecast's data set."""

from __future__ import annotations

from datetime import date

import polars as pl

from dashboard.views import fitted_history as _history


def test_history_keeps_annual_values_of_the_forecasts_data_set() -> None:
    obs = pl.DataFrame(
        {
            "kpi_id": ["k"] * 5,
            "region": ["r"] * 5,
            "period": [
                date(2023, 1, 1),
                date(2023, 2, 1),
                date(2024, 1, 1),
                date(2024, 1, 1),
                date(2020, 1, 1),
            ],
            "freq": ["Y", "M", "Y", "M", "Y"],
            "value": [80.0, 79.0, 84.0, 83.0, 99.7],
            "data_set": ["synthetic-demo", "synthetic-demo", "synthetic-demo", "synthetic-demo", "plan"],
        }
    )
    fc = pl.DataFrame({"kpi_id": ["k"], "region": ["r"], "data_set": ["synthetic-demo"]})
    hist = _history(obs, fc, "k", "r")
    assert hist.sort("period")["value"].to_list() == [80.0, 84.0]
    # without forecasts every annual value is shown; without annual values, the monthly ones
    assert _history(obs, None, "k", "r").height == 3
    monthly = obs.filter(pl.col("freq") == "M")
    assert _history(monthly, None, "k", "r").height == 2
