"""The one server-side path for an uploaded file: check, validate and store (dashboard and API alike).

:func:`ingest_upload` takes the file's name and bytes and does everything in one call: the file type and
size checks, the :mod:`pipelines.io.limits`, the ingest rules, the region scope, and the warehouse write.
There is no separate "confirm" that could be reached without validation: confirming re-runs the whole
path on the bytes it is given. The temporary copy the readers need is removed in all cases, and no
message names a server path (only the file's name as the user sent it, made safe).

The ingest log records the file as ``<origin>:<name>`` (``upload:`` from the dashboard, ``api:`` from
the API), set by this code, never by the file's content.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.io.catalog import InputFileError, iter_table
from pipelines.io.kpi_registry import load_registry
from pipelines.io.limits import LIMITS, LimitExceeded, Limits, check_file_size
from pipelines.io.warehouse import Warehouse
from pipelines.settings import Settings
from pipelines.steps.ingest import ValidationResult, validate_batches, validate_parts

UPLOAD_SUFFIXES = (".csv", ".xlsx", ".xlsm")
OUT_OF_SCOPE = "out_of_scope"


class UploadRefused(ValueError):
    """The upload is refused whole; the message names the file (as sent) and the reason, never a path."""


@dataclass(frozen=True)
class UploadAnswer:
    """What an upload did: ``rows_in == accepted + unchanged + rejected``."""

    file: str
    layout: str
    rows_in: int
    accepted: int
    unchanged: int
    rejected: int
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    rejects: pl.DataFrame = field(default_factory=pl.DataFrame)

    def summary(self) -> str:
        return (
            f"{self.file}: {self.rows_in} rows in, {self.accepted} accepted, {self.unchanged} unchanged, "
            f"{self.rejected} rejected"
        )


def safe_name(filename: str) -> str:
    """The uploaded file's base name, made safe to store and show: no folders, control characters,
    newlines or markup characters; at most 120 characters.

    >>> safe_name("../../etc/x.csv"), safe_name("a\\n<img src=x>.csv"), safe_name("数据 2021.csv")
    ('x.csv', 'a__img src_x_.csv', '数据 2021.csv')
    """
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join("_" if unicodedata.category(c).startswith("C") else c for c in base)
    base = re.sub(r"[^\w.\- ]", "_", base).strip(" .") or "upload"
    return base[-120:]


def _scrub(message: str, *secrets: str) -> str:
    for secret in secrets:
        if secret:
            message = message.replace(secret, "")
    return message


def _check_upload(filename: str, content: bytes, limits: Limits, max_bytes: int | None) -> tuple[str, str]:
    """The safe name and lower-case suffix of an acceptable upload; refuses a wrong type or size."""
    name = safe_name(filename)
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise UploadRefused(f"{name}: dtscope takes {', '.join(UPLOAD_SUFFIXES)} files")
    try:
        check_file_size(name, len(content), max_bytes or limits.max_upload_bytes, "max_upload_bytes")
    except LimitExceeded as exc:
        raise UploadRefused(str(exc)) from None
    return name, suffix


@contextlib.contextmanager
def _upload_copy(name: str, suffix: str, content: bytes) -> Iterator[Path]:
    """A temporary copy of the upload for the readers, removed in all cases; errors name the file only."""
    tmp = Path(tempfile.mkdtemp(prefix="dtscope-upload-"))
    try:
        path = tmp / f"upload{suffix}"
        path.write_bytes(content)
        try:
            yield path
        except InputFileError as exc:
            raise UploadRefused(_scrub(str(exc), str(path), str(tmp))) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def validate_upload(
    settings: Settings,
    filename: str,
    content: bytes,
    *,
    limits: Limits = LIMITS,
    max_bytes: int | None = None,
) -> ValidationResult:
    """Check and validate an uploaded file without writing anything to the warehouse (a preview).

    Raises:
        UploadRefused: wrong type, too large, over a limit, unreadable (the message names the file only).
    """
    name, suffix = _check_upload(filename, content, limits, max_bytes)
    with _upload_copy(name, suffix, content) as path:
        return validate_batches(
            iter_table(path, limits=limits, label=name),
            load_registry(settings.registry_dir),
            file_label=name,
            limits=limits,
        )


def _apply_scope(result: ValidationResult, in_scope: Callable[[str], bool]) -> ValidationResult:
    accepted = result.accepted
    inside = accepted["region"].map_elements(in_scope, return_dtype=pl.Boolean)
    outside = accepted.filter(~inside)
    if outside.height == 0:
        return result
    moved = outside.select(
        "row",
        "column",
        pl.lit(OUT_OF_SCOPE).alias("reason_code"),
        pl.format("region {} is outside your account's regions", pl.col("region")).alias("reason"),
        pl.lit("").alias("raw"),
    ).cast(result.rejects.schema)
    counts = dict(result.rejects_by_reason)
    counts[OUT_OF_SCOPE] = counts.get(OUT_OF_SCOPE, 0) + outside.height
    return ValidationResult(
        layout=result.layout,
        rows_in=result.rows_in,
        accepted=accepted.filter(inside),
        rejects=pl.concat([result.rejects, moved]).sort("row", "column"),
        reject_counts=counts,
    )


def ingest_upload(
    settings: Settings,
    filename: str,
    content: bytes,
    *,
    origin: str = "upload",
    in_scope: Callable[[str], bool] | None = None,
    limits: Limits = LIMITS,
    max_bytes: int | None = None,
) -> UploadAnswer:
    """Check, validate and store an uploaded file in one call (the only way an upload reaches the warehouse).

    Args:
        settings: the home.
        filename: the name the user sent (made safe with :func:`safe_name` before it is stored or shown).
        content: the file's bytes.
        origin: recorded as ``<origin>:<name>`` in the ingest log (``upload`` for the dashboard, ``api``).
        in_scope: region id → allowed; rows outside become ``out_of_scope`` rejects before anything is written.
        limits: the limits (default :data:`pipelines.io.limits.LIMITS`).
        max_bytes: a smaller size limit for this caller (e.g. the dashboard's), else ``max_upload_bytes``.

    Raises:
        UploadRefused: the file is refused whole (type, size, a limit, unreadable).
        pipelines.io.warehouse.WarehouseBusy: another writer held the warehouse too long.
    """
    name, suffix = _check_upload(filename, content, limits, max_bytes)
    registry = load_registry(settings.registry_dir)
    warehouse = Warehouse(
        settings.warehouse_path, lock_path=settings.lock_path, lock_timeout=settings.lock_timeout
    )
    with _upload_copy(name, suffix, content) as path:
        # validated batch by batch inside the warehouse's one transaction (memory bounded by a batch)
        parts = validate_parts(iter_table(path, limits=limits, label=name), registry, file_label=name)
        if in_scope is not None:
            parts = (_apply_scope(part, in_scope) for part in parts)
        summary = warehouse.ingest_stream(
            parts,
            file=f"{origin}:{name}",
            file_sha256=hashlib.sha256(content).hexdigest(),
            provenance="uploaded",  # whoever sends a file, and whatever its source column says
            limits=limits,
        )
    return UploadAnswer(
        file=name,
        layout=summary.layout,
        rows_in=summary.rows_in,
        accepted=summary.accepted,
        unchanged=summary.unchanged,
        rejected=summary.rejected,
        rejects_by_reason=summary.rejects_by_reason,
        rejects=summary.rejects,
    )


class UploadHandlers:
    """The dashboard's upload callbacks bound to one dtscope home (the dashboard may not import pipelines).

    ``validate`` previews; ``confirm`` runs the whole :func:`ingest_upload` path again on the bytes it is
    given, so calling it directly skips nothing. Uploaded rows appear on the dashboard after the next
    ``dtscope run`` publishes (a run publishes data and results together, from one vintage).
    """

    def __init__(self, settings: Settings, *, max_bytes: int | None = None) -> None:
        self.settings = settings
        self.max_bytes = max_bytes

    def validate(self, filename: str, content: bytes) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Accepted and rejected rows of an uploaded file, without writing anything."""
        result = validate_upload(self.settings, filename, content, max_bytes=self.max_bytes)
        return result.accepted, result.rejects

    def confirm(self, filename: str, content: bytes) -> str:
        """Check, validate and ingest the uploaded file; returns a one-line summary."""
        return ingest_upload(self.settings, filename, content, max_bytes=self.max_bytes).summary()
