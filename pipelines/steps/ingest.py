"""Validate an input table against the registry: the pure half of ``dtscope ingest``.

:func:`validate_table` takes a text table (from :func:`pipelines.io.catalog.read_table`) and returns the
accepted observation rows and the rejected ones, each reject with its row number, column, a stable reason
code and a readable reason. Nothing is dropped: ``rows_in == len(accepted) + len(rejects)``.

Layouts:
- **long**: ``kpi_id, region, period, value`` (+ optional ``std_error, source, status, note, unit``);
- **wide**: ``kpi_id, region`` (+ optional ``source, status, note, unit``) and one column per period
  (``2019``, ``2020年``, ``2022Q3`` …) — every period cell is one input item;
- **published**: the layout of ``data/published/published_figures.csv`` (real figures with sources), mapped
  to registry KPIs through ``data/published/mapping.csv``.

Header names may be English or Chinese (``指标``, ``区``, ``年份``, ``数值`` …); KPIs may be named by id,
Chinese or English name; regions by id, name or alias.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from evaluation import tables
from pipelines.io.kpi_registry import Indicator, Registry
from pipelines.io.limits import LIMITS, Limits
from pipelines.io.parsing import CellError, is_missing, parse_period, parse_value, to_kpi_unit

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "kpi_id": ("kpi_id", "kpi", "indicator_id", "指标", "指标名称", "指标代码", "指标id"),
    "region": ("region", "district", "区", "地区", "区域", "行政区", "区县"),
    "period": ("period", "year", "date", "年份", "年度", "年", "时间", "期间", "日期"),
    "value": ("value", "数值", "值", "指标值", "数据"),
    "std_error": ("std_error", "se", "standard_error", "标准误"),
    "source": ("source", "来源", "数据来源"),
    "status": ("status", "状态"),
    "note": ("note", "notes", "备注", "说明"),
    "unit": ("unit", "单位"),
}
# The long input layout as text columns: what a long file holds, and what dtscope's own derived rows and the
# demo generator write before they go through the same validation.
LONG_COLUMNS = ("kpi_id", "region", "period", "value", "std_error", "source", "status", "note")
STATUS_ALIASES = {
    "final": "final",
    "正式": "final",
    "最终": "final",
    "provisional": "provisional",
    "初步": "provisional",
    "快报": "provisional",
    "预计": "provisional",
}
ACCEPTED_SCHEMA = tables.dtypes(tables.Accepted)
REJECT_SCHEMA = tables.dtypes(tables.FileRejects)


@dataclass(frozen=True)
class ValidationResult:
    """What :func:`validate_table` found.

    Attributes:
        layout: ``long``, ``wide`` or ``published``.
        rows_in: input items (rows of a long table, period cells of a wide table).
        accepted: valid observations, columns :data:`ACCEPTED_SCHEMA` (``row``/``column`` locate the cell).
        rejects: the rest, columns :data:`REJECT_SCHEMA`.
    """

    layout: str
    rows_in: int
    accepted: pl.DataFrame
    rejects: pl.DataFrame
    reject_counts: dict[str, int] | None = None

    @property
    def n_rejected(self) -> int:
        """Rejected items, including those counted in a summary row rather than stored one by one."""
        return self.rows_in - self.accepted.height

    @property
    def rejects_by_reason(self) -> dict[str, int]:
        """Rejected items per reason code (all of them, stored or summarised)."""
        if self.reject_counts is not None:
            return dict(sorted(self.reject_counts.items()))
        if self.rejects.height == 0:
            return {}
        return dict(self.rejects.group_by("reason_code").len().sort("reason_code").iter_rows())


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip().casefold()


def _canonical_columns(columns: list[str]) -> dict[str, str]:
    """Map canonical names (kpi_id, region, …) to the file's actual header names."""
    folded = {_fold(c): c for c in columns}
    found: dict[str, str] = {}
    for canonical, aliases in COLUMN_ALIASES.items():
        for alias in aliases:
            if alias in folded:
                found[canonical] = folded[alias]
                break
    return found


