"""The pipeline's forecast step on hand-made KPIs of every kind: bounds, cumulative stocks, attainment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import numpy as np
import polars as pl
import pytest

from pipelines.steps import forecast as F
from pipelines.steps.series import annual_series

KPI_COLS = (
    "kpi_id",
    "region",
    "kind",
    "lower",
    "upper",
    "precision",
    "cumulative",
    "survey",
    "target_kind",
    "target_value",
    "target_high",
    "target_year",
    "obligation",
)
SERIES = {
    ("coverage", "pudong"): [60.0, 75.0, 88.0, 95.0, 98.0],
    ("online", "hongkou"): [11.0, 27.6, 50.0, 77.0],
    ("stations", "hongkou"): [200.0, 500.0, 900.0, 1300.0],
    ("satisfaction", "pudong"): [82.0, 84.0, 83.5, 86.0, 87.0],
    ("cloud", "pudong"): [0.0, 1.0, 1.0, 2.0],
    ("spend", "pudong"): [40.0, 44.0, 47.0, 49.0, 52.0],
}


def _kpis(stations_target: float = 1500.0) -> pl.DataFrame:
    rows = [
        ("coverage", "pudong", "share", 0.0, 100.0, 0.1, False, False, "full", 100.0, None, 2025, "expected"),
        (
            "online",
            "hongkou",
            "share",
            0.0,
            100.0,
            0.1,
            False,
            False,
            "at_least",
            80.0,
            None,
            2023,
            "binding",
        ),
        (
            "stations",
            "hongkou",
            "count",
            0.0,
            None,
            1.0,
            True,
            False,
            "at_least",
            stations_target,
            None,
            2023,
            "expected",
        ),
        (
            "satisfaction",
            "pudong",
            "share",
            0.0,
            100.0,
            0.1,
            False,
            True,
            "range",
            85.0,
            95.0,
            2025,
            "expected",
        ),
        ("cloud", "pudong", "level", 0.0, 3.0, 1.0, False, False, "level", 2.0, None, 2025, "binding"),
        ("spend", "pudong", "amount", 0.0, None, 0.01, False, False, "at_most", 50.0, None, 2025, "expected"),
    ]
    return pl.DataFrame(rows, schema=list(KPI_COLS), orient="row").with_columns(
        pl.col("target_year").cast(pl.Int32)
    )


def _observations() -> pl.DataFrame:
    rows = []
    for (kpi, region), values in SERIES.items():
        for i, v in enumerate(values):
            rows.append(
                {
                    "kpi_id": kpi,
                    "region": region,
                    "period": date(2018 + i, 1, 1),
                    "freq": "Y",
                    "value": v,
                    "std_error": 1.5 if kpi == "satisfaction" else None,
                    "qualifier": "=",
                    "source": "fixture",
                    "vintage": datetime(2024, 1, 1),
                }
            )
    return pl.DataFrame(rows)


def _run(kpis: pl.DataFrame) -> tuple[list[F.SeriesSpec], list[F.GroupResult]]:
    specs, failures = F.build_specs(annual_series(_observations()), kpis)
    assert failures == []
    targets = {(r["kpi_id"], r["region"]): r["target_year"] for r in kpis.iter_rows(named=True)}
    tasks = F.group_tasks(specs, targets=targets, config=F.KPI_CONFIG)
    return specs, [F.forecast_group(t) for t in tasks]


@pytest.fixture(scope="module")
def run() -> tuple[list[F.SeriesSpec], list[F.GroupResult]]:
    return _run(_kpis())


def test_forecasts_respect_bounds_cumulative_and_the_target_year(run) -> None:  # type: ignore[no-untyped-def]
    _, results = run
    assert all(r.failures == [] for r in results)
    t = pl.concat([r.forecasts for r in results])
    assert t.columns == list(F.FORECAST_SCHEMA)
    shares = t.filter(pl.col("kpi_id").is_in(["coverage", "online", "satisfaction"]))
    assert shares["q0.975"].max() <= 100.0 and shares["q0.025"].min() >= 0.0
    q = t.filter(pl.col("kpi_id") == "stations").sort("period").select(F.QUANTILE_COLUMNS).to_numpy()
    assert np.all(np.diff(q, axis=0) >= -1e-9) and q.min() >= 1300.0  # never below the last stock
    cloud = t.filter(pl.col("kpi_id") == "cloud")
    assert cloud["q0.025"].min() >= 0.0 and cloud["q0.975"].max() <= 3.0
    assert t.filter(pl.col("kpi_id") == "coverage")["period"].max() >= 2025
    quantiles_sorted = t.select(F.QUANTILE_COLUMNS).to_numpy()
    assert np.all(np.diff(quantiles_sorted, axis=1) >= -1e-9)


def test_survey_kpi_is_wider_than_without_its_standard_error() -> None:
    kpis = _kpis()
    _, with_se = _run(kpis)
    _, without = _run(kpis.with_columns(survey=pl.lit(False)))

    def width(results: list[F.GroupResult]) -> float:
        t = (
            pl.concat([r.forecasts for r in results])
            .filter(pl.col("kpi_id") == "satisfaction")
            .sort("period")
        )
        return float((t["q0.9"] - t["q0.1"])[0])

    assert width(with_se) > width(without)


def test_attainment_covers_every_target_kind(run) -> None:  # type: ignore[no-untyped-def]
    specs, results = run
    fc = pl.concat([r.forecasts for r in results])
    samples = pl.concat([r.samples for r in results])
    att = F.attainment(specs, fc, samples, _kpis())
    assert set(att["kpi_id"]) == set(k for k, _ in SERIES)
    by = {r["kpi_id"]: r for r in att.iter_rows(named=True)}
    for r in by.values():
        assert 0.0 <= r["p_reach"] <= 1.0
        assert r["status"] in {"achieved", "on_track", "at_risk", "off_track"}
    # the 2023 target lies past the last observation (2021, 77 %): judged on the forecast, growth still needed
    assert by["online"]["required_growth"] > 0 and 0.0 < by["online"]["p_reach"] < 1.0
    # a growing spend against an at-most target already exceeded: unlikely
    assert by["spend"]["p_reach"] < 0.5 and by["spend"]["gap"] == pytest.approx(2.0)
    # a binding target needs "very likely" (0.9) to be on track
    if by["cloud"]["p_reach"] < 0.9:
        assert by["cloud"]["status"] != "on_track"


def test_cumulative_target_already_reached_is_achieved() -> None:
    kpis = _kpis(stations_target=1000.0)
    specs, results = _run(kpis)
    att = F.attainment(
        specs, pl.concat([r.forecasts for r in results]), pl.concat([r.samples for r in results]), kpis
    )
    row = att.filter(pl.col("kpi_id") == "stations").row(0, named=True)
    assert (row["status"], row["p_reach"], row["expected_year"]) == ("achieved", 1.0, 2021.0)


def test_past_target_is_judged_on_the_observation() -> None:
    kpis = _kpis().with_columns(
        pl.when(pl.col("kpi_id") == "online")
        .then(2020)
        .otherwise(pl.col("target_year"))
        .cast(pl.Int32)
        .alias("target_year")
    )
    specs, results = _run(kpis)
    att = F.attainment(
        specs, pl.concat([r.forecasts for r in results]), pl.concat([r.samples for r in results]), kpis
    )
    row = att.filter(pl.col("kpi_id") == "online").row(0, named=True)
    assert (row["p_reach"], row["status"], row["model"]) == (
        0.0,
        "off_track",
        "observed",
    )  # 50 % in 2020 < 80 %


def test_a_failing_series_fails_alone(fail_forecast_of: Callable[[str, str], None]) -> None:
    fail_forecast_of("online", "boom in online")
    _, results = _run(_kpis())
    failures = [f for r in results for f in r.failures]
    assert [(f["kpi_id"], f["stage"]) for f in failures] == [("online", "forecast")]
    assert "boom in online" in failures[0]["error"]
    published = set(pl.concat([r.forecasts for r in results])["kpi_id"])
    assert published == {"coverage", "satisfaction", "stations", "cloud", "spend"}


def test_too_short_series_is_reported_not_forecast() -> None:
    obs = _observations().filter(~((pl.col("kpi_id") == "cloud") & (pl.col("period") > date(2019, 1, 1))))
    specs, failures = F.build_specs(annual_series(obs), _kpis())
    assert [(f["kpi_id"], f["stage"]) for f in failures] == [("cloud", "input")]
    assert "only 2 annual value(s)" in failures[0]["error"]
    assert "cloud" not in {s.kpi_id for s in specs}


def test_backtests_never_see_the_future(run) -> None:  # type: ignore[no-untyped-def]
    _, results = run
    bt = pl.concat([r.backtest for r in results if r.backtest.height], how="diagonal_relaxed")
    assert bt.height > 0
    assert (bt["offset"] >= bt["h"]).all()  # the forecast period is at or before the series' last year
    metrics, calib = F.backtest_tables(results, {r.name: r.name.split(":")[0] for r in results})
    assert set(metrics["metric"]) >= {"mase", "smape", "coverage80", "coverage95", "msis", "crps", "brier"}
    assert calib["n"].sum() > 0


def test_backtest_of_a_cumulative_stock_never_goes_below_its_cutoff_value() -> None:
    from evaluation.forecasting.origin_backtest import champion_backtest
    from models.transforms import Scale

    rng = np.random.default_rng(3)
    raw = [np.cumsum(rng.integers(0, 40, size=9)).astype(float) + 100 for _ in range(6)]
    scale = Scale("log", 0.0)
    z = [scale.forward(r) for r in raw]
    bt = champion_backtest(
        z, raw, scale, config=F.KPI_CONFIG, n_origins=3, horizon=3, probs=F.PROBS, cumulative=[True] * 6
    )
    assert bt.height > 0
    for row in bt.iter_rows(named=True):
        at_cutoff = raw[row["series"]][len(raw[row["series"]]) - 1 - row["offset"]]
        assert row["q0.025"] >= at_cutoff - 1e-9


def test_flat_training_windows_leave_mase_undefined_not_huge() -> None:
    from evaluation.forecasting.origin_backtest import backtest_summary, champion_backtest
    from models.transforms import Scale

    raw = [np.array([2.0] * 8), np.array([0.0, 1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0])]
    scale = Scale()
    bt = champion_backtest(
        [r.copy() for r in raw], raw, scale, config=F.KPI_CONFIG, n_origins=2, horizon=2, probs=F.PROBS
    )
    assert (
        bt.filter(pl.col("series") == 0)["raw_scale"].null_count() == bt.filter(pl.col("series") == 0).height
    )
    summary = backtest_summary(bt)
    mase = summary.filter((pl.col("h") == 0) & (pl.col("metric") == "mase"))["value"][0]
    assert mase is not None and np.isfinite(mase) and mase < 100


def test_attainment_reads_the_recalibration_of_the_targets_horizon(run) -> None:  # type: ignore[no-untyped-def]
    from evaluation.forecasting import recalibration as recal

    specs, results = run
    fc = pl.concat([r.forecasts for r in results])
    samples = pl.concat([r.samples for r in results])
    plain = F.attainment(specs, fc, samples, _kpis())
    up, down = recal.BetaMap(c=2.0), recal.BetaMap(c=-2.0)
    maps = {"share": recal.KindMap(by_horizon={1: up, 2: down})}
    mapped = F.attainment(specs, fc, samples, _kpis(), recalibration=maps)
    before = plain.filter(pl.col("kpi_id") == "online").row(0, named=True)
    after = mapped.filter(pl.col("kpi_id") == "online").row(0, named=True)
    # last observed 2021, target 2023: two years ahead, so the horizon-2 map, not the horizon-1 one
    assert after["target_year"] - after["last_year"] == 2
    assert after["p_reach"] == pytest.approx(float(down.apply(np.array([before["p_reach"]]))[0]))
    assert after["p_reach"] < before["p_reach"]
