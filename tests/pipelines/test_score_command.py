"""`dtscope score` end to end: a real warehouse, a real MLflow store in tmp_path, published tables with run ids."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from pipelines.cli.app import app
from pipelines.io.warehouse import Warehouse
from pipelines.settings import resolve_settings
from pipelines.steps import publish
from pipelines.tracking.tracker import Tracker

runner = CliRunner()


@pytest.fixture(scope="module")
def scored_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    assert runner.invoke(app, ["demo", "--home", str(home)]).exit_code == 0
    result = runner.invoke(app, ["score", "--home", str(home), "--draws", "300"])
    assert result.exit_code == 0, result.output
    return home


def test_score_publishes_tables_that_carry_the_mlflow_run(scored_home: Path) -> None:
    scores = publish.read_published(scored_home, "scores")
    assert scores is not None
    assert scores.height >= 60
    run_ids = scores["run_id"].unique().to_list()
    assert len(run_ids) == 1
    run = Tracker(resolve_settings(scored_home)).get_run(run_ids[0])
    assert run.info.status == "FINISHED"
    assert run.data.metrics["scenarios_scored"] == float(scores.filter(pl.col("total").is_not_null()).height)
    assert run.data.params["n_draws"] == "300"
    for name in ("efficacy", "explanations", "sensitivity"):
        table = publish.read_published(scored_home, name)
        assert table is not None and table.height > 0
        assert table["run_id"].unique().to_list() == run_ids
    # the scheme is a registered, versioned model in use (alias champion), named on the score run
    scheme = Tracker(resolve_settings(scored_home)).alias_version("production", name="scenario-scheme")
    assert scheme is not None and run.data.tags["dtscope.scheme_version"] == scheme.version
    # the rank interval brackets the rank
    assert (scores["rank_lo"] <= scores["rank"]).all() and (scores["rank"] <= scores["rank_hi"]).all()


def test_benchmark_counts_become_derived_observations(scored_home: Path) -> None:
    obs = Warehouse(scored_home / "warehouse.duckdb").observations(kpi_id="efficient_disposal_scenarios")
    derived = obs.filter(pl.col("source").str.starts_with("dtscope score"))
    assert set(derived["region"]) == {"pudong", "hongkou"}
    scores = publish.read_published(scored_home, "scores")
    assert scores is not None
    assert derived["value"].sum() == scores["benchmark"].sum()


def test_rescoring_the_same_data_writes_no_new_observations(scored_home: Path) -> None:
    wh = Warehouse(scored_home / "warehouse.duckdb")
    before = wh.table("observations").height
    result = runner.invoke(app, ["score", "--home", str(scored_home), "--draws", "300"])
    assert result.exit_code == 0, result.output
    assert "benchmark observations written: 0" in " ".join(result.output.split())
    assert wh.table("observations").height == before
    # the same scheme content is not registered twice
    assert len(Tracker(resolve_settings(scored_home)).versions(name="scenario-scheme")) == 1


def test_score_without_scenarios_says_what_to_run(tmp_path: Path) -> None:
    result = runner.invoke(app, ["score", "--home", str(tmp_path)])
    assert result.exit_code == 2
    assert "holds no scenarios: run `dtscope demo` first" in " ".join(result.output.split())


def test_a_bad_scheme_is_a_clear_error_naming_the_file(tmp_path: Path, scored_home: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("scheme: x\nversion: '1'\ndimensions: {}\n", encoding="utf-8")
    result = runner.invoke(app, ["score", "--home", str(scored_home), "--scheme", str(bad)])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert f"{bad}: 7 problem(s)" in text
    assert "at key dimensions: Dictionary should have at least 1 item" in text
