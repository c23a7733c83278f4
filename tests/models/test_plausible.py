"""The point forecast is the median and the upper tail obeys the documented rule (models.champion.plausible)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.champion import ChampionConfig, fit_champion
from models.champion.plausible import cap_quantiles, point_forecast, upper_caps
from models.transforms import Scale

VOLATILE = [78.0, 10170.0, 240.0, 6400.0, 150.0, 9800.0, 95.0, 7200.0]


def _panel_csv(path: Path) -> Path:
    rng = np.random.default_rng(3)
    rows = []
    for i in range(30):
        y = 100 * np.exp(np.cumsum(rng.normal(0.05, 0.1, int(rng.integers(6, 11)))))
        rows += [{"series_id": f"s{i:02d}", "period": 2010 + t, "value": float(v)} for t, v in enumerate(y)]
    rows += [{"series_id": "volatile", "period": 2010 + t, "value": v} for t, v in enumerate(VOLATILE)]
    pl.DataFrame(rows).write_csv(path)
    return path


def test_forecast_file_mean_is_a_point_forecast_and_the_tail_obeys_the_rule(tmp_path: Path) -> None:
    """A history between 78 and 10,170 once gave a ``mean`` of 1.7e25 (median 5e5) on the log scale."""
    from pipelines.steps.forecast_files import forecast_file

    out = forecast_file(_panel_csv(tmp_path / "in.csv"), tmp_path / "out.csv", horizon=6)
    ratio = (out["mean"] / out["q0.5"]).to_numpy()
    assert np.all(ratio <= 3.0), f"mean/q0.5 up to {ratio.max():.3g}"
    vol = out.filter(pl.col("series_id") == "volatile").sort("period")
    caps = upper_caps(np.array(VOLATILE), 6, ChampionConfig().tail_multiple or 0.0)
    assert np.all(vol["q0.975"].to_numpy() <= caps * (1 + 1e-9))
    assert vol["q0.975"].max() <= 10 * max(VOLATILE) * 1.5  # far from the 7.9e6 the issue measured
    assert np.all(out["q0.025"].to_numpy() >= 0)  # positive series stay positive


def test_share_quantiles_never_exceed_the_natural_bound() -> None:
    rng = np.random.default_rng(0)
    scale = Scale("logit", 0.0, 100.0)
    raw = [np.clip(90 + np.cumsum(rng.normal(1.5, 2.0, 7)), 1, 99.5) for _ in range(20)]
    z = [scale.forward(r) for r in raw]
    champ = fit_champion(z, 5, ChampionConfig(n_origins=4, min_train=4), scale)
    _, q = champ.forecast(z, 5, np.array([0.025, 0.5, 0.975]))
    assert np.all(scale.inverse(q) <= 100.0)


def test_cap_sets_only_what_lies_above_the_cap() -> None:
    scale = Scale("log")
    hist = [np.log(np.array([10.0, 20.0, 15.0]))]
    q = np.log(np.array([[[5.0, 20.0, 1e6], [5.0, 20.0, 1e6]]]))
    capped = np.exp(cap_quantiles(q, hist, scale, 2.0))
    assert capped[0].round(6).tolist() == [[5.0, 20.0, 40.0], [5.0, 20.0, 60.0]]
    assert np.array_equal(cap_quantiles(q, hist, scale, None), q)


def test_each_series_is_capped_by_its_own_history_beside_a_much_larger_one() -> None:
    """The caps of a stack were mapped to the log scale as one row, whose floor (0.1 % of the largest value)
    lifted a small series' cap to 0.1 % of the large series' cap: a count of 2–4 got a 99.5 % quantile of
    27,283 on the 16-district demo (seed 101), and the published MSIS of counts read 328."""
    scale = Scale("log")
    small, large = np.array([2.0, 3.0, 4.0]), np.array([1e6, 2e6, 3e6])
    hist = [np.log(small), np.log(large)]
    q = np.log(np.array([[[2.0, 4.0, 5e4], [2.0, 4.0, 5e4]], [[2e6, 3e6, 1e9], [2e6, 3e6, 1e9]]]))
    capped = np.exp(cap_quantiles(q, hist, scale, 2.0))
    for i, y in enumerate((small, large)):
        assert np.all(capped[i, :, -1] <= upper_caps(y, 2, 2.0) * (1 + 1e-9))
    assert capped[0, :, -1].round(6).tolist() == [8.0, 12.0]  # 4 + 2 · 2 · h


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.floats(-2.0, 9.0), min_size=1, max_size=6),
    growth=st.floats(-0.5, 0.5),
    horizon=st.integers(1, 4),
    multiple=st.floats(0.25, 4.0),
)
def test_every_series_of_any_stack_keeps_its_own_cap_and_nothing_below_it_moves(
    sizes: list[float], growth: float, horizon: int, multiple: float
) -> None:
    """Series from 0.01 to 1e9 in one stack: each capped quantile is at most that series' own cap (log scale),
    and a quantile under its cap is returned unchanged. Below 0.01 the log scale's absolute floor (0.001)
    bites; forecast-file rescales such series first (``pipelines.steps.forecast_inputs.SMALLEST_SAFE``)."""
    scale = Scale("log")
    raw = [10.0**e * np.exp(growth * np.arange(5.0)) for e in sizes]
    hist = [np.log(y) for y in raw]
    levels = np.array([0.5, 1.0, 3.0, 1e3])  # multiples of each series' last value: inside and far above
    q = np.log(np.stack([np.tile(y[-1] * levels, (horizon, 1)) for y in raw]))
    capped = cap_quantiles(q, hist, scale, multiple)
    for i, y in enumerate(raw):
        cap = upper_caps(y, horizon, multiple)
        assert np.all(np.exp(capped[i]) <= cap[:, None] * (1 + 1e-9))
        under = np.exp(q[i]) < cap[:, None] * (1 - 1e-9)
        assert np.array_equal(capped[i][under], q[i][under])


def test_forecast_file_tail_rule_holds_on_every_row_of_a_panel_of_mixed_sizes(tmp_path: Path) -> None:
    """Small counts forecast beside series in the millions keep the rule on their own histories."""
    from pipelines.steps.forecast_files import forecast_file

    rng = np.random.default_rng(5)
    rows = []
    for i in range(40):
        size = 3.0 if i % 2 else 3e6
        y = np.maximum(np.round(size * np.exp(np.cumsum(rng.normal(0.08, 0.15, 9)))), 1.0)
        rows += [{"series_id": f"s{i:02d}", "period": 2012 + t, "value": float(v)} for t, v in enumerate(y)]
    panel = pl.DataFrame(rows)
    panel.write_csv(tmp_path / "in.csv")
    out = forecast_file(tmp_path / "in.csv", tmp_path / "out.csv", horizon=4)
    multiple = ChampionConfig().tail_multiple or 0.0
    for sid, fc in out.sort("period").group_by("series_id", maintain_order=True):
        history = panel.filter(pl.col("series_id") == sid[0]).sort("period")["value"].to_numpy()
        caps = upper_caps(history, fc.height, multiple)
        assert np.all(fc["q0.975"].to_numpy() <= caps * (1 + 1e-9)), (
            f"{sid[0]}: {fc['q0.975'].to_list()} > {caps}"
        )


@pytest.mark.parametrize("probs", [np.array([0.1, 0.5, 0.9]), np.array([0.25, 0.75])])
def test_point_forecast_is_the_median(probs: np.ndarray) -> None:
    q = np.array([[1.0, 3.0, 1e12]])[:, : probs.size]
    expected = 3.0 if probs.size == 3 else 2.0
    assert point_forecast(q, probs).tolist() == [expected]


def test_a_cap_at_a_shares_bound_leaves_the_quantiles_alone() -> None:
    """The bound itself maps inside the logit scale (99.9 for 0–100); capping there cut outcomes of 100."""
    scale = Scale("logit", 0.0, 100.0)
    hist = [scale.forward(np.array([99.5, 99.9, 100.0]))]
    q = scale.forward(np.array([[[99.0, 99.95, 99.999]]]))
    assert np.array_equal(cap_quantiles(q, hist, scale, 2.0), q)


def test_backtest_of_a_share_at_its_bound_covers_outcomes_of_exactly_the_bound() -> None:
    """A coverage held at 100 % was forecast at 99.98 at most: every outcome of 100 fell outside."""
    from pipelines.steps.forecast import forecast_group
    from tests.synthetic_series import group_task

    shares = {f"r{i}": [97.0 + i * 0.2, 98.5, 99.2, 99.6, 99.8, 99.9, 100.0, 100.0] for i in range(6)}
    task = group_task(
        "share:logit[0,100]", "coverage", "share", (0.0, 100.0), 0.1, shares, first_year=2014, horizon=3
    )
    res = forecast_group(task)
    at_bound = res.backtest.filter(pl.col("y") == 100.0)
    assert at_bound.height > 0
    assert (at_bound["q0.975"] == 100.0).all()
    assert res.forecasts["q0.975"].max() == 100.0 and res.forecasts["q0.975"].max() <= 100.0


def test_counts_with_zeros_are_never_forecast_negative(tmp_path: Path) -> None:
    """Poisson counts with zeros take the identity scale; their 2.5 % quantile once reached −15."""
    from pipelines.steps.forecast_files import forecast_file

    rng = np.random.default_rng(0)
    rows = [
        {"series_id": f"s{i}", "period": 2010 + t, "value": float(v)}
        for i in range(20)
        for t, v in enumerate(rng.poisson(2, 8))
    ]
    pl.DataFrame(rows).write_csv(tmp_path / "in.csv")
    out = forecast_file(tmp_path / "in.csv", tmp_path / "out.csv", horizon=4)
    assert out["q0.025"].min() >= 0.0 and out["mean"].min() >= 0.0
