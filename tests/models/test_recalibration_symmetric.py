"""The symmetric beta transform of the champion's linear pool (``ChampionConfig.recalibrate_shape``) never moves
the median, is monotone, and is the identity at a = b = 1."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.champion import ChampionConfig, fit_champion
from models.champion.calibration import PIT_GRID, Recalibration, fit_beta

PROBS = np.array([0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975])
GRID = np.union1d(PIT_GRID, PROBS)
shapes = st.floats(min_value=0.05, max_value=50.0, allow_nan=False, allow_infinity=False)


def _pool(seed: int) -> np.ndarray:
    """Increasing quantiles ``(2, 3, len(GRID))`` of some skewed distributions."""
    rng = np.random.default_rng(seed)
    steps = rng.gamma(0.5, 1.0, (2, 3, GRID.size))
    return rng.normal(0, 10, (2, 3, 1)) + np.cumsum(steps, axis=-1)


@settings(max_examples=200, deadline=None)
@given(a=shapes, seed=st.integers(0, 2**16))
def test_symmetric_transform_keeps_the_median_and_is_monotone(a: float, seed: int) -> None:
    r = Recalibration(a, a)
    probs = np.sort(np.unique(np.concatenate([PROBS, np.random.default_rng(seed).uniform(0.001, 0.999, 20)])))
    levels = r.levels(probs)
    assert levels[probs == 0.5].tolist() == [0.5]
    assert np.all(np.diff(levels) >= 0)
    # G(1 - p) = 1 - G(p): the transform treats both tails alike
    np.testing.assert_allclose(r.levels(1 - probs), 1 - levels, atol=1e-9)
    pool = _pool(seed)
    q = r.read(pool, GRID, PROBS)
    np.testing.assert_array_equal(q[:, :, 3], pool[:, :, np.searchsorted(GRID, 0.5)])
    assert np.all(np.diff(q, axis=-1) >= 0)
    # a > 1 narrows the middle, a < 1 widens it
    inner = r.levels(np.array([0.1, 0.9]))
    if a > 1:
        assert inner[0] >= 0.1 and inner[1] <= 0.9
    elif a < 1:
        assert inner[0] <= 0.1 and inner[1] >= 0.9


@given(seed=st.integers(0, 2**16))
@settings(max_examples=50, deadline=None)
def test_unit_shape_is_the_identity(seed: int) -> None:
    pool = _pool(seed)
    r = Recalibration(1.0, 1.0)
    assert r.identity
    np.testing.assert_array_equal(r.levels(PROBS), PROBS)
    np.testing.assert_array_equal(r.read(pool, GRID, PROBS), pool[:, :, np.searchsorted(GRID, PROBS)])


@pytest.mark.parametrize(("true_shape", "narrows"), [(3.0, True), (0.5, False)])
def test_symmetric_fit_recovers_the_shape_and_shrinks_to_the_reference(
    true_shape: float, narrows: bool
) -> None:
    rng = np.random.default_rng(7)
    own = rng.beta(true_shape, true_shape, 3000)
    uniform = (np.arange(500) + 0.5) / 500  # a reference of evenly spread PITs: calibrated
    r = fit_beta(own, uniform, prior=10.0, symmetric=True)
    assert r.a == r.b
    assert abs(np.log(r.a / true_shape)) < 0.15
    assert (r.a > 1) == narrows
    # three own PITs against the calibrated reference of weight 1000: the map stays near the identity
    few = fit_beta(own[:3], uniform, prior=1000.0, symmetric=True)
    assert abs(np.log(few.a)) < 0.1 and few.weight < 0.01


def test_config_refuses_an_unknown_shape() -> None:
    with pytest.raises(ValueError, match="recalibrate_shape"):
        ChampionConfig(recalibrate_shape="skewed")  # type: ignore[arg-type]


def test_small_panel_median_unchanged_by_symmetric_recalibration() -> None:
    """On a district-sized panel the symmetric map applies ("small") and moves no median, while it does change
    the width of the intervals."""
    rng = np.random.default_rng(11)
    hist = [100 * np.exp(np.cumsum(rng.normal(0.06, 0.04, int(rng.integers(7, 10))))) for _ in range(12)]
    base = ChampionConfig(n_origins=4, min_train=4)
    sym = base.model_copy(update={"recalibrate": "small", "recalibrate_shape": "symmetric"})
    f0, f1 = fit_champion(hist, 3, base), fit_champion(hist, 3, sym)
    assert f0.recalibration.identity
    assert not f1.recalibration.identity and f1.recalibration.a == f1.recalibration.b
    p0, q0 = f0.forecast(hist, 3, PROBS)
    p1, q1 = f1.forecast(hist, 3, PROBS)
    np.testing.assert_array_equal(p0, p1)
    np.testing.assert_allclose(q1[:, :, 3], q0[:, :, 3], rtol=1e-12, atol=1e-12)
    assert not np.allclose(q1[:, :, 1], q0[:, :, 1])
