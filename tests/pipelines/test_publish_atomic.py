"""Publishing swaps a complete set of tables in one rename; unchanged tables carry over."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from evaluation.tables import TableError
from pipelines.steps import publish


def test_publish_writes_tables_and_manifest(tmp_path: Path) -> None:
    publish.publish(
        tmp_path, {"table_a": pl.DataFrame({"a": [1], "run_id": ["r1"]})}, run_id="r1", info={"v": "1"}
    )
    link = tmp_path / "published_tables"
    assert link.is_symlink()
    assert publish.read_published(tmp_path, "table_a")["a"].to_list() == [1]  # type: ignore[index]
    manifest = publish.read_manifest(tmp_path)
    assert manifest["tables"]["table_a"]["run_id"] == "r1"
    assert manifest["tables"]["table_a"]["v"] == "1"


def test_a_partial_publish_keeps_the_other_tables(tmp_path: Path) -> None:
    publish.publish(
        tmp_path,
        {"table_a": pl.DataFrame({"a": [1]}), "table_b": pl.DataFrame({"b": [2]})},
        run_id="r1",
    )
    publish.publish(tmp_path, {"table_a": pl.DataFrame({"a": [9]})}, run_id="r2")
    assert publish.read_published(tmp_path, "table_a")["a"].to_list() == [9]  # type: ignore[index]
    assert publish.read_published(tmp_path, "table_b")["b"].to_list() == [2]  # type: ignore[index]
    manifest = publish.read_manifest(tmp_path)
    assert (manifest["tables"]["table_a"]["run_id"], manifest["tables"]["table_b"]["run_id"]) == ("r2", "r1")


def test_old_versions_are_pruned_but_the_current_stays(tmp_path: Path) -> None:
    for k in range(6):
        publish.publish(tmp_path, {"t": pl.DataFrame({"k": [k]})}, run_id=f"run{k}")
    versions = [p for p in (tmp_path / ".published").iterdir() if p.is_dir()]
    assert len(versions) == publish.KEEP_VERSIONS
    assert publish.read_published(tmp_path, "t")["k"].to_list() == [5]  # type: ignore[index]


def test_a_failing_write_leaves_the_published_set_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish.publish(tmp_path, {"t": pl.DataFrame({"k": [1]})}, run_id="good")
    before = (tmp_path / "published_tables").resolve()

    class Boom(pl.DataFrame):
        def write_parquet(self, *args: object, **kwargs: object) -> None:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        publish.publish(tmp_path, {"t": Boom({"k": [2]})}, run_id="bad")
    assert (tmp_path / "published_tables").resolve() == before
    assert [p.name for p in (tmp_path / ".published").iterdir()] == [
        before.name
    ]  # no half-written version left
    assert publish.read_published(tmp_path, "t")["k"].to_list() == [1]  # type: ignore[index]
    assert json.loads((before / "manifest.json").read_text())["tables"]["t"]["run_id"] == "good"


def test_missing_table_reads_as_none(tmp_path: Path) -> None:
    assert publish.read_published(tmp_path, "forecasts") is None
    assert publish.read_manifest(tmp_path) == {"tables": {}}


def test_a_table_that_breaks_its_definition_is_not_published(tmp_path: Path) -> None:
    failures = pl.DataFrame(
        {"kpi_id": ["k"], "region": ["r"], "stage": ["input"], "error": ["too short"], "run_id": ["good"]}
    )
    publish.publish(tmp_path, {"forecast_failures": failures}, run_id="good")
    before = (tmp_path / "published_tables").resolve()
    bad = failures.with_columns(stage=pl.lit("later"), run_id=pl.lit("bad"))
    with pytest.raises(TableError, match=r"'forecast_failures'.*column\(s\) stage"):
        publish.publish(tmp_path, {"forecast_failures": bad}, run_id="bad")
    with pytest.raises(TableError, match="run_id"):  # a published table names the run that made it
        publish.publish(tmp_path, {"forecast_failures": failures.drop("run_id")}, run_id="bad")
    assert (tmp_path / "published_tables").resolve() == before
    assert publish.read_published(tmp_path, "forecast_failures")["run_id"].to_list() == ["good"]  # type: ignore[index]
