"""The warehouse: one DuckDB file, append-only observations with vintages.

- **Append-only.** An observation is keyed by ``(kpi_id, region, period, freq, source)``. Ingesting a row
  whose key already holds the same value, std_error, qualifier, status and note changes nothing; a changed
  row is appended with a new ``vintage``. Reads take the latest vintage, or the latest *as of* a time, so
  any past forecast can be reproduced from the data it saw.
- **All or nothing.** Each ingest is one transaction; a failure half-way rolls everything back.
- **One writer at a time.** Writers take an exclusive file lock beside the database; a second writer is
  told who holds it and waits (up to ``Settings.lock_timeout`` seconds), so concurrent ingests serialise
  instead of corrupting the file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from filelock import FileLock, Timeout

from evaluation import tables
from pipelines.steps.ingest import ValidationResult

log = logging.getLogger(__name__)

OBS_KEY = ("kpi_id", "region", "period", "freq", "source")
INSERT_SLICE = 50_000  # rows validated and inserted at a time
MEMORY_LIMIT = "400MB"  # DuckDB spills joins to disk beyond this, so a large ingest cannot hold the machine

DDL = """
CREATE TABLE IF NOT EXISTS observations (
    kpi_id VARCHAR NOT NULL, region VARCHAR NOT NULL, period DATE NOT NULL, freq VARCHAR NOT NULL,
    value DOUBLE NOT NULL, std_error DOUBLE, qualifier VARCHAR NOT NULL, source VARCHAR NOT NULL,
    status VARCHAR NOT NULL, note VARCHAR, vintage TIMESTAMP NOT NULL, ingest_id VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS rejects (
    ingest_id VARCHAR NOT NULL, file VARCHAR NOT NULL, file_sha256 VARCHAR NOT NULL, "row" BIGINT NOT NULL,
    "column" VARCHAR NOT NULL, reason_code VARCHAR NOT NULL, reason VARCHAR NOT NULL, raw VARCHAR NOT NULL,
    vintage TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS ingests (
    ingest_id VARCHAR PRIMARY KEY, file VARCHAR NOT NULL, file_sha256 VARCHAR NOT NULL, layout VARCHAR NOT NULL,
    vintage TIMESTAMP NOT NULL, rows_in BIGINT NOT NULL, accepted BIGINT NOT NULL, rejected BIGINT NOT NULL,
    unchanged BIGINT NOT NULL
);
"""

REFERENCE_TABLES: dict[str, dict[str, Any]] = {
    "kpis": tables.dtypes(tables.Kpis),
    "scenarios": tables.dtypes(tables.Scenarios),
    "scenario_metrics": tables.dtypes(tables.ScenarioMetrics),
    "street_outcomes": tables.dtypes(tables.StreetOutcomes),
}


class WarehouseBusy(RuntimeError):
    """Another process held the writer lock for longer than the timeout."""


class WarehouseDamaged(RuntimeError):
    """The warehouse file exists but is not a readable DuckDB database (truncated, emptied, overwritten)."""

    def __init__(self, path: Path, cause: str) -> None:
        super().__init__(
            f"the warehouse {path} is damaged and cannot be read ({cause}). Nothing was changed. "
            "`dtscope check` says what is wrong; `dtscope restore DIR` brings back a backup made with "
            "`dtscope backup`."
        )
        self.path = path


def _is_lock_conflict(exc: BaseException) -> bool:
    return "lock" in str(exc).casefold()


def _damage(exc: BaseException) -> str:
    text = str(exc).split("\n")[0]
    if "not a valid DuckDB database" in text:
        return "not a DuckDB database file"
    if "read enough bytes" in text or "truncated" in text.casefold():
        return "the file is truncated"
    return text.removeprefix("IO Error: ")[:200]


_HEADER_BYTES = 3 * 4096  # DuckDB's file header: one main header and two database headers


def _check_size(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse a file shorter than the blocks its header counts (a truncated copy reads until it does not).

    For ``dtscope check`` and backups only: within one process DuckDB shares a database between
    connections, whose blocks may not all be in the file yet, so ordinary reads cannot use this test.
    """
    if path.with_name(path.name + ".wal").exists():
        return  # blocks replayed from the write-ahead log are counted but not yet in the file
    row = con.execute("PRAGMA database_size").fetchone()
    if row is None:
        return
    block_size, total_blocks = int(row[2]), int(row[3])
    needed = _HEADER_BYTES + block_size * total_blocks
    size = path.stat().st_size
    if size < needed:
        raise WarehouseDamaged(path, f"the file is truncated: {size} bytes of the {needed} its header counts")


@contextlib.contextmanager
def _damage_as_error(path: Path) -> Iterator[None]:
    """Turn DuckDB's errors about a broken file into one :class:`WarehouseDamaged` message."""
    try:
        yield
    except (duckdb.IOException, duckdb.SerializationException, duckdb.InternalException) as exc:
        if isinstance(exc, duckdb.IOException) and _is_lock_conflict(exc):
            raise
        raise WarehouseDamaged(path, _damage(exc)) from None


@dataclass(frozen=True)
class IngestSummary:
    """Counts for one file: ``rows_in == accepted + rejected + unchanged`` always.

    ``accepted`` counts rows written as a new vintage; ``unchanged`` rows already held the same content.
    """

    file: str
    file_sha256: str
    layout: str
    ingest_id: str | None
    rows_in: int
    accepted: int
    rejected: int
    unchanged: int
    rejects_by_reason: dict[str, int]


def _query(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: list[Any] | None = None,
    schema: dict[str, Any] | None = None,
) -> pl.DataFrame:
    frame = pl.from_arrow(con.sql(sql, params=params).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    if schema is not None:
        frame = frame.cast(schema)  # type: ignore[arg-type]
    return frame


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Warehouse:
    """The DuckDB file at ``path``; writers serialise on ``lock_path``.

    Args:
        path: the database file (created on first write).
        lock_path: the writer lock file.
        lock_timeout: seconds a writer waits for another before raising :class:`WarehouseBusy`.
        on_wait: called once with a message when a writer has to wait (the CLI prints it).
    """

    def __init__(
        self,
        path: Path,
        *,
        lock_path: Path | None = None,
        lock_timeout: float = 60.0,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.path = path
        self.lock_path = lock_path or path.with_name(path.name + ".writer.lock")
        self.lock_timeout = lock_timeout
        self.on_wait = on_wait

    # ------------------------------------------------------------------ connections
    @contextlib.contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """An exclusive read-write connection (schema ensured)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.lock_path))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            holder = _read_holder(self.lock_path)
            msg = (
                f"warehouse {self.path} is busy: another writer ({holder}) holds {self.lock_path}; "
                f"waiting up to {self.lock_timeout:g} s"
            )
            log.warning(msg)
            if self.on_wait:
                self.on_wait(msg)
            try:
                lock.acquire(timeout=self.lock_timeout)
            except Timeout as exc:
                raise WarehouseBusy(
                    f"warehouse {self.path} is still busy after {self.lock_timeout:g} s ({holder}); try again later"
                ) from exc
        try:
            _write_holder(self.lock_path)
            with _damage_as_error(self.path):
                con = duckdb.connect(str(self.path))
                try:
                    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
                    con.execute(DDL)
                    yield con
                finally:
                    con.close()
        finally:
            lock.release()

    @contextlib.contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read connection; an absent warehouse reads as empty tables."""
        if not self.path.exists():
            con = duckdb.connect(":memory:")
            con.execute(DDL)
        else:
            con = self._connect_read()
        try:
            with _damage_as_error(self.path):
                yield con
        finally:
            con.close()

    def _connect_read(self) -> duckdb.DuckDBPyConnection:
        # DuckDB refuses a read-only connection while another process writes; wait for the writer.
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                with _damage_as_error(self.path):
                    return duckdb.connect(str(self.path), read_only=True)
            except duckdb.IOException:
                if time.monotonic() > deadline:
                    raise WarehouseBusy(
                        f"warehouse {self.path} is still being written after {self.lock_timeout:g} s; try again later"
                    ) from None
                time.sleep(0.2)

    # ------------------------------------------------------------------ writes
    def ingest(
        self,
        result: ValidationResult,
        *,
        file: str,
        file_sha256: str,
        _fail_after_observations: bool = False,
    ) -> IngestSummary:
        """Write one validated file in one transaction; return its counts.

        Args:
            result: from :func:`pipelines.steps.ingest.validate_table`.
            file: the file's name as the user gave it.
            file_sha256: its content hash (see :func:`pipelines.io.catalog.file_sha256`).
            _fail_after_observations: test hook that raises after the observations insert, to prove the
                rollback leaves the warehouse exactly as before.
        """
        vintage = _now()
        ingest_id = f"ing-{vintage:%Y%m%dT%H%M%S%f}-{file_sha256[:8]}"
        accepted = result.accepted
        with self.writer() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                new = accepted.select(
                    "kpi_id",
                    "region",
                    "period",
                    "freq",
                    "value",
                    "std_error",
                    "qualifier",
                    "source",
                    "status",
                    "note",
                )
                con.register("incoming", new.to_arrow())
                changed = _query(
                    con,
                    """
                        WITH latest AS (
                            SELECT * FROM observations
                            QUALIFY row_number() OVER (
                                PARTITION BY kpi_id, region, period, freq, source ORDER BY vintage DESC) = 1
                        )
                        SELECT i.* FROM incoming i LEFT JOIN latest l USING (kpi_id, region, period, freq, source)
                        WHERE l.kpi_id IS NULL
                           OR l.value <> i.value
                           OR l.std_error IS DISTINCT FROM i.std_error
                           OR l.qualifier <> i.qualifier
                           OR l.status <> i.status
                           OR l.note IS DISTINCT FROM i.note
                        """,
                )
                con.unregister("incoming")
                n_new = changed.height
                for start in range(0, n_new, INSERT_SLICE):  # in slices: memory bounded by a slice
                    rows = (
                        changed.slice(start, INSERT_SLICE)
                        .with_columns(
                            pl.lit(vintage).cast(pl.Datetime("us")).alias("vintage"),
                            pl.lit(ingest_id).alias("ingest_id"),
                        )
                        .cast(tables.dtypes(tables.Observations))  # type: ignore[arg-type]
                    )
                    tables.validate(rows, tables.Observations, what=file)
                    con.register("new_rows", rows.to_arrow())
                    con.execute("INSERT INTO observations SELECT * FROM new_rows")
                    con.unregister("new_rows")
                    del rows
                del changed
                if _fail_after_observations:
                    raise RuntimeError("injected failure after the observations insert (test hook)")
                rej = result.rejects.with_columns(
                    pl.lit(ingest_id).alias("ingest_id"),
                    pl.lit(file).alias("file"),
                    pl.lit(file_sha256).alias("file_sha256"),
                    pl.lit(vintage).cast(pl.Datetime("us")).alias("vintage"),
                ).select(list(tables.dtypes(tables.Rejects)))
                con.register("new_rejects", rej.to_arrow())
                n_new_rejects = con.execute(
                    """
                    SELECT count(*) FROM new_rejects n WHERE NOT EXISTS (
                        SELECT 1 FROM rejects r WHERE r.file_sha256 = n.file_sha256 AND r."row" = n."row"
                          AND r."column" = n."column" AND r.reason_code = n.reason_code)
                    """
                ).fetchall()[0]
                assert n_new_rejects is not None
                con.execute(
                    """
                    INSERT INTO rejects SELECT * FROM new_rejects n WHERE NOT EXISTS (
                        SELECT 1 FROM rejects r WHERE r.file_sha256 = n.file_sha256 AND r."row" = n."row"
                          AND r."column" = n."column" AND r.reason_code = n.reason_code)
                    """
                )
                con.unregister("new_rejects")
                unchanged = accepted.height - n_new
                wrote_something = n_new > 0 or n_new_rejects[0] > 0
                if wrote_something:
                    con.execute(
                        "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            ingest_id,
                            file,
                            file_sha256,
                            result.layout,
                            vintage,
                            result.rows_in,
                            n_new,
                            result.n_rejected,
                            unchanged,
                        ],
                    )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        by_reason = result.rejects_by_reason
        return IngestSummary(
            file=file,
            file_sha256=file_sha256,
            layout=result.layout,
            ingest_id=ingest_id if wrote_something else None,
            rows_in=result.rows_in,
            accepted=n_new,
            rejected=result.n_rejected,
            unchanged=unchanged,
            rejects_by_reason=by_reason,
        )

    def replace_reference(self, name: str, frame: pl.DataFrame) -> bool:
        """Replace a reference table (kpis, scenarios, …) in one transaction; False when already identical."""
        if name not in REFERENCE_TABLES:
            raise KeyError(f"{name!r} is not a reference table; known: {sorted(REFERENCE_TABLES)}")
        frame = frame.cast(REFERENCE_TABLES[name])  # type: ignore[arg-type]
        with self.writer() as con:
            exists = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
            ).fetchall()[0]
            assert exists is not None
            if exists[0]:
                current = _query(con, f'SELECT * FROM "{name}"')
                if current.columns == frame.columns and current.height == frame.height:
                    cols = frame.columns
                    if current.sort(cols).cast(frame.schema).equals(frame.sort(cols)):
                        return False
            con.execute("BEGIN TRANSACTION")
            try:
                con.register("incoming", frame.to_arrow())
                con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM incoming')
                con.unregister("incoming")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return True

    # ------------------------------------------------------------------ reads
    def observations(
        self,
        *,
        as_of: datetime | None = None,
        kpi_id: str | None = None,
        region: str | None = None,
        all_vintages: bool = False,
    ) -> pl.DataFrame:
        """Observations, latest vintage per key (as of ``as_of`` when given), columns of ``observations``."""
        where: list[str] = ["1=1"]
        params: list[Any] = []
        if as_of is not None:
            where.append("vintage <= ?")
            params.append(as_of)
        if kpi_id is not None:
            where.append("kpi_id = ?")
            params.append(kpi_id)
        if region is not None:
            where.append("region = ?")
            params.append(region)
        qualify = (
            ""
            if all_vintages
            else (
                "QUALIFY row_number() OVER (PARTITION BY kpi_id, region, period, freq, source ORDER BY vintage DESC) = 1"
            )
        )
        sql = f"SELECT * FROM observations WHERE {' AND '.join(where)} {qualify} ORDER BY kpi_id, region, period, source, vintage"
        with self.reader() as con:
            return _query(con, sql, params, tables.dtypes(tables.Observations))

    def table(self, name: str) -> pl.DataFrame:
        """A whole table by name (rejects, ingests, scenarios, …); empty when absent."""
        with self.reader() as con:
            exists = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
            ).fetchall()[0]
            assert exists is not None
            if not exists[0]:
                schema = {
                    "rejects": tables.dtypes(tables.Rejects),
                    "ingests": tables.dtypes(tables.Ingests),
                    "observations": tables.dtypes(tables.Observations),
                    **REFERENCE_TABLES,
                }.get(name)
                if schema is None:
                    raise KeyError(f"no table {name!r} in {self.path}")
                return pl.DataFrame(schema=schema)
            return _query(con, f'SELECT * FROM "{name}"')

    def vintages(self) -> list[datetime]:
        """The distinct vintages, oldest first."""
        with self.reader() as con:
            return [
                r[0] for r in con.execute("SELECT DISTINCT vintage FROM observations ORDER BY 1").fetchall()
            ]


def _write_holder(lock_path: Path) -> None:
    with contextlib.suppress(OSError):
        lock_path.with_suffix(lock_path.suffix + ".holder").write_text(
            f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC", encoding="utf-8"
        )


def _read_holder(lock_path: Path) -> str:
    try:
        return lock_path.with_suffix(lock_path.suffix + ".holder").read_text(encoding="utf-8")
    except OSError:
        return "unknown process"