def _period_columns(columns: list[str], used: set[str]) -> list[str]:
    out = []
    for c in columns:
        if c in used or c == "row":
            continue
        try:
            parse_period(c)
        except CellError:
            continue
        out.append(c)
    return out


class _KpiLookup:
    def __init__(self, registry: Registry) -> None:
        self.by_label: dict[str, str] = {}
        for kpi_id, ind in registry.indicators.items():
            for label in (kpi_id, ind.name_zh, ind.name_en):
                self.by_label[_fold(label)] = kpi_id

    def get(self, label: str) -> str | None:
        return self.by_label.get(_fold(label))


def _raw_json(record: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in record.items() if k != "row"}, ensure_ascii=False)


def _check_value(ind: Indicator, kpi_id: str, text: str, unit_text: str | None) -> tuple[float, str]:
    """Parse a value cell for ``ind``; return (value in the KPI's unit, qualifier) or raise CellError."""
    if ind.kind == "level" and ind.levels is not None:
        label = unicodedata.normalize("NFKC", text).strip()
        if label in ind.levels:
            return float(ind.levels.index(label)), "="
    cell = text if not unit_text or is_missing(text) else f"{text}{unit_text.strip()}"
    parsed = parse_value(cell)
    value = to_kpi_unit(parsed, ind.unit, ind.kind)
    _check_magnitude(text, value, ind.unit)
    if ind.kind == "share" and not parsed.percent and 0 < value <= 1:
        # Excel keeps a cell shown as "50%" as 0.5; storing it as 0.5 % would be a silent 100x error.
        raise CellError(
            "ambiguous_share",
            f"{text!r} is ambiguous for a share kept in percent: write {value * 100:g}% if it is a fraction, "
            f"or {value:g}% if it is already a percentage",
        )
    if ind.kind == "level":
        assert ind.levels is not None
        if value != int(value) or not 0 <= value < len(ind.levels):
            raise CellError(
                "bad_value",
                f"{text!r} is not a level of {kpi_id}: give one of {ind.levels} or its position 0–{len(ind.levels) - 1}",
            )
    if ind.lower is not None and value < ind.lower:
        raise CellError(
            "out_of_bounds",
            f"value {value:g} is below the natural lower bound {ind.lower:g} of {kpi_id} ({ind.unit})",
        )
    if ind.upper is not None and value > ind.upper:
        raise CellError(
            "out_of_bounds",
            f"value {value:g} is above the natural upper bound {ind.upper:g} of {kpi_id} ({ind.unit})",
        )
    return value, parsed.qualifier


def _check_magnitude(text: str, value: float, unit: str, limits: Limits = LIMITS) -> None:
    """Refuse infinities (``1e309``, ``1e305万``) and magnitudes no KPI has, as a row reject with a reason."""
    if not math.isfinite(value):
        raise CellError("out_of_range", f"{text!r} is not a finite number (it overflows a 64-bit float)")
    if abs(value) > limits.max_abs_value:
        raise CellError(
            "out_of_range",
            f"{text!r} is {value:.3g} {unit}, beyond ±{limits.max_abs_value:g} (max_abs_value); check the unit",
        )


_EXCEL_SERIAL = re.compile(r"^\d{5}(\.0+)?$")
# Excel's day 0 (it counts 1900 as a leap year, so this holds from 1900-03-01 on)
_EXCEL_EPOCH = date(1899, 12, 30)


def _period_of(text: str) -> tuple[date, str]:
    """Parse a period cell; a five-digit Excel date serial (``49383``) reads as the date it stands for.

    >>> _period_of("44392")
    (datetime.date(2021, 7, 1), 'M')
    """
    try:
        return parse_period(text)
    except CellError as exc:
        stripped = (text or "").strip()
        if not _EXCEL_SERIAL.match(stripped):
            raise
        day = _EXCEL_EPOCH + timedelta(days=int(float(stripped)))
        try:
            return parse_period(day.isoformat())
        except CellError:
            raise CellError(
                exc.code,
                f"{text!r} read as an Excel date serial is {day.isoformat()}, outside the period range",
            ) from None


