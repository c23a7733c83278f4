"""The warehouse on a real DuckDB file: idempotent re-ingest, vintages, as-of reads, crash safety, concurrency."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pytest

from pipelines.io.catalog import file_sha256, read_table
from pipelines.io.kpi_registry import load_registry
from pipelines.io.warehouse import IngestSummary, Warehouse
from pipelines.settings import PROJECT_ROOT
from pipelines.steps.ingest import validate_table

FIXTURES = Path(__file__).parent / "fixtures"


def _ingest(wh: Warehouse, path: Path, **kw: bool) -> IngestSummary:
    result = validate_table(read_table(path), load_registry(), file_label=path.name)
    return wh.ingest(result, file=str(path), file_sha256=file_sha256(path), **kw)


def _snapshot(wh: Warehouse) -> dict[str, pl.DataFrame]:
    return {name: wh.table(name) for name in ("observations", "rejects", "ingests")}


def _same(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]) -> bool:
    return all(a[k].equals(b[k]) for k in a)


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text("kpi_id,region,period,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_reingesting_the_same_file_changes_nothing(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "warehouse.duckdb")
    first = _ingest(wh, FIXTURES / "ingest_bad_rows.csv")
    assert (first.rows_in, first.accepted, first.rejected, first.unchanged) == (14, 1, 13, 0)
    before = _snapshot(wh)
    second = _ingest(wh, FIXTURES / "ingest_bad_rows.csv")
    assert (second.rows_in, second.accepted, second.rejected, second.unchanged) == (14, 0, 13, 1)
    assert second.ingest_id is None
    assert _same(before, _snapshot(wh))


def test_a_changed_value_is_a_new_vintage_and_as_of_reads_the_old_one(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "warehouse.duckdb")
    path = tmp_path / "obs.csv"
    _write(path, ["open_datasets,pudong,2021,400", "open_datasets,pudong,2022,450"])
    s1 = _ingest(wh, path)
    v1 = wh.vintages()[-1]
    time.sleep(0.01)
    _write(path, ["open_datasets,pudong,2021,400", "open_datasets,pudong,2022,470"])  # a revision
    s2 = _ingest(wh, path)
    assert (s1.accepted, s2.accepted, s2.unchanged) == (2, 1, 1)
    latest = wh.observations(kpi_id="open_datasets").sort("period")["value"].to_list()
    assert latest == [400.0, 470.0]
    as_of = wh.observations(kpi_id="open_datasets", as_of=v1).sort("period")["value"].to_list()
    assert as_of == [400.0, 450.0]
    history = wh.observations(kpi_id="open_datasets", all_vintages=True)
    assert history.height == 3  # append-only: the old vintage is still there
    assert len(wh.vintages()) == 2


def test_conservation_holds_for_every_fixture(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "warehouse.duckdb")
    for name in ("ingest_good_long.csv", "ingest_bad_rows.csv", "ingest_wide.csv", "ingest_wide.xlsx"):
        for _ in range(2):
            s = _ingest(wh, FIXTURES / name)
            assert s.rows_in == s.accepted + s.rejected + s.unchanged, name
    log = wh.table("ingests")
    assert (log["rows_in"] == log["accepted"] + log["rejected"] + log["unchanged"]).all()


def test_failure_half_way_leaves_the_warehouse_exactly_as_before(tmp_path: Path) -> None:
    wh = Warehouse(tmp_path / "warehouse.duckdb")
    _ingest(wh, FIXTURES / "ingest_wide.csv")
    before = _snapshot(wh)
    with pytest.raises(RuntimeError, match="injected failure"):
        _ingest(wh, FIXTURES / "ingest_good_long.csv", _fail_after_observations=True)
    assert _same(before, _snapshot(wh))
    # and the lock was released: a normal ingest goes through
    assert _ingest(wh, FIXTURES / "ingest_good_long.csv").accepted == 13


KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from pipelines.io.warehouse import Warehouse
    wh = Warehouse(Path(sys.argv[1]))
    with wh.writer() as con:
        con.execute("BEGIN TRANSACTION")
        con.execute(
            "INSERT INTO observations SELECT 'open_datasets', 'pudong', DATE '2000-01-01' + CAST(i AS INTEGER), 'Y', i, NULL, '=', "
            "'killed', 'final', NULL, TIMESTAMP '2020-01-01', 'ing-killed', 'uploaded' FROM range(50000) t(i)"
        )
        print("inserted", flush=True)
        time.sleep(60)
    """
)


def test_a_writer_killed_mid_transaction_loses_only_its_own_work(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    wh = Warehouse(db)
    _ingest(wh, FIXTURES / "ingest_wide.csv")
    before = _snapshot(wh)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(db)], stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "inserted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    after = _snapshot(wh)  # reopening recovers from the WAL without the uncommitted rows
    assert _same(before, after)
    assert _ingest(wh, FIXTURES / "ingest_good_long.csv").accepted == 13


HOLD_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from pipelines.io.warehouse import Warehouse
    wh = Warehouse(Path(sys.argv[1]))
    release = Path(sys.argv[2])
    with wh.writer():
        print("holding", flush=True)
        deadline = time.monotonic() + 120
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    """
)


def test_second_writer_is_told_and_waits_for_the_first(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    db = home / "warehouse.duckdb"
    release = tmp_path / "release"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, str(db), str(release)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "holding"
    err_path = tmp_path / "cli.err"
    with err_path.open("w") as err:
        cli = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipelines.cli.app",
                "ingest",
                str(FIXTURES / "ingest_wide.csv"),
                "--home",
                str(home),
            ],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            cwd=PROJECT_ROOT,
        )
        # The second writer must say it is waiting while the first still holds the lock.
        deadline = time.monotonic() + 90
        while "is busy: another writer (pid" not in " ".join(err_path.read_text().split()):
            assert cli.poll() is None, f"the CLI ended without waiting: {err_path.read_text()}"
            assert time.monotonic() < deadline, "the CLI never reported the busy warehouse"
            time.sleep(0.05)
        assert cli.poll() is None  # still waiting, not failed
        release.touch()
        cli.communicate(timeout=120)
    holder.wait(timeout=30)
    assert cli.returncode == 0, err_path.read_text()
    assert Warehouse(db).observations().height == 6


CONCURRENT_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from pipelines.io.catalog import file_sha256, read_table
    from pipelines.steps.ingest import validate_table
    from pipelines.io.kpi_registry import load_registry
    from pipelines.io.warehouse import Warehouse
    path = Path(sys.argv[2])
    result = validate_table(read_table(path), load_registry(), file_label=path.name)
    s = Warehouse(Path(sys.argv[1]), lock_timeout=120).ingest(result, file=str(path), file_sha256=file_sha256(path))
    print(s.accepted, flush=True)
    """
)


def test_concurrent_ingests_serialise_and_both_land(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    files = []
    for k in range(3):
        rows = [
            f"iot_nodes,{region},{year},{1000 * k + year}"
            for region in ("pudong", "hongkou", "xuhui")
            for year in range(2000, 2020)
        ]
        files.append(_write(tmp_path / f"part{k}.csv", rows))
    # three writers for the same source key space but different files → different sources, all must land
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_SCRIPT, str(db), str(f)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=PROJECT_ROOT,
        )
        for f in files
    ]
    outs = [p.communicate(timeout=180) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-500:] for o in outs]
    assert [int(o[0].strip()) for o in outs] == [60, 60, 60]
    wh = Warehouse(db)
    assert wh.observations().height == 180
    assert wh.table("ingests").height == 3
