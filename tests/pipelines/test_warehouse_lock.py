"""A writer meets another process's read-only connection: it waits, then says busy; never DuckDB's lock text."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.io.warehouse import Warehouse, WarehouseBusy

HOLD_READ = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("open", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def _reader(db: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD_READ, str(db), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
    return proc


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with Warehouse(path).writer() as con:
        con.execute("SELECT 1")
    return path


def test_a_writer_waits_for_another_process_reading(db: Path) -> None:
    waits: list[str] = []
    proc = _reader(db, 1.5)
    started = time.monotonic()
    with Warehouse(db, lock_timeout=30, on_wait=waits.append).writer() as con:
        assert con.execute("SELECT 42").fetchone() == (42,)
    assert time.monotonic() - started >= 0.5  # it really waited for the reader to close
    assert proc.wait(timeout=30) == 0
    assert waits and "open in another process" in waits[0]


def test_a_writer_that_waits_too_long_says_busy(db: Path) -> None:
    proc = _reader(db, 5)
    try:
        with pytest.raises(WarehouseBusy, match="still open in another process"), Warehouse(db, lock_timeout=0.5).writer():
            pass
    finally:
        proc.kill()
        proc.wait()
