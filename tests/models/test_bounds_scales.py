"""Property tests: forecasts never leave their bounds; cumulative forecasts never decrease."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from models.base import make_model
from models.transforms import Scale, Transformed, choose_scale, monotone_quantiles

shares = st.lists(st.floats(0.0, 100.0, allow_nan=False), min_size=4, max_size=15)
positive = st.lists(st.floats(0.01, 1e7, allow_nan=False), min_size=4, max_size=15)
members = st.sampled_from(["naive", "drift", "theta_np", "damped_np"])


@settings(max_examples=60, deadline=None)
@given(values=shares, name=members, horizon=st.integers(1, 8))
def test_share_forecasts_stay_in_bounds(values: list[float], name: str, horizon: int) -> None:
    fc = Transformed(make_model(name), Scale("logit", 0.0, 100.0)).fit(np.array(values)).predict(horizon)
    assert np.all(fc.quantiles >= 0.0) and np.all(fc.quantiles <= 100.0)
    assert np.all(fc.mean >= 0.0) and np.all(fc.mean <= 100.0)


@settings(max_examples=60, deadline=None)
@given(values=positive, name=members, horizon=st.integers(1, 8))
def test_cumulative_counts_never_decrease(values: list[float], name: str, horizon: int) -> None:
    y = np.maximum.accumulate(np.array(values))
    model = Transformed(make_model(name), Scale("log"), cumulative=True).fit(y)
    fc = model.predict(horizon)
    assert np.all(fc.quantiles > 0)
    assert np.all(np.diff(fc.quantiles, axis=0) >= -1e-9)
    assert np.all(fc.quantiles >= y[-1] - 1e-9)
    paths = model.sample(horizon, 20, seed=1)
    assert np.all(np.diff(paths, axis=1) >= 0) and np.all(paths >= y[-1])


@settings(max_examples=100, deadline=None)
@given(
    z=st.lists(st.floats(-30, 30, allow_nan=False), min_size=1, max_size=20),
    lower=st.floats(-1e3, 1e3),
    width=st.floats(1e-2, 1e4),
)
def test_inverse_is_always_inside_bounds(z: list[float], lower: float, width: float) -> None:
    sc = Scale("logit", lower, lower + width)
    out = sc.inverse(np.array(z))
    assert np.all(out >= lower) and np.all(out <= lower + width)


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.floats(0.5, 99.5, allow_nan=False), min_size=1, max_size=20))
def test_logit_round_trip(values: list[float]) -> None:
    sc = Scale("logit", 0.0, 100.0)
    np.testing.assert_allclose(sc.inverse(sc.forward(np.array(values))), values, rtol=1e-9, atol=1e-9)


def test_survey_standard_error_widens_the_interval() -> None:
    y = np.array([70.0, 72.0, 71.0, 73.0, 74.0, 73.5])
    plain = Transformed(make_model("drift"), Scale("identity")).fit(y).predict(2)
    survey = Transformed(make_model("drift"), Scale("identity"), std_error=3.0).fit(y).predict(2)
    lo_p, hi_p = plain.interval(80)
    lo_s, hi_s = survey.interval(80)
    assert np.all(hi_s - lo_s > hi_p - lo_p)


def test_scale_choice_by_kind() -> None:
    assert choose_scale("share", 0, 100, np.array([1.0])).name == "logit"
    assert choose_scale("count", 0, None, np.array([0.0, 3.0])).name == "identity"
    assert monotone_quantiles(np.array([[3.0], [1.0]]), 0.0).ravel().tolist() == [3.0, 3.0]
