"""The published-figures data set, its hand-made mapping to registry KPIs, and :mod:`pipelines.io.published_figures`."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from functools import cache
from pathlib import Path

import hypothesis.strategies as st
import polars as pl
import pytest
from hypothesis import given, settings

from pipelines.io.kpi_registry import load_registry
from pipelines.io.parsing import parse_period, parse_value, to_kpi_unit
from pipelines.io.published_figures import (
    DECISIONS,
    MAPPING_COLUMNS,
    PUBLISHED_COLUMNS,
    MappingError,
    is_published_layout,
    load_mapping,
    published_to_long,
    value_with_unit,
)
from pipelines.settings import PUBLISHED_DATA_DIR

PUBLISHED_PATH = PUBLISHED_DATA_DIR / "published_figures.csv"
MAPPING_PATH = PUBLISHED_DATA_DIR / "mapping.csv"
KEY = ["region", "indicator", "year", "value"]

# Notes that say the figure covers part of a year (or a window that is not a calendar year).
PART_YEAR = re.compile(
    r"as of|Jan[-–](Jun|May|Sep)|mid-year|上半年|前三季度|1-5月|\d{4}\.\d{2}-\d{4}\.\d{2}"
    r"|as stated (Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov)"
)


def read_published(path: Path) -> pl.DataFrame:
    """The published file as the ingest step sees it: String columns plus Int64 ``row`` (header = 1)."""
    frame = pl.read_csv(path, infer_schema=False)
    return frame.with_columns(pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias("row"))


@cache
def _raw() -> pl.DataFrame:
    return read_published(PUBLISHED_PATH)


@cache
def _mapping() -> pl.DataFrame:
    return load_mapping(MAPPING_PATH)


def _joined() -> pl.DataFrame:
    return _raw().join(_mapping(), on=KEY, how="left", nulls_equal=True)


# ------------------------------------------------------------------ the data set and its mapping


def test_published_key_is_unique_per_row() -> None:
    raw = _raw()
    assert raw.height > 0
    assert raw.select(KEY).is_duplicated().sum() == 0


def test_mapping_covers_every_input_row_exactly_once() -> None:
    raw_keys = Counter(_raw().select(KEY).iter_rows())
    map_keys = Counter(_mapping().select(KEY).iter_rows())
    assert raw_keys == map_keys
    assert _mapping().columns == list(MAPPING_COLUMNS)
    assert set(_mapping()["decision"]) <= set(DECISIONS)


def test_observations_map_to_registry_kpis_and_parse_within_bounds() -> None:
    kpis = load_registry().kpis_table()
    pairs = {
        (k, r): (u, kind, lo, hi)
        for k, r, u, kind, lo, hi in kpis.select(
            "kpi_id", "region", "unit", "kind", "lower", "upper"
        ).iter_rows()
    }
    obs = _joined().filter(pl.col("decision") == "observation")
    assert obs.height > 0
    for rec in obs.iter_rows(named=True):
        where = f"row {rec['row']} ({rec['indicator']} {rec['year']})"
        assert (rec["kpi_id"], rec["map_region"]) in pairs, f"{where}: no such KPI/region in the registry"
        unit, kind, lower, upper = pairs[(rec["kpi_id"], rec["map_region"])]
        value = to_kpi_unit(parse_value(value_with_unit(rec["value"], rec["unit"])), unit, kind)
        assert math.isfinite(value)
        assert lower is None or value >= lower, where
        assert upper is None or value <= upper, where
        assert parse_period(rec["period"])[1] == "Y", where
        assert rec["period"] == rec["year"], where


def test_long_values_keep_number_and_qualifier_of_the_published_cell() -> None:
    reg = load_registry()
    long, _ = published_to_long(_raw(), _mapping())
    raw_by_row = {r["row"]: r for r in _raw().iter_rows(named=True)}
    for rec in long.iter_rows(named=True):
        ind = reg.indicators[rec["kpi_id"]]
        published = raw_by_row[rec["row"]]
        parsed = parse_value(rec["value"])
        assert parsed.qualifier == parse_value(published["value"]).qualifier
        assert rec["value"].startswith(published["value"])
        assert math.isfinite(to_kpi_unit(parsed, ind.unit, ind.kind))
    lower_bounds = long.filter(pl.col("value").str.starts_with(">4000"))
    assert lower_bounds.height >= 1
    assert all(parse_value(v).qualifier == ">" for v in lower_bounds["value"])


def test_approximate_qualifier_survives_when_mapped() -> None:
    raw = _raw()
    near = raw.filter(pl.col("value").str.starts_with("近"))
    assert near.height > 0
    first = near.row(0, named=True)
    mapping = _mapping().with_columns(
        pl.when(pl.col("value") == first["value"]).then(pl.lit(v)).otherwise(pl.col(c)).alias(c)
        for c, v in (
            ("decision", "observation"),
            ("kpi_id", "open_datasets"),
            ("map_region", "pudong"),
            ("period", "2018"),
        )
    )
    long, _ = published_to_long(raw, mapping)
    got = long.filter(pl.col("row") == first["row"])["value"].item()
    parsed = parse_value(got)
    assert parsed.qualifier == "~"
    assert parsed.number == pytest.approx(parse_value(first["value"]).number)


def test_part_year_rows_are_never_observations() -> None:
    joined = _joined()
    flagged = joined.filter(pl.col("definition_note").str.contains(PART_YEAR.pattern))
    notes = " ".join(flagged["definition_note"])
    for term in ("Jan-Sep", "end-June", "April"):
        assert term in notes, f"the part-year check no longer sees a note with {term!r}"
    bad = flagged.filter(pl.col("decision") == "observation")
    assert bad.height == 0, bad.select("row", "indicator", "definition_note")


def test_target_rows_are_targets_not_observations() -> None:
    targets = _joined().filter(pl.col("indicator").str.strip_chars().str.ends_with("(target)"))
    assert targets.height > 0
    assert set(targets["decision"]) == {"target"}
    assert targets["kpi_id"].null_count() == targets.height


def test_flagged_unreliable_rows_are_set_aside_as_unreliable() -> None:
    flagged = _joined().filter(pl.col("definition_note").str.contains("UNRELIABLE|AMBIGUOUS"))
    assert flagged.height > 0
    assert set(flagged["decision"]) == {"unreliable"}


def test_registry_shanghai_targets_equal_published_target_rows() -> None:
    raw = _raw()
    reg = load_registry()
    checked = 0
    for kpi_id, ind in reg.indicators.items():
        for t in ind.targets:
            if t.region != "shanghai":
                continue
            rows = raw.filter(pl.col("quote").str.strip_chars() == t.quote.strip())
            assert rows.height == 1, f"{kpi_id}: no single published row quotes {t.quote!r}"
            rec = rows.row(0, named=True)
            assert rec["indicator"].strip().endswith("(target)"), kpi_id
            assert int(rec["year"]) == t.target_year, kpi_id
            parsed = parse_value(value_with_unit(rec["value"], rec["unit"]))
            assert to_kpi_unit(parsed, ind.unit, ind.kind) == pytest.approx(t.target_value), kpi_id
            assert (parsed.qualifier == ">") == (t.target_kind == "more_than"), kpi_id
            checked += 1
    assert checked > 0


def test_real_file_conserves_rows_and_fills_long_fields() -> None:
    raw = _raw()
    before = raw.clone()
    long, aside = published_to_long(raw, _mapping())
    assert raw.equals(before)
    assert long.height + aside.height == raw.height
    assert set(long["row"]).isdisjoint(aside["row"])
    assert aside["reason_code"].is_in(list(DECISIONS)).all()
    assert long.columns == [
        "kpi_id",
        "region",
        "period",
        "value",
        "std_error",
        "source",
        "status",
        "note",
        "row",
    ]
    assert long.schema["row"] == pl.Int64
    assert set(long["status"]) == {"final"}
    raw_by_row = {r["row"]: r for r in raw.iter_rows(named=True)}
    for rec in long.iter_rows(named=True):
        src = raw_by_row[rec["row"]]
        assert rec["source"] == f"{src['source_title']} | {src['source_address']}"
        assert rec["note"] == f"{src['definition_note']} | quote: {src['quote']}"
    why_by_key = {tuple(r[k] for k in KEY): r["why"] for r in _mapping().iter_rows(named=True)}
    for rec in aside.iter_rows(named=True):
        assert why_by_key[tuple(raw_by_row[rec["row"]][k] for k in KEY)] in rec["reason"]
        assert json.loads(rec["raw"]) == {c: raw_by_row[rec["row"]][c] for c in PUBLISHED_COLUMNS}


def test_unmapped_row_is_set_aside_with_instructions() -> None:
    raw = _raw()
    mapping = _mapping().slice(1)  # drop the first row's mapping
    long, aside = published_to_long(raw, mapping)
    assert long.height + aside.height == raw.height
    first = aside.filter(pl.col("row") == 2).row(0, named=True)
    assert first["reason_code"] == "unmapped"
    assert "data/published/mapping.csv" in first["reason"]


decision_choices = st.sampled_from([*DECISIONS, "unmapped"])


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_conservation_for_any_decisions(data: st.DataObject) -> None:
    raw = _raw()
    choices = data.draw(st.lists(decision_choices, min_size=raw.height, max_size=raw.height))
    rows = []
    for rec, decision in zip(raw.iter_rows(named=True), choices, strict=True):
        if decision == "unmapped":
            continue
        obs = decision == "observation"
        rows.append(
            {k: rec[k] for k in KEY}
            | {
                "decision": decision,
                "kpi_id": "4g_coverage" if obs else None,
                "map_region": "pudong" if obs else None,
                "period": "2020" if obs else None,
                "why": "test",
            }
        )
    mapping = pl.DataFrame(rows, schema=dict.fromkeys(MAPPING_COLUMNS, pl.String))
    long, aside = published_to_long(raw, mapping)
    assert long.height + aside.height == raw.height
    assert sorted([*long["row"], *aside["row"]]) == raw["row"].to_list()
    expected = dict(zip(raw["row"], choices, strict=True))
    assert all(expected[r] == "observation" for r in long["row"])
    assert all(expected[r] == code for r, code in zip(aside["row"], aside["reason_code"], strict=True))


# ------------------------------------------------------------------ value cells

UNITS = {  # unit -> (KPI unit, KPI kind, factor from the written number to the KPI unit)
    "%": ("%", "share", 1.0),
    "亿元": ("亿元", "amount", 1.0),
    "万亿元": ("亿元", "amount", 1e4),
    "万个": ("个", "count", 1e4),
    "个": ("个", "count", 1.0),
    "万户": ("户", "count", 1e4),
}
QUALIFIERS = {"": "=", ">": ">", "超过": ">", "近": "~", "约": "~"}


@given(
    number=st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False, allow_infinity=False),
    prefix=st.sampled_from(sorted(QUALIFIERS)),
    unit=st.sampled_from(sorted(UNITS)),
)
def test_value_with_unit_round_trips_through_the_parser(number: object, prefix: str, unit: str) -> None:
    kpi_unit, kind, factor = UNITS[unit]
    cell = value_with_unit(f"{prefix}{number}", unit)
    parsed = parse_value(cell)
    assert parsed.qualifier == QUALIFIERS[prefix]
    assert to_kpi_unit(parsed, kpi_unit, kind) == pytest.approx(float(str(number)) * factor, rel=1e-12)
    assert value_with_unit(cell, unit) == cell  # idempotent


def test_is_published_layout_ignores_order_case_and_row() -> None:
    assert is_published_layout([c.upper() for c in reversed(PUBLISHED_COLUMNS)] + ["row"])
    assert not is_published_layout(list(PUBLISHED_COLUMNS[:-1]))
    assert is_published_layout(_raw().columns)


# ------------------------------------------------------------------ mapping validation


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "mapping.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


HEADER = ",".join(MAPPING_COLUMNS)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Pudong,4G,2020,99.7,guess,,,,why", r"row 2, column decision: 'guess'"),
        ("Pudong,4G,2020,99.7,observation,,pudong,2020,why", r"row 2, column kpi_id: blank"),
        ("Pudong,4G,2020,99.7,observation,4g_coverage,pudong,twenty,why", r"row 2, column period"),
        ("Pudong,4G,2020,99.7,target,4g_coverage,,,why", r"row 2, column kpi_id: '4g_coverage' on a"),
        ("Pudong,4G,2020,99.7,context,,,,", r"row 2, column why: blank"),
    ],
)
def test_load_mapping_names_file_row_and_column(tmp_path: Path, line: str, expected: str) -> None:
    path = _write(tmp_path, [HEADER, line])
    with pytest.raises(MappingError, match=re.escape(str(path)) + r".*\n.*" + expected):
        load_mapping(path)


def test_load_mapping_rejects_duplicate_keys_and_missing_columns(tmp_path: Path) -> None:
    line = "Pudong,4G,2020,99.7,context,,,,why"
    with pytest.raises(MappingError, match=r"row 3, columns region,indicator,year,value: same key as row 2"):
        load_mapping(_write(tmp_path, [HEADER, line, line]))
    with pytest.raises(MappingError, match=r"missing column\(s\) why"):
        load_mapping(_write(tmp_path, [HEADER.removesuffix(",why"), line.removesuffix(",why")]))
    with pytest.raises(MappingError, match="file not found"):
        load_mapping(tmp_path / "absent.csv")


def test_load_mapping_returns_nulls_off_observation_rows(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            HEADER,
            "Pudong,4G,2020,99.7,observation,4g_coverage,pudong,2020,why",
            "Pudong,5G,2020,1,context,,,,why",
        ],
    )
    frame = load_mapping(path)
    assert frame.schema == pl.Schema(dict.fromkeys(MAPPING_COLUMNS, pl.String))
    assert frame["kpi_id"].to_list() == ["4g_coverage", None]


def test_published_to_long_names_missing_input_columns() -> None:
    with pytest.raises(MappingError, match="missing column"):
        published_to_long(_raw().drop("quote"), _mapping())
