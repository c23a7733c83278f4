"""The ``dtscope`` command line: contracts outside tools rely on, exit codes, and every command's --help."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from evaluation.tables import Kpis, dtypes
from pipelines.cli.app import app
from pipelines.io.warehouse import Warehouse
from pipelines.settings import PUBLISHED_DATA_DIR
from tests.pipelines.conftest import ATTAIN_HEADER, FORECAST_HEADER, header

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


def test_kpis_csv_prints_the_kpis_table_columns() -> None:
    result = runner.invoke(app, ["kpis", "--format", "csv"])
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(io.StringIO(result.stdout))
    assert frame.columns == list(dtypes(Kpis))
    assert frame.filter(pl.col("region") == "pudong")["target_kind"].drop_nulls().len() == 15


def test_kpis_filters_by_region_name_and_chinese_obligation() -> None:
    result = runner.invoke(app, ["kpis", "--format", "csv", "--region", "虹口", "--obligation", "约束性"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[1:] == []  # Hongkou has no binding targets
    result = runner.invoke(app, ["kpis", "--format", "csv", "--region", "Pudong", "--obligation", "binding"])
    frame = pl.read_csv(io.StringIO(result.stdout))
    assert frame.height == 6  # rows 4, 5, 6, 12, 13 and 14 of the plan's table are 约束性
    assert set(frame["obligation"]) == {"binding"}


def test_kpis_unknown_region_is_a_clear_error() -> None:
    result = runner.invoke(app, ["kpis", "--region", "atlantis"])
    assert result.exit_code == 2
    assert "unknown region 'atlantis'" in result.output


def test_ingest_published_figures_loses_no_row(tmp_path: Path) -> None:
    path = PUBLISHED_DATA_DIR / "published_figures.csv"
    result = runner.invoke(app, ["ingest", str(path), "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    wh = Warehouse(tmp_path / "warehouse.duckdb")
    n_rows = pl.read_csv(path, infer_schema=False).height
    log = wh.table("ingests").row(0, named=True)
    assert log["rows_in"] == n_rows == log["accepted"] + log["rejected"]
    assert wh.table("rejects").height == log["rejected"]
    obs = wh.observations()
    assert obs.height == log["accepted"]
    # qualifiers survive: the ">4000" Pudong revenue is a lower bound, not an exact 4000
    pudong_rev = obs.filter((pl.col("kpi_id") == "info_software_revenue") & (pl.col("region") == "pudong"))
    assert pudong_rev.select("value", "qualifier").rows() == [(4000.0, ">")]
    # targets and part-year figures are kept as rejects with their reason, never as observations
    reasons = set(wh.table("rejects")["reason_code"])
    assert {"target", "part_year"} <= reasons


def test_ingest_exit_code_1_when_nothing_is_accepted(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("kpi_id,region,period,value\nno_such_kpi,pudong,2021,1\n", encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(bad), "--home", str(tmp_path)])
    assert result.exit_code == 1
    assert "nothing was accepted" in result.output
    assert "row 2, column kpi_id: unknown KPI 'no_such_kpi'" in result.output
    # the rejected row is still kept
    assert Warehouse(tmp_path / "warehouse.duckdb").table("rejects").height == 1


def test_ingest_exit_code_2_for_an_unreadable_file_and_others_still_load(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["ingest", str(tmp_path / "absent.csv"), str(FIXTURES / "ingest_wide.csv"), "--home", str(tmp_path)],
    )
    assert result.exit_code == 2
    assert "absent.csv: no such file" in result.output
    assert Warehouse(tmp_path / "warehouse.duckdb").observations().height == 6


def test_reingest_is_idempotent_through_the_cli(tmp_path: Path) -> None:
    args = ["ingest", str(FIXTURES / "ingest_good_long.csv"), "--home", str(tmp_path)]
    assert runner.invoke(app, args).exit_code == 0
    second = runner.invoke(app, args)
    assert second.exit_code == 0  # unchanged rows are valid rows: a re-run is not a failure
    wh = Warehouse(tmp_path / "warehouse.duckdb")
    assert wh.table("ingests").height == 1
    assert wh.observations().height == 13


def test_home_from_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DTSCOPE_HOME", str(tmp_path))
    result = runner.invoke(app, ["ingest", str(FIXTURES / "ingest_wide.csv")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "warehouse.duckdb").exists()


def test_observations_as_of_through_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "rev.csv"
    path.write_text("kpi_id,region,period,value\nopen_datasets,pudong,2022,450\n", encoding="utf-8")
    runner.invoke(app, ["ingest", str(path), "--home", str(tmp_path)])
    first_vintage = Warehouse(tmp_path / "warehouse.duckdb").vintages()[0]
    path.write_text("kpi_id,region,period,value\nopen_datasets,pudong,2022,470\n", encoding="utf-8")
    runner.invoke(app, ["ingest", str(path), "--home", str(tmp_path)])
    now = runner.invoke(app, ["observations", "--format", "csv", "--home", str(tmp_path)])
    then = runner.invoke(
        app,
        ["observations", "--format", "csv", "--as-of", first_vintage.isoformat(), "--home", str(tmp_path)],
    )
    assert pl.read_csv(io.StringIO(now.stdout))["value"].to_list() == [470.0]
    assert pl.read_csv(io.StringIO(then.stdout))["value"].to_list() == [450.0]


def _commands() -> list[list[str]]:
    """Every leaf command as its argv path (groups such as `models` contribute their subcommands)."""
    import typer.main

    def walk(group: Any, prefix: list[str]) -> list[list[str]]:
        out = []
        for name, cmd in sorted(group.commands.items()):
            if hasattr(cmd, "commands"):  # a group (Typer vendors its own click, so no isinstance check)
                out += walk(cmd, [*prefix, name])
            else:
                out.append([*prefix, name])
        return out

    return walk(typer.main.get_command(app), [])


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_every_command_has_help_and_takes_home(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert len(text) > 80
    assert "--home" in text


def test_console_script_is_installed() -> None:
    exe = shutil.which("dtscope", path=str(Path(__file__).resolve().parents[2] / ".venv" / "bin"))
    if exe is None:
        pytest.skip("the dtscope console script is only checked inside the project's .venv")
    result = subprocess.run([exe, "--help"], check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "ingest" in result.stdout


def _series_csv(path: Path) -> Path:
    rows = ["series_id,period,value"]
    for year, (a, b) in enumerate(
        zip([10, 12, 15, 17, 21, 24], [50, 55, 61, 64, 70, 72], strict=True), start=2015
    ):
        rows += [f"a,{year},{a}", f"b,{year},{b}"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_forecast_file_cli_writes_the_contract_columns(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    result = runner.invoke(
        app, ["forecast-file", str(_series_csv(tmp_path / "in.csv")), "--horizon", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert header(out) == FORECAST_HEADER
    frame = pl.read_csv(out)
    assert frame.height == 6
    assert frame["period"].to_list() == [2021, 2022, 2023] * 2


def test_attain_cli_writes_the_contract_columns(tmp_path: Path) -> None:
    targets = tmp_path / "t.csv"
    targets.write_text(
        "series_id,target_period,target_value,direction\na,2023,30,>=\nb,2023,60,<=\n", encoding="utf-8"
    )
    out = tmp_path / "att.csv"
    result = runner.invoke(
        app, ["attain", str(_series_csv(tmp_path / "in.csv")), "--targets", str(targets), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert header(out) == ATTAIN_HEADER
    assert pl.read_csv(out).height == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("series_id,period\na,2016\n", "missing column(s) ['value']"),
        (
            "series_id,period,value\na,2016,1\na,2017,x\na,2018,3\na,2019,4\n",
            "row 2 (line 3), column 'value': 'x' is not a number",
        ),
        ("series_id,period,value\na,2016,1\n", "series 'a' has 1 observation(s), fewer than 3"),
    ],
)
def test_forecast_file_cli_bad_input_exits_2(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content, encoding="utf-8")
    result = runner.invoke(
        app, ["forecast-file", str(bad), "--horizon", "2", "--out", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "bad.csv" in text and message in text
    assert not (tmp_path / "o.csv").exists()
