"""The warehouse: one DuckDB file, append-only observations with vintages.

- **Append-only.** An observation is keyed by ``(kpi_id, region, period, freq, source)``. Ingesting a row
  whose key already holds the same value, std_error, qualifier, status and note changes nothing; a changed
  row is appended with a new ``vintage``. Reads take the latest vintage, or the latest *as of* a time, so
  any past forecast can be reproduced from the data it saw.
- **All or nothing.** Each ingest is one transaction; a failure half-way rolls everything back.
- **Provenance is the loader's word.** Every observation carries ``provenance`` (``synthetic`` from the
  demo loader, ``published`` from the shipped ``data/published/`` figures and plan baselines loaded by
  :func:`pipelines.run.pipeline.load_published`, ``uploaded`` from any user file through the CLI, the
  dashboard or the API, ``derived`` for dtscope's own rows), passed to :meth:`Warehouse.ingest` by the
  code that loads the rows and never read from the file; it is part of the key, so an upload can never
  revise a published row by typing its ``source``.
- **Migration 1 (provenance).** A warehouse made before the column existed gets it on its first write:
  the column is added and backfilled once from the old ``source`` prefixes (``synthetic…`` synthetic,
  ``dtscope…`` derived, ``file:…`` uploaded), except that a row the old rule called real (``plan:…`` or
  any other text) is ``published`` only when its ingest log names the shipped file
  (``published_figures.csv`` or ``plan_baselines.csv``, not through ``upload:``/``api:``); every other
  such row is ``uploaded``. The migration is recorded in ``warehouse_migrations``. Until then a read-only
  reader sees the same backfill computed on the fly.
- **One writer at a time.** Writers take an exclusive file lock beside the database; a second writer is
  told who holds it and waits (up to ``Settings.lock_timeout`` seconds), so concurrent ingests serialise
  instead of corrupting the file.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from filelock import FileLock, Timeout

from evaluation import tables
from pipelines.io.limits import LIMITS, Limits
from pipelines.steps.ingest import REJECT_SCHEMA, ValidationResult, cap_rejects

log = logging.getLogger(__name__)

OBS_KEY = ("kpi_id", "region", "period", "freq", "source", "provenance")
PROVENANCES = tables.allowed(tables.Observations)["provenance"]
MEMORY_LIMIT = "400MB"  # DuckDB spills joins to disk beyond this, so a large ingest cannot hold the machine
# An ingest's staging table and its joins spill beyond this, so its peak stays flat in the file's size: the
# imports (~190 MB) + this + ~100 MB DuckDB keeps outside it. Measured on pre-validated parts: 583 MB for 1 M
# rows, 591 MB for 2.6 M, 592 MB re-ingesting 2.6 M into 7.8 M held (the CLI: pipelines.bench.ingest). 200 MB
# peaked ~100 MB lower but ran out of memory re-ingesting 2.6 M rows when the insert's join filtered on the
# staged keys, so this keeps a margin.
INGEST_MEMORY_LIMIT = "300MB"

DDL = """
CREATE TABLE IF NOT EXISTS observations (
    kpi_id VARCHAR NOT NULL, region VARCHAR NOT NULL, period DATE NOT NULL, freq VARCHAR NOT NULL,
    value DOUBLE NOT NULL, std_error DOUBLE, qualifier VARCHAR NOT NULL, source VARCHAR NOT NULL,
    status VARCHAR NOT NULL, note VARCHAR, vintage TIMESTAMP NOT NULL, ingest_id VARCHAR NOT NULL,
    provenance VARCHAR NOT NULL
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

# Migration 1: the provenance of rows stored before the column existed (see the module docstring).
BACKFILL_PROVENANCE = """
CASE
    WHEN o.source LIKE 'synthetic%' THEN 'synthetic'
    WHEN o.source LIKE 'dtscope%' THEN 'derived'
    WHEN o.source LIKE 'file:%' THEN 'uploaded'
    WHEN i.file IS NULL OR i.file LIKE 'upload:%' OR i.file LIKE 'api:%' THEN 'uploaded'
    WHEN o.source LIKE 'plan:%' AND regexp_extract(i.file, '[^/\\\\]*$') = 'plan_baselines.csv' THEN 'published'
    WHEN o.source NOT LIKE 'plan:%' AND regexp_extract(i.file, '[^/\\\\]*$') = 'published_figures.csv'
        THEN 'published'
    ELSE 'uploaded'
END"""
MIGRATIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS warehouse_migrations (name VARCHAR PRIMARY KEY, applied TIMESTAMP NOT NULL)"
)


