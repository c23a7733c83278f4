"""Interval recalibration: a panel whose intervals are too wide gets intervals that cover what they say, the
median never moves, and no backtest row is scored by a map that saw its series."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from evaluation.forecasting import interval_recalibration as ir
from evaluation.forecasting.origin_backtest import pit_of
from evaluation.forecasting.recalibration import fold_of
from models.metrics import ForecastRows, coverage80, coverage95
from pipelines.steps.forecast import PROBS, calibrate_intervals, forecast_group
from tests.synthetic_series import group_task


def _panel(n_series: int, rows: int, spread: float, seed: int, kind: str = "count") -> pl.DataFrame:
    """Backtest rows whose outcomes are N(0, 1) and whose forecasts are N(0, spread²) at every PROBS level."""
    rng = np.random.default_rng(seed)
    n = n_series * rows
    y = rng.normal(size=n)
    dense = np.tile(stats.norm.ppf(PROBS, scale=spread), (n, 1))
    frame = {
        "series_id": [f"kpi_{i}/district" for i in range(n_series) for _ in range(rows)],
        "kind": kind,
        "h": 1,
        "y": y,
        "mean": 0.0,
        "raw_scale": 1.0,
        "pit": [pit_of(float(v), PROBS, dense[0]) for v in y],
        "qd": dense.tolist(),
        "p_k1.0": 1.0 - stats.norm.cdf(0.5, scale=spread),
        "event_k1.0": (y >= 0.5).astype(float),
    }
    for p in (0.025, 0.1, 0.5, 0.9, 0.975):
        frame[f"q{p}"] = float(np.interp(p, PROBS, dense[0]))
    return pl.DataFrame(frame)


def test_intervals_too_wide_come_back_to_nominal_out_of_sample() -> None:
    train = _panel(60, 20, spread=1.6, seed=1)
    before = ForecastRows.from_frame(train)
    assert coverage80(before).mean() > 93 and coverage95(before).mean() > 99  # far too wide
    rec = ir.fit_by_kind([train])["count"]
    fresh = _panel(60, 20, spread=1.6, seed=2)
    after = ForecastRows.from_frame(ir.apply(fresh, rec, PROBS))
    assert abs(coverage80(after).mean() - 80) < 3
    assert abs(coverage95(after).mean() - 95) < 2
    # the event probability moves with the distribution: P(Y ≥ 0.5) is 0.31 for N(0, 1)
    p = ir.apply(fresh, rec, PROBS)["p_k1.0"][0]
    assert abs(p - (1 - stats.norm.cdf(0.5))) < 0.03 < abs(fresh["p_k1.0"][0] - (1 - stats.norm.cdf(0.5)))


def test_a_calibrated_panel_keeps_its_intervals() -> None:
    rec = ir.fit_by_kind([_panel(80, 25, spread=1.0, seed=3)])["count"]
    levels = rec.levels(np.array([0.025, 0.1, 0.9, 0.975]))
    assert np.allclose(levels, [0.025, 0.1, 0.9, 0.975], atol=0.02)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=0, max_size=300),
    st.floats(min_value=0.0, max_value=500.0),
)
def test_the_map_keeps_the_median_is_increasing_and_inverts(pits: list[float], prior: float) -> None:
    rec = ir.fit(np.array(pits), prior)
    grid = np.linspace(0.001, 0.999, 400)
    levels = rec.levels(grid)
    assert rec.levels(np.array([0.5]))[0] == 0.5
    assert np.all(np.diff(levels) > 0)
    assert np.allclose(rec.cdf(levels), grid, atol=1e-9)


def test_no_backtest_row_is_read_by_a_map_that_saw_its_series() -> None:
    frame = _panel(40, 30, spread=1.0, seed=4)
    folds = np.array([fold_of(s) for s in frame["series_id"].to_list()])
    assert 0 < folds.sum() < folds.size
    # fold 1's outcomes all land in the middle of their forecasts: a map learned on them narrows hard
    frame = frame.with_columns(pl.Series("pit", np.where(folds == 1, 0.5, frame["pit"].to_numpy())))
    out = ir.crossfit([frame], PROBS, prior=1.0)[0]
    width = (out["q0.9"] - out["q0.1"]).to_numpy()
    original = float(frame["q0.9"][0] - frame["q0.1"][0])
    assert "qd" not in out.columns
    assert np.allclose(width[folds == 1], original, rtol=0.1)  # read by fold 0's (calibrated) map
    assert np.all(width[folds == 0] < 0.3 * original)  # read by fold 1's map
    assert np.array_equal(out["mean"].to_numpy(), frame["mean"].to_numpy())


def test_published_forecasts_keep_their_median_bounds_and_order() -> None:
    values = {f"d{i}": [50 + 4 * t + ((-1) ** (i + t)) * i for t in range(8)] for i in range(12)}
    task = group_task(
        "share:logit[0,100]", "online_share", "share", (0.0, 100.0), 0.1, values, first_year=2015, horizon=4
    )
    before = forecast_group(task)
    (after,) = calibrate_intervals([before], prior=1.0)
    assert np.array_equal(after.forecasts["q0.5"].to_numpy(), before.forecasts["q0.5"].to_numpy())
    assert np.array_equal(after.forecasts["mean"].to_numpy(), before.forecasts["mean"].to_numpy())
    q = after.forecasts.select("q0.025", "q0.1", "q0.5", "q0.9", "q0.975").to_numpy()
    assert np.all(np.diff(q, axis=1) >= 0) and q.min() >= 0 and q.max() <= 100
    draws = after.samples.sort("kpi_id", "region", "period", "draw")["value"].to_numpy().reshape(-1, 99)
    assert np.all(np.diff(draws, axis=1) >= 0)
    assert not np.array_equal(
        q, before.forecasts.select("q0.025", "q0.1", "q0.5", "q0.9", "q0.975").to_numpy()
    )
    assert "qd" not in after.backtest.columns and after.backtest.height == before.backtest.height


def test_the_backtest_pit_says_what_the_closed_intervals_did_even_at_a_bound() -> None:
    # shares climbing to 100 % and staying there: the forecasts put a point mass on the bound
    values = {f"d{i}": [min(100.0, 96.0 + 0.8 * t + 0.1 * i) for t in range(9)] for i in range(10)}
    task = group_task(
        "share:logit[0,100]", "4g_coverage", "share", (0.0, 100.0), 0.1, values, first_year=2015, horizon=3
    )
    bt = forecast_group(task).backtest
    at_bound = bt.filter(pl.col("y") == 100.0)
    assert at_bound.height > 0 and (at_bound["q0.975"] == 100.0).any()
    v = np.abs(2 * bt["pit"].to_numpy() - 1)
    rows = ForecastRows.from_frame(bt)
    assert np.array_equal(v <= 0.95, coverage95(rows) == 100)
    assert np.array_equal(v <= 0.8, coverage80(rows) == 100)


def test_an_ordinal_level_group_keeps_its_whole_levels() -> None:
    levels = {f"d{i}": [0, 0, 1, 1, 1, 2, 2][: 5 + i % 3] for i in range(8)}
    task = group_task(
        "level:identity", "gov_cloud_level", "level", (0.0, 3.0), 1.0, levels, first_year=2015, horizon=3
    )
    count = {f"d{i}": [10 + 3 * t + i for t in range(8)] for i in range(8)}
    counts = group_task("count:log", "cases", "count", (0.0, None), 1.0, count, first_year=2015, horizon=3)
    before = [forecast_group(task), forecast_group(counts)]
    after = calibrate_intervals(before, prior=1.0)
    assert after[0].forecasts.equals(before[0].forecasts)
    assert after[0].backtest.equals(before[0].backtest)
    assert "pit_lo" in after[0].backtest.columns


def test_a_thin_kind_borrows_from_its_panel_before_the_m3_reference() -> None:
    # counts (60 series) and amounts (2 series, 8 rows) share a pool that is far too wide; on its own the thin
    # kind's map is mostly the M3 reference's, pooled with its panel it narrows as the counts do
    counts = _panel(60, 20, spread=1.6, seed=5)
    amounts = _panel(2, 4, spread=1.6, seed=6, kind="amount")
    fresh = _panel(60, 20, spread=1.6, seed=7, kind="amount")
    alone = ir.fit_by_kind([counts, amounts], panel_prior=None)["amount"]
    pooled = ir.fit_by_kind([counts, amounts], panel_prior=25.0)["amount"]
    cov_alone = coverage80(ForecastRows.from_frame(ir.apply(fresh, alone, PROBS))).mean()
    cov_pooled = coverage80(ForecastRows.from_frame(ir.apply(fresh, pooled, PROBS))).mean()
    assert cov_alone > 90  # still far too wide: three quarters of its weight is the M3 reference
    # three quarters of its weight is now the panel's (the counts' map covers about 81 %), a quarter its 8 PITs
    assert cov_pooled < cov_alone - 5
    # the counts' own map hardly moves: their PITs outnumber what they borrow
    own = ir.fit_by_kind([counts, amounts], panel_prior=25.0)["count"].levels(np.array([0.1, 0.9]))
    assert np.allclose(
        own, ir.fit_by_kind([counts], panel_prior=None)["count"].levels(np.array([0.1, 0.9])), atol=0.02
    )
