"""Hostile-input checks of the two file contracts (``forecast-file``, ``attain``), kept apart from the reader.

:mod:`pipelines.steps.forecast_files` calls these around its own reading and forecasting:

- **a column named twice** refuses the file (``value`` twice used to keep the first and drop the other);
- **periods** in IN and T must lie within ``min_year``–``max_year`` of :mod:`pipelines.io.limits`, and so must
  every period written (last period + horizon), so no year ≥ 10000 is ever written; ``--horizon`` is at most
  ``max_horizon``; each refusal names the limit;
- **magnitudes**: the champion's log scale floors tiny values and its arithmetic loses huge ones (values near
  1e308 forecast ~1e303, values of 1e-9 forecast 0.001). ``forecast-file`` therefore *rescales*: a series whose
  largest magnitude is below :data:`SMALLEST_SAFE` or above :data:`LARGEST_SAFE` is divided by a power of ten
  that brings it to 1–10, forecast, and multiplied back, so the answer is right; a forecast that cannot be
  multiplied back without overflowing is refused (absent, never wrong). Subnormal values (nonzero, below
  2.2e-308, e.g. 1e-320) carry too few digits to rescale and are refused. ``attain`` refuses a series outside
  the safe range instead of rescaling it (its targets live on the same scale);
- **natural bounds at the output**: ``--kind count`` and ``amount`` never forecast below 0, ``share`` stays
  within 0–100 (or 0–1): every written quantile and mean is clipped to the kind's bounds (``auto`` has no
  declared bounds and is written as forecast).

Every function reads the file lazily (polars streaming), so the checks hold memory flat on large files.
"""

from __future__ import annotations

import csv
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from pipelines.io.catalog import atomic_path, neutralise_formulas
from pipelines.io.limits import LIMITS, Limits

SMALLEST_SAFE = 1e-2  # a series whose largest |value| is below this is rescaled (the log scale's floor bites)
LARGEST_SAFE = 1e15  # … or above this (``max_abs_value``; float arithmetic loses digits beyond)
SMALLEST_NORMAL = sys.float_info.min  # 2.2e-308: below it a float keeps too few digits to rescale
_S = TypeVar("_S")
OUT_NUMBERS = ("mean", "q0.025", "q0.1", "q0.5", "q0.9", "q0.975")


def _refused(message: str) -> ValueError:
    """The contract's own error (:class:`pipelines.steps.forecast_files.FileContractError`), which the CLI shows."""
    from pipelines.steps.forecast_files import (
        FileContractError,
    )  # imported late: that module imports this one

    return FileContractError(message)


def _where(path: Path, row: int | None, column: str | None) -> str:
    where = path.name
    if row is not None:
        where += f", row {row} (line {row + 1})"
    if column is not None:
        where += f", column {column!r}"
    return where


