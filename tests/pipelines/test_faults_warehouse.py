"""A damaged warehouse gives one clear message; backup, restore and check bring a home back.

Damage as it happens on a bad day: a truncated file (disk full, killed copy), an empty file, random bytes.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from pipelines.cli.app import app
from pipelines.io.warehouse import Warehouse
from pipelines.steps import publish

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(os.urandom(len(data)))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home with ingested observations, a published set and a service store."""
    home = tmp_path / "home"
    result = runner.invoke(app, ["ingest", str(FIXTURES / "ingest_good_long.csv"), "--home", str(home)])
    assert result.exit_code == 0, result.output
    publish.publish(
        home,
        {"result_a": pl.DataFrame({"x": [1.0], "run_id": ["r1"]}), "data_b": pl.DataFrame({"y": [2]})},
        run_id="r1",
        info={"pinned_at": "2026-01-01T00:00:00"},
        manifest_fields={"run_id": "r1", "pinned_at": "2026-01-01T00:00:00"},
    )
    con = sqlite3.connect(home / "service.db")
    con.execute("CREATE TABLE users (name TEXT)")
    con.execute("INSERT INTO users VALUES ('ada')")
    con.commit()
    con.close()
    return home


@pytest.mark.parametrize("how", ["truncated", "empty", "garbage"])
@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["observations"],
        ["ingest", str(FIXTURES / "ingest_wide.csv")],
    ],
)
def test_a_damaged_warehouse_gives_one_clear_message(home: Path, how: str, command: list[str]) -> None:
    _damage(home / "warehouse.duckdb", how)
    result = runner.invoke(app, [*command, "--home", str(home)])
    assert result.exit_code == 4, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "damaged" in result.output and "dtscope restore" in result.output
    assert "Traceback" not in result.output and "_duckdb" not in result.output


def test_run_on_a_damaged_warehouse_gives_one_clear_message(home: Path) -> None:
    _damage(home / "warehouse.duckdb", "garbage")
    result = runner.invoke(app, ["run", "--home", str(home)])
    assert result.exit_code == 4, result.output
    assert "damaged" in result.output and "Traceback" not in result.output


def test_check_passes_on_a_whole_home(home: Path) -> None:
    result = runner.invoke(app, ["check", "--home", str(home)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("how", ["truncated", "empty", "garbage"])
def test_check_names_a_damaged_warehouse(home: Path, how: str) -> None:
    _damage(home / "warehouse.duckdb", how)
    result = runner.invoke(app, ["check", "--home", str(home)])
    assert result.exit_code == 1
    assert "warehouse" in result.output and "damaged" in result.output


def test_check_names_a_damaged_published_table_and_service_store(home: Path) -> None:
    _damage(home / "published_tables" / "result_a.parquet", "garbage")
    _damage(home / "service.db", "garbage")
    result = runner.invoke(app, ["check", "--home", str(home)])
    assert result.exit_code == 1
    assert "result_a" in result.output and "service store" in result.output


def test_check_names_a_published_set_that_mixes_runs(home: Path) -> None:
    publish.publish(home, {"result_a": pl.DataFrame({"x": [3.0]})}, run_id="r2", info={"pinned_at": "x"})
    result = runner.invoke(app, ["check", "--home", str(home)])
    assert result.exit_code == 1
    assert "comes from run r2" in result.output


@pytest.mark.parametrize("how", ["truncated", "empty", "garbage"])
def test_restore_brings_the_last_backup_back(home: Path, tmp_path: Path, how: str) -> None:
    before = Warehouse(home / "warehouse.duckdb").observations()
    made = runner.invoke(app, ["backup", "--to", str(tmp_path / "bk"), "--home", str(home)])
    assert made.exit_code == 0, made.output
    _damage(home / "warehouse.duckdb", how)
    _damage(home / "service.db", how)
    (home / "published_tables").unlink()
    back = runner.invoke(app, ["restore", str(tmp_path / "bk"), "--home", str(home)])
    assert back.exit_code == 0, back.output
    assert runner.invoke(app, ["check", "--home", str(home)]).exit_code == 0
    assert Warehouse(home / "warehouse.duckdb").observations().equals(before)
    assert publish.read_manifest(home)["run_id"] == "r1"
    con = sqlite3.connect(home / "service.db")
    assert con.execute("SELECT name FROM users").fetchall() == [("ada",)]
    con.close()


def test_backup_refuses_a_damaged_home_and_restore_a_changed_backup(home: Path, tmp_path: Path) -> None:
    assert runner.invoke(app, ["backup", "--to", str(tmp_path / "bk"), "--home", str(home)]).exit_code == 0
    (tmp_path / "bk" / "warehouse.duckdb").write_bytes(b"tampered")
    back = runner.invoke(app, ["restore", str(tmp_path / "bk"), "--home", str(home)])
    assert back.exit_code == 4 and "changed since the backup" in back.output
    _damage(home / "warehouse.duckdb", "garbage")
    refused = runner.invoke(app, ["backup", "--to", str(tmp_path / "bk2"), "--home", str(home)])
    assert refused.exit_code == 4 and "no backup was made" in refused.output
    assert not (tmp_path / "bk2").exists()
