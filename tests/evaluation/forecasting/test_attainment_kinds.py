"""Attainment on hand-made cases of every target kind, statuses, the growth view and what-if."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.forecasting.attainment import (
    StatusThresholds,
    Target,
    expected_period,
    growth_view,
    likelihood_term,
    p_reach,
    sdg_rule,
    status,
    what_if,
)
from models.base import dense_probs

# a uniform predictive distribution on [60, 100]: P(Y >= x) = (100 - x) / 40
PROBS = dense_probs(0.01)
UNIFORM = 60 + 40 * PROBS


@pytest.mark.parametrize(
    ("kind", "value", "high", "precision", "upper", "expected"),
    [
        ("at_least", 80, None, 0.0, None, 0.5),
        ("at_least", 80, None, 2.0, None, 21 / 40),  # reported 79+ rounds to 80
        ("more_than", 80, None, 2.0, None, 19 / 40),  # strictly more: reported ≥ 81
        ("at_most", 70, None, 0.0, None, 0.25),
        ("range", 70, 90, 0.0, None, 0.5),
        ("full", 100, None, 4.0, 100.0, 2 / 40),  # "100 %" reached when the reported figure is 100
        ("level", 98, None, 1.0, None, 2.5 / 40),  # level index ≥ 97.5
    ],
)
def test_every_target_kind_on_a_uniform(
    kind: str, value: float, high: float | None, precision: float, upper: float | None, expected: float
) -> None:
    p = p_reach(PROBS, UNIFORM, Target(kind, value, high=high, precision=precision, upper=upper))
    assert p == pytest.approx(expected, abs=0.011)


def test_unknown_kind_and_bad_range_raise() -> None:
    with pytest.raises(ValueError, match="unknown target kind"):
        p_reach(PROBS, UNIFORM, Target("about", 1.0))
    with pytest.raises(ValueError, match="target_high"):
        p_reach(PROBS, UNIFORM, Target("range", 90, high=80))


def test_ordinal_level_on_a_point_mass() -> None:
    probs = np.array([0.1, 0.5, 0.9])
    assert p_reach(probs, np.array([2.0, 2.0, 2.0]), Target("level", 2)) > 0.9
    assert p_reach(probs, np.array([1.0, 1.0, 1.0]), Target("level", 2)) < 0.1


def test_full_coverage_uses_reporting_precision() -> None:
    full = Target("full", 100, precision=0.1, upper=100)
    assert full.reached(99.96)
    assert not full.reached(99.94)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (Target("at_least", 80, precision=0.1), [True, True, True, True]),  # 79.96 is reported as 80.0
        (Target("at_least", 80, precision=0.01), [False, True, True, True]),
        (Target("range", 80, high=90), [False, True, True, False]),
        (Target("more_than", 80, precision=0.1), [False, False, True, True]),
    ],
)
def test_reached_on_the_reported_figure(target: Target, expected: list[bool]) -> None:
    assert [target.reached(v) for v in (79.96, 80.0, 85.0, 96.0)] == expected


def test_cumulative_count_already_at_target_is_certain() -> None:
    # a cumulative forecast is non-decreasing and starts at the last value (1600 ≥ 1500 target)
    q = np.linspace(1600, 2000, PROBS.size)
    assert p_reach(PROBS, q, Target("at_least", 1500, precision=1)) == pytest.approx(1.0, abs=0.01)


def test_status_thresholds_stricter_for_binding() -> None:
    th = StatusThresholds()
    assert status(0.7, thresholds=th) == "on_track"
    assert status(0.7, obligation="binding", thresholds=th) == "at_risk"
    assert status(0.5, obligation="binding", thresholds=th) == "off_track"
    assert status(0.5, thresholds=th) == "at_risk"
    assert status(0.0, achieved=True) == "achieved"
    assert likelihood_term(0.995) == "virtually certain"
    assert likelihood_term(0.5, "zh") == "可能性约一半"


def test_growth_view_and_sdg_rule() -> None:
    ant, req = growth_view(np.array([2018.0, 2020.0]), np.array([100.0, 144.0]), 2022.0, 207.36)
    assert ant == pytest.approx(0.2) and req == pytest.approx(0.2)
    assert sdg_rule(ant, req) == 1.0
    ant2, req2 = growth_view(np.array([2018.0, 2020.0]), np.array([-1.0, 5.0]), 2022.0, 10.0)
    assert math.isnan(ant2) and sdg_rule(ant2, req2) == 0.0


def test_expected_period_inside_and_beyond_horizon() -> None:
    kw = {"last_period": 2021.0, "last_value": 50.0, "anticipated": 0.1}
    assert expected_period(np.array([2022.0, 2023.0]), np.array([60.0, 70.0]), Target("at_least", 65), **kw) == 2023.0
    # beyond: 70 · 1.1^k ≥ 80 first at k = 2 → 2025
    assert expected_period(np.array([2022.0, 2023.0]), np.array([60.0, 70.0]), Target("at_least", 80), **kw) == 2025.0
    assert math.isnan(
        expected_period(
            np.array([2022.0]),
            np.array([60.0]),
            Target("at_least", 80),
            last_period=2021.0,
            last_value=50.0,
            anticipated=-0.1,
        )
    )


@settings(max_examples=60, deadline=None)
@given(extra=st.floats(0.0, 0.5), target=st.floats(50, 120), steps=st.integers(1, 5))
def test_what_if_more_growth_never_lowers_the_probability(extra: float, target: float, steps: int) -> None:
    kw = {"steps": steps, "target": Target("at_least", target)}
    base = what_if(PROBS, UNIFORM, extra_growth=0.0, **kw)
    more = what_if(PROBS, UNIFORM, extra_growth=extra, **kw)
    assert more >= base - 1e-12
    assert 0.0 <= more <= 1.0
