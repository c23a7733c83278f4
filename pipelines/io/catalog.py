"""The one place that knows file formats: reading input tables as text, and atomic writes.

Input files are read with every column as text, so parsing (``85%``, ``1500万``, ``2021年``) happens in one
place with one set of error messages, and each row keeps its spreadsheet row number (header = row 1, first
data row = row 2) for error reports.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import polars as pl

READABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".parquet", ".pq")


class InputFileError(ValueError):
    """A file cannot be read at all (missing, wrong format, undecodable); the message names it."""


def file_sha256(path: Path) -> str:
    """Content hash of a file, the identity used to make re-ingesting idempotent."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _decode(data: bytes, path: Path) -> str:
    # UTF-8 (with or without BOM) first; Chinese government CSVs are often GB18030/GBK.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputFileError(f"{path}: cannot decode the file as UTF-8 or GB18030; save it as UTF-8 CSV")


def read_table(path: Path, *, sheet: str | None = None) -> pl.DataFrame:
    """Read a CSV, Excel or Parquet file with every column as String, plus an Int64 ``row`` column.

    Args:
        path: the file; its suffix picks the reader.
        sheet: Excel sheet name (default: the first sheet).

    Returns:
        The table as text with header names stripped, fully blank rows dropped, and ``row`` = the
        spreadsheet row number of each record.

    Raises:
        InputFileError: the file is missing, empty, of an unknown type, or unreadable.
    """
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            text = _decode(path.read_bytes(), path)
            if not text.strip():
                raise InputFileError(f"{path}: the file is empty")
            frame = pl.read_csv(
                io.BytesIO(text.encode("utf-8")),
                infer_schema=False,
                truncate_ragged_lines=False,
            )
        elif suffix in (".xlsx", ".xlsm"):
            frame = (
                pl.read_excel(path, sheet_name=sheet, infer_schema_length=0)
                if sheet
                else pl.read_excel(path, infer_schema_length=0)
            )
        elif suffix in (".parquet", ".pq"):
            frame = pl.read_parquet(path)
            frame = frame.with_columns(pl.all().cast(pl.String))
        else:
            raise InputFileError(
                f"{path}: unknown file type {suffix!r}; dtscope reads {', '.join(READABLE_SUFFIXES)}"
            )
    except InputFileError:
        raise
    except Exception as exc:  # the readers raise many types; the user needs the file name and the cause
        raise InputFileError(f"{path}: cannot read it as {suffix.lstrip('.')}: {exc}") from exc
    frame = frame.rename({c: str(c).strip() for c in frame.columns})
    frame = frame.with_row_index("row", offset=2).with_columns(pl.col("row").cast(pl.Int64))
    data_cols = [c for c in frame.columns if c != "row"]
    if data_cols:
        blank = pl.all_horizontal(
            [(pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "")) for c in data_cols]
        )
        frame = frame.filter(~blank)
    return frame.select(["row", *data_cols])


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


def write_csv(frame: pl.DataFrame, target: Path) -> Path:
    """Write ``frame`` as UTF-8 CSV, atomically."""
    with atomic_path(target) as tmp:
        frame.write_csv(tmp)
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
