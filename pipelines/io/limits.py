"""The limits every way into dtscope holds (CLI ingest, dashboard upload, API ingest, forecast files).

One frozen :class:`Limits` value, :data:`LIMITS`, with the numbers below; a file over any of them is
refused whole before it is parsed, with the limit named (:class:`LimitExceeded`), so no input can hold
the machine's memory or write millions of reject rows.

================================  ============  ==============================================
limit                             value         why
================================  ============  ==============================================
``max_file_bytes``                1 GiB         any input file on disk (CLI)
``max_upload_bytes``              20 MiB        a file sent through the dashboard or the API
``max_xlsx_uncompressed_bytes``   64 MiB        the sum of an xlsx's declared member sizes
                                                (zip bombs are refused before opening)
``max_xlsx_ratio``                200           uncompressed / compressed size of an xlsx
``max_rows``                      5,000,000     data rows of a CSV (Excel's own cap: 1,048,576)
``max_columns``                   512           columns of any table
``max_cell_chars``                1,000         characters in one cell
``max_rejects_stored``            1,000         rejects kept row by row per file; the rest are
                                                counted by reason in one summary row
``max_horizon``                   50            periods ``forecast-file`` may forecast ahead
``min_year`` / ``max_year``       1900 / 2200   periods read or written by the file contracts
``max_abs_value``                 1e15          a value's magnitude in its KPI's unit
================================  ============  ==============================================
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

MIB = 1 << 20


class InputFileError(ValueError):
    """A file cannot be read at all (missing, wrong format, undecodable); the message names it."""


class LimitExceeded(InputFileError):
    """A file is over one of the :class:`Limits`; ``limit`` is the limit's name."""

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


@dataclass(frozen=True)
class Limits:
    """Numbers every input path enforces (see the module's table)."""

    max_file_bytes: int = 1024 * MIB
    max_upload_bytes: int = 20 * MIB
    max_xlsx_uncompressed_bytes: int = 64 * MIB
    max_xlsx_ratio: float = 200.0
    max_rows: int = 5_000_000
    max_xlsx_rows: int = 1_048_576
    max_columns: int = 512
    max_cell_chars: int = 1_000
    max_rejects_stored: int = 1_000
    max_horizon: int = 50
    min_year: int = 1900
    max_year: int = 2200
    max_abs_value: float = 1e15


LIMITS = Limits()


def _size(n: float) -> str:
    return f"{n / MIB:,.1f} MiB" if n >= MIB else f"{n:,.0f} bytes"


def check_file_size(name: str, size: int, limit: int, what: str = "max_file_bytes") -> None:
    """Refuse a file larger than ``limit`` bytes.

    >>> check_file_size("a.csv", 10, 100)  # under the limit: nothing happens
    """
    if size > limit:
        raise LimitExceeded(
            f"{name}: the file is {_size(size)}, over the limit of {_size(limit)} ({what})", what
        )


def check_xlsx(path: Path, name: str, limits: Limits = LIMITS) -> None:
    """Refuse an xlsx whose zip declares more uncompressed bytes than the limit, before any XML is read.

    Raises:
        LimitExceeded: over ``max_xlsx_uncompressed_bytes`` or ``max_xlsx_ratio``.
        InputFileError: not a zip file (so not an xlsx).
    """
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputFileError(f"{name}: cannot read it as xlsx: not a zip archive ({exc})") from None
    declared = sum(m.file_size for m in members)
    compressed = max(1, sum(m.compress_size for m in members))
    if declared > limits.max_xlsx_uncompressed_bytes:
        raise LimitExceeded(
            f"{name}: the workbook unpacks to {_size(declared)}, over the limit of "
            f"{_size(limits.max_xlsx_uncompressed_bytes)} (max_xlsx_uncompressed_bytes); "
            "split it or save the sheet as CSV",
            "max_xlsx_uncompressed_bytes",
        )
    if declared > 1 * MIB and declared / compressed > limits.max_xlsx_ratio:
        raise LimitExceeded(
            f"{name}: the workbook unpacks {declared / compressed:,.0f} times its size, over the limit of "
            f"{limits.max_xlsx_ratio:g} (max_xlsx_ratio); such files are compression bombs",
            "max_xlsx_ratio",
        )


def check_shape(name: str, rows: int, columns: int, limits: Limits = LIMITS, *, excel: bool = False) -> None:
    """Refuse a table with more rows or columns than the limits."""
    max_rows = limits.max_xlsx_rows if excel else limits.max_rows
    if rows > max_rows:
        what = "max_xlsx_rows" if excel else "max_rows"
        raise LimitExceeded(
            f"{name}: {rows:,} data rows, over the limit of {max_rows:,} ({what}); split the file", what
        )
    if columns > limits.max_columns:
        raise LimitExceeded(
            f"{name}: {columns:,} columns, over the limit of {limits.max_columns:,} (max_columns)",
            "max_columns",
        )


def check_year(year: int, limits: Limits = LIMITS) -> bool:
    """Whether ``year`` is inside the supported period range.

    >>> check_year(2025), check_year(9999), check_year(1899)
    (True, False, False)
    """
    return limits.min_year <= year <= limits.max_year
