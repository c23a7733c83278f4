"""The one place that knows file formats: reading input tables as text, and atomic writes.

Input files are read with every column as text, so parsing (``85%``, ``1500万``, ``2021年``) happens in one
place with one set of error messages, and each row keeps its spreadsheet row number (header = row 1, first
data row = row 2) for error reports.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TypeVar

import polars as pl

from pipelines.io.limits import (
    LIMITS,
    InputFileError,
    LimitExceeded,
    Limits,
    check_input,
    check_shape,
)

__all__ = ["InputFileError", "LimitExceeded", "iter_table", "neutralise_formulas", "read_table"]

READABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".parquet", ".pq")


def file_sha256(path: Path) -> str:
    """Content hash of a file, the identity used to make re-ingesting idempotent."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _detect_encoding(path: Path, name: str) -> str:
    """``utf-8`` or ``gb18030`` (Chinese government CSVs often are), checked over the whole file in blocks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        try:
            for block in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
    try:
        with path.open(encoding="gb18030") as fh:
            for _ in iter(lambda: fh.read(1 << 20), ""):
                pass
    except UnicodeDecodeError:
        raise InputFileError(
            f"{name}: cannot decode the file as UTF-8 or GB18030; save it as UTF-8 CSV"
        ) from None
    return "gb18030"


def _sniff_separator(header: str) -> str:
    """The separator of a CSV header line: the most frequent of ``,``, ``;`` and tab outside quotes.

    >>> _sniff_separator("kpi_id;region;period;value"), _sniff_separator("a,b;c,d")
    (';', ',')
    """
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def _header_fields(first_line: str, sep: str) -> list[str]:
    return [f.strip().lstrip("\ufeff") for f in next(csv.reader([first_line], delimiter=sep), [])]


def _refuse_duplicate_columns(name: str, columns: list[str]) -> None:
    seen: dict[str, str] = {}
    for c in columns:
        key = c.strip().casefold()
        if key and key in seen:
            raise InputFileError(
                f"{name}: the column {c!r} appears twice in the header; dtscope cannot tell which one "
                "holds the data, so the file is refused. Keep one and remove or rename the other."
            )
        seen[key] = c


def _check_cells(name: str, frame: pl.DataFrame, limits: Limits) -> None:
    cols = [c for c in frame.columns if c != "row"]
    if not cols or frame.height == 0:
        return
    longest = frame.select(pl.max_horizontal(pl.col(cols).str.len_chars().max())).item()
    if longest is not None and longest > limits.max_cell_chars:
        where = frame.filter(pl.any_horizontal(pl.col(cols).str.len_chars() > limits.max_cell_chars))
        raise LimitExceeded(
            f"{name}: row {where['row'][0]} has a cell of {longest:,} characters, over the limit of "
            f"{limits.max_cell_chars:,} (max_cell_chars)",
            "max_cell_chars",
        )


def _finish(frame: pl.DataFrame, offset: int) -> pl.DataFrame:
    """Strip header names, number rows as the spreadsheet does, drop fully blank rows."""
    frame = frame.rename({c: str(c).strip().lstrip("\ufeff") for c in frame.columns})
    frame = frame.with_row_index("row", offset=offset).with_columns(pl.col("row").cast(pl.Int64))
    data_cols = [c for c in frame.columns if c != "row"]
    if data_cols:
        blank = pl.all_horizontal(
            [(pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "")) for c in data_cols]
        )
        frame = frame.filter(~blank)
    return frame.select(["row", *data_cols])


def _csv_batches(path: Path, name: str, limits: Limits, batch_rows: int) -> Iterator[pl.DataFrame]:
    # The csv module reads record by record (quoted separators and newlines included), so memory holds
    # one batch, whatever the file's size; polars' streaming reader buffers ahead of a slow consumer.
    encoding = _detect_encoding(path, name)
    with path.open(encoding=encoding, newline="") as fh:
        first = fh.readline()
        if not first.strip():
            raise InputFileError(f"{name}: the file is empty")
        sep = _sniff_separator(first)
        header = _header_fields(first, sep)
        _refuse_duplicate_columns(name, header)
        check_shape(name, 0, len(header), limits)
        fh.seek(0)
        reader = csv.reader(fh, delimiter=sep)
        next(reader)
        width = len(header)
        offset = 2
        records = 0
        batch: list[list[str]] = []
        try:
            for record in reader:
                records += 1
                fields = record
                if len(fields) != width:
                    if not fields or (len(fields) < width and not any(f.strip() for f in fields)):
                        fields = [""] * width  # a blank line: numbered, then dropped with the blank rows
                    else:
                        raise InputFileError(
                            f"{name}: row {records + 1} has {len(fields)} fields but the header has {width} "
                            f"(separator {sep!r}); a value containing the separator needs quotes"
                        )
                batch.append(fields)
                if len(batch) == batch_rows:
                    check_shape(name, records, width, limits)
                    yield _csv_frame(name, header, batch, offset, limits)
                    offset += len(batch)
                    batch = []
        except csv.Error as exc:
            raise InputFileError(f"{name}: row {records + 2} cannot be read as CSV ({exc})") from None
        check_shape(name, records, width, limits)
        if batch or offset == 2:
            yield _csv_frame(name, header, batch, offset, limits)


def _csv_frame(
    name: str, header: list[str], rows: list[list[str]], offset: int, limits: Limits
) -> pl.DataFrame:
    columns = {
        h: pl.Series(h, [r[i] if r[i] != "" else None for r in rows], dtype=pl.String)
        for i, h in enumerate(header)
    }
    frame = _finish(pl.DataFrame(columns), offset)
    _check_cells(name, frame, limits)
    return frame


def iter_table(
    path: Path,
    *,
    sheet: str | None = None,
    limits: Limits = LIMITS,
    batch_rows: int = 20_000,
    label: str | None = None,
) -> Iterator[pl.DataFrame]:
    """Read a CSV, Excel or Parquet file in batches, every column as String plus an Int64 ``row`` column.

    A CSV is streamed (memory is bounded by ``batch_rows``, not by the file); Excel and Parquet files are
    read whole after their size checks. Messages name the file as ``label`` (default: ``path`` as given;
    a server passes the uploaded file's name so no server path reaches a user). Each batch has header names stripped, fully blank rows dropped
    and ``row`` = the spreadsheet row number of each record (header = row 1).

    Raises:
        InputFileError: missing, empty, unknown type, unreadable, a column named twice, a ragged row.
        LimitExceeded: over one of the :mod:`pipelines.io.limits` (the limit is named).
    """
    name = label or str(path)
    check_input(path, name, limits)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        yield from _csv_batches(path, name, limits, batch_rows)
        return
    try:
        if suffix in (".xlsx", ".xlsm"):
            frame = (
                pl.read_excel(path, sheet_name=sheet, infer_schema_length=0)
                if sheet
                else pl.read_excel(path, infer_schema_length=0)
            )
        elif suffix in (".parquet", ".pq"):
            columns = pl.read_parquet_schema(path)
            check_shape(name, pl.scan_parquet(path).select(pl.len()).collect().item(), len(columns), limits)
            frame = pl.read_parquet(path).with_columns(pl.all().cast(pl.String))
        else:
            raise InputFileError(
                f"{name}: unknown file type {suffix!r}; dtscope reads {', '.join(READABLE_SUFFIXES)}"
            )
    except InputFileError:
        raise
    except Exception as exc:  # the readers raise many types; the user needs the file name and the cause
        raise InputFileError(f"{name}: cannot read it as {suffix.lstrip('.')}: {exc}") from exc
    duplicated = [c for c in frame.columns if "_duplicated_" in str(c)]
    if duplicated:
        _refuse_duplicate_columns(name, [*frame.columns, str(duplicated[0]).split("_duplicated_")[0]])
    check_shape(name, frame.height, frame.width, limits, excel=suffix not in {".parquet", ".pq"})
    frame = _finish(frame, 2)
    _check_cells(name, frame, limits)
    yield frame


def read_table(
    path: Path, *, sheet: str | None = None, limits: Limits = LIMITS, label: str | None = None
) -> pl.DataFrame:
    """Read a whole CSV, Excel or Parquet file as text (see :func:`iter_table`, which it concatenates).

    Returns:
        The table as text with header names stripped, fully blank rows dropped, and ``row`` = the
        spreadsheet row number of each record.

    Raises:
        InputFileError: the file is missing, empty, of an unknown type, or unreadable.
        LimitExceeded: the file is over a limit.
    """
    batches = list(iter_table(path, sheet=sheet, limits=limits, label=label))
    return pl.concat(batches) if len(batches) > 1 else batches[0]


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` in one rename.

    A crash half-way leaves ``target`` as it was (readers never see a half-written file).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection"); tab and carriage
# return too, as some spreadsheets strip them first. (The dashboard, which may not import pipelines, keeps the
# same rule in dashboard.exports.)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_Frame = TypeVar("_Frame", pl.DataFrame, pl.LazyFrame)


def neutralise_formulas(frame: _Frame) -> _Frame:
    """Text cells a spreadsheet would run as a formula get a leading apostrophe (shown as text).

    The one rule for every CSV dtscope writes outside the dashboard (``write_csv``, ``forecast-file`` and
    ``attain`` output, the CLI's ``--format csv``). Only String columns change: numbers stay numbers (a
    negative number is a number, not a formula). Works on a frame or a lazy frame; the argument is not modified.

    >>> neutralise_formulas(pl.DataFrame({"a": ["=1+2", "@SUM(A1)", "-x", "ok", None], "v": [-1, 2, 3, 4, 5]})).rows()
    [("'=1+2", -1), ("'@SUM(A1)", 2), ("'-x", 3), ('ok', 4), (None, 5)]
    """
    schema = frame.collect_schema() if isinstance(frame, pl.LazyFrame) else frame.schema
    text = [c for c, d in schema.items() if d == pl.String]
    if not text:
        return frame
    return frame.with_columns(
        pl.when(pl.any_horizontal([pl.col(c).str.starts_with(s) for s in FORMULA_STARTS]).fill_null(False))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


def write_csv(frame: pl.DataFrame, target: Path) -> Path:
    """Write ``frame`` as UTF-8 CSV, atomically, with formula-like text cells neutralised."""
    with atomic_path(target) as tmp:
        neutralise_formulas(frame).write_csv(tmp)
    return target


def write_parquet(frame: pl.DataFrame, target: Path) -> Path:
    """Write ``frame`` as Parquet, atomically."""
    with atomic_path(target) as tmp:
        frame.write_parquet(tmp)
    return target


def write_text(text: str, target: Path) -> Path:
    """Write UTF-8 text, atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target


def write_excel(frames: dict[str, pl.DataFrame], target: Path) -> Path:
    """Write one sheet per frame to an .xlsx file, atomically."""
    import xlsxwriter

    with atomic_path(target) as tmp, xlsxwriter.Workbook(str(tmp)) as wb:
        for name, frame in frames.items():
            frame.write_excel(wb, worksheet=name[:31])
    return target


def open_text(path: Path) -> IO[str]:
    """Open a text file for reading as UTF-8 (for small config files)."""
    return path.open(encoding="utf-8")
