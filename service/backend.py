"""The only module of the service that imports the pipelines: home resolution, registry, ingest, as-of reads.

Keeping every pipelines import here means a move inside ``pipelines`` changes one file of the service.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from pipelines.steps.uploads import UploadAnswer

OUT_OF_SCOPE = "out_of_scope"  # the reject reason of rows outside the caller's regions (pipelines.steps.uploads)


class IngestInputError(ValueError):
    """The uploaded file cannot be read at all; the message names the file, never a server path."""


class Busy(RuntimeError):
    """The warehouse writer lock is held by another process for longer than the timeout."""


def resolve_home(home: Path | str | None) -> Path:
    """The home folder, as ``dtscope --home`` resolves it."""
    from pipelines.settings import resolve_settings

    return resolve_settings(home).home


def known_regions() -> list[str]:
    """Region ids of the registry (``data/registry/regions.yaml``)."""
    from pipelines.io.kpi_registry import load_registry
    from pipelines.settings import REGISTRY_DIR

    return sorted(load_registry(REGISTRY_DIR).regions)


def _warehouse(home: Path, lock_timeout: float) -> Any:
    from pipelines.io.warehouse import Warehouse
    from pipelines.settings import resolve_settings

    settings = resolve_settings(home, lock_timeout=lock_timeout)
    return Warehouse(settings.warehouse_path, lock_path=settings.lock_path, lock_timeout=lock_timeout)


def observations_as_of(
    home: Path, as_of: datetime, *, kpi_id: str | None, region: str | None, lock_timeout: float = 10.0
) -> pl.DataFrame:
    """Observations as the warehouse held them at ``as_of`` (latest vintage per key up to then).

    Raises:
        Busy: a writer kept the warehouse for longer than ``lock_timeout`` seconds.
    """
    from pipelines.io.warehouse import WarehouseBusy

    try:
        with _one_thread_at_a_time(lock_timeout):
            return _warehouse(home, lock_timeout).observations(as_of=as_of, kpi_id=kpi_id, region=region)
    except WarehouseBusy as exc:
        raise Busy(str(exc).replace(str(home), "<home>")) from None


# DuckDB refuses, inside one process, a read-only connection to a file another thread holds read-write (and
# the reverse): "Can't open a connection to same database file with a different configuration". A worker
# process answers requests on several threads, so its warehouse reads and writes take turns here.
_WAREHOUSE_TURN = threading.Lock()


@contextlib.contextmanager
def _one_thread_at_a_time(timeout: float) -> Iterator[None]:
    if not _WAREHOUSE_TURN.acquire(timeout=timeout):
        raise Busy(f"the warehouse was in use by another request of this server for {timeout:g} s; try again later")
    try:
        yield
    finally:
        _WAREHOUSE_TURN.release()


def _is_duckdb_lock_conflict(exc: BaseException) -> bool:
    import duckdb

    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).casefold()


def _write_waiting_for_readers(write: Any, *, timeout: float) -> Any:
    """Run ``write()``, retrying while DuckDB refuses the read-write open because another process reads.

    The warehouse's writer lock orders writers, but a DuckDB file open read-only in another process (a
    ``dtscope run`` or a server reading ``as_of``) also refuses a read-write open. That refusal comes at
    connect time, before the transaction, so trying again is safe; after ``timeout`` seconds it is
    :class:`Busy` (the API's 503 with ``Retry-After``), never a raw lock error.
    """
    deadline = time.monotonic() + timeout
    pause = 0.05
    while True:
        try:
            return write()
        except Exception as exc:
            if not _is_duckdb_lock_conflict(exc):
                raise
            if time.monotonic() + pause > deadline:
                raise Busy(f"the warehouse is still open in another process after {timeout:g} s; try again later") from None
        time.sleep(pause + random.uniform(0, pause))
        pause = min(pause * 2, 0.5)


def ingest_upload(
    home: Path,
    filename: str,
    content: bytes,
    *,
    in_scope: Any,
    lock_timeout: float = 20.0,
    max_bytes: int | None = None,
) -> UploadAnswer:
    """Check, validate and store an uploaded file through the one path (:func:`pipelines.steps.uploads.ingest_upload`).

    The same checks as the dashboard's upload and ``dtscope ingest`` (type, size, the
    :mod:`pipelines.io.limits`, the ingest rules); rows whose region ``in_scope(region)`` refuses become
    rejects with reason ``out_of_scope`` before anything is written; the rows are stored with provenance
    ``uploaded`` and the file logged as ``api:<name>``. The temporary copy is removed in all cases.

    Returns:
        The one answer of the upload path (:class:`pipelines.steps.uploads.UploadAnswer`): the counts, with
        ``rows_in == accepted + unchanged + rejected``, and the reject rows as a frame.

    Raises:
        IngestInputError: the file is refused whole (type, a limit, unreadable); the message names
            ``filename`` only.
        Busy: another writer held the warehouse too long.
    """
    from pipelines.io.warehouse import WarehouseBusy
    from pipelines.settings import resolve_settings
    from pipelines.steps import uploads

    settings = resolve_settings(home, lock_timeout=lock_timeout)

    def write() -> UploadAnswer:
        return uploads.ingest_upload(
            settings, filename, content, origin="api", in_scope=in_scope, max_bytes=max_bytes
        )

    try:
        with _one_thread_at_a_time(lock_timeout):
            answer: UploadAnswer = _write_waiting_for_readers(write, timeout=lock_timeout)
    except uploads.UploadRefused as exc:
        raise IngestInputError(str(exc).replace(str(home), "<home>")) from None
    except WarehouseBusy as exc:
        raise Busy(str(exc).replace(str(home), "<home>")) from None
    return answer
