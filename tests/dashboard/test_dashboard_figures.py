"""Figure functions are pure: frames in, plotly figures out, checked without a browser."""

from __future__ import annotations

import inspect
import math
from datetime import date

import numpy as np
import plotly.graph_objects as go
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard import figures as figures_module
from dashboard.figures import (
    backtest_chart,
    calibration_chart,
    contributions_chart,
    efficacy_chart,
    fan_chart,
    grade_probability_chart,
    radar_chart,
    radar_xy,
    required_path,
    sensitivity_heatmap,
)
from dashboard.i18n import t
from dashboard.plotly_bundle import TRACE_TYPES


def _history() -> pl.DataFrame:
    return pl.DataFrame(
        {"period": [date(y, 1, 1) for y in range(2019, 2024)], "value": [50.0, 55, 61, 66, 70]}
    )


def _forecast() -> pl.DataFrame:
    median = np.array([74.0, 77.0, 80.0])
    return pl.DataFrame(
        {
            "period": pl.Series([2024, 2025, 2026], dtype=pl.Int32),
            "q0.025": median - 8, "q0.1": median - 5, "q0.5": median, "q0.9": median + 5, "q0.975": median + 8,
        }
    )  # fmt: skip


KPI = {"name_zh": "网办比例", "name_en": "Online share", "unit": "%", "target_value": 80.0, "target_year": 2025,
       "target_kind": "at_least"}  # fmt: skip