def _blank_hint(what: str) -> str:
    return (
        f"the {what} cell is blank; in a spreadsheet this usually means merged cells (only the first row "
        f"of a merged block keeps the value): unmerge them and fill the {what} on every row"
    )


class _Refused(Exception):
    """One cell refuses its row: the column, the reason code and the reason."""

    def __init__(self, column: str, code: str, reason: str) -> None:
        super().__init__(reason)
        self.reject = (column, code, reason)


@dataclass(frozen=True)
class _LabelColumn:
    """A column whose cells name a registry entry: its reject code, what it names, the unknown message."""

    column: str
    code: str
    what: str
    unknown: str  # with {label}

    def resolve(self, item: dict[str, Any], lookup: Callable[[str], str | None]) -> str:
        """The registry id the cell names; a blank cell (merged cells) or an unknown label refuses the row."""
        label = item.get(self.column) or ""
        if is_missing(label):
            raise _Refused(self.column, self.code, _blank_hint(self.what))
        found = lookup(label)
        if found is None:
            raise _Refused(self.column, self.code, self.unknown.format(label=repr(label)))
        return found


_KPI_LABEL = _LabelColumn(
    "kpi_id",
    "unknown_kpi",
    "KPI",
    "unknown KPI {label}: not an id or name in the registry (see `dtscope kpis`)",
)
_REGION_LABEL = _LabelColumn(
    "region",
    "unknown_region",
    "region",
    "unknown region {label}: use a district id or name such as pudong / 浦东新区",
)


def _std_error_of(item: dict[str, Any]) -> float | None:
    text = item.get("std_error")
    if text is None or is_missing(text):
        return None
    try:
        std_error = parse_value(text).number
    except CellError:
        raise _Refused("std_error", "bad_std_error", f"std_error {text!r} is not a number") from None
    if not math.isfinite(std_error):
        raise _Refused("std_error", "bad_std_error", f"std_error {text!r} is not a finite number")
    if std_error < 0:
        raise _Refused("std_error", "bad_std_error", f"std_error {text!r} is negative")
    return std_error


def _status_of(item: dict[str, Any]) -> str:
    text = item.get("status")
    if text is None or is_missing(text):
        return "final"
    status = STATUS_ALIASES.get(_fold(text))
    if status is None:
        raise _Refused("status", "bad_status", f"status {text!r} is not provisional or final")
    return status


def _validate_item(
    item: dict[str, Any], registry: Registry, kpis: _KpiLookup, default_source: str
) -> tuple[dict[str, Any] | None, tuple[str, str, str] | None]:
    """Validate one input item; return (accepted row, None) or (None, (column, code, reason))."""
    try:
        kpi_id = _KPI_LABEL.resolve(item, kpis.get)
        region = _REGION_LABEL.resolve(item, registry.region_id)
        try:
            period, freq = _period_of(item.get("period") or "")
        except CellError as exc:
            raise _Refused(item["period_column"], exc.code, str(exc)) from None
        try:
            value, qualifier = _check_value(
                registry.indicators[kpi_id], kpi_id, item.get("value") or "", item.get("unit")
            )
        except CellError as exc:
            raise _Refused(item["value_column"], exc.code, str(exc)) from None
        std_error = _std_error_of(item)
        status = _status_of(item)
    except _Refused as refused:
        return None, refused.reject
    source_text = item.get("source")
    source = default_source if source_text is None or is_missing(source_text) else source_text.strip()
    note_text = item.get("note")
    note = None if note_text is None or is_missing(note_text) else note_text.strip()
    return {
        "row": item["row"],
        "column": item["value_column"],
        "kpi_id": kpi_id,
        "region": region,
        "period": period,
        "freq": freq,
        "value": value,
        "std_error": std_error,
        "qualifier": qualifier,
        "source": source,
        "status": status,
        "note": note,
    }, None