def _unmigrated(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``observations`` exists without its ``provenance`` column (made before migration 1)."""
    columns = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() "
            "AND table_schema = 'main' AND table_name = 'observations'"
        ).fetchall()
    }
    return bool(columns) and "provenance" not in columns


def migrate(con: duckdb.DuckDBPyConnection) -> bool:
    """Migration 1: add ``observations.provenance`` and backfill it once; True when it ran.

    Runs in its own transaction on a read-write connection, before the schema DDL needs the column.
    """
    if not _unmigrated(con):
        return False
    con.execute("BEGIN TRANSACTION")
    try:
        # rebuilt rather than altered: DuckDB cannot add NOT NULL to a column updated in the same transaction
        con.execute(
            f"""CREATE TEMP TABLE observations_backfill AS
                SELECT o.*, {BACKFILL_PROVENANCE} AS provenance
                FROM observations o LEFT JOIN ingests i USING (ingest_id)"""
        )
        con.execute("DROP TABLE observations")
        con.execute(DDL)
        con.execute("INSERT INTO observations BY NAME SELECT * FROM observations_backfill")
        con.execute("DROP TABLE observations_backfill")
        con.execute(MIGRATIONS_DDL)
        con.execute("INSERT OR IGNORE INTO warehouse_migrations VALUES ('0001_provenance', ?)", [_now()])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    log.warning("warehouse migrated: observations.provenance added and backfilled from the old source rules")
    return True


def _shadow_unmigrated(con: duckdb.DuckDBPyConnection) -> None:
    """On a read-only connection to an unmigrated warehouse, read observations with the backfill applied."""
    if not _unmigrated(con):
        return
    db = con.execute("SELECT current_database()").fetchall()[0][0]
    con.execute(
        f"""CREATE TEMP VIEW observations AS
            SELECT o.*, {BACKFILL_PROVENANCE} AS provenance
            FROM "{db}".main.observations o LEFT JOIN "{db}".main.ingests i USING (ingest_id)"""
    )


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
    rejects: pl.DataFrame = field(default_factory=pl.DataFrame, repr=False, compare=False)  # as stored


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


class _Tally:
    """What one streamed ingest has seen so far: layout, rows in, reject counts and the rejects it keeps."""

    def __init__(self, max_kept: int) -> None:
        self.max_kept = max_kept
        self.layout = "unknown"
        self.rows_in = 0
        self.counts: dict[str, int] = defaultdict(int)
        self.kept: list[pl.DataFrame] = []  # the first max_kept + 1 rejects, no more
        self.n_kept = 0

    @property
    def room(self) -> int:
        """How many more rejects are kept one by one (one past the cap, so the cap's summary can tell)."""
        return max(self.max_kept + 1 - self.n_kept, 0)

    def keep(self, rejects: pl.DataFrame) -> None:
        if self.room and rejects.height:
            head = rejects.head(self.room)
            self.kept.append(head)
            self.n_kept += head.height

    def kept_frame(self) -> pl.DataFrame:
        return pl.concat(self.kept) if self.kept else pl.DataFrame(schema=REJECT_SCHEMA)


def _stage(
    con: duckdb.DuckDBPyConnection,
    parts: Iterable[ValidationResult],
    tally: _Tally,
    *,
    vintage: datetime,
    ingest_id: str,
    provenance: str,
    file: str,
) -> None:
    """Stage every part's accepted rows (checked against the table definition) in the temp table ``staged``.

    Run outside the ingest's transaction, on purpose: each part's insert commits to the temporary table
    (which lives and dies with the connection, so nothing of it reaches the warehouse file) and spills to
    the ``temp_directory`` beyond the memory limit, whereas rows inserted inside an open transaction are
    held in memory until it ends (about 250 MB per million rows, outside DuckDB's ``memory_limit``).
    """
    obs_schema = tables.dtypes(tables.Observations)
    stamp = (
        pl.lit(vintage).cast(pl.Datetime("us")).alias("vintage"),
        pl.lit(ingest_id).alias("ingest_id"),
        pl.lit(provenance).alias("provenance"),
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE staged AS "
        'SELECT CAST(NULL AS BIGINT) AS "row", CAST(NULL AS VARCHAR) AS "column", * '
        "FROM observations LIMIT 0"
    )
    for part in parts:
        tally.layout = part.layout if tally.layout == "unknown" else tally.layout
        tally.rows_in += part.rows_in
        for code, n in part.rejects_by_reason.items():
            tally.counts[code] += n
        tally.keep(part.rejects)
        if part.accepted.height == 0:
            continue
        rows = part.accepted.with_columns(*stamp)
        typed = rows.select("row", "column", *obs_schema).cast(obs_schema)  # type: ignore[arg-type]
        tables.validate(typed.drop("row", "column"), tables.Observations, what=file)
        con.register("part_rows", typed.to_arrow())
        con.execute("INSERT INTO staged BY NAME SELECT * FROM part_rows")
        con.unregister("part_rows")
        del rows, typed


def _drop_repeated_keys(con: duckdb.DuckDBPyConnection, tally: _Tally) -> None:
    """Reject every copy of a key staged more than once (only across parts: a part rejected its own repeats)."""
    key = ", ".join(OBS_KEY)
    # a hash aggregate, which spills, rather than a window over every row
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE repeated AS "
        f"SELECT {key}, count(*) AS n FROM staged GROUP BY {key} HAVING count(*) > 1"
    )
    n_dup = con.execute("SELECT coalesce(sum(n), 0) FROM repeated").fetchall()[0][0]
    if n_dup:
        tally.counts["duplicate_key"] += n_dup
        if tally.room:
            tally.keep(
                _query(
                    con,
                    f"""SELECT "row", "column", 'duplicate_key' AS reason_code,
                            'duplicate key (' || kpi_id || ', ' || region || ', period ' || CAST(period AS VARCHAR)
                            || ', source ' || source || ') appears in more than one row; keep one' AS reason,
                            '' AS raw
                        FROM staged SEMI JOIN repeated USING ({key})
                        ORDER BY "row", "column" LIMIT ?""",
                    [tally.room],
                    REJECT_SCHEMA,
                )
            )
        con.execute(
            f"DELETE FROM staged WHERE rowid IN (SELECT rowid FROM staged SEMI JOIN repeated USING ({key}))"
        )
    con.execute("DROP TABLE repeated")


def _insert_new_and_changed(con: duckdb.DuckDBPyConnection) -> int:
    """Append the staged rows whose key is new or whose content changed, as this vintage."""
    key = ", ".join(OBS_KEY)
    n_new = int(
        con.execute(
            f"""INSERT INTO observations BY NAME
                WITH latest AS (
                    SELECT * FROM observations
                    QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY vintage DESC) = 1
                )
                SELECT s.* EXCLUDE ("row", "column") FROM staged s LEFT JOIN latest l USING ({key})
                WHERE l.kpi_id IS NULL
                   OR l.value <> s.value
                   OR l.std_error IS DISTINCT FROM s.std_error
                   OR l.qualifier <> s.qualifier
                   OR l.status <> s.status
                   OR l.note IS DISTINCT FROM s.note"""
        ).fetchall()[0][0]
    )
    return n_new


def _insert_fresh_rejects(con: duckdb.DuckDBPyConnection, rejects: pl.DataFrame) -> int:
    """Store the rejects the table does not hold yet (same file, row, column and reason); return how many."""
    con.register("new_rejects", rejects.to_arrow())
    fresh = """FROM new_rejects n WHERE NOT EXISTS (
            SELECT 1 FROM rejects r WHERE r.file_sha256 = n.file_sha256 AND r."row" = n."row"
              AND r."column" = n."column" AND r.reason_code = n.reason_code)"""
    n = int(con.execute(f"SELECT count(*) {fresh}").fetchall()[0][0])
    con.execute(f"INSERT INTO rejects SELECT * {fresh}")
    con.unregister("new_rejects")
    return n


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
                con = self._connect_write()
                try:
                    # spills go to DuckDB's default temp_directory for a file, warehouse.duckdb.tmp in the home
                    # (not set here: a process's connections share one database, which refuses a second SET
                    # once it has spilled)
                    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
                    con.execute(
                        "SET preserve_insertion_order = false"
                    )  # large inserts stream instead of buffering
                    migrate(con)
                    con.execute(DDL)
                    con.execute(MIGRATIONS_DDL)
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
            with _damage_as_error(self.path):
                _shadow_unmigrated(con)
        try:
            with _damage_as_error(self.path):
                yield con
        finally:
            con.close()

    def _connect_write(self) -> duckdb.DuckDBPyConnection:
        # Another process reading (a server's read-only connection) holds DuckDB's file lock too, and the open
        # fails before any transaction starts: wait for it like for another writer, then say busy.
        deadline = time.monotonic() + self.lock_timeout
        pause = 0.05
        while True:
            try:
                return duckdb.connect(str(self.path))
            except duckdb.IOException as exc:
                if not _is_lock_conflict(exc):
                    raise
                if time.monotonic() + pause > deadline:
                    raise WarehouseBusy(
                        f"warehouse {self.path} is still open in another process after {self.lock_timeout:g} s; "
                        "try again later"
                    ) from None
                if self.on_wait and pause == 0.05:
                    self.on_wait(
                        f"warehouse {self.path} is open in another process; waiting up to {self.lock_timeout:g} s"
                    )
                time.sleep(pause)
                pause = min(pause * 2, 0.5)

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
        provenance: str = "uploaded",
        _fail_after_observations: bool = False,
    ) -> IngestSummary:
        """Write one validated file in one transaction; return its counts (see :meth:`ingest_stream`).

        Args:
            result: from :func:`pipelines.steps.ingest.validate_table` or ``validate_batches``.
            file, file_sha256, provenance, _fail_after_observations: as for :meth:`ingest_stream`.
        """
        return self.ingest_stream(
            [result],
            file=file,
            file_sha256=file_sha256,
            provenance=provenance,
            _fail_after_observations=_fail_after_observations,
        )

    def ingest_stream(
        self,
        parts: Iterable[ValidationResult],
        *,
        file: str,
        file_sha256: str,
        provenance: str = "uploaded",
        limits: Limits = LIMITS,
        _fail_after_observations: bool = False,
    ) -> IngestSummary:
        """Write a file validated part by part in one transaction, with memory bounded by a part.

        Each part's accepted rows are checked against the table definition and staged in a DuckDB
        temporary table (it spills to the home's ``warehouse.duckdb.tmp`` beyond
        :data:`INGEST_MEMORY_LIMIT`), so the whole file never sits in memory; a key repeated across parts
        rejects every copy (``duplicate_key``), as within one part; the new and changed rows go from the
        staging table to ``observations`` in SQL. At most ``limits.max_rejects_stored`` rejects are stored
        one by one, the rest counted in one summary row. The first part is read before the warehouse is
        opened (a file refused on sight does not wait for the lock); the parts are staged under the writer
        lock but before the transaction (see :func:`_stage`); the staging table is the connection's own,
        so a failure while reading writes nothing, and everything the warehouse keeps (observations,
        rejects, the ingest row) is written in the one transaction that follows: all of it or none.

        Args:
            parts: per-batch results (:func:`pipelines.steps.ingest.validate_parts`).
            file: the file's name as the user gave it.
            file_sha256: its content hash (see :func:`pipelines.io.catalog.file_sha256`).
            provenance: who loaded the rows and how (:data:`PROVENANCES`), set by the calling loader and
                never by the file: ``uploaded`` (the default, the least trusted) for any user file,
                ``synthetic`` for the demo loader, ``published`` only for the shipped figures' own loader,
                ``derived`` for dtscope's own rows.
            limits: ``max_rejects_stored``.
            _fail_after_observations: test hook that raises after the observations insert, to prove the
                rollback leaves the warehouse exactly as before.

        Returns:
            The counts (``rows_in == accepted + unchanged + rejected``) and the stored rejects.
        """
        if provenance not in PROVENANCES:
            raise ValueError(f"provenance {provenance!r} is not one of {PROVENANCES}")
        vintage = _now()
        ingest_id = f"ing-{vintage:%Y%m%dT%H%M%S%f}-{file_sha256[:8]}"
        tally = _Tally(limits.max_rejects_stored)
        # the first part is read before the warehouse is opened, so a file refused on sight (a bomb, a
        # file over a limit, a wrong format) is refused without waiting for another writer
        parts = iter(parts)
        first = next(parts, None)
        parts = itertools.chain([] if first is None else [first], parts)
        with self.writer() as con:  # closing it drops the staging table, whatever happened
            con.execute(f"SET memory_limit = '{INGEST_MEMORY_LIMIT}'")
            _stage(con, parts, tally, vintage=vintage, ingest_id=ingest_id, provenance=provenance, file=file)
            _drop_repeated_keys(con, tally)
            n_accepted = con.execute("SELECT count(*) FROM staged").fetchall()[0][0]
            n_rejected = sum(tally.counts.values())
            if tally.rows_in != n_accepted + n_rejected:  # the conservation law
                raise AssertionError(
                    f"{file}: {tally.rows_in} items in but {n_accepted} accepted + {n_rejected} rejected"
                )
            stored = cap_rejects(tally.kept_frame(), dict(tally.counts), limits)
            rej = stored.with_columns(
                pl.lit(ingest_id).alias("ingest_id"),
                pl.lit(file).alias("file"),
                pl.lit(file_sha256).alias("file_sha256"),
                pl.lit(vintage).cast(pl.Datetime("us")).alias("vintage"),
            ).select(list(tables.dtypes(tables.Rejects)))
            con.execute("BEGIN TRANSACTION")
            try:
                n_new = _insert_new_and_changed(con)
                if _fail_after_observations:
                    raise RuntimeError("injected failure after the observations insert (test hook)")
                n_new_rejects = _insert_fresh_rejects(con, rej)
                unchanged = n_accepted - n_new
                wrote_something = n_new > 0 or n_new_rejects > 0
                if wrote_something:
                    con.execute(
                        "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            ingest_id,
                            file,
                            file_sha256,
                            tally.layout,
                            vintage,
                            tally.rows_in,
                            n_new,
                            n_rejected,
                            unchanged,
                        ],
                    )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return IngestSummary(
            file=file,
            file_sha256=file_sha256,
            layout=tally.layout,
            ingest_id=ingest_id if wrote_something else None,
            rows_in=tally.rows_in,
            accepted=n_new,
            rejected=n_rejected,
            unchanged=unchanged,
            rejects_by_reason=dict(sorted((k, v) for k, v in tally.counts.items() if v)),
            rejects=stored,
        )

    def publish_views(self, folder: Path, names: Iterable[str]) -> list[str]:
        """Make the published Parquet set readable in SQL beside the inputs.

        Every published table gets a view ``published.<name>``; one whose name no warehouse table holds
        (``scores``, ``forecasts``, ``attainment``, …) also gets ``<name>`` in the main schema, as DESIGN.md
        promises. The views read ``folder/<name>.parquet`` through the ``published_tables`` link, so they
        follow every later swap; they are recreated whenever the set of names changes.

        Returns:
            The main-schema views made.
        """
        made = []
        with self.writer() as con:
            own = {
                r[0]
                for r in con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
                ).fetchall()
            }
            con.execute("CREATE SCHEMA IF NOT EXISTS published")
            for name in sorted(names):
                if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
                    raise ValueError(f"published table name {name!r} is not a plain identifier")
                source = str((folder / f"{name}.parquet").absolute()).replace("'", "''")
                con.execute(
                    f"CREATE OR REPLACE VIEW published.{name} AS SELECT * FROM read_parquet('{source}')"
                )
                if name not in own:
                    con.execute(f"CREATE OR REPLACE VIEW main.{name} AS SELECT * FROM published.{name}")
                    made.append(name)
        return made

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
                "QUALIFY row_number() OVER (PARTITION BY kpi_id, region, period, freq, source, provenance "
                "ORDER BY vintage DESC) = 1"
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
