"""Backtests never see the future: cutoff < period on every row, and models only get earlier data."""

from __future__ import annotations

from typing import Self

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.forecasting.backtest import rolling_origin
from evaluation.forecasting.champion import ChampionConfig, backtest_frame, backtest_members
from models.base import Forecast, gaussian_forecast
from models.simple import Drift


class Spy:
    """Forecasts the largest value it has seen; a leak of the future would show in the forecast."""

    def fit(self, history: np.ndarray) -> Self:
        self.seen_ = float(np.max(history))
        return self

    def predict(self, horizon: int, levels: tuple[float, ...] = (80.0, 95.0)) -> Forecast:
        return gaussian_forecast(np.full(horizon, self.seen_), np.ones(horizon), levels)

    def sample(self, horizon: int, n: int, seed: int = 0) -> np.ndarray:
        return np.full((n, horizon), self.seen_)


def _panel(lengths: list[int]) -> pl.DataFrame:
    parts = []
    for i, n in enumerate(lengths):
        # strictly increasing values: the max seen equals the value at the cutoff
        parts.append(
            pl.DataFrame(
                {
                    "series_id": [f"s{i}"] * n,
                    "period": list(range(2000, 2000 + n)),
                    "value": np.arange(1.0, n + 1.0) * (i + 1),
                }
            )
        )
    return pl.concat(parts)


@settings(max_examples=25, deadline=None)
@given(
    lengths=st.lists(st.integers(5, 14), min_size=1, max_size=4),
    horizon=st.integers(1, 4),
    origins=st.integers(1, 5),
)
def test_cutoff_before_period_and_no_leak(lengths: list[int], horizon: int, origins: int) -> None:
    bt = rolling_origin(_panel(lengths), {"spy": Spy, "drift": Drift}, horizon=horizon, n_origins=origins)
    assert (bt["cutoff"] < bt["period"]).all()
    assert bt["h"].max() <= horizon
    # the spy forecasts exactly the value at the cutoff: it never saw a later one
    values = _panel(lengths).rename({"period": "cutoff", "value": "at_cutoff"})
    joined = bt.join(values, on=["series_id", "cutoff"])
    assert joined.height == bt.height
    np.testing.assert_allclose(joined["spy"], joined["at_cutoff"])
    assert set(bt.columns) >= {"series_id", "period", "cutoff", "y", "spy", "spy-lo-80", "drift-hi-95"}


def test_champion_backtest_frame_never_sees_the_future() -> None:
    rng = np.random.default_rng(0)
    histories = [np.cumsum(rng.normal(0.05, 0.1, n)) for n in (12, 9, 15, 10)]
    bt = backtest_members(histories, 3, ChampionConfig(n_origins=4))
    periods = [list(range(2000, 2000 + h.size)) for h in histories]
    frame = backtest_frame(bt, ["a", "b", "c", "d"], periods)
    assert frame.height > 0
    assert (frame["cutoff"] < frame["period"]).all()
    assert ((frame["period"] - frame["cutoff"]) == frame["h"]).all()


def test_filled_gaps_never_start_or_score_a_backtest() -> None:
    """A gap filled by interpolation leans on the next observation; the backtest must not cut inside it."""
    rng = np.random.default_rng(3)
    smooth = [np.cumsum(rng.normal(0.05, 0.1, 12)) for _ in range(3)]
    gappy = np.linspace(0.0, 0.3, 12)
    gappy[6:11] = np.linspace(gappy[5], 3.0, 7)[1:-1]  # filled towards a jump observed at index 11
    gappy[11] = 3.0
    observed = [np.ones(12, bool)] * 3 + [np.r_[np.ones(6, bool), np.zeros(5, bool), True]]
    cfg = ChampionConfig(members=("drift", "naive"), n_origins=6, min_train=4)
    leaky = backtest_members([*smooth, gappy], 3, cfg)
    honest = backtest_members([*smooth, gappy], 3, cfg, observed=observed)
    # without the mask, origins inside the gap see the jump through the filled values
    assert ((leaky.series == 3) & (leaky.offset < 6)).any()
    rows = honest.series == 3
    cutoff = 12 - 1 - honest.offset[rows]
    assert observed[3][cutoff].all()  # every origin of the gappy series is an observed point
    assert observed[3][cutoff + honest.h[rows]].all()  # and every scored actual was observed
    assert honest.actual.size < leaky.actual.size
    assert (honest.series < 3).sum() == (leaky.series < 3).sum()  # complete series keep every row