def _items_long(raw: pl.DataFrame, cols: dict[str, str]) -> list[dict[str, Any]]:
    items = []
    for rec in raw.iter_rows(named=True):
        item = {canonical: rec.get(actual) for canonical, actual in cols.items()}
        item["row"] = rec["row"]
        item["period_column"] = cols["period"]
        item["value_column"] = cols["value"]
        item["_raw"] = _raw_json(rec)
        items.append(item)
    return items


def _items_wide(raw: pl.DataFrame, cols: dict[str, str], period_cols: list[str]) -> list[dict[str, Any]]:
    items = []
    for rec in raw.iter_rows(named=True):
        base = {canonical: rec.get(actual) for canonical, actual in cols.items()}
        raw_text = _raw_json(rec)
        for pc in period_cols:
            items.append(
                base
                | {
                    "row": rec["row"],
                    "period": pc,
                    "value": rec.get(pc),
                    "period_column": pc,
                    "value_column": pc,
                    "_raw": raw_text,
                }
            )
    return items


def detect_layout(columns: list[str]) -> str | None:
    """``long``, ``wide``, ``published`` or None when the header fits none of them.

    >>> detect_layout(["kpi_id", "region", "period", "value"]), detect_layout(["指标", "区", "2020年", "2021年"])
    ('long', 'wide')
    """
    from pipelines.io import published_figures as published

    if published.is_published_layout(columns):
        return "published"
    cols = _canonical_columns(columns)
    if {"kpi_id", "region", "period", "value"} <= cols.keys():
        return "long"
    if {"kpi_id", "region"} <= cols.keys() and _period_columns(columns, set(cols.values())):
        return "wide"
    return None


