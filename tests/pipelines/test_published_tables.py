"""What a real ``dtscope demo`` + ``dtscope run`` publishes meets its one definition, strictly.

Strictly: the dtypes exactly as :mod:`evaluation.tables` declares them (nothing is cast), no column the
definition does not name, every required column present, nulls only where allowed, values within their
allowed sets. The world is the session's ``published_home`` (tests/conftest.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import polars as pl
import pytest

from evaluation import likelihood, tables
from pipelines.steps.series import DATA_SET_PRIORITY

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def published(published_home: Path) -> Path:
    return published_home / "published_tables"


def read(published: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(published / f"{name}.parquet")


def test_every_published_table_has_a_definition_and_every_definition_is_published(published: Path) -> None:
    names = {p.stem for p in published.glob("*.parquet")}
    assert names == set(tables.PUBLISHED), (names - set(tables.PUBLISHED), set(tables.PUBLISHED) - names)
    manifest = json.loads((published / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["tables"]) == names  # the manifest is metadata, not a table
    for name in names:
        assert manifest["tables"][name]["rows"] == read(published, name).height, name


@pytest.mark.parametrize("name", sorted(tables.PUBLISHED))
def test_published_table_meets_its_definition_strictly(published: Path, name: str) -> None:
    frame = read(published, name)
    assert frame.height > 0, f"{name} was published empty: the check would prove nothing"
    tables.validate(frame, tables.PUBLISHED[name], what=str(published / f"{name}.parquet"))


def test_the_drift_found_at_5657ebd_is_gone(published: Path) -> None:
    attainment = read(published, "attainment")
    assert attainment.schema["expected_year"] == pl.Int32
    assert "data_set" in read(published, "forecasts").columns  # the KPI page filters on it
    kinds = set(read(published, "runs")["kind"].to_list())
    assert "" not in kinds and {"pipeline", "score", "forecast", "forecast-series"} <= kinds
    scores = read(published, "scores")
    assert any(c.startswith(tables.DIMENSION_PREFIX) for c in scores.columns)


# Each way a published table can break its definition is caught (so the strict check above can fail).
BREAKS = {
    "a float where the definition says Int32": ("attainment", lambda f: f.with_columns(pl.col("expected_year").cast(pl.Float64))),
    "a 64-bit integer where it says Int32": ("forecasts", lambda f: f.with_columns(pl.col("period").cast(pl.Int64))),
    "nanoseconds where it says microseconds": ("runs", lambda f: f.with_columns(pl.col("start_time").cast(pl.Datetime("ns")))),
    "an unknown column": ("calibration", lambda f: f.with_columns(pl.lit(1.0).alias("extra"))),
    "a required column missing": ("forecasts", lambda f: f.drop("q0.975")),
    "a value outside its allowed set": ("runs", lambda f: f.with_columns(pl.lit("").alias("kind"))),
    "a likelihood word not on the scale": ("attainment", lambda f: f.with_columns(pl.lit("可能性中等").alias("likelihood_zh"))),
    "a null in a required column": ("kpis", lambda f: f.with_columns(pl.lit(None, pl.String).alias("unit"))),
    "a duplicate key": ("attainment", lambda f: pl.concat([f, f.head(1)])),
    "a dimension column of the wrong dtype": ("scores", lambda f: f.with_columns(pl.lit("x").alias("dim_extra"))),
}  # fmt: skip


@pytest.mark.parametrize("how", sorted(BREAKS))
def test_the_strict_check_catches(published: Path, how: str) -> None:
    name, breaks = BREAKS[how]
    with pytest.raises(tables.TableError, match=rf"table '{name}' breaks its contract"):
        tables.validate(breaks(read(published, name)), tables.PUBLISHED[name], what=how)


def test_allowed_values_come_from_the_code_that_makes_them() -> None:
    assert set(get_args(tables.DataSet)) == set(DATA_SET_PRIORITY)
    words = tables.allowed(tables.Attainment)
    assert words["likelihood"][:-1] == tuple(t.en for t in likelihood.SCALE)
    assert words["likelihood_zh"][:-1] == tuple(t.zh for t in likelihood.SCALE)


def test_sql_users_read_the_published_set_in_the_warehouse(published_home: Path) -> None:
    """DESIGN.md: what a run publishes is visible in warehouse.duckdb as views of the same names."""
    import duckdb

    con = duckdb.connect(str(published_home / "warehouse.duckdb"), read_only=True)
    try:
        for name in ("scores", "forecasts", "attainment", "backtest_metrics", "calibration"):
            parquet = pl.read_parquet(published_home / "published_tables" / f"{name}.parquet")
            assert con.execute(f"SELECT count(*) FROM {name}").fetchone() == (parquet.height,), name
            assert con.execute(f"SELECT count(*) FROM published.{name}").fetchone() == (parquet.height,), name
        # a published table that shares its name with an input table is under the published schema only
        inputs = con.execute("SELECT count(*) FROM observations").fetchone()
        published = pl.read_parquet(published_home / "published_tables" / "observations.parquet").height
        assert con.execute("SELECT count(*) FROM published.observations").fetchone() == (published,)
        assert inputs is not None and inputs[0] >= published  # every vintage in the table, the pinned latest published
    finally:
        con.close()


def test_every_published_upper_bound_obeys_the_tail_rule(published_home: Path) -> None:
    """Each published series' 97.5 % bound stays under the cap its own history sets (models.champion.plausible).

    Before e501de0 the caps of a group were mapped to the log scale as one row, so small counts beside large
    ones were not capped: 24 of the 52 series of this demo had a bound above their cap (benchmark smart
    factories in Hongkou, history 5, 6, 6: bounds 35–61 against caps 16–36).
    """
    import numpy as np

    from models.champion import ChampionConfig
    from models.champion.plausible import upper_caps
    from pipelines.io.kpi_registry import load_registry
    from pipelines.io.warehouse import Warehouse
    from pipelines.settings import resolve_settings
    from pipelines.steps.forecast import build_specs
    from pipelines.steps.series import annual_series

    multiple = ChampionConfig().tail_multiple
    assert multiple is not None
    settings = resolve_settings(published_home)
    kpis = load_registry(settings.registry_dir).kpis_table()
    specs, _ = build_specs(annual_series(Warehouse(settings.warehouse_path).observations()), kpis)
    forecasts = read(published_home / "published_tables", "forecasts")
    checked, over = 0, []
    for spec in specs:
        fc = forecasts.filter(
            (pl.col("kpi_id") == spec.kpi_id)
            & (pl.col("region") == spec.region)
            & (pl.col("data_set") == spec.data_set)
        ).sort("period")
        if fc.height == 0 or spec.kind == "level":
            continue
        history = np.asarray(spec.values, dtype=float)
        h = fc["period"].to_numpy() - spec.last()[0]
        caps = upper_caps(history, int(h.max()), multiple, spec.upper if spec.kind == "share" else None)[h - 1]
        checked += 1
        if np.any(fc["q0.975"].to_numpy() > caps * (1 + 1e-9)):
            over.append(f"{spec.kpi_id}/{spec.region}: {fc['q0.975'].round(2).to_list()} > {caps.round(2).tolist()}")
    assert checked >= 40, checked
    assert not over, over
