"""Provenance is the loader's word, not the file's: an upload whose ``source`` claims a real publisher stays
``uploaded`` everywhere (warehouse, data sets, the series a forecast fits, ``dtscope status``, the
dashboard's flags), and an old warehouse is migrated once with the old rules' backfill."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from dashboard.views import is_synthetic, kpi_grid
from pipelines.cli.app import app
from pipelines.cli.display import observations_by_data_set
from pipelines.io.kpi_registry import load_registry
from pipelines.io.warehouse import Warehouse
from pipelines.run.pipeline import data_tables, load_published
from pipelines.settings import REGISTRY_DIR, resolve_settings
from pipelines.steps.series import annual_series
from pipelines.steps.uploads import ingest_upload

runner = CliRunner()
REGISTRY = load_registry(REGISTRY_DIR)
KPI, REGION = "info_software_revenue", "shanghai"  # four published annual figures ship for it

# Two years the published figures hold, with values ten times larger, "sourced" to a real newspaper.
CLAIMED = "kpi_id,region,period,value,source\n" + "".join(
    f"{KPI},{REGION},{year},{value},人民日报\n" for year, value in ((2019, 99000), (2020, 99900))
)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    settings = resolve_settings(tmp_path / "home")
    load_published(REGISTRY, Warehouse(settings.warehouse_path))
    return settings.home


def _series(home: Path) -> pl.DataFrame:
    obs = Warehouse(resolve_settings(home).warehouse_path).observations()
    return annual_series(obs).filter((pl.col("kpi_id") == KPI) & (pl.col("region") == REGION))


@pytest.mark.parametrize("origin", ["upload", "api"])
def test_an_upload_claiming_a_real_source_stays_uploaded_and_moves_no_forecast(
    home: Path, origin: str
) -> None:
    before = _series(home)
    assert before["data_set"].unique().to_list() == ["published"]
    answer = ingest_upload(resolve_settings(home), "claims.csv", CLAIMED.encode(), origin=origin)
    assert answer.accepted == 2
    obs = Warehouse(resolve_settings(home).warehouse_path).observations()
    claimed = obs.filter(pl.col("source") == "人民日报")
    assert claimed["provenance"].to_list() == ["uploaded", "uploaded"]
    # the series the forecast fits (and so its p_reach) is the published one, unchanged
    assert _series(home).equals(before)
    # what the dashboard reads: the published observations' data set and flags
    published_obs = data_tables(Warehouse(resolve_settings(home).warehouse_path), REGISTRY, as_of=None)[
        "observations"
    ]
    shown = published_obs.filter(pl.col("source") == "人民日报")
    assert set(shown["data_set"]) == {"file"} and set(shown["provenance"]) == {"uploaded"}
    assert not is_synthetic(shown)
    by_set = dict(observations_by_data_set(obs).select("data set", "observations").iter_rows())
    assert by_set["uploaded files (user's own, not vouched)"] == 2
    assert (
        by_set["published figures (real, shipped)"]
        == obs.filter(pl.col("provenance") == "published")
        .filter(~pl.col("source").str.starts_with("plan:"))
        .height
    )


def test_dtscope_status_counts_a_claimed_source_as_uploaded(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    path.write_text(CLAIMED, encoding="utf-8")
    done = runner.invoke(app, ["ingest", str(path), "--home", str(home)])
    assert done.exit_code == 0, done.output
    status = runner.invoke(app, ["status", "--home", str(home)], terminal_width=200)
    assert status.exit_code == 0, status.output
    line = next(x for x in status.output.splitlines() if "uploaded files" in x)
    assert " 2 " in line
    obs = Warehouse(resolve_settings(home).warehouse_path).observations()
    assert obs.filter(pl.col("source") == "人民日报")["provenance"].to_list() == ["uploaded"] * 2


def test_an_upload_cannot_revise_a_published_row_by_typing_its_source(home: Path) -> None:
    wh = Warehouse(resolve_settings(home).warehouse_path)
    row = (
        wh.observations().filter((pl.col("kpi_id") == KPI) & (pl.col("region") == REGION)).row(0, named=True)
    )
    forged = (
        "kpi_id,region,period,value,source\n"
        f"{KPI},{REGION},{row['period'].year},{row['value'] * 10},{row['source']}\n"
    )
    ingest_upload(resolve_settings(home), "forged.csv", forged.encode())
    latest = wh.observations().filter(
        (pl.col("kpi_id") == KPI) & (pl.col("period") == row["period"]) & (pl.col("source") == row["source"])
    )
    assert sorted(latest["provenance"]) == ["published", "uploaded"]
    assert latest.filter(pl.col("provenance") == "published")["value"].item() == row["value"]


def test_a_provenance_column_in_the_file_is_ignored(home: Path) -> None:
    text = f"kpi_id,region,period,value,provenance\n{KPI},{REGION},2031,5000,published\n"
    ingest_upload(resolve_settings(home), "p.csv", text.encode())
    obs = Warehouse(resolve_settings(home).warehouse_path).observations()
    assert obs.filter(pl.col("period").dt.year() == 2031)["provenance"].to_list() == ["uploaded"]


def test_the_synthetic_flag_reads_provenance_not_source() -> None:
    obs = pl.DataFrame(
        {
            "kpi_id": ["k", "k"],
            "region": ["r", "r"],
            "period": [datetime(2020, 1, 1).date(), datetime(2021, 1, 1).date()],
            "vintage": [datetime(2024, 1, 1)] * 2,
            "value": [1.0, 2.0],
            "source": ["synthetic-demo", "x"],
            "provenance": ["uploaded", "uploaded"],
            "data_set": ["file", "file"],
        }
    )
    kpis = pl.DataFrame(
        {
            c: [None]
            for c in (
                "name_zh",
                "name_en",
                "unit",
                "kind",
                "direction",
                "obligation",
                "target_kind",
                "target_label",
            )
        }
        | {"kpi_id": ["k"], "region": ["r"], "lower": [None], "upper": [None], "precision": [1.0]}
        | {"target_value": [None], "target_high": [None], "target_year": [None]},
        schema_overrides={
            "lower": pl.Float64,
            "upper": pl.Float64,
            "target_value": pl.Float64,
            "target_high": pl.Float64,
            "target_year": pl.Int32,
        },
    )
    assert kpi_grid(kpis, None, obs)["synthetic"].to_list() == [False]
    assert not is_synthetic(obs)
    assert is_synthetic(obs.with_columns(pl.lit("synthetic").alias("provenance")))


# ---------------------------------------------------------------------------------------- migration
OLD_DDL = """
CREATE TABLE observations (
    kpi_id VARCHAR NOT NULL, region VARCHAR NOT NULL, period DATE NOT NULL, freq VARCHAR NOT NULL,
    value DOUBLE NOT NULL, std_error DOUBLE, qualifier VARCHAR NOT NULL, source VARCHAR NOT NULL,
    status VARCHAR NOT NULL, note VARCHAR, vintage TIMESTAMP NOT NULL, ingest_id VARCHAR NOT NULL
);
CREATE TABLE ingests (
    ingest_id VARCHAR PRIMARY KEY, file VARCHAR NOT NULL, file_sha256 VARCHAR NOT NULL, layout VARCHAR NOT NULL,
    vintage TIMESTAMP NOT NULL, rows_in BIGINT NOT NULL, accepted BIGINT NOT NULL, rejected BIGINT NOT NULL,
    unchanged BIGINT NOT NULL
);
"""
# (ingest file, source, provenance the migration must give)
OLD_ROWS = [
    ("/x/demo/observations.csv", "synthetic-demo", "synthetic"),
    ("/repo/data/published/published_figures.csv", "上海统计年鉴2021", "published"),
    ("/repo/data/published/plan_baselines.csv", "plan: 十四五规划", "published"),
    ("upload:claims.csv", "人民日报", "uploaded"),
    ("api:claims.csv", "plan: forged", "uploaded"),
    ("/home/me/mine.csv", "人民日报", "uploaded"),
    ("/home/me/mine2.csv", "file:mine2.csv", "uploaded"),
    ("dtscope-score", "dtscope score (default)", "derived"),
]


def _old_warehouse(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute(OLD_DDL)
    for i, (file, source, _) in enumerate(OLD_ROWS):
        con.execute(
            "INSERT INTO observations VALUES ('k', 'r', DATE '2020-01-01', 'Y', ?, NULL, '=', ?, 'final', NULL, "
            "TIMESTAMP '2024-01-01', ?)",
            [float(i), source, f"ing-{i}"],
        )
        con.execute(
            "INSERT INTO ingests VALUES (?, ?, 'x', 'long', TIMESTAMP '2024-01-01', 1, 1, 0, 0)",
            [f"ing-{i}", file],
        )
    con.close()


def test_an_old_warehouse_is_migrated_once_with_the_old_rules_backfill(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    _old_warehouse(path)
    wh = Warehouse(path)
    expected = {float(i): prov for i, (_, _, prov) in enumerate(OLD_ROWS)}
    # read-only before any write: the backfill computed on the fly
    read = dict(wh.observations(all_vintages=True)[["value", "provenance"]].iter_rows())
    assert read == expected
    with wh.writer() as con:  # the first write migrates
        applied = con.execute("SELECT name FROM warehouse_migrations").fetchall()
    assert applied == [("0001_provenance",)]
    assert dict(wh.observations(all_vintages=True)[["value", "provenance"]].iter_rows()) == expected
    with duckdb.connect(str(path), read_only=True) as con:
        nullable = con.execute(
            "SELECT is_nullable FROM information_schema.columns WHERE table_name = 'observations' "
            "AND column_name = 'provenance'"
        ).fetchall()
    assert nullable == [("NO",)]
    with wh.writer():  # and only once
        pass
    assert dict(wh.observations(all_vintages=True)[["value", "provenance"]].iter_rows()) == expected
