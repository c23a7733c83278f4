"""The optimised/dynamic Theta member (models.theta_auto): its maths against closed forms and statsforecast."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.theta import theta_path
from models.theta_auto import (
    ALPHAS,
    MODEL_TYPES,
    ThetaAuto,
    ThetaFit,
    choose_theta,
    fit_theta,
    ols_line,
    theta_forecast,
)

series = st.lists(st.floats(-50.0, 50.0, allow_nan=False), min_size=6, max_size=30).map(
    lambda v: 100.0 + np.cumsum(np.asarray(v))
)
alphas = st.sampled_from([float(a) for a in ALPHAS])


def _ses_level(y: np.ndarray, alpha: float) -> float:
    level = y[0]
    for v in y[1:]:
        level = alpha * v + (1 - alpha) * level
    return float(level)


@settings(max_examples=60, deadline=None)
@given(y=series, alpha=alphas, horizon=st.integers(1, 8))
def test_standard_theta_at_two_is_ses_with_drift(y: np.ndarray, alpha: float, horizon: int) -> None:
    """STM (θ = 2) started at ℓ_0 = y_0 − (A + B)/2 is Hyndman & Billah's SES with drift b/2 (models.theta)."""
    a, b = ols_line(y)
    fit = ThetaFit("STM", float(y[0]) - (a + b) / 2, alpha, 0.5, 0.0)
    mine, errors = theta_forecast(y, fit, horizon)
    expected = theta_path(_ses_level(y, alpha), b, alpha, y.size, horizon)
    np.testing.assert_allclose(mine, expected, rtol=1e-9, atol=1e-7)
    assert abs(errors[0]) < 1e-7  # μ_0 = y_0: the SES starts at the first observation


@settings(max_examples=60, deadline=None)
@given(y=series, alpha=alphas, w=st.floats(0.0, 0.999), level0=st.floats(-200.0, 200.0))
def test_standard_forecast_steps_by_w_times_slope(
    y: np.ndarray, alpha: float, w: float, level0: float
) -> None:
    """Standard models forecast a straight line of slope (1 − 1/θ)·B."""
    mine, _ = theta_forecast(y, ThetaFit("OTM", level0, alpha, w, 0.0), 6)
    np.testing.assert_allclose(np.diff(mine), w * ols_line(y)[1], rtol=1e-7, atol=1e-7)


@settings(max_examples=40, deadline=None)
@given(
    y=series,
    model=st.sampled_from(MODEL_TYPES),
    alpha=alphas,
    w=st.floats(0.0, 0.999),
    level0=st.floats(-500.0, 500.0),
)
def test_fit_is_the_least_squares_optimum(
    y: np.ndarray, model: str, alpha: float, w: float, level0: float
) -> None:
    """No parameter set on the grid beats the closed-form fit's criterion (errors after the first three)."""
    fit = fit_theta(y, model)
    if not model.endswith("OTM"):
        w = 0.5
    _, errors = theta_forecast(y, ThetaFit(model, level0, alpha, w, 0.0), 1)
    assert fit.sse <= float(np.sum(errors[3:] ** 2)) * (1 + 1e-9) + 1e-9
    _, own = theta_forecast(y, fit, 1)
    assert float(np.sum(own[3:] ** 2)) == pytest.approx(fit.sse, rel=1e-6, abs=1e-6)
    assert 0.0 <= fit.w < 1.0 and fit.theta >= 1.0


@settings(max_examples=40, deadline=None)
@given(y=series, shift=st.floats(-1e3, 1e3))
def test_scale_equivariant(y: np.ndarray, shift: float) -> None:
    """Forecasting 4·y + c gives 4·(forecast of y) + c (a power of two keeps the choice exact)."""
    base = ThetaAuto().fit(y).predict(5).mean
    moved = ThetaAuto().fit(4.0 * y + shift).predict(5).mean
    np.testing.assert_allclose(moved, 4.0 * base + shift, rtol=1e-6, atol=1e-5 * (1 + abs(shift)))


def test_constant_series_gives_a_flat_finite_forecast() -> None:
    fc = ThetaAuto().fit(np.full(9, 7.0)).predict(4)
    np.testing.assert_allclose(fc.mean, 7.0)
    assert np.all(np.isfinite(fc.quantiles))


def test_unknown_model_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="XTM"):
        fit_theta(np.arange(8.0), "XTM")
    with pytest.raises(ValueError, match="theta_auto models"):
        ThetaAuto(models=("OTM", "bad"))


@pytest.mark.parametrize("model", MODEL_TYPES)
def test_recursion_matches_statsforecast(model: str) -> None:
    """Given the same parameters, forecasts and one-step errors equal statsforecast's (bench-only peer)."""
    theta_sf = pytest.importorskip("statsforecast.theta")
    rng = np.random.default_rng(3)
    for _ in range(5):
        y = 100 * np.exp(np.cumsum(rng.normal(0.03, 0.1, int(rng.integers(8, 30)))))
        level0, alpha, theta = float(rng.normal(50, 20)), float(rng.uniform(0.1, 0.99)), 2.0
        if model.endswith("OTM"):
            theta = float(rng.uniform(1.0, 6.0))
        ref = theta_sf.thetamodel(y, 1, model, level0, alpha, theta, 3)
        mine, errors = theta_forecast(y, ThetaFit(model, level0, alpha, 1 - 1 / theta, 0.0), 6)
        np.testing.assert_allclose(mine, theta_sf.forecast_theta(ref, 6)["mean"], rtol=1e-10)
        np.testing.assert_allclose(errors, ref["residuals"], rtol=1e-9, atol=1e-9)


def test_choice_fits_no_worse_than_statsforecast() -> None:
    """The exact optimum's criterion is at most AutoTheta's (its Nelder–Mead stops short; grid step 0.01)."""
    theta_sf = pytest.importorskip("statsforecast.theta")
    rng = np.random.default_rng(5)
    for _ in range(10):
        y = 100 * np.exp(np.cumsum(rng.normal(0.03, 0.1, int(rng.integers(10, 35)))))
        ref = theta_sf.auto_theta(y, 1)
        assert choose_theta(y).sse <= float(np.sum(ref["residuals"][3:] ** 2)) * 1.001
