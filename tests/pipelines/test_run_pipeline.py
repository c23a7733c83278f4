"""`dtscope run` end to end into tmp_path with a temporary MLflow store (slow: a real pipeline, twice)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from evaluation import tables
from pipelines.io.kpi_registry import load_registry
from pipelines.io.warehouse import Warehouse
from pipelines.run.executors import make_executor
from pipelines.run.pipeline import RunConfig, run_pipeline
from pipelines.settings import Settings, resolve_settings
from pipelines.steps import forecast as F
from pipelines.steps import publish
from pipelines.steps.series import annual_series
from pipelines.tracking.model_registry import PromotionRefused, promote
from pipelines.tracking.tracker import CHALLENGER, PRODUCTION, Tracker

pytestmark = pytest.mark.slow
FAST = RunConfig(score_draws=300, n_origins=2)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dtscope-home")


@pytest.fixture(scope="module")
def first(home: Path):  # type: ignore[no-untyped-def]
    return run_pipeline(resolve_settings(home), FAST)


def test_first_run_publishes_every_table_with_its_run_id(home: Path, first) -> None:  # type: ignore[no-untyped-def]
    assert not first.skipped and first.run_id
    for name in ("forecasts", "attainment", "backtest_metrics", "calibration"):
        table = publish.read_published(home, name)
        assert table is not None and table.height > 0, name
        assert table["run_id"].unique().to_list() == [first.run_id], name
    scores = publish.read_published(home, "scores")
    assert scores is not None and scores["pipeline_run_id"].unique().to_list() == [first.run_id]
    assert publish.read_manifest(home)["fingerprint"] == first.fingerprint


def test_published_tables_meet_their_definitions(home: Path, first) -> None:  # type: ignore[no-untyped-def]
    for name, model in tables.PUBLISHED.items():
        table = publish.read_published(home, name)
        assert table is not None, f"{name} was not published"
        tables.validate(table, model, what=f"run {first.run_id}")  # strict: exact dtypes, allowed values


def test_mlflow_holds_the_parent_step_and_series_runs(home: Path, first) -> None:  # type: ignore[no-untyped-def]
    tracker = Tracker(resolve_settings(home))
    parent = tracker.get_run(first.run_id)
    assert parent.info.status == "FINISHED"
    assert "backtest_score" in parent.data.metrics
    assert parent.data.tags["dtscope.vintage"] == first.vintage
    assert parent.data.tags["dtscope.git_commit"]
    assert "dtscope.version.polars" in parent.data.tags
    children = tracker.search_runs(f"tags.mlflow.parentRunId = '{first.run_id}'")
    names = {c.data.tags["mlflow.runName"] for c in children}
    assert {"score", "forecast"} <= names
    forecast_run = next(c for c in children if c.data.tags["mlflow.runName"] == "forecast")
    series_runs = tracker.search_runs(f"tags.mlflow.parentRunId = '{forecast_run.info.run_id}'")
    finished = [r for r in series_runs if r.info.status == "FINISHED"]
    assert len(finished) >= 40
    with_target = [r for r in finished if "p_reach" in r.data.metrics]
    assert with_target and all(
        "mase" in r.data.metrics for r in with_target if "backtest_rows" in r.data.metrics
    )
    artifacts = [a.path for a in tracker.client.list_artifacts(with_target[0].info.run_id, "charts")]
    assert any(p.endswith(".png") for p in artifacts)
    tables = [a.path for a in tracker.client.list_artifacts(first.run_id, "tables")]
    assert "tables/forecasts.parquet" in tables
    # the two too-short real series are failed children with their reason
    failed = [r for r in series_runs if r.info.status == "FAILED"]
    assert {r.data.params["kpi_id"] for r in failed} >= {"open_datasets"}
    assert all("a forecast needs at least" in r.data.tags["dtscope.error"] for r in failed)


def test_production_alias_resolves_to_this_run(home: Path, first) -> None:  # type: ignore[no-untyped-def]
    tracker = Tracker(resolve_settings(home))
    production = tracker.alias_version(PRODUCTION)
    assert production is not None and production.run_id == first.run_id
    assert production.score(first.vintage) is not None
    assert json.loads(production.tags["run_config"])["n_origins"] == 2


def test_reproduce_rebuilds_every_number(home: Path, first) -> None:  # type: ignore[no-untyped-def]
    from pipelines.run.pipeline import reproduce

    checks = reproduce(resolve_settings(home), first.run_id)
    assert {c.name for c in checks} == {"forecasts", "attainment", "backtest_metrics", "scores"}
    for c in checks:
        assert c.matches, c
        assert c.rows > 0


def test_reproduce_an_unknown_run_is_a_clear_error(home: Path, first) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from pipelines.cli.app import app

    result = CliRunner().invoke(app, ["reproduce", "nosuchrun", "--home", str(home)])
    assert result.exit_code == 2
    assert "no MLflow run 'nosuchrun'" in " ".join(result.output.split())


def test_a_second_identical_run_publishes_nothing_new(home: Path, first) -> None:  # type: ignore[no-untyped-def]
    before = (home / "published_tables").resolve()
    n_runs = len(Tracker(resolve_settings(home)).search_runs())
    again = run_pipeline(resolve_settings(home), FAST)
    assert again.skipped and again.run_id == first.run_id
    assert (home / "published_tables").resolve() == before
    assert len(Tracker(resolve_settings(home)).search_runs()) == n_runs


def test_challenger_is_registered_not_published_and_promotion_follows_the_rule(home: Path, first) -> None:  # type: ignore[no-untyped-def]
    settings = resolve_settings(home)
    before = (home / "published_tables").resolve()
    worse = RunConfig(
        score_draws=300,
        n_origins=2,
        champion={"members": ["naive"], "fixed": "naive", "n_origins": 6, "min_train": 4},
    )
    summary = run_pipeline(settings, worse, challenger=True)
    assert summary.role == CHALLENGER and summary.model_version is not None
    assert (home / "published_tables").resolve() == before  # a challenger publishes nothing
    tracker = Tracker(settings)
    challenger = tracker.alias_version(CHALLENGER)
    assert challenger is not None and challenger.version == summary.model_version
    champ_score = tracker.alias_version(PRODUCTION).score(first.vintage)  # type: ignore[union-attr]
    chall_score = challenger.score(first.vintage)
    assert champ_score is not None and chall_score is not None
    if chall_score >= champ_score:
        with pytest.raises(PromotionRefused, match="refused"):
            promote(settings, challenger.version)
        with pytest.raises(PromotionRefused, match="--force needs --reason"):
            promote(settings, challenger.version, force=True)
    message = promote(settings, challenger.version, force=True, reason="test of the override")
    assert "now the production version" in message
    assert tracker.alias_version(PRODUCTION).version == challenger.version  # type: ignore[union-attr]
    assert "test of the override" in tracker.alias_version(PRODUCTION).tags["promotion_forced"]  # type: ignore[union-attr]


def test_a_kpi_whose_model_raises_is_a_failed_run_and_the_rest_publish(
    tmp_path: Path, fail_forecast_of: Callable[[str, str], None]
) -> None:
    fail_forecast_of("citizen_satisfaction", "injected model failure")
    settings = resolve_settings(tmp_path)
    summary = run_pipeline(settings, FAST)
    failed = {(f["kpi_id"], f["region"]) for f in summary.failures if f["stage"] == "forecast"}
    assert failed == {("citizen_satisfaction", "pudong"), ("citizen_satisfaction", "hongkou")}
    forecasts = publish.read_published(tmp_path, "forecasts")
    assert forecasts is not None
    assert "citizen_satisfaction" not in set(forecasts["kpi_id"])
    assert "online_handling_share" in set(forecasts["kpi_id"])
    tracker = Tracker(settings)
    failed_runs = tracker.search_runs("attributes.status = 'FAILED'")
    assert any("injected model failure" in r.data.tags.get("dtscope.error", "") for r in failed_runs)


def _tasks(settings: Settings) -> list[F.GroupTask]:
    registry = load_registry(settings.registry_dir)
    kpis = registry.kpis_table()
    series = annual_series(Warehouse(settings.warehouse_path).observations())
    specs, _ = F.build_specs(series, kpis)
    targets = {
        (r["kpi_id"], r["region"]): r["target_year"] for r in kpis.iter_rows(named=True) if r["target_year"]
    }
    return F.group_tasks(specs, targets=targets, config=F.KPI_CONFIG, n_origins=2)


@pytest.mark.parametrize("kind", ["processes", "dask"])
def test_executors_give_the_same_numbers_as_in_process(home: Path, first, kind: str) -> None:  # type: ignore[no-untyped-def]
    tasks = _tasks(resolve_settings(home))
    local = [F.forecast_group(t) for t in tasks]
    ex = make_executor(kind, workers=2)  # type: ignore[arg-type]
    try:
        remote = ex.map(F.forecast_group, tasks)
    finally:
        ex.close()
    for a, b in zip(local, remote, strict=True):
        assert a.name == b.name and a.champion == b.champion
        assert a.forecasts.equals(b.forecasts)
        np.testing.assert_array_equal(a.samples["value"].to_numpy(), b.samples["value"].to_numpy())


def test_run_summary_attainment_rows_cover_the_plan_targets(first) -> None:  # type: ignore[no-untyped-def]
    att = first.attainment
    assert att is not None
    pudong = att.filter(pl.col("region") == "pudong")
    assert pudong.height == 15  # every Pudong target has a series in the demo
    assert set(att["status"]) <= {"achieved", "on_track", "at_risk", "off_track"}


def test_reproduce_comparison_detects_a_changed_number() -> None:
    from pipelines.run.pipeline import _compare

    logged = pl.DataFrame({"kpi_id": ["a", "b"], "mean": [1.0, 2.0], "run_id": ["r", "r"]})
    assert _compare("t", logged, logged.drop("run_id"), ["kpi_id"]).matches
    changed = _compare("t", logged, pl.DataFrame({"kpi_id": ["a", "b"], "mean": [1.0, 2.5]}), ["kpi_id"])
    assert not changed.matches and changed.max_abs_diff == 0.5
    missing = _compare("t", logged, pl.DataFrame({"kpi_id": ["a"], "mean": [1.0]}), ["kpi_id"])
    assert not missing.matches and "shape differs" in missing.note
