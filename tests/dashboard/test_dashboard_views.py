"""The what-if, the KPI grid and the sentences behind the pages."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dashboard.views import (
    added_scenarios_lever,
    added_scenarios_max,
    filter_grid,
    kpi_grid,
    kpi_sentence,
    whatif_probability,
)
from evaluation.likelihood import likelihood_key

draws_strategy = arrays(np.float64, st.integers(1, 200), elements=st.floats(0, 1000, allow_nan=False))


@given(draws=draws_strategy, target=st.floats(1, 1000), g1=st.floats(-0.5, 0.5), g2=st.floats(-0.5, 0.5))
def test_whatif_is_monotone_in_growth(draws: np.ndarray, target: float, g1: float, g2: float) -> None:
    lo, hi = sorted((g1, g2))
    kw = {"years_ahead": 2.0, "target_value": target}
    up_lo = whatif_probability(draws, growth=lo, target_kind="at_least", **kw)
    up_hi = whatif_probability(draws, growth=hi, target_kind="at_least", **kw)
    down_lo = whatif_probability(draws, growth=lo, target_kind="at_most", **kw)
    down_hi = whatif_probability(draws, growth=hi, target_kind="at_most", **kw)
    assert 0.0 <= up_lo <= up_hi <= 1.0
    assert 1.0 >= down_lo >= down_hi >= 0.0


@given(draws=draws_strategy, target=st.floats(0, 1000))
def test_whatif_without_growth_is_the_published_probability(draws: np.ndarray, target: float) -> None:
    # The pipeline published p_reach from the same draws, read as equal-probability quantiles.
    from evaluation.forecasting.attainment import Target, p_reach

    probs = np.arange(1, draws.size + 1) / (draws.size + 1)
    published = p_reach(probs, np.sort(draws), Target("at_least", target))
    p = whatif_probability(draws, growth=0.0, years_ahead=3, target_kind="at_least", target_value=target)
    assert p == pytest.approx(published)


@given(draws=arrays(np.float64, 50, elements=st.floats(50, 100)), g=st.floats(0, 2))
def test_whatif_respects_the_natural_upper_bound(draws: np.ndarray, g: float) -> None:
    # Above 100% is impossible, so "more than 100" can never be reached however fast the growth.
    p = whatif_probability(
        draws, growth=g, years_ahead=5, target_kind="more_than", target_value=100.0, upper=100.0
    )
    assert p == 0.0


@given(
    draws=draws_strategy,
    target=st.floats(1, 1000),
    n1=st.floats(0, 50),
    n2=st.floats(0, 50),
    years=st.floats(0.5, 5),
)
def test_whatif_is_monotone_in_added_scenarios(
    draws: np.ndarray, target: float, n1: float, n2: float, years: float
) -> None:
    lo, hi = sorted((n1, n2))
    kw = {"growth": 0.0, "years_ahead": years, "target_kind": "at_least", "target_value": target}
    assert (
        0.0
        <= whatif_probability(draws, added_per_year=lo, **kw)
        <= whatif_probability(draws, added_per_year=hi, **kw)
    )


@given(
    draws=arrays(np.float64, st.integers(1, 200), elements=st.floats(0, 100)),
    target=st.floats(0, 300),
    n=st.integers(0, 20),
    years=st.integers(1, 5),
    kind=st.sampled_from(["at_least", "more_than", "at_most"]),
)
def test_added_scenarios_shift_the_published_draws_by_n_times_years(
    draws: np.ndarray, target: float, n: int, years: int, kind: str
) -> None:
    # Adding n a year for `years` years is reading the same rule off draws shifted by n × years.
    spec = {"years_ahead": float(years), "target_kind": kind, "target_value": target, "precision": 1.0}
    shifted = whatif_probability(draws + n * years, growth=0.0, **spec)
    assert whatif_probability(draws, growth=0.0, added_per_year=float(n), **spec) == pytest.approx(shifted)
    # and with nothing added it is the growth-only what-if, unchanged.
    assert whatif_probability(draws, growth=0.0, added_per_year=0.0, **spec) == whatif_probability(
        draws, growth=0.0, **spec
    )


def test_added_scenarios_lever_applies_to_the_registry_s_scenario_counts_only() -> None:
    from pipelines.io.kpi_registry import load_registry

    kpis = load_registry().kpis_table()
    lever = {row["kpi_id"] for row in kpis.iter_rows(named=True) if added_scenarios_lever(row, 2.0) is None}
    # 高效处置一件事 benchmark scenarios, 政社联合共建 governance scenarios, closed-loop IoT and health scenarios.
    assert lever == {
        "efficient_disposal_scenarios",
        "co_governance_scenarios",
        "iot_closed_loop_scenarios",
        "health_scenarios",
    }
    reasons = {row["kpi_id"]: added_scenarios_lever(row, 2.0) for row in kpis.iter_rows(named=True)}
    assert reasons["online_handling_share"] == "kpi.added_na_scenarios"  # a share
    assert reasons["industrial_internet_platforms"] == "kpi.added_na_scenarios"  # counts platforms
    one_thing = next(r for r in kpis.iter_rows(named=True) if r["kpi_id"] == "one_thing_new")
    assert added_scenarios_lever({**one_thing, "name_zh": "新增场景"}, 2.0) == "kpi.added_na_cumulative"
    pudong = next(
        r
        for r in kpis.iter_rows(named=True)
        if r["kpi_id"] == "efficient_disposal_scenarios" and r["region"] == "pudong"
    )
    assert added_scenarios_lever(pudong, 0.0) == "kpi.added_na_years"


@given(target=st.floats(0, 1e4), last=st.floats(0, 1e4), years=st.floats(0.5, 10))
def test_added_scenarios_slider_reaches_twice_the_pace_that_closes_the_gap(
    target: float, last: float, years: float
) -> None:
    top = added_scenarios_max(target, last, years)
    assert top % 5 == 0 and 5 <= top <= 200
    assert top >= min(2 * (target - last) / years, 200) - 1e-9


def test_whatif_refuses_impossible_growth_and_empty_samples() -> None:
    with pytest.raises(ValueError, match="above -100%"):
        whatif_probability(np.ones(3), growth=-1.0, years_ahead=1, target_kind="at_least", target_value=1)
    with pytest.raises(ValueError, match="forecast_samples"):
        whatif_probability(np.array([]), growth=0.0, years_ahead=1, target_kind="at_least", target_value=1)


@given(p1=st.floats(0, 1), p2=st.floats(0, 1))
def test_likelihood_terms_follow_probability_order(p1: float, p2: float) -> None:
    order = ["exceptionally_unlikely", "very_unlikely", "unlikely", "about_as_likely_as_not", "likely",
             "very_likely", "virtually_certain"]  # fmt: skip
    lo, hi = sorted((p1, p2))
    assert order.index(likelihood_key(lo)) <= order.index(likelihood_key(hi))


def _tables() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    kpis = pl.DataFrame(
        {"kpi_id": ["a", "a", "b"], "region": ["pudong", "hongkou", "pudong"], "name_zh": ["甲", "甲", "乙"],
         "name_en": ["A", "A", "B"], "unit": ["%", "%", "个"], "kind": ["share", "share", "count"],
         "direction": ["up"] * 3, "lower": [0.0, 0.0, 0.0], "upper": [100.0, 100.0, None],
         "precision": [0.1, 0.1, 1.0], "obligation": ["binding", "expected", "expected"],
         "target_kind": ["at_least", "at_least", None], "target_value": [80.0, 70.0, None],
         "target_high": [None, None, None], "target_label": [None, None, None],
         "target_year": pl.Series([2025, 2023, None], dtype=pl.Int32)}
    )  # fmt: skip
    att = pl.DataFrame(
        {"kpi_id": ["a", "a"], "region": ["pudong", "hongkou"], "target_year": pl.Series([2025, 2023], dtype=pl.Int32),
         "p_reach": [0.7, 1.0], "status": ["on_track", "achieved"], "likelihood": ["likely", None],
         "anticipated_growth": [0.05, 0.0], "required_growth": [0.04, 0.0], "expected_year": pl.Series([2025, 2023], dtype=pl.Int32),
         "last_value": [72.0, 71.0], "last_year": pl.Series([2023, 2023], dtype=pl.Int32), "model": ["ets", "ets"],
         "run_id": ["r1", "r1"]}
    )  # fmt: skip
    obs = pl.DataFrame(
        {"kpi_id": ["a", "b", "b"], "region": ["pudong", "pudong", "pudong"],
         "period": [date(2023, 1, 1), date(2022, 1, 1), date(2023, 1, 1)], "value": [72.0, 10.0, 12.0],
         "vintage": [datetime(2024, 1, 1)] * 3, "source": ["x", "synthetic-demo", "synthetic-demo"],
         "data_set": ["published", "synthetic-demo", "synthetic-demo"]}
    )  # fmt: skip
    return kpis, att, obs


def test_kpi_grid_joins_latest_values_attainment_and_synthetic_flag() -> None:
    kpis, att, obs = _tables()
    grid = kpi_grid(kpis, att, obs)
    rows = {(r["kpi_id"], r["region"]): r for r in grid.iter_rows(named=True)}
    assert rows[("a", "pudong")]["p_reach"] == 0.7 and rows[("a", "pudong")]["synthetic"] is False
    assert rows[("b", "pudong")]["last_value"] == 12.0 and rows[("b", "pudong")]["last_year"] == 2023
    assert rows[("b", "pudong")]["synthetic"] is True and rows[("b", "pudong")]["p_reach"] is None
    assert kpi_grid(kpis, None, None)["p_reach"].null_count() == 3


def test_filter_grid_by_region_status_obligation_and_search() -> None:
    kpis, att, obs = _tables()
    grid = kpi_grid(kpis, att, obs)
    assert filter_grid(grid, region="hongkou")["region"].to_list() == ["hongkou"]
    assert filter_grid(grid, statuses=["unknown"])["kpi_id"].to_list() == ["b"]
    assert filter_grid(grid, obligation="binding")["kpi_id"].to_list() == ["a"]
    assert filter_grid(grid, search="乙")["kpi_id"].to_list() == ["b"]
    assert filter_grid(grid, sort="p_desc")["p_reach"].to_list() == [1.0, 0.7, None]
    assert grid.height == 3  # not mutated


def test_sentences_in_both_languages() -> None:
    kpis, att, obs = _tables()
    rows = {(r["kpi_id"], r["region"]): r for r in kpi_grid(kpis, att, obs).iter_rows(named=True)}
    assert kpi_sentence(rows[("a", "pudong")], "en") == "likely to reach ≥80% by 2025: 70%"
    assert kpi_sentence(rows[("a", "hongkou")], "zh").startswith("已达到目标")
    assert kpi_sentence(rows[("b", "pudong")], "en") == "no quantified target"