ATT = {"last_value": 70.0, "last_year": 2023, "required_growth": (80 / 70) ** 0.5 - 1}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_fan_chart_has_bands_median_history_target_and_required_path(lang: str) -> None:
    history, forecast = _history(), _forecast()
    fig = fan_chart(history, forecast, KPI, ATT, lang)
    names = [tr.name for tr in fig.data]
    assert names == [
        t(k, lang)
        for k in ("kpi.band95", "kpi.band80", "kpi.median", "kpi.history", "kpi.target", "kpi.required")
    ]
    band95, band80, median, hist, target, required = fig.data
    # The fan starts at the last observation, then follows the published quantiles.
    assert list(median.x) == [2023.0, 2024.0, 2025.0, 2026.0]
    assert list(median.y) == [70.0, *forecast["q0.5"].to_list()]
    upper95 = list(band95.y[: len(band95.x) // 2])
    upper80 = list(band80.y[: len(band80.x) // 2])
    assert all(a >= b for a, b in zip(upper95, upper80, strict=True))
    assert list(hist.y) == history["value"].to_list()
    assert (target.x[0], target.y[0]) == (2025.0, 80.0)
    assert required.x[0] == 2023.0 and required.y[-1] == pytest.approx(80.0)
    assert history.height == 5 and forecast.height == 3  # inputs untouched


def test_fan_chart_without_forecast_or_target_still_draws_history() -> None:
    empty = _forecast().clear()
    fig = fan_chart(_history(), empty, {"unit": "%", "target_value": None, "target_year": None}, None, "zh")
    assert [tr.name for tr in fig.data] == [t("kpi.history", "zh")]


@given(start=st.floats(1, 1e6), ratio=st.floats(0.2, 5), years=st.integers(1, 10), geometric=st.booleans())
def test_required_path_joins_last_value_to_target(
    start: float, ratio: float, years: int, geometric: bool
) -> None:
    target = start * ratio
    growth = ratio ** (1 / years) - 1 if geometric else None
    path = required_path(
        {"last_value": start, "last_year": 2020, "required_growth": growth}, target, 2020 + years
    )
    assert len(path) == years + 1
    assert path[0] == (2020.0, pytest.approx(start))
    assert path[-1] == (float(2020 + years), target)
    values = [v for _, v in path]
    diffs = np.diff(values)
    assert (diffs >= -1e-6 * start).all() if ratio >= 1 else (diffs <= 1e-6 * start).all()


def test_radar_is_a_closed_polygon_of_the_scores_on_cartesian_axes() -> None:
    fig = radar_chart({"dim_usage": 80.0, "dim_cost": 60.0, "dim_reach": 70.0}, "en")
    assert {tr.type for tr in fig.data} == {"scatter"}  # no polar trace: the bundle has none
    polygon = fig.data[-1]
    assert polygon.name == t("scen.radar", "en") and polygon.fill == "toself"
    assert list(polygon.text) == ["Usage", "cost", "reach", "Usage"]  # labelled when known, else the id
    assert list(polygon.customdata) == [80.0, 60.0, 70.0, 80.0]
    assert (polygon.x[0], polygon.y[0]) == (polygon.x[-1], polygon.y[-1])
    # Vertex k sits at radius score/100 on spoke k: up first, then clockwise at 120° steps.
    radii = [math.hypot(x, y) for x, y in zip(polygon.x, polygon.y, strict=True)]
    assert radii == pytest.approx([0.8, 0.6, 0.7, 0.8])
    angles = [math.degrees(math.atan2(y, x)) % 360 for x, y in zip(polygon.x[:3], polygon.y[:3], strict=True)]
    assert angles == pytest.approx([90.0, 330.0, 210.0])
    labels = next(tr for tr in fig.data if tr.mode == "text" and list(tr.text) == ["Usage", "cost", "reach"])
    assert [math.hypot(x, y) for x, y in zip(labels.x, labels.y, strict=True)] == pytest.approx([1.08] * 3)
    # The outer grid ring is the 100 line: every non-separator point of the grid is at radius ≤ 1.
    grid = [math.hypot(x, y) for x, y in zip(fig.data[0].x, fig.data[0].y, strict=True) if x is not None]
    assert max(grid) == pytest.approx(1.0)
    assert fig.layout.yaxis.scaleanchor == "x"  # round, not squashed
    assert radar_chart({}, "zh").data == ()


@given(scores=st.lists(st.floats(0, 100), min_size=1, max_size=9))
def test_radar_vertices_lie_at_score_over_100(scores: list[float]) -> None:
    xs, ys = radar_xy(scores)
    assert [math.hypot(x, y) for x, y in zip(xs, ys, strict=True)] == pytest.approx(
        [s / 100 for s in scores], abs=1e-12
    )


def test_contributions_add_up() -> None:
    expl = pl.DataFrame(
        {"dimension": ["a", "a", "b"], "indicator_id": ["a1", "a2", "b1"], "contribution": [10.0, 5.0, 7.5]}
    )
    bars = contributions_chart(expl, "zh")
    assert sorted(tr.name for tr in bars.data) == ["a", "b"]
    assert sum(sum(tr.x) for tr in bars.data) == pytest.approx(22.5)


def test_efficacy_chart_shows_observed_fitted_and_counterfactual() -> None:
    series = pl.DataFrame(
        {"period": [date(2022, m, 1) for m in range(1, 7)], "observed": [5.0, 5, 5, 3, 3, 3],
         "fitted": [5.0, 5, 5, 3.1, 3.1, 3.1], "counterfactual": [5.0] * 6}
    )  # fmt: skip
    fig = efficacy_chart(series, date(2022, 4, 1), "en")
    assert [tr.name for tr in fig.data] == ["Observed", "Fitted", "Counterfactual (no scenario)"]
    assert fig.layout.shapes[0].x0 == "2022-04-01"


def test_sensitivity_heatmap_puts_each_rank_change_in_its_cell() -> None:
    sens = pl.DataFrame(
        {"dimension": ["u", "u", "c", "c"] * 2, "delta": [-0.1, 0.1] * 4,
         "scenario_id": ["A"] * 4 + ["B"] * 4, "rank_change": [1, -1, 0, 2, -3, 3, 1, 0]}
    )  # fmt: skip
    fig = sensitivity_heatmap(sens, {"A": "甲", "B": "乙"}, ["B", "A"], "zh")
    heat = fig.data[0]
    assert list(heat.y) == ["乙", "甲"]
    assert list(heat.x) == ["c -10%", "c +10%", "u -10%", "u +10%"]
    assert [list(r) for r in heat.z] == [[1, 0, -3, 3], [0, 2, 1, -1]]


def test_backtest_chart_shows_each_published_figure_and_never_averages_kinds() -> None:
    metrics = pl.DataFrame(
        {"model": ["m"] * 4, "kind": ["share", "share", "count", "count"],
         "horizon": pl.Series([0, 1, 0, 1], dtype=pl.Int32), "metric": ["mase"] * 4, "value": [1.0, 1.5, 3.0, 2.0]}
    )  # fmt: skip
    all_kinds = {
        tr.name: (list(tr.x), list(tr.y)) for tr in backtest_chart(metrics, "mase", "all", "en").data
    }
    assert all_kinds == {"count": (["all", "1"], [3.0, 2.0]), "share": (["all", "1"], [1.0, 1.5])}
    shares = {tr.name: list(tr.y) for tr in backtest_chart(metrics, "mase", "share", "en").data}
    assert shares == {"share": [1.0, 1.5]}


def test_calibration_chart_has_the_diagonal_and_one_line_per_model() -> None:
    cal = pl.DataFrame(
        {"model": ["ets"] * 2 + ["naive"] * 2, "predicted_mean": [0.25, 0.75] * 2,
         "observed_freq": [0.2, 0.8, 0.4, 0.6], "n": [10, 20, 30, 40]}
    )  # fmt: skip
    fig = calibration_chart(cal, "zh")
    assert fig.data[0].name == t("models.perfect", "zh") and list(fig.data[0].x) == [0, 1]
    assert [tr.name for tr in fig.data[1:]] == ["ets", "naive"]


def test_grade_probabilities_stack_to_one() -> None:
    row = {"p_grade_excellent": 0.1, "p_grade_good": 0.6, "p_grade_pass": 0.25, "p_grade_fail": 0.05}
    fig = grade_probability_chart(row, "zh")
    assert sum(tr.x[0] for tr in fig.data) == pytest.approx(1.0)


def test_every_figure_uses_only_traces_of_the_served_plotly_bundle() -> None:
    """The browser gets plotly.js's cartesian bundle; a trace type outside it would draw nothing."""
    sens = pl.DataFrame({"dimension": ["u"], "delta": [0.1], "scenario_id": ["A"], "rank_change": [1]})
    metrics = pl.DataFrame(
        {"model": ["ets"], "kind": ["share"], "horizon": pl.Series([1], dtype=pl.Int32), "metric": ["mase"],
         "value": [1.0]}
    )  # fmt: skip
    cal = pl.DataFrame({"model": ["ets"], "predicted_mean": [0.5], "observed_freq": [0.4], "n": [10]})
    series = pl.DataFrame(
        {"period": [date(2022, 1, 1)], "observed": [1.0], "fitted": [1.0], "counterfactual": [1.0]}
    )
    expl = pl.DataFrame({"dimension": ["a"], "indicator_id": ["a1"], "contribution": [1.0]})
    figures = [
        fan_chart(_history(), _forecast(), KPI, ATT, "zh"),
        radar_chart({"dim_a": 50.0, "dim_b": 70.0, "dim_c": 90.0}, "zh"),
        contributions_chart(expl, "zh"),
        efficacy_chart(series, date(2022, 1, 1), "zh"),
        sensitivity_heatmap(sens, {"A": "甲"}, ["A"], "zh"),
        backtest_chart(metrics, "mase", "all", "zh"),
        calibration_chart(cal, "zh"),
        grade_probability_chart({"p_grade_good": 1.0}, "zh"),
    ]
    # Every function of the module that returns a figure is in the list above.
    makers = {
        name
        for name, fn in vars(figures_module).items()
        if inspect.isfunction(fn)
        and not name.startswith("_")
        and fn.__module__ == figures_module.__name__
        and inspect.signature(fn).return_annotation in ("go.Figure", go.Figure)
    }
    assert makers == {
        "fan_chart", "radar_chart", "contributions_chart", "efficacy_chart", "sensitivity_heatmap",
        "backtest_chart", "calibration_chart", "grade_probability_chart",
    }  # fmt: skip
    used = {trace.type for fig in figures for trace in fig.data}
    assert used and used <= TRACE_TYPES, f"not in the cartesian bundle: {used - TRACE_TYPES}"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_radar_labels_the_default_schemes_dimensions_in_the_page_language(lang: str) -> None:
    """The radar's axes are the default scheme's top dimensions, named as the scheme file names them."""
    from evaluation.assessment.scheme import load_scheme

    scheme = load_scheme()
    fig = radar_chart({f"dim_{d}": 50.0 for d in scheme.top_dimensions}, lang)
    labels = next(tr for tr in fig.data if tr.name == "labels").text
    names = [getattr(scheme.spec.dimensions[d], f"name_{lang}") for d in scheme.top_dimensions]
    assert list(labels) == names


def test_contribution_bars_carry_the_indicator_names_on_the_chinese_page() -> None:
    rows = pl.DataFrame(
        {
            "dimension": ["demand", "demand", "effect"],
            "indicator_id": ["usage_cases", "active_users", "satisfaction"],
            "name_zh": ["月均使用量（办件量）", None, "群众满意度"],
            "contribution": [3.0, 1.0, 5.0],
        }
    )
    zh = {y for tr in contributions_chart(rows, "zh").data for y in tr.y}
    assert zh == {"月均使用量（办件量）", "active_users", "群众满意度"}  # a missing name keeps the id
    en = {y for tr in contributions_chart(rows, "en").data for y in tr.y}
    assert en == {"usage_cases", "active_users", "satisfaction"}
    clash = rows.with_columns(pl.lit("同名").alias("name_zh"))
    assert {y for tr in contributions_chart(clash, "zh").data for y in tr.y} == set(rows["indicator_id"])