def validate_table(
    raw: pl.DataFrame,
    registry: Registry,
    *,
    file_label: str,
    mapping_path: Path | None = None,
) -> ValidationResult:
    """Validate a text table; every input item ends up accepted or rejected, never dropped.

    Args:
        raw: String columns plus Int64 ``row`` (see :func:`pipelines.io.catalog.read_table`).
        registry: the KPI and region registry.
        file_label: the file's name, used as the default ``source`` when the table has none.
        mapping_path: ``mapping.csv`` for the published layout (default: ``data/published/mapping.csv``).

    Returns:
        A :class:`ValidationResult`; a header that fits no layout gives every row a ``bad_layout`` reject.
    """
    columns = [c for c in raw.columns if c != "row"]
    layout = detect_layout(columns)
    default_source = f"file:{file_label}"
    set_aside: list[dict[str, Any]] = []
    if layout is None:
        reason = (
            f"cannot tell the layout from the header {columns}: expected long (kpi_id, region, period, value) "
            "or wide (kpi_id, region, 2019, 2020, …)"
        )
        rejects = pl.DataFrame(
            [
                {
                    "row": r["row"],
                    "column": "(header)",
                    "reason_code": "bad_layout",
                    "reason": reason,
                    "raw": _raw_json(r),
                }
                for r in raw.iter_rows(named=True)
            ],
            schema=REJECT_SCHEMA,
        )
        return ValidationResult("unknown", raw.height, pl.DataFrame(schema=ACCEPTED_SCHEMA), rejects)
    if layout == "published":
        from pipelines.io import published_figures as published
        from pipelines.settings import PUBLISHED_DATA_DIR

        mapping = published.load_mapping(mapping_path or PUBLISHED_DATA_DIR / "mapping.csv")
        long, aside = published.published_to_long(raw, mapping)
        set_aside = aside.to_dicts()
        cols = _canonical_columns([c for c in long.columns if c != "row"])
        items = _items_long(long, cols)
        rows_in = raw.height
    else:
        cols = _canonical_columns(columns)
        if layout == "long":
            items = _items_long(raw, cols)
        else:
            period_cols = _period_columns(columns, set(cols.values()))
            items = _items_wide(raw, cols, period_cols)
        rows_in = len(items)

    kpis = _KpiLookup(registry)
    accepted: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = list(set_aside)
    for item in items:
        ok, bad = _validate_item(item, registry, kpis, default_source)
        if ok is not None:
            ok["_raw"] = item["_raw"]
            accepted.append(ok)
        else:
            assert bad is not None
            column, code, reason = bad
            rejected.append(
                {
                    "row": item["row"],
                    "column": column,
                    "reason_code": code,
                    "reason": reason,
                    "raw": item["_raw"],
                }
            )

    # Duplicate keys within the file: we cannot know which one is right, so every copy is rejected.
    by_key: dict[tuple[str, str, date, str, str], list[int]] = defaultdict(list)
    for i, row in enumerate(accepted):
        by_key[(row["kpi_id"], row["region"], row["period"], row["freq"], row["source"])].append(i)
    dup_idx: set[int] = set()
    for key, idxs in by_key.items():
        if len(idxs) > 1:
            places = ", ".join(f"row {accepted[i]['row']} column {accepted[i]['column']}" for i in idxs)
            for i in idxs:
                dup_idx.add(i)
                row = accepted[i]
                rejected.append(
                    {
                        "row": row["row"],
                        "column": row["column"],
                        "reason_code": "duplicate_key",
                        "reason": f"duplicate key ({key[0]}, {key[1]}, period {key[2]}, source {key[4]!r}) "
                        f"appears at {places}; keep one",
                        "raw": row["_raw"],
                    }
                )
    kept = [
        {k: v for k, v in row.items() if k != "_raw"} for i, row in enumerate(accepted) if i not in dup_idx
    ]
    result = ValidationResult(
        layout=layout,
        rows_in=rows_in,
        accepted=pl.DataFrame(kept, schema=ACCEPTED_SCHEMA),
        rejects=pl.DataFrame(rejected, schema=REJECT_SCHEMA).sort("row", "column"),
    )
    if result.accepted.height + result.rejects.height != result.rows_in:  # the conservation law
        raise AssertionError(
            f"{file_label}: {result.rows_in} items in but {result.accepted.height} accepted + "
            f"{result.rejects.height} rejected"
        )
    return result


def _cap_rejects(rejects: pl.DataFrame, counts: dict[str, int], total: int, limits: Limits) -> pl.DataFrame:
    """Keep the first ``max_rejects_stored`` rejects; the rest become one summary row counting them by reason."""
    if total <= limits.max_rejects_stored:
        return rejects
    kept = rejects.head(limits.max_rejects_stored)
    kept_counts = dict(kept.group_by("reason_code").len().iter_rows())
    rest = {k: v - kept_counts.get(k, 0) for k, v in counts.items() if v - kept_counts.get(k, 0) > 0}
    text = ", ".join(f"{k} {v:,}" for k, v in sorted(rest.items(), key=lambda kv: -kv[1]))
    summary = pl.DataFrame(
        [
            {
                "row": int(kept.item(-1, "row")) + 1,
                "column": "(file)",
                "reason_code": "more_rejects",
                "reason": f"{total - kept.height:,} more rejected items not stored one by one "
                f"(max_rejects_stored {limits.max_rejects_stored:,}): {text}",
                "raw": "",
            }
        ],
        schema=REJECT_SCHEMA,
    )
    return pl.concat([kept, summary])