def check_header(path: Path) -> None:
    """Refuse a file whose header names a column twice (after trimming and case folding).

    Raises:
        FileContractError: naming the column.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return  # the reader says what is wrong with an unreadable file
    seen: set[str] = set()
    for name in header:
        key = name.strip().lower()
        if key in seen:
            raise _refused(
                f"{_where(path, None, key)}: the column is named twice, so dtscope cannot tell which one to "
                "use. Fix: keep one column of each name"
            )
        seen.add(key)


@dataclass(frozen=True)
class InputScan:
    """What one lazy pass over IN found: per-series rescale factors, the last period's year, the kinds' upper."""

    factors: pl.DataFrame  # series_id, factor (only the series that need rescaling)
    last_year: int | None
    dated: bool
    max_value: float | None


def _first(frame: pl.LazyFrame, condition: pl.Expr) -> dict[str, Any] | None:
    """The first row of ``frame`` where ``condition`` holds (read streaming, stopping there), else None."""
    hit = frame.filter(condition).head(1).collect(engine="streaming")
    return hit.row(0, named=True) if hit.height else None


def _lazy(path: Path) -> pl.LazyFrame:
    frame = pl.scan_csv(path, infer_schema=False)
    names = frame.collect_schema().names()
    return frame.rename({c: c.strip().lower() for c in names})


def scan_input(path: Path, limits: Limits = LIMITS) -> InputScan | None:
    """Check IN's periods and magnitudes in one streaming pass (None: unreadable here, the reader says why).

    Raises:
        FileContractError: a period outside ``min_year``–``max_year``, or a subnormal value (row named).
    """
    try:
        frame = _lazy(path)
        if not {"series_id", "period", "value"} <= set(frame.collect_schema().names()):
            return None
        per = pl.col("period").str.strip_chars()
        parsed = frame.with_row_index("row", offset=1).select(
            "row",
            pl.col("series_id").str.strip_chars().alias("sid"),
            per.alias("period"),
            per.str.slice(0, 4).cast(pl.Int64, strict=False).alias("year"),
            per.str.contains("-").alias("dated"),
            pl.col("value").str.strip_chars().cast(pl.Float64, strict=False).alias("value"),
        )
        in_range = pl.col("year").is_between(limits.min_year, limits.max_year)
        if r := _first(parsed, pl.col("year").is_not_null() & ~in_range):
            raise _refused(
                f"{_where(path, r['row'], 'period')}: {r['period']!r} is outside the period range "
                f"{limits.min_year}–{limits.max_year} (min_year/max_year). Fix: give periods within it"
            )
        if r := _first(parsed, (pl.col("value") != 0) & (pl.col("value").abs() < SMALLEST_NORMAL)):
            raise _refused(
                f"{_where(path, r['row'], 'value')}: {r['value']!r} is below the smallest normal 64-bit float "
                f"({SMALLEST_NORMAL:.3g}), too few digits to forecast it right. Fix: write it in a larger unit"
            )
        stats = (
            parsed.group_by("sid")
            .agg(pl.col("value").abs().max().alias("peak"), pl.col("year").max().alias("last"))
            .collect(engine="streaming")
        )
        summary = parsed.select(pl.col("dated").any(), pl.col("value").max()).collect(engine="streaming")
    except (
        pl.exceptions.ComputeError,
        pl.exceptions.NoDataError,
        pl.exceptions.ColumnNotFoundError,
        OSError,
    ):
        return None
    needs = stats.filter(
        pl.col("peak").is_not_null()
        & (pl.col("peak") > 0)
        & ((pl.col("peak") < SMALLEST_SAFE) | (pl.col("peak") > LARGEST_SAFE))
    )
    factors = needs.select(
        pl.col("sid").alias("series_id"),
        pl.col("peak").log10().floor().alias("exponent"),
    )
    last = stats["last"].max()
    return InputScan(
        factors=factors,
        last_year=int(last) if isinstance(last, int) else None,
        dated=bool(summary.item(0, "dated")),
        max_value=summary.item(0, "value"),
    )


def check_horizon(path: Path, horizon: int, scan: InputScan | None, limits: Limits = LIMITS) -> None:
    """Refuse a horizon over ``max_horizon``, or one that would write a period after ``max_year``.

    Raises:
        FileContractError: naming the limit.
    """
    if horizon > limits.max_horizon:
        raise _refused(
            f"--horizon {horizon} is over the limit of {limits.max_horizon} periods (max_horizon). "
            "Fix: forecast fewer periods ahead"
        )
    if scan is None or scan.last_year is None:
        return
    # a dated file's step is at most a year, so last_year + horizon bounds every period written
    last_written = scan.last_year + horizon
    if last_written > limits.max_year:
        raise _refused(
            f"{path.name}: forecasting {horizon} periods after {scan.last_year} would write periods up to "
            f"{last_written}, after the last supported year {limits.max_year} (max_year). Fix: a shorter "
            "--horizon"
        )


def check_target_year(path: Path, row: int, year: int, limits: Limits = LIMITS) -> None:
    """Refuse a target period outside ``min_year``–``max_year`` (before anything is fitted).

    Raises:
        FileContractError: naming the row and the limit.
    """
    if not limits.min_year <= year <= limits.max_year:
        raise _refused(
            f"{_where(path, row, 'target_period')}: {year} is outside the period range "
            f"{limits.min_year}–{limits.max_year} (min_year/max_year). Fix: a target period within it"
        )


def check_attain_horizon(path: Path, steps: int, limits: Limits = LIMITS) -> None:
    """Refuse targets further ahead than ``max_horizon`` periods after the last observation."""
    if steps > limits.max_horizon:
        raise _refused(
            f"{path.name}: a target lies {steps} periods after its series' last observation, over the limit "
            f"of {limits.max_horizon} (max_horizon). Fix: a nearer target period"
        )


def refuse_unsafe_magnitudes(path: Path, scan: InputScan | None) -> None:
    """For ``attain``: refuse a series whose magnitude the forecast cannot represent (no rescaling there)."""
    if scan is None or scan.factors.height == 0:
        return
    sid = scan.factors.item(0, "series_id")
    raise _refused(
        f"{path.name}: series {sid!r} has values whose largest magnitude is outside {SMALLEST_SAFE:g}–"
        f"{LARGEST_SAFE:g}, which the forecast cannot represent. Fix: give the series and its targets in "
        "another unit"
    )


def _times(exponent: pl.Expr, sign: int) -> pl.Expr:
    """Multiply ``value`` by 10^(sign·exponent) in two halves, so 10^±320 never has to exist as a float."""
    half = (exponent * sign / 2).floor()
    return pl.lit(10.0).pow(half) * pl.lit(10.0).pow(exponent * sign - half)


def rescaled_input(path: Path, scan: InputScan | None, work: Path) -> Path:
    """IN with each series needing it divided by its power of ten (same name, in ``work``); IN itself if none."""
    if scan is None or scan.factors.height == 0:
        return path
    work.mkdir(parents=True, exist_ok=True)
    target = work / path.name
    frame = (
        _lazy(path)
        .select(pl.col("series_id"), pl.col("period"), pl.col("value"))
        .with_columns(pl.col("series_id").str.strip_chars().alias("_sid"))
    )
    factors = scan.factors.lazy().select(pl.col("series_id").alias("_sid"), "exponent")
    value = pl.col("value").str.strip_chars().cast(pl.Float64, strict=False)
    out = (
        frame.join(factors, on="_sid", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("exponent").is_not_null() & value.is_not_null())
            .then((value * _times(pl.col("exponent"), -1)).cast(pl.String))
            .otherwise(pl.col("value"))
            .alias("value")
        )
        .select("series_id", "period", "value")
    )
    out.sink_csv(target)
    return target


def bounds(kind: str, scan: InputScan | None) -> tuple[float | None, float | None]:
    """The kind's natural bounds for the output: count/amount ≥ 0; share 0–100 (0–1 when no value exceeds 1)."""
    if kind in ("count", "amount"):
        return 0.0, None
    if kind == "share":
        upper = 1.0 if scan is not None and scan.max_value is not None and scan.max_value <= 1 else 100.0
        return 0.0, upper
    return None, None


