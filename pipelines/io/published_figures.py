"""Real published figures (``data/published/published_figures.csv``) mapped to registry KPIs.

The published file keeps every figure as it was printed: qualifiers (``>4000``, ``近1600``), magnitude
units (``1.3`` + ``万亿元``), part-year values, targets and conflicting sources side by side. Which rows
are observations of a registry KPI is decided by hand, one row per figure, in ``data/published/mapping.csv``
(columns :data:`MAPPING_COLUMNS`). :func:`published_to_long` applies that decision: observations go out in
the long layout the ingest step reads, and every other row is set aside with its reason, so that nothing
is lost (``len(long) + len(set_aside) == len(raw)``).

Everything here is pure except :func:`load_mapping`, which reads the one file it is given.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from evaluation import tables
from pipelines.io.parsing import CellError, parse_period

logger = logging.getLogger(__name__)

PUBLISHED_COLUMNS = (
    "region",
    "indicator",
    "year",
    "value",
    "unit",
    "definition_note",
    "source_title",
    "source_address",
    "quote",
)
KEY_COLUMNS = ("region", "indicator", "year", "value")
MAPPING_COLUMNS = (*KEY_COLUMNS, "decision", "kpi_id", "map_region", "period", "why")
OBSERVATION_FIELDS = ("kpi_id", "map_region", "period")
MAPPING_LABEL = "data/published/mapping.csv"

# Decision -> (the column of the input row the decision is about, a phrase for the reject reason).
DECISIONS: dict[str, tuple[str, str]] = {
    "observation": ("value", "an observation of a registry KPI"),
    "target": ("indicator", "a target, not an observation"),
    "part_year": ("year", "a part-year value, not an annual one"),
    "definition_differs": ("indicator", "the definition differs from the registry KPI it resembles"),
    "context": ("indicator", "context with no matching registry KPI"),
    "unreliable": ("value", "flagged unreliable or ambiguous in its source note"),
    "derived": ("value", "derived from wording, not a reported number"),
}
UNMAPPED = "unmapped"

LONG_SCHEMA = tables.dtypes(tables.PublishedFiguresLong)
SET_ASIDE_SCHEMA = tables.dtypes(tables.FileRejects)  # the same shape as an ingest's file rejects


class MappingError(ValueError):
    """The mapping file (or frame) is malformed; the message names the file, row and column."""


def is_published_layout(columns: Sequence[str]) -> bool:
    """True when a header carries every column of the published-figures layout (order and case free).

    Args:
        columns: the header names of an input table (a ``row`` column, if any, is ignored).

    >>> is_published_layout(list(PUBLISHED_COLUMNS) + ["row"])
    True
    >>> is_published_layout(["kpi_id", "region", "period", "value"])
    False
    """
    present = {str(c).strip().casefold() for c in columns}
    return all(c in present for c in PUBLISHED_COLUMNS)


def value_with_unit(value: str, unit: str | None) -> str:
    """Join a published value and its unit into one cell that :func:`pipelines.io.parsing.parse_value` reads.

    The qualifier stays where it was written, so ``>`` (a lower bound) and ``近``/``约`` (approximate)
    survive; a value that already ends with its unit is left alone.

    >>> value_with_unit(">4000", "亿元"), value_with_unit("1.3", "万亿元"), value_with_unit("77", "%")
    ('>4000亿元', '1.3万亿元', '77%')
    >>> value_with_unit("近1600", "个"), value_with_unit("3.2万个", "万个"), value_with_unit(" 11 ", None)
    ('近1600个', '3.2万个', '11')
    """
    text = value.strip()
    suffix = (unit or "").strip()
    if not suffix or text.endswith(suffix):
        return text
    return f"{text}{suffix}"


def _text(value: object) -> str:
    """A cell as stripped text; a null cell is ``""``."""
    return "" if value is None else str(value).strip()


def _row_problems(cells: dict[str, str], at: str) -> list[str]:
    """What is wrong with one mapping row on its own (blank required cells, decision and its fields)."""
    problems = [
        f"{at}, column {c}: blank; every mapping row needs a {c}"
        for c in ("region", "indicator", "value", "why")
        if not cells[c]
    ]
    decision = cells["decision"]
    if decision not in DECISIONS:
        return [
            *problems,
            f"{at}, column decision: {decision!r} is not a decision; use one of {', '.join(DECISIONS)}",
        ]
    if decision != "observation":
        return problems + [
            f"{at}, column {c}: {cells[c]!r} on a {decision!r} row; only observation rows carry "
            f"{c} — clear it or change the decision"
            for c in OBSERVATION_FIELDS
            if cells[c]
        ]
    problems += [
        f"{at}, column {c}: blank; an observation row needs kpi_id, map_region and period"
        for c in OBSERVATION_FIELDS
        if not cells[c]
    ]
    if cells["period"]:
        try:
            parse_period(cells["period"])
        except CellError as exc:
            problems.append(f"{at}, column period: {exc}")
    return problems


def _check_mapping(mapping: pl.DataFrame, where: str) -> pl.DataFrame:
    """Validate a mapping frame (String cells, file order) and return it with blank cells as null.

    Row numbers in messages are spreadsheet rows: the header is row 1, the first mapping row is row 2.
    """
    missing = [c for c in MAPPING_COLUMNS if c not in mapping.columns]
    if missing:
        raise MappingError(
            f"{where}: missing column(s) {', '.join(missing)}; the header must be {','.join(MAPPING_COLUMNS)}"
        )
    problems: list[str] = []
    first_seen: dict[tuple[str, ...], int] = {}
    records: list[dict[str, str | None]] = []
    for i, rec in enumerate(mapping.select(MAPPING_COLUMNS).iter_rows(named=True)):
        row = i + 2
        cells = {c: _text(rec[c]) for c in MAPPING_COLUMNS}
        at = f"{where}: row {row}"
        problems += _row_problems(cells, at)
        key = tuple(cells[c] for c in KEY_COLUMNS)
        if key in first_seen:
            problems.append(
                f"{at}, columns {','.join(KEY_COLUMNS)}: same key as row {first_seen[key]}; "
                "keep one mapping row per published figure"
            )
        else:
            first_seen[key] = row
        records.append({c: (cells[c] or None) for c in MAPPING_COLUMNS})
    if problems:
        raise MappingError("\n".join([f"{where}: {len(problems)} problem(s)", *problems]))
    return pl.DataFrame(records, schema=dict.fromkeys(MAPPING_COLUMNS, pl.String))


def load_mapping(path: Path) -> pl.DataFrame:
    """Read and validate ``mapping.csv``.

    Args:
        path: the mapping file, columns :data:`MAPPING_COLUMNS`.

    Returns:
        The mapping, one row per published figure, every column String; ``kpi_id``, ``map_region`` and
        ``period`` are null except on ``observation`` rows.

    Raises:
        MappingError: the file is missing or unreadable, a column is missing, or a row breaks a rule; the
            message names the file, the row (header = row 1) and the column.
    """
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except FileNotFoundError as exc:
        raise MappingError(f"{path}: file not found; the published layout needs {MAPPING_LABEL}") from exc
    except pl.exceptions.PolarsError as exc:
        raise MappingError(f"{path}: cannot read it as CSV: {exc}") from exc
    return _check_mapping(frame, str(path))


def published_to_long(raw: pl.DataFrame, mapping: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Turn the published figures into long-layout observations and set-aside rows.

    Args:
        raw: the published file as text — String columns :data:`PUBLISHED_COLUMNS` — plus Int64 ``row``
            (spreadsheet row: header = 1). Not modified.
        mapping: the mapping (see :func:`load_mapping`); validated again here.

    Returns:
        ``(long, set_aside)``, both sorted by ``row``:

        - ``long``: one row per ``observation``, columns :data:`LONG_SCHEMA` — ``kpi_id, region, period,
          value, std_error, source, status, note`` (String) and ``row`` (Int64). ``value`` joins the value
          and unit with the qualifier kept (``>4000亿元``); ``source`` is ``source_title | source_address``;
          ``status`` is ``final``; ``note`` is ``definition_note | quote: quote``, so CONFLICT and
          UNRELIABLE flags travel with the figure.
        - ``set_aside``: every other row, columns :data:`SET_ASIDE_SCHEMA` — ``row``, ``column`` (the
          input column the decision is about), ``reason_code`` (the decision, or ``unmapped``), ``reason``
          (a sentence with the mapping's ``why``) and ``raw`` (the input row as JSON).

    Raises:
        MappingError: ``raw`` lacks a published column or ``row``, or the mapping is malformed.
    """
    missing = [c for c in (*PUBLISHED_COLUMNS, "row") if c not in raw.columns]
    if missing:
        raise MappingError(
            f"published figures: missing column(s) {', '.join(missing)}; expected "
            f"{','.join(PUBLISHED_COLUMNS)} (read with every column as String) plus an Int64 row number"
        )
    checked = _check_mapping(mapping, "mapping frame")
    by_key = {tuple(_text(rec[c]) for c in KEY_COLUMNS): rec for rec in checked.iter_rows(named=True)}

    long_rows: list[dict[str, Any]] = []
    aside_rows: list[dict[str, Any]] = []
    for rec in raw.select(*PUBLISHED_COLUMNS, "row").iter_rows(named=True):
        key = tuple(_text(rec[c]) for c in KEY_COLUMNS)
        found = by_key.get(key)
        if found is not None and found["decision"] == "observation":
            long_rows.append(
                {
                    "kpi_id": found["kpi_id"],
                    "region": found["map_region"],
                    "period": found["period"],
                    "value": value_with_unit(_text(rec["value"]), rec["unit"]),
                    "std_error": None,
                    "source": f"{_text(rec['source_title'])} | {_text(rec['source_address'])}",
                    "status": "final",
                    "note": f"{_text(rec['definition_note'])} | quote: {_text(rec['quote'])}",
                    "row": rec["row"],
                }
            )
            continue
        raw_json = json.dumps({c: rec[c] for c in PUBLISHED_COLUMNS}, ensure_ascii=False)
        if found is None:
            region, indicator, year, value = key
            aside_rows.append(
                {
                    "row": rec["row"],
                    "column": "indicator",
                    "reason_code": UNMAPPED,
                    "reason": (
                        f"no mapping for region={region!r}, indicator={indicator!r}, year={year!r}, "
                        f"value={value!r}: add a row for it to {MAPPING_LABEL} with a decision "
                        f"({', '.join(DECISIONS)}) and a why"
                    ),
                    "raw": raw_json,
                }
            )
            continue
        decision = found["decision"]
        column, phrase = DECISIONS[decision]
        aside_rows.append(
            {
                "row": rec["row"],
                "column": column,
                "reason_code": decision,
                "reason": (
                    f"set aside, {phrase}: {found['why']} (decided in {MAPPING_LABEL}; "
                    "change the decision there to use it)"
                ),
                "raw": raw_json,
            }
        )

    long = pl.DataFrame(long_rows, schema=LONG_SCHEMA).sort("row")
    set_aside = pl.DataFrame(aside_rows, schema=SET_ASIDE_SCHEMA).sort("row")
    assert long.height + set_aside.height == raw.height, "published_to_long lost or duplicated rows"
    unmapped = set_aside.filter(pl.col("reason_code") == UNMAPPED).height
    if unmapped:
        logger.warning("%d published figure(s) have no row in %s", unmapped, MAPPING_LABEL)
    logger.info("published figures: %d observation(s), %d set aside", long.height, set_aside.height)
    return long, set_aside