def cap_rejects(rejects: pl.DataFrame, counts: dict[str, int], limits: Limits = LIMITS) -> pl.DataFrame:
    """Rejects as stored: the first ``max_rejects_stored`` (by row) plus one ``more_rejects`` summary row.

    Args:
        rejects: at least the first ``max_rejects_stored + 1`` rejects of the file (more is fine).
        counts: every rejected item per reason code (stored or not).
    """
    total = sum(counts.values())
    if rejects.height:
        rejects = rejects.filter(pl.col("reason_code") != "more_rejects").sort("row", "column")
    return _cap_rejects(rejects, counts, total, limits)


def validate_parts(
    batches: Iterable[pl.DataFrame],
    registry: Registry,
    *,
    file_label: str,
    mapping_path: Path | None = None,
) -> Iterator[ValidationResult]:
    """Validate a file batch by batch, yielding each batch's result (nothing is held across batches).

    For :meth:`pipelines.io.warehouse.Warehouse.ingest_stream`, which stages accepted rows in the warehouse,
    finds keys repeated across batches there, and caps the stored rejects; use :func:`validate_batches`
    for one whole result in memory (a preview).
    """
    for batch in batches:
        yield validate_table(batch, registry, file_label=file_label, mapping_path=mapping_path)


def validate_batches(
    batches: Iterable[pl.DataFrame],
    registry: Registry,
    *,
    file_label: str,
    mapping_path: Path | None = None,
    limits: Limits = LIMITS,
) -> ValidationResult:
    """Validate a file read in batches (:func:`pipelines.io.catalog.iter_table`) with bounded memory.

    Each batch is validated by :func:`validate_table`; a key repeated across batches rejects every copy,
    as within one batch. Rejects beyond ``limits.max_rejects_stored`` are counted by reason in one summary
    row (``more_rejects``) instead of being kept one by one; ``rows_in == accepted + n_rejected`` holds.
    """
    layout = "unknown"
    rows_in = 0
    accepted: list[pl.DataFrame] = []
    rejects: list[pl.DataFrame] = []
    counts: dict[str, int] = defaultdict(int)
    stored = 0
    for batch in batches:
        part = validate_table(batch, registry, file_label=file_label, mapping_path=mapping_path)
        layout = part.layout if layout == "unknown" else layout
        rows_in += part.rows_in
        accepted.append(part.accepted)
        for code, n in part.rejects_by_reason.items():
            counts[code] += n
        if stored <= limits.max_rejects_stored:
            rejects.append(part.rejects.head(limits.max_rejects_stored + 1 - stored))
            stored += min(part.rejects.height, limits.max_rejects_stored + 1 - stored)
    good = pl.concat(accepted) if accepted else pl.DataFrame(schema=ACCEPTED_SCHEMA)
    key = ["kpi_id", "region", "period", "freq", "source"]
    repeated = good.filter(pl.len().over(key) > 1)
    if repeated.height:  # only across batches: validate_table already rejected repeats within one
        good = good.filter(pl.len().over(key) == 1)
        counts["duplicate_key"] += repeated.height
        if stored <= limits.max_rejects_stored:
            rejects.append(
                repeated.select(
                    "row",
                    "column",
                    pl.lit("duplicate_key").alias("reason_code"),
                    pl.concat_str(
                        pl.lit("duplicate key ("),
                        pl.col("kpi_id"),
                        pl.lit(", "),
                        pl.col("region"),
                        pl.lit(", period "),
                        pl.col("period").cast(pl.String),
                        pl.lit(", source "),
                        pl.col("source"),
                        pl.lit(") appears in more than one row; keep one"),
                    ).alias("reason"),
                    pl.lit("").alias("raw"),
                ).cast(REJECT_SCHEMA)  # type: ignore[arg-type]
            )
    total = rows_in - good.height
    bad = pl.concat(rejects).sort("row", "column") if rejects else pl.DataFrame(schema=REJECT_SCHEMA)
    return ValidationResult(
        layout=layout,
        rows_in=rows_in,
        accepted=good,
        rejects=_cap_rejects(bad, dict(counts), total, limits),
        reject_counts=dict(counts),
    )
