"""One-pass forecasts from every cutoff equal a fit on that prefix: no look-ahead, no drift."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from models.ets import DampedTrendNumpy, prefix_damped
from models.theta import ThetaNumpy, prefix_theta

series = st.lists(st.floats(-50, 50, allow_nan=False), min_size=5, max_size=25)


@settings(max_examples=40, deadline=None)
@given(values=series, cut=st.integers(0, 100), horizon=st.integers(1, 4))
def test_prefix_rows_equal_fits_on_the_prefix(values: list[float], cut: int, horizon: int) -> None:
    z = np.array(values)
    t = 3 + cut % (z.size - 3)
    np.testing.assert_allclose(
        prefix_theta(z, horizon)[t], ThetaNumpy().fit(z[: t + 1]).predict(horizon).mean, rtol=1e-9, atol=1e-9
    )
    np.testing.assert_allclose(
        prefix_damped(z, horizon)[t],
        DampedTrendNumpy().fit(z[: t + 1]).predict(horizon).mean,
        rtol=1e-9,
        atol=1e-9,
    )
    # changing the future does not change a past row
    later = z.copy()
    later[t + 1 :] += 1000.0
    np.testing.assert_allclose(prefix_theta(later, horizon)[t], prefix_theta(z, horizon)[t])
