"""Reading the published Parquet set and shaping rows for the API (JSON pages or neutralised CSV)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
from fastapi import Request
from fastapi.responses import Response

from service.api.problems import ProblemError
from service.principal import Principal
from service.rounds.inputs import as_json_value

CSV_MEDIA = "text/csv"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_LIMIT = 1000


@lru_cache(maxsize=64)
def _read(path: str, mtime_ns: int, size: int) -> pl.DataFrame:
    return pl.read_parquet(path)


def published(published_dir: Path, name: str) -> pl.DataFrame:
    """Published table ``name`` (cached until the file changes); 503 when it is not published yet."""
    path = published_dir / f"{name}.parquet"
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ProblemError(503, f"table {name} is not published yet; run `dtscope run`") from None
    return _read(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


def in_regions(frame: pl.DataFrame, principal: Principal, column: str = "region") -> pl.DataFrame:
    """Rows of ``frame`` whose ``column`` is in the caller's region scope (server-side, always)."""
    if principal.all_regions:
        return frame
    return frame.filter(pl.col(column).is_in(list(principal.regions)))


def scenario_scope(published_dir: Path, principal: Principal) -> pl.DataFrame:
    """The scenarios the caller may see: its regions, and for owners only their department's."""
    scenarios = in_regions(published(published_dir, "scenarios"), principal)
    if principal.role == "owner":
        scenarios = scenarios.filter(pl.col("owner") == (principal.department or "\x00no department"))
    return scenarios


def neutralise(value: str) -> str:
    """Prefix a cell that a spreadsheet would run as a formula with ``'``.

    >>> neutralise("=HYPERLINK(1)"), neutralise("-1+2"), neutralise("pudong")
    ("'=HYPERLINK(1)", "'-1+2", 'pudong')
    """
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def decode_cursor(cursor: str | None) -> int:
    """The row offset a cursor stands for (cursors are what ``next_cursor`` gave out)."""
    if not cursor:
        return 0
    if not cursor.isdigit() or len(cursor) > 9:
        raise ProblemError(422, "cursor is not one this API gave out")
    return int(cursor)


def encode_cursor(offset: int) -> str:
    return str(offset)


def wants_csv(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return CSV_MEDIA in accept and "application/json" not in accept.split(",")[0]


def page(
    request: Request,
    frame: pl.DataFrame,
    *,
    sort: Sequence[str],
    limit: int,
    cursor: str | None,
    to_item: Callable[[dict[str, Any]], Any] | None = None,
) -> Any:
    """One page of ``frame`` as ``{"items", "next_cursor", "total"}``, or as CSV when the caller asks.

    CSV carries the same page; the next cursor is in the ``X-Next-Cursor`` header.
    """
    offset = decode_cursor(cursor)
    keys = [c for c in sort if c in frame.columns]
    frame = frame.sort(keys, nulls_last=True) if keys else frame
    total = frame.height
    chunk = frame.slice(offset, limit)
    next_cursor = encode_cursor(offset + limit) if offset + limit < total else None
    rows = [{k: as_json_value(v) for k, v in r.items()} for r in chunk.iter_rows(named=True)]
    if wants_csv(request):
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow([neutralise(c) for c in chunk.columns])
        string_cols = {c for c, t in chunk.schema.items() if t == pl.String}
        for r in rows:
            writer.writerow(
                ["" if r[c] is None else neutralise(str(r[c])) if c in string_cols else r[c] for c in chunk.columns]
            )
        headers = {"X-Next-Cursor": next_cursor} if next_cursor else {}
        return Response(buf.getvalue(), media_type=f"{CSV_MEDIA}; charset=utf-8", headers=headers)
    items = [to_item(r) for r in rows] if to_item else rows
    return {"items": items, "next_cursor": next_cursor, "total": total}
