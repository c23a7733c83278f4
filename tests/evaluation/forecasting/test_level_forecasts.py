"""A ``level`` KPI is forecast as ordinal levels: integers on 0…upper, never below the level reached."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from pipelines.steps.forecast import GroupTask, forecast_group
from tests.synthetic_series import group_task

LEVELS = {
    "pudong": (0, 0, 1, 1, 1, 2, 2),
    "hongkou": (0, 1, 1, 1, 2, 2, 2),
    "xuhui": (0, 0, 0, 1, 1, 1, 1),
    "jingan": (1, 1, 1, 2, 2, 3, 3),
}


def _task() -> GroupTask:
    return group_task(
        "level:identity", "gov_cloud_level", "level", (0.0, 3.0), 1.0, LEVELS, first_year=2015, horizon=4
    )


def test_level_forecasts_are_integer_levels_never_below_the_current_one() -> None:
    res = forecast_group(_task())
    assert not res.failures
    fc = res.forecasts
    cols = ["mean", "q0.025", "q0.1", "q0.5", "q0.9", "q0.975"]
    values = fc.select(cols).to_numpy()
    assert np.array_equal(values, np.rint(values)), "a level between two names does not exist"
    assert values.min() >= 0 and values.max() <= 3
    for region, vals in LEVELS.items():
        own = fc.filter(pl.col("region") == region)
        assert own["q0.025"].min() >= vals[-1]  # no drop in the data, so none forecast
    draws = res.samples["value"].to_numpy()
    assert np.array_equal(draws, np.rint(draws))


def test_level_backtest_rows_are_integer_and_probabilities_exact() -> None:
    bt = forecast_group(_task()).backtest
    assert bt.height > 0
    q = bt.select("q0.1", "q0.5", "q0.9").to_numpy()
    assert np.array_equal(q, np.rint(q))
    p = bt["p_k1.0"].to_numpy()
    assert np.all((p >= 0) & (p <= 1)) and all(math.isfinite(v) for v in p)


def test_level_backtest_rows_carry_the_pit_range_of_the_actual_level() -> None:
    bt = forecast_group(_task()).backtest
    lo, hi = bt["pit_lo"].to_numpy(), bt["pit_hi"].to_numpy()
    assert np.all((lo >= -1e-12) & (lo <= hi + 1e-12) & (hi <= 1 + 1e-12))
    # every actual in these series was a level the chain gave some probability to (no drops, one step a year)
    assert np.all(hi - lo > 0)
