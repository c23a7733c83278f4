"""One contract test over every registered model (STYLE.md §2)."""

from __future__ import annotations

import numpy as np
import pytest

from models.base import Forecast, Forecaster, load_families, make_model, register
from models.transforms import Scale, Transformed

SLOW = {"prophet", "arima"}
BOUNDED = {"logistic", "gompertz", "prophet"}


def _settings(name: str) -> dict[str, object]:
    return {"lower": 0.0, "upper": 100.0} if name in BOUNDED else {}


def _history() -> np.ndarray:
    rng = np.random.default_rng(7)
    return 20 + np.cumsum(rng.uniform(1.0, 6.0, 12))  # a rising share-like series inside (0, 100)


def _params() -> list[object]:
    return [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(load_families())]


@pytest.mark.parametrize("name", _params())
def test_model_contract(name: str) -> None:
    history = _history()
    before = history.copy()
    model = make_model(name, **_settings(name))
    assert isinstance(model, Forecaster)
    assert model.fit(history) is model
    np.testing.assert_array_equal(history, before)  # input not mutated

    fc = model.predict(5, levels=(80, 95))
    assert isinstance(fc, Forecast)
    assert fc.mean.shape == (5,)
    assert fc.quantiles.shape == (5, fc.probs.size)
    assert np.all(np.diff(fc.probs) > 0)
    assert np.all(np.diff(fc.quantiles, axis=1) >= -1e-9)
    assert np.all(np.isfinite(fc.quantiles)) and np.all(np.isfinite(fc.mean))
    lo80, hi80 = fc.interval(80)
    lo95, hi95 = fc.interval(95)
    med = fc.quantile(0.5)
    assert np.all(lo95 <= lo80 + 1e-9) and np.all(lo80 <= med + 1e-9)
    assert np.all(med <= hi80 + 1e-9) and np.all(hi80 <= hi95 + 1e-9)

    a = model.sample(5, 50, seed=3)
    b = model.sample(5, 50, seed=3)
    assert a.shape == (50, 5)
    np.testing.assert_array_equal(a, b)  # same seed, same numbers
    np.testing.assert_allclose(model.predict(5).quantiles, model.predict(5).quantiles)

    # bounds respected when the model runs on the logit scale of a 0–100 share
    wrapped = Transformed(make_model(name, **_settings(name)), Scale("logit", 0.0, 100.0)).fit(history)
    wfc = wrapped.predict(5)
    assert wfc.quantiles.min() >= 0.0 and wfc.quantiles.max() <= 100.0


def test_every_module_family_is_registered() -> None:
    expected = {
        "naive",
        "drift",
        "ets_damped",
        "damped_np",
        "arima",
        "theta",
        "theta_np",
        "prophet",
        "logistic",
        "gompertz",
        "pooled",
    }
    assert expected <= set(load_families())


def test_registry_fails_loudly() -> None:
    with pytest.raises(KeyError, match=r"unknown model 'nope'; known models: .*naive"):
        make_model("nope")
    with pytest.raises(ValueError, match="already registered"):
        register("naive")(type("Dup", (), {}))


def test_short_history_error_says_how_to_fix() -> None:
    with pytest.raises(ValueError, match="at least 3 observations"):
        make_model("theta_np").fit(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="NaN"):
        make_model("drift").fit(np.array([1.0, np.nan, 2.0]))
