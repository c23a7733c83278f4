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
                                                (each member is then inflated here, counting
                                                bytes and worksheet rows: a zip that declares
                                                less than it holds is refused, and so is a sheet
                                                over ``max_xlsx_rows``, before a reader opens it)
``max_rows``                      5,000,000     data rows of a CSV
``max_xlsx_rows``                 1,048,576     rows of a worksheet (Excel's own cap)
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

import itertools
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

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


def check_input(path: Path, name: str, limits: Limits = LIMITS) -> None:
    """The checks a file meets before any reader opens it: it exists, its size, and an xlsx's zip (bombs).

    Needs nothing heavier than the standard library, so a command can refuse a hostile file before it loads
    polars, DuckDB or the table contracts (:func:`pipelines.io.catalog.iter_table` runs it first too).
    """
    if not path.is_file():
        raise InputFileError(f"{name}: no such file")
    check_file_size(name, path.stat().st_size, limits.max_file_bytes)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        check_xlsx(path, name, limits)


def check_xlsx(path: Path, name: str, limits: Limits = LIMITS) -> None:
    """Refuse an xlsx that is, or could be, a compression bomb, before any spreadsheet reader opens it.

    First the sizes the zip declares (``max_xlsx_uncompressed_bytes``, ``max_xlsx_ratio``); then every
    member is inflated here, a block at a time, so memory holds one block and time is bounded by the
    declared total: a member that inflates to more than it declares (a forged size, which readers such
    as calamine do not check) is refused, and so is a worksheet with more rows than ``max_xlsx_rows``
    (plus its header), counted from its ``<row>`` elements rather than parsed.

    Raises:
        LimitExceeded: over ``max_xlsx_uncompressed_bytes``, ``max_xlsx_ratio`` or ``max_xlsx_rows``.
        InputFileError: not a zip file (so not an xlsx), or a damaged or forged one.
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
    with path.open("rb") as fh:
        for member in members:
            sheet = _WORKSHEET.match(member.filename) is not None
            rows = _RowCounter(precise=False)
            for block in _inflate(fh, member, name):
                if sheet:
                    rows.feed(block)
            if sheet and rows.total() - 1 > limits.max_xlsx_rows:  # an upper bound: count exactly
                rows = _RowCounter(precise=True)
                for block in _inflate(fh, member, name):
                    rows.feed(block)
            check_shape(f"{name} ({member.filename})", max(rows.total() - 1, 0), 0, limits, excel=True)


_WORKSHEET = re.compile(r"^xl/worksheets/[^/]+\.xml$", re.IGNORECASE)
_BLOCK = 1 << 20


def _inflate(fh: BinaryIO, member: zipfile.ZipInfo, name: str) -> Iterator[bytes]:
    """A member's content, a block at a time, refusing one that holds more than it declares.

    Read from the member's own compressed bytes (after its local header), not through :mod:`zipfile`,
    which stops at the declared size: the point is to see what a reader that ignores it would get.
    """

    def forged(what: str) -> InputFileError:
        return InputFileError(
            f"{name}: cannot read it as xlsx: its part {member.filename!r} {what}; the file is damaged or "
            "forged (a compression bomb hides its size this way)"
        )

    raw = _compressed(fh, member, forged)
    if member.compress_type == zipfile.ZIP_STORED:
        blocks = raw
    elif member.compress_type == zipfile.ZIP_DEFLATED:
        blocks = _inflated(raw, forged)
    else:
        raise forged(f"uses compression method {member.compress_type}, which Excel does not write")
    out = 0
    for block in blocks:
        out += len(block)
        if out > member.file_size:
            raise forged(f"inflates to more than the {_size(member.file_size)} it declares")
        yield block
    if out != member.file_size:
        raise forged(f"inflates to {_size(out)}, not the {_size(member.file_size)} it declares")


def _compressed(
    fh: BinaryIO, member: zipfile.ZipInfo, forged: Callable[[str], InputFileError]
) -> Iterator[bytes]:
    """A member's stored bytes as the central directory places and sizes them, a block at a time."""
    if member.flag_bits & 0x1:
        raise forged("is encrypted")
    fh.seek(member.header_offset)
    header = fh.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise forged("has no local header where the directory says")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    fh.seek(member.header_offset + 30 + name_len + extra_len)
    left = member.compress_size
    while left > 0:
        data = fh.read(min(_BLOCK, left))
        if not data:
            raise forged("ends before its compressed size")
        left -= len(data)
        yield data


def _inflated(raw: Iterator[bytes], forged: Callable[[str], InputFileError]) -> Iterator[bytes]:
    """Raw deflate inflated a block of at most ``_BLOCK`` bytes at a time."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    for chunk in itertools.chain(raw, [b""]):  # the empty chunk flushes what the last one left pending
        data = chunk
        while True:
            try:
                block = inflater.decompress(data, _BLOCK)
            except zlib.error as exc:
                raise forged(f"cannot be inflated ({exc})") from None
            if block:
                yield block
            data = inflater.unconsumed_tail
            if inflater.eof:
                return
            if not data and not block:
                break
    raise forged("is cut short")


class _RowCounter:
    """Counts a worksheet's ``<row …>`` elements, fed a block at a time.

    ``precise=False`` counts the substrings ``<row`` and ``:row`` (an upper bound, since ``<rowBreaks``
    or a cell's text may hold them too) at ``bytes.count`` speed; ``precise=True`` matches the element
    itself (any namespace prefix), several times slower, for a sheet the bound puts over a limit.
    """

    _ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,15}:)?row[\s/>]")
    _CARRY = 32  # longer than any match, so one split across two blocks is counted once

    def __init__(self, *, precise: bool) -> None:
        self.precise = precise
        self.count = 0
        self.carry = b""

    def _matches(self, buf: bytes, end: int) -> int:
        """Matches starting before ``end``."""
        if self.precise:
            return sum(1 for m in self._ROW.finditer(buf) if m.start() < end)
        return buf.count(b"<row", 0, end + 3) + buf.count(b":row", 0, end + 3)

    def feed(self, block: bytes) -> None:
        buf = self.carry + block
        cut = max(len(buf) - self._CARRY, 0)
        self.count += self._matches(buf, cut)
        self.carry = buf[cut:]

    def total(self) -> int:
        return self.count + self._matches(self.carry, len(self.carry))


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
