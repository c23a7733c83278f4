"""Tests for the synthetic demo generator (pipelines/demo/generator.py)."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from evaluation.tables import DemoTruth, ScenarioMetrics, Scenarios, StreetOutcomes, validate
from pipelines.demo import generator as demo
from pipelines.io.kpi_registry import Indicator, Registry, load_registry

FRAMES = ("observations", "scenarios", "scenario_metrics", "street_outcomes", "truth")

HONGKOU_IOT = (
    "违法排污监测",
    "街面废物箱满溢",
    "小区垃圾厢房满溢",
    "污水井满溢",
    "非机动车车棚充电保护",
    "沿街店铺“三合一”管控",
    "火灾预警监测",
    "消防栓水压监测",
    "小区消防通道管理",
    "楼宇安全管控",
)
HONGKOU_HEALTH = ("云病历", "云学习", "云质控", "云药房", "云公卫", "卫生驾驶舱")


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


@pytest.fixture(scope="module")
def two(registry: Registry) -> demo.DemoData:
    return demo.generate_demo(registry, seed=demo.DEFAULT_SEED, scale="two")


@pytest.fixture(scope="module")
def everything(registry: Registry) -> demo.DemoData:
    return demo.generate_demo(registry, seed=7, scale="all")


def _annual(obs: pl.DataFrame) -> pl.DataFrame:
    return (
        obs.filter(pl.col("period").str.len_chars() == 4)
        .with_columns(year=pl.col("period").cast(pl.Int32), value=pl.col("value").cast(pl.Float64))
        .sort("kpi_id", "region", "year")
    )


# ---------------------------------------------------------------------------------------- determinism
def test_same_seed_gives_identical_frames(registry: Registry, two: demo.DemoData) -> None:
    again = demo.generate_demo(registry, seed=demo.DEFAULT_SEED, scale="two")
    for name in FRAMES:
        assert_frame_equal(getattr(two, name), getattr(again, name))


def test_different_seed_gives_different_frames(registry: Registry, two: demo.DemoData) -> None:
    other = demo.generate_demo(registry, seed=demo.DEFAULT_SEED + 1, scale="two")
    for name in FRAMES:
        assert not getattr(two, name).equals(getattr(other, name)), name


def test_generation_does_not_touch_the_registry(registry: Registry) -> None:
    before = registry.kpis_table()
    demo.generate_demo(registry, seed=3, scale="two")
    assert_frame_equal(before, registry.kpis_table())


def test_unknown_scale_is_a_clear_error(registry: Registry) -> None:
    with pytest.raises(demo.DemoError, match="scale must be"):
        demo.generate_demo(registry, scale="three")


# ---------------------------------------------------------------------------------------- observations
def test_observations_long_layout_is_all_strings(two: demo.DemoData) -> None:
    obs = two.observations
    assert tuple(obs.columns) == demo.OBSERVATION_COLUMNS
    assert all(dt == pl.String for dt in obs.dtypes)
    assert obs["period"].str.contains(r"^\d{4}(-\d{2})?$").all()
    assert obs["value"].cast(pl.Float64, strict=False).is_not_null().all()
    assert obs["note"].is_null().all()
    assert obs.select(pl.struct("kpi_id", "region", "period").is_unique().all()).item()


def test_status_is_provisional_only_in_the_latest_year(two: demo.DemoData) -> None:
    obs = two.observations.with_columns(year=pl.col("period").str.slice(0, 4).cast(pl.Int32))
    latest = obs["year"].max()
    assert (obs.filter(pl.col("year") == latest)["status"] == "provisional").all()
    assert (obs.filter(pl.col("year") < latest)["status"] == "final").all()


@pytest.mark.parametrize("fixture", ["two", "everything"])
def test_every_registry_kpi_covers_every_demo_region(
    registry: Registry, fixture: str, request: pytest.FixtureRequest
) -> None:
    data: demo.DemoData = request.getfixturevalue(fixture)
    expected_regions = (
        {"pudong", "hongkou"}
        if fixture == "two"
        else {r.id for r in registry.regions.values() if r.level == "district"}
    )
    wanted = {k for k, ind in registry.indicators.items() if ind.targets or ind.baselines}
    annual = _annual(data.observations)
    covered = set(annual.select("kpi_id", "region").unique().iter_rows())
    missing = {(k, r) for k in wanted for r in expected_regions} - covered
    assert not missing
    assert set(annual["region"]) == expected_regions
    assert "shanghai" not in set(data.observations["region"])
    # every history reaches the latest year and has at least four years for the forecasters
    per_series = annual.group_by("kpi_id", "region").agg(pl.col("year").max().alias("last"), pl.len())
    assert (per_series["last"] == demo.LAST_YEAR).all()
    assert (per_series["len"] >= 4).all()


def test_histories_start_when_the_technology_existed(two: demo.DemoData) -> None:
    first = _annual(two.observations).group_by("kpi_id").agg(pl.col("year").min())
    first_year = dict(first.iter_rows())
    assert first_year["5g_coverage"] >= 2019
    assert first_year["cim_coverage"] >= 2020
    assert first_year["citizen_satisfaction"] >= 2019
    assert first_year["info_software_revenue"] == demo.FIRST_YEAR


@pytest.mark.parametrize("fixture", ["two", "everything"])
def test_values_respect_kind_bounds_and_cumulation(
    registry: Registry, fixture: str, request: pytest.FixtureRequest
) -> None:
    data: demo.DemoData = request.getfixturevalue(fixture)
    obs = data.observations.with_columns(value=pl.col("value").cast(pl.Float64))
    for kpi_id, ind in registry.indicators.items():
        rows = obs.filter(pl.col("kpi_id") == kpi_id)
        if ind.lower is not None:
            assert rows["value"].min() >= ind.lower, kpi_id
        if ind.upper is not None:
            assert rows["value"].max() <= ind.upper, kpi_id
        annual = _annual(rows)
        if ind.cumulative:
            steps = annual.with_columns(step=pl.col("value").diff().over("region"))
            assert steps["step"].drop_nulls().min() >= 0, kpi_id
        if ind.kind == "level" or (ind.kind == "count"):
            assert (annual["value"] == annual["value"].round()).all(), kpi_id
    levels = _annual(obs.filter(pl.col("kpi_id") == "gov_cloud_level"))
    assert set(levels["value"].to_list()) <= {0.0, 1.0, 2.0, 3.0}


def test_only_surveys_carry_a_standard_error(registry: Registry, two: demo.DemoData) -> None:
    surveys = {k for k, ind in registry.indicators.items() if ind.survey}
    obs = two.observations
    assert obs.filter(~pl.col("kpi_id").is_in(surveys))["std_error"].is_null().all()
    se = obs.filter(pl.col("kpi_id").is_in(surveys))["std_error"].cast(pl.Float64)
    assert se.is_not_null().all()
    assert 0.8 <= se.min() <= se.max() <= 1.5


def test_pudong_software_revenue_is_in_the_plausible_range(two: demo.DemoData) -> None:
    annual = _annual(two.observations.filter(pl.col("kpi_id") == "info_software_revenue"))
    latest = dict(annual.filter(pl.col("year") == demo.LAST_YEAR).select("region", "value").iter_rows())
    assert 2000 <= latest["pudong"] <= 4500
    assert latest["hongkou"] < latest["pudong"] / 3


def test_monthly_online_share_is_consistent_with_the_annual_values(two: demo.DemoData) -> None:
    obs = two.observations.filter(pl.col("kpi_id") == demo.MONTHLY_KPI)
    monthly = obs.filter(pl.col("period").str.len_chars() == 7).with_columns(
        year=pl.col("period").str.slice(0, 4).cast(pl.Int32), value=pl.col("value").cast(pl.Float64)
    )
    assert monthly.group_by("region").len()["len"].to_list() == [72, 72]
    assert monthly["period"].min() == "2019-01" and monthly["period"].max() == "2024-12"
    means = monthly.group_by("region", "year").agg(pl.col("value").mean().alias("mean"))
    joined = _annual(obs).join(means, on=["region", "year"], how="inner")
    assert joined.height == 12
    assert ((joined["value"] - joined["mean"]).abs() <= 0.0051).all()


def test_targets_get_a_mix_of_on_track_and_off_track(registry: Registry, two: demo.DemoData) -> None:
    """Progress towards district targets spans met to clearly behind (so forecasts are interesting)."""
    kpis = registry.kpis_table().filter(
        pl.col("region").is_in(["pudong", "hongkou"])
        & pl.col("target_value").is_not_null()
        & (pl.col("kind") != "level")
        & (pl.col("target_value") > 0)
    )
    annual = _annual(two.observations)
    ratios = []
    for row in kpis.iter_rows(named=True):
        hist = annual.filter((pl.col("kpi_id") == row["kpi_id"]) & (pl.col("region") == row["region"]))
        at = hist.filter(pl.col("year") == min(row["target_year"], demo.LAST_YEAR))
        ratios.append(at["value"].item() / row["target_value"])
    assert min(ratios) < 0.85
    assert max(ratios) >= 1.0


# ---------------------------------------------------------------------------------------- scenarios
def test_scenarios_include_the_plan_scenarios(two: demo.DemoData) -> None:
    sc = two.scenarios
    assert sc.height >= 60
    hk = sc.filter(pl.col("region") == "hongkou")
    assert set(HONGKOU_IOT) <= set(hk["name_zh"])
    assert set(HONGKOU_HEALTH) <= set(hk["name_zh"])
    assert hk.filter(pl.col("name_zh").is_in(HONGKOU_IOT))["outcome"].is_not_null().all()
    pd_disposal = sc.filter((pl.col("region") == "pudong") & (pl.col("category") == "高效处置一件事"))
    assert pd_disposal.height >= 10
    assert set(sc["domain"]) == {"life", "governance", "economy"}
    assert sc["scenario_id"].str.contains(r"^(PD|HK)-[A-Z]+-\d{2}$").all()
    assert sc["launch_date"].min() >= date(2021, 3, 1)
    assert sc["launch_date"].max() <= date(2023, 12, 1)
    assert (sc["launch_date"].dt.day() == 1).all()
    assert sc["launch_date"].n_unique() > 10
    assert (sc["budget"] > 0).all()


def test_scenario_streets_belong_to_their_district(two: demo.DemoData) -> None:
    for region, street in two.scenarios.select("region", "street").iter_rows():
        assert street in demo.STREETS[region]
    assert "欧阳路街道" in demo.STREETS["hongkou"] and "陆家嘴街道" in demo.STREETS["pudong"]


def test_all_scale_spreads_scenarios_over_the_districts(
    registry: Registry, everything: demo.DemoData, two: demo.DemoData
) -> None:
    districts = {r.id for r in registry.regions.values() if r.level == "district"}
    assert set(everything.scenarios["region"]) == districts
    assert everything.scenarios.height > two.scenarios.height
    for name in ("observations", "scenarios", "scenario_metrics", "street_outcomes"):
        assert (getattr(everything, name)["source"] == demo.SOURCE).all(), name
    per_district = everything.scenarios.group_by("region").len()
    assert per_district["len"].min() >= 5


def test_tables_pass_their_contracts(two: demo.DemoData) -> None:
    validate(two.scenarios, Scenarios, what="test")
    validate(two.scenario_metrics, ScenarioMetrics, what="test")
    validate(two.street_outcomes, StreetOutcomes, what="test")
    validate(two.truth, DemoTruth, what="test")


def test_every_row_is_labelled_synthetic(two: demo.DemoData) -> None:
    for name in ("observations", "scenarios", "scenario_metrics", "street_outcomes"):
        assert (getattr(two, name)["source"] == "synthetic-demo").all(), name


# ---------------------------------------------------------------------------------------- metrics
def test_metrics_start_at_launch_and_run_to_the_end(two: demo.DemoData) -> None:
    m = two.scenario_metrics.join(two.scenarios.select("scenario_id", "launch_date"), on="scenario_id")
    assert (m["period"] >= m["launch_date"]).all()
    span = m.group_by("scenario_id", "launch_date").agg(
        pl.col("period").min().alias("first"), pl.col("period").max().alias("last")
    )
    assert (span["first"] == span["launch_date"]).all()
    assert (span["last"] == date(2024, 12, 1)).all()
    assert set(m["indicator_id"]) == set(demo.METRIC_IDS)
    assert set(m["scenario_id"]) == set(two.scenarios["scenario_id"])


def test_a_few_scenarios_lack_one_indicator(two: demo.DemoData) -> None:
    counts = two.scenario_metrics.group_by("scenario_id").agg(pl.col("indicator_id").n_unique().alias("n"))
    short = counts.filter(pl.col("n") < len(demo.METRIC_IDS))
    assert 3 <= short.height <= 5
    assert (short["n"] == len(demo.METRIC_IDS) - 1).all()


def test_metric_values_are_in_range(two: demo.DemoData) -> None:
    m = two.scenario_metrics
    pct = m.filter(
        pl.col("indicator_id").is_in(
            [
                "coverage_share",
                "closed_loop_rate",
                "on_time_rate",
                "recurrence_rate",
                "satisfaction",
                "budget_execution",
                "data_quality",
            ]
        )
    )
    assert pct["value"].min() >= 0 and pct["value"].max() <= 100
    assert m["value"].min() >= 0
    shared = m.filter(pl.col("indicator_id") == "data_shared").sort("scenario_id", "period")
    assert shared.with_columns(d=pl.col("value").diff().over("scenario_id"))["d"].drop_nulls().min() >= 0


def test_latent_quality_makes_indicators_agree(two: demo.DemoData) -> None:
    """Scenario means of benefit indicators correlate positively (one hidden quality drives them)."""
    wide = (
        two.scenario_metrics.group_by("scenario_id", "indicator_id")
        .agg(pl.col("value").mean())
        .pivot(on="indicator_id", index="scenario_id", values="value")
        .drop_nulls()
    )
    corr = np.corrcoef(wide["closed_loop_rate"].to_numpy(), wide["satisfaction"].to_numpy())[0, 1]
    anti = np.corrcoef(wide["closed_loop_rate"].to_numpy(), wide["recurrence_rate"].to_numpy())[0, 1]
    assert corr > 0.5
    assert anti < -0.3


# ---------------------------------------------------------------------------------------- outcomes
def test_outcomes_have_treated_and_comparison_streets(two: demo.DemoData) -> None:
    treated = two.scenarios.filter(pl.col("outcome").is_not_null())
    for region, outcome in treated.select("region", "outcome").unique().iter_rows():
        here = (pl.col("region") == region) & (pl.col("outcome") == outcome)
        streets = set(two.street_outcomes.filter(here)["street"])
        mine = set(treated.filter(here)["street"])
        assert mine and mine < streets, (region, outcome)
        assert len(streets - mine) >= 2, (region, outcome)
    per_series = two.street_outcomes.group_by("region", "street", "outcome").agg(
        pl.len(), pl.col("period").min().alias("first"), pl.col("period").max().alias("last")
    )
    assert (per_series["len"] == 72).all()
    assert (per_series["first"] == date(2019, 1, 1)).all() and (per_series["last"] == date(2024, 12, 1)).all()
    assert set(two.street_outcomes["outcome"]) >= {"bin_overflow_complaints", "disposal_handling_hours"}
    assert two.street_outcomes["value"].min() >= 0


def test_truth_has_one_effect_per_outcome_scenario(two: demo.DemoData) -> None:
    with_outcome = two.scenarios.filter(pl.col("outcome").is_not_null())
    assert set(two.truth["scenario_id"]) == set(with_outcome["scenario_id"])
    pct = two.truth["true_effect_pct"]
    assert (pct == 0).sum() == 2
    assert 1 <= (pct > 0).sum() <= 2
    assert pct.filter(pct > 0).max() < 10
    reductions = pct.filter(pct < 0)
    assert reductions.min() >= -40 and reductions.max() <= -10
    assert (np.sign(two.truth["true_effect"]) == np.sign(pct)).all()


def test_difference_in_differences_recovers_the_true_effects(two: demo.DemoData) -> None:
    """The recorded truth is what the series contain: a plain DiD lands close to it."""
    out, sc = two.street_outcomes, two.scenarios.filter(pl.col("outcome").is_not_null())
    treated_streets = sc.select("region", "outcome", "street").with_columns(treated=pl.lit(True))
    estimates, truths = [], []
    for row in sc.join(two.truth, on=["scenario_id", "outcome"]).iter_rows(named=True):
        series = out.filter((pl.col("region") == row["region"]) & (pl.col("outcome") == row["outcome"]))
        series = series.join(treated_streets, on=["region", "outcome", "street"], how="left")
        post = pl.col("period") >= row["launch_date"]
        own = series.filter(pl.col("street") == row["street"])
        ctrl = series.filter(pl.col("treated").is_null())
        d_own = own.filter(post)["value"].mean() - own.filter(~post)["value"].mean()
        d_ctrl = ctrl.filter(post)["value"].mean() - ctrl.filter(~post)["value"].mean()
        estimates.append(d_own - d_ctrl)
        truths.append(row["true_effect"])
    est, tru = np.array(estimates), np.array(truths)
    assert np.corrcoef(est, tru)[0, 1] > 0.8
    assert np.median(np.abs(est - tru)) < 0.5 * np.median(np.abs(tru))


# ---------------------------------------------------------------------------------------- files
def test_write_demo_round_trips(two: demo.DemoData, tmp_path) -> None:
    paths = demo.write_demo(two, tmp_path / "out")
    assert set(paths) == set(FRAMES)
    assert all(p.name == f"{n}.csv" and p.exists() for n, p in paths.items())
    assert not list((tmp_path / "out").glob("*.tmp"))
    header = paths["observations"].read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(demo.OBSERVATION_COLUMNS)
    back = demo.read_demo(tmp_path / "out")
    for name in FRAMES:
        assert_frame_equal(getattr(two, name), getattr(back, name))


def test_write_demo_is_byte_stable_and_overwrites(two: demo.DemoData, tmp_path) -> None:
    first = {n: p.read_bytes() for n, p in demo.write_demo(two, tmp_path).items()}
    second = {n: p.read_bytes() for n, p in demo.write_demo(two, tmp_path).items()}
    assert first == second
    assert "街面废物箱满溢".encode() in first["scenarios"]


def test_read_demo_names_the_missing_file(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="dtscope demo"):
        demo.read_demo(tmp_path)


# ---------------------------------------------------------------------------------------- maths
@settings(max_examples=200, deadline=None)
@given(
    start=st.floats(-50, 150),
    end=st.floats(-50, 150),
    t_end=st.floats(0.5, 20),
    times=st.lists(st.floats(-30, 50), min_size=1, max_size=20),
)
def test_logistic_share_path_stays_inside_bounds(
    start: float, end: float, t_end: float, times: list[float]
) -> None:
    t = np.array(times)
    path = demo.logistic_share_path(t, start=start, end=end, t_start=0.0, t_end=t_end, lower=0.0, upper=100.0)
    assert path.shape == t.shape
    assert np.all(path >= 0.0) and np.all(path <= 100.0)
    assert np.all(np.isfinite(path))


@settings(max_examples=100, deadline=None)
@given(start=st.floats(1, 99), end=st.floats(1, 99))
def test_logistic_share_path_passes_through_its_anchors(start: float, end: float) -> None:
    path = demo.logistic_share_path(
        np.array([2019.0, 2025.0]), start=start, end=end, t_start=2019, t_end=2025, lower=0, upper=100
    )
    assert path == pytest.approx([start, end], rel=1e-9)
    mid = demo.logistic_share_path(
        np.array([2022.0]), start=start, end=end, t_start=2019, t_end=2025, lower=0, upper=100
    )[0]
    assert min(start, end) - 1e-9 <= mid <= max(start, end) + 1e-9


@settings(max_examples=100, deadline=None)
@given(
    increments=st.lists(st.floats(0, 1e6), min_size=1, max_size=30),
    start=st.floats(0, 1e6),
)
def test_stock_path_never_decreases(increments: list[float], start: float) -> None:
    inc = np.array(increments)
    path = demo.stock_path(inc, start=start)
    assert np.all(np.diff(path) >= 0)
    assert np.all(path == np.round(path))
    assert abs(path[-1] - (start + inc.sum())) <= 0.5 + 1e-6 * (start + inc.sum())


def test_stock_path_refuses_negative_increments() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        demo.stock_path(np.array([1.0, -0.5]), start=0.0)


@settings(max_examples=30, deadline=None)
@given(phi=st.floats(-0.9, 0.9), seed=st.integers(0, 2**32 - 1))
def test_ar1_noise_is_reproducible_and_autocorrelated(phi: float, seed: int) -> None:
    a = demo.ar1_noise(np.random.default_rng(seed), 4000, phi=phi, sd=1.0)
    b = demo.ar1_noise(np.random.default_rng(seed), 4000, phi=phi, sd=1.0)
    assert np.array_equal(a, b)
    lag1 = np.corrcoef(a[:-1], a[1:])[0, 1]
    assert lag1 == pytest.approx(phi, abs=0.1)
    assert np.std(a) == pytest.approx(1 / np.sqrt(1 - phi**2), rel=0.15)


def test_ar1_noise_rejects_a_non_stationary_phi() -> None:
    with pytest.raises(ValueError, match="stationary"):
        demo.ar1_noise(np.random.default_rng(0), 3, phi=1.0, sd=1.0)


def test_a_new_indicator_gets_a_history_from_its_kind(registry: Registry) -> None:
    """An indicator the generator has no shape for (here: city target only) still gets plausible rows."""
    extra = Indicator.model_validate(
        {
            "name_zh": "测试指标",
            "name_en": "Test amount",
            "unit": "亿元",
            "kind": "amount",
            "direction": "up",
            "lower": 0,
            "upper": None,
            "precision": 0.1,
            "targets": [
                {
                    "region": "shanghai",
                    "target_kind": "at_least",
                    "target_value": 1000,
                    "target_year": 2025,
                    "obligation": "expected",
                    "source": "test",
                    "quote": "test",
                }
            ],
        }
    )
    bigger = Registry(
        indicators={**registry.indicators, "test_amount": extra},
        regions=registry.regions,
        kpi_path=registry.kpi_path,
    )
    data = demo.generate_demo(bigger, seed=11, scale="two")
    rows = _annual(data.observations.filter(pl.col("kpi_id") == "test_amount"))
    assert set(rows["region"]) == {"pudong", "hongkou"}
    assert rows["value"].min() > 0
    pudong = rows.filter(pl.col("region") == "pudong")["value"]
    assert pudong[-1] > pudong[0]
