"""The median correction shrunk by its out-of-time calibration slope (``ChampionConfig.location_shrink``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.champion import ChampionConfig, Member, MemberBacktest, fit_champion
from models.champion.chunked import Piece, fit_chunked, forecast_piece
from models.champion.selection import location_slope, median_slope
from models.transforms import Scale
from tests.models.test_champion_location_gate import H, _backtest, _panel

PROBS = np.array([0.025, 0.1, 0.5, 0.9, 0.975])

shifts = st.lists(
    st.floats(min_value=-5, max_value=5, allow_nan=False).filter(lambda v: abs(v) > 1e-3),
    min_size=1,
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(shifts)
def test_a_correction_that_comes_true_exactly_has_slope_one(m: list[float]) -> None:
    predicted = np.array(m)
    assert median_slope(predicted, predicted) == 1.0


@settings(max_examples=60, deadline=None)
@given(shifts, st.floats(min_value=0, max_value=1))
def test_a_correction_that_comes_true_in_part_has_that_slope(m: list[float], part: float) -> None:
    predicted = np.array(m)
    assert median_slope(part * predicted, predicted) == pytest.approx(part, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=40),
    st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=40),
)
def test_the_slope_lies_in_the_unit_interval(y: list[float], m: list[float]) -> None:
    n = min(len(y), len(m))
    slope = median_slope(np.array(y[:n]), np.array(m[:n]))
    assert 0.0 <= slope <= 1.0


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_a_correction_that_is_pure_noise_has_slope_near_zero(seed: int) -> None:
    rng = np.random.default_rng(seed)
    predicted = rng.normal(0.3, 1.0, 4000)  # a shift with a bias of its own, unrelated to the errors
    realised = rng.standard_t(3, 4000)
    assert median_slope(realised, predicted) < 0.15


def test_the_slope_beats_any_other_in_the_unit_interval() -> None:
    rng = np.random.default_rng(3)
    m = rng.normal(size=500)
    y = 0.4 * m + rng.standard_t(2, 500)
    slope = median_slope(y, m)

    def loss(lam: float) -> float:
        return float(np.abs(y - lam * m).sum())

    assert all(loss(slope) <= loss(lam) + 1e-9 for lam in np.linspace(0, 1, 201))


@pytest.mark.parametrize(("bias_recent", "low", "high"), [(1.0, 0.8, 1.0), (0.5, 0.3, 0.7), (0.0, 0.0, 0.2)])
def test_the_backtest_slope_follows_how_much_of_the_bias_persisted(
    bias_recent: float, low: float, high: float
) -> None:
    bt, pts = _backtest(bias_recent)
    slope = location_slope(bt, pts, 3)
    assert slope is not None and low <= slope <= high


def test_too_few_rows_on_either_side_says_nothing() -> None:
    bt, pts = _backtest(1.0)
    few = bt.series < 5
    assert location_slope(bt.take(few), pts[few], 3) is None


SMALL = ChampionConfig(
    n_origins=6,
    min_train=4,
    adaptive_min_rows=500,
    members=(Member("theta_np"), Member("drift"), Member("naive")),
)


@pytest.mark.slow
def test_by_default_nothing_is_shrunk_and_slope_one_is_exactly_today(monkeypatch: pytest.MonkeyPatch) -> None:
    panel = _panel()
    calls: list[int] = []

    def one(bt: MemberBacktest, pts: np.ndarray, recent: int) -> float:
        calls.append(recent)
        return 1.0

    monkeypatch.setattr("models.champion.fitted.location_slope", one)
    today = fit_champion(panel, H, SMALL, Scale("log"))
    assert calls == [] and today.location_slope == 1.0
    shrunk = fit_champion(panel, H, SMALL.model_copy(update={"location_shrink": 3}), Scale("log"))
    assert calls == [3] and shrunk.location_slope == 1.0
    for a, b in zip(today.forecast(panel, H, PROBS), shrunk.forecast(panel, H, PROBS), strict=True):
        assert np.array_equal(a, b)


@pytest.mark.slow
def test_slope_zero_is_the_distribution_without_the_shift(monkeypatch: pytest.MonkeyPatch) -> None:
    panel = _panel()
    monkeypatch.setattr("models.champion.fitted.location_slope", lambda bt, pts, recent: 0.0)
    champ = fit_champion(panel, H, SMALL.model_copy(update={"location_shrink": 3}), Scale("log"))
    assert champ.location_slope == 0.0 and all(c.location for c in champ.components)
    unshifted = replace(champ, components=tuple(replace(c, location=()) for c in champ.components))
    full = replace(champ, location_slope=1.0)
    q0, q_none, q1 = (c.forecast(panel, H, PROBS)[1] for c in (champ, unshifted, full))
    np.testing.assert_allclose(q0, q_none, rtol=0, atol=1e-12)
    assert not np.allclose(q0, q1)  # the correction does move the distribution on this panel


@pytest.mark.slow
def test_chunked_gives_the_in_memory_numbers() -> None:
    panel = _panel(160, seed=4)
    cfg = SMALL.model_copy(update={"location_shrink": 3, "max_calibration_rows": 1500})
    whole = fit_champion(panel, H, cfg, Scale("log"))
    assert whole.location and 0.0 <= whole.location_slope <= 1.0
    expected = whole.forecast(panel, H, PROBS)[1]
    for size in (1, 37):
        pieces = [Piece(a, tuple(panel[a : a + size])) for a in range(0, len(panel), size)]
        champ = fit_chunked(pieces, H, cfg, Scale("log"), lengths=[len(z) for z in panel])
        assert champ.location_slope == pytest.approx(whole.location_slope, abs=1e-12)
        got = np.concatenate([forecast_piece(champ, p, H, PROBS)[1] for p in pieces])
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
