"""Ingest staged in the warehouse: parts validated one at a time and staged in a DuckDB temporary table under
the writer lock (memory bounded by a part), then written in one transaction, with conservation, cross-part
duplicates and atomicity."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.bench.ingest import write_long_csv
from pipelines.io.catalog import iter_table
from pipelines.io.kpi_registry import load_registry
from pipelines.io.limits import Limits
from pipelines.io.warehouse import Warehouse
from pipelines.settings import REGISTRY_DIR
from pipelines.steps.ingest import ValidationResult, validate_parts

REGISTRY = load_registry(REGISTRY_DIR)


def _parts(path: Path, batch_rows: int = 50) -> Iterator[ValidationResult]:
    return validate_parts(iter_table(path, batch_rows=batch_rows), REGISTRY, file_label=path.name)


def test_parts_are_consumed_one_at_a_time(tmp_path: Path) -> None:
    path = write_long_csv(tmp_path / "long.csv", 300)
    held: list[int] = []

    def watched() -> Iterator[ValidationResult]:
        for part in _parts(path):
            held.append(part.accepted.height)
            yield part

    s = Warehouse(tmp_path / "w.duckdb").ingest_stream(watched(), file="long.csv", file_sha256="a" * 64)
    assert held == [50] * 6  # six parts of 50, each staged before the next was read
    assert (s.rows_in, s.accepted, s.unchanged, s.rejected) == (300, 300, 0, 0)
    again = Warehouse(tmp_path / "w.duckdb").ingest_stream(
        _parts(path), file="long.csv", file_sha256="a" * 64
    )
    assert (again.rows_in, again.accepted, again.unchanged, again.rejected) == (300, 0, 300, 0)


def test_conservation_duplicates_across_parts_and_the_reject_cap(tmp_path: Path) -> None:
    lines = ["kpi_id,region,period,value"]
    lines += [f"5g_coverage,pudong,bad{i},50" for i in range(30)]  # 30 bad periods
    lines += [f"5g_coverage,pudong,{y},50" for y in range(1990, 2060)]  # 70 good
    lines += ["5g_coverage,pudong,1995,60"]  # repeats 1995 from another part
    path = tmp_path / "f.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    wh = Warehouse(tmp_path / "w.duckdb")
    s = wh.ingest_stream(
        _parts(path, 40), file="f.csv", file_sha256="b" * 64, limits=Limits(max_rejects_stored=10)
    )
    assert s.rows_in == 101 == s.accepted + s.unchanged + s.rejected
    assert s.rejects_by_reason == {"bad_period": 30, "duplicate_key": 2}
    assert (s.accepted, s.rejected) == (69, 32)
    stored = wh.table("rejects").sort("row")  # a table has no order of its own (inserts run in parallel)
    assert stored.height == 11 and stored["reason_code"].to_list() == ["bad_period"] * 10 + ["more_rejects"]
    assert "22 more" in stored["reason"][-1]
    assert wh.observations().filter(pl.col("period").dt.year() == 1995).height == 0


def test_a_failure_while_reading_a_later_part_leaves_the_warehouse_as_it_was(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "w.duckdb")
    first = write_long_csv(tmp_path / "first.csv", 100)
    wh.ingest_stream(_parts(first), file="first.csv", file_sha256="c" * 64)
    before = (wh.observations(all_vintages=True), wh.table("rejects"), wh.table("ingests"))
    path = write_long_csv(tmp_path / "long.csv", 400)

    def breaking() -> Iterator[ValidationResult]:
        for i, part in enumerate(_parts(path)):
            if i == 4:
                raise OSError("disk gone")
            yield part

    with pytest.raises(OSError, match="disk gone"):
        wh.ingest_stream(breaking(), file="long.csv", file_sha256="d" * 64)
    after = (wh.observations(all_vintages=True), wh.table("rejects"), wh.table("ingests"))
    assert all(a.equals(b) for a, b in zip(before, after, strict=True))


def test_an_ingest_works_beside_a_connection_of_the_same_process_that_spilled(tmp_path: Path) -> None:
    # A process's connections to one file share one DuckDB database, which refuses a new temp_directory once
    # it has spilled ("Cannot switch temporary directory"): the writer must not set one.
    path = tmp_path / "w.duckdb"
    Warehouse(path).ingest_stream(
        _parts(write_long_csv(tmp_path / "a.csv", 50)), file="a.csv", file_sha256="e" * 64
    )
    held = duckdb.connect(str(path))
    try:
        held.execute("SET memory_limit = '8MB'")
        held.execute("CREATE TEMP TABLE big AS SELECT repeat('x', 60) || range AS s FROM range(400000)")
        assert held.execute("SELECT sum(temporary_storage_bytes) FROM duckdb_memory()").fetchall()[0][0] > 0
        s = Warehouse(path).ingest_stream(
            _parts(write_long_csv(tmp_path / "b.csv", 100)), file="b.csv", file_sha256="f" * 64
        )
        assert (s.rows_in, s.accepted + s.unchanged) == (100, 100)
    finally:
        held.close()
