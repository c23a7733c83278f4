"""Coverage of a discrete forecast is read on its PIT range: nominal in expectation when calibrated, where the
closed interval between two quantiles over-covers by construction."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from models.metrics import ForecastRows, coverage80, coverage95, pit_coverage


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=8).filter(lambda w: sum(w) > 1e-3),
    st.sampled_from([50.0, 80.0, 95.0]),
)
def test_a_calibrated_discrete_forecast_covers_its_level_exactly_in_expectation(
    weights: list[float], level: float
) -> None:
    pmf = np.array(weights) / sum(weights)
    cdf = np.cumsum(pmf)
    lo, hi = cdf - pmf, cdf
    # the outcome drawn from the forecast itself: the expected coverage is Σ_k pmf_k · coverage(k)
    expected = float(np.sum(pmf * pit_coverage(lo, hi, level)))
    assert abs(expected - level) < 1e-6


def test_closed_quantile_intervals_over_cover_a_calibrated_level_forecast_the_pit_does_not() -> None:
    rng = np.random.default_rng(3)
    pmf = np.array([0.05, 0.7, 0.2, 0.05])
    cdf = np.cumsum(pmf)
    y = rng.choice(4, size=20_000, p=pmf).astype(float)

    def q(p: float) -> np.ndarray:
        return np.full(y.size, float(np.searchsorted(cdf, p)))

    quantiles = {0.025: q(0.025), 0.1: q(0.1), 0.9: q(0.9), 0.975: q(0.975)}
    closed = ForecastRows(y=y, quantiles=quantiles)
    lo = (cdf - pmf)[y.astype(int)]
    hi = cdf[y.astype(int)]
    read = ForecastRows(y=y, quantiles=quantiles, pit_lo=lo, pit_hi=hi)
    assert coverage80(closed).mean() > 89  # [1, 2] holds 90 % of the mass: "covers" 90 % of outcomes
    assert abs(coverage80(read).mean() - 80) < 1.0
    assert abs(coverage95(read).mean() - 95) < 1.0


def test_rows_without_a_pit_range_keep_the_interval_count() -> None:
    rows = ForecastRows(
        y=np.array([1.0, 5.0]),
        quantiles={0.1: np.zeros(2), 0.9: np.full(2, 2.0)},
        pit_lo=np.array([np.nan, np.nan]),
        pit_hi=np.array([np.nan, np.nan]),
    )
    assert coverage80(rows).tolist() == [100.0, 0.0]