def finish_output(out_path: Path, scan: InputScan | None, kind: str) -> None:
    """Multiply rescaled series back, clip to the kind's bounds, neutralise text cells; rewrite OUT atomically.

    Streams OUT (two lazy passes: the overflow check, then the rewrite), so memory stays flat.

    Raises:
        FileContractError: a series whose forecast overflows a 64-bit float once multiplied back (OUT removed).
    """
    lower, upper = bounds(kind, scan)
    frame = pl.scan_csv(out_path, infer_schema=False)
    columns = frame.collect_schema().names()
    numbers = [c for c in OUT_NUMBERS if c in columns]
    frame = frame.with_columns(pl.col(c).cast(pl.Float64) for c in numbers)
    if scan is not None and scan.factors.height > 0:
        frame = (
            frame.join(scan.factors.lazy(), on="series_id", how="left", maintain_order="left")
            .with_columns(
                pl.when(pl.col("exponent").is_not_null())
                .then(pl.col(c) * _times(pl.col("exponent"), 1))
                .otherwise(pl.col(c))
                .alias(c)
                for c in numbers
            )
            .drop("exponent")
        )
        if broken := _first(frame, pl.any_horizontal(~pl.col(c).is_finite() for c in numbers)):
            out_path.unlink(missing_ok=True)
            raise _refused(
                f"the forecast of series {broken['series_id']!r} overflows a 64-bit float "
                "(above 1.8e308) once brought back to its unit; nothing was written. Fix: give the series in "
                "a larger unit"
            )
    if lower is not None or upper is not None:
        frame = frame.with_columns(pl.col(c).clip(lower, upper) for c in numbers)
    with atomic_path(out_path) as tmp:
        neutralise_formulas(frame).sink_csv(tmp)


def guarded_write(
    in_path: Path, out_path: Path, *, horizon: int, kind: str, write: Callable[[Path], _S]
) -> _S:
    """Run ``write(IN)`` (the forecast-file writer) behind this module's checks; returns what it returns.

    Header, periods, horizon and magnitudes are checked before anything is fitted; series outside the safe
    magnitudes are forecast from a rescaled copy of IN (removed afterwards) and multiplied back; OUT is
    clipped to the kind's bounds and its text cells neutralised.
    """
    check_header(in_path)
    scan = scan_input(in_path)
    check_horizon(in_path, horizon, scan)
    work = out_path.parent / f".{out_path.name}.rescaled"
    try:
        result = write(rescaled_input(in_path, scan, work))
        finish_output(out_path, scan, kind)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


def check_attain_input(in_path: Path, targets_path: Path) -> None:
    """``attain``'s IN and T before reading: one name per column, periods in range, representable magnitudes."""
    check_header(in_path)
    check_header(targets_path)
    refuse_unsafe_magnitudes(in_path, scan_input(in_path))


def check_attain_targets(
    targets_path: Path, targets: Sequence[tuple[int, str, int, float, str]], dated: bool, horizon: int
) -> None:
    """Every target period within ``min_year``–``max_year`` and at most ``max_horizon`` periods ahead, checked
    before anything is fitted (``target_period`` 9999 is refused at once, not after a 9999-year forecast)."""
    for row, _, step, _, _ in targets:
        check_target_year(targets_path, row, step // 12 if dated else step)
    check_attain_horizon(targets_path, horizon)


__all__ = [
    "LARGEST_SAFE",
    "SMALLEST_SAFE",
    "InputScan",
    "bounds",
    "check_attain_horizon",
    "check_attain_input",
    "check_attain_targets",
    "check_header",
    "check_horizon",
    "check_target_year",
    "finish_output",
    "guarded_write",
    "refuse_unsafe_magnitudes",
    "rescaled_input",
    "scan_input",
]
