"""Ingest validation on fixture files: every bad-input class gets its exact reason, nothing is lost."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipelines.io.catalog import InputFileError, read_table
from pipelines.io.kpi_registry import load_registry
from pipelines.steps.ingest import ValidationResult, validate_table

FIXTURES = Path(__file__).parent / "fixtures"


def _validate(path: Path) -> ValidationResult:
    return validate_table(read_table(path), load_registry(), file_label=path.name)


def _conserved(result: ValidationResult) -> None:
    assert result.accepted.height + result.rejects.height == result.rows_in


def test_good_long_file_parses_every_format() -> None:
    result = _validate(FIXTURES / "ingest_good_long.csv")
    _conserved(result)
    assert result.layout == "long"
    assert result.rejects.height == 0, result.rejects.to_dicts()
    got = {
        (r["kpi_id"], r["region"], r["period"], r["freq"]): (r["value"], r["qualifier"])
        for r in result.accepted.iter_rows(named=True)
    }
    y = lambda year: date(year, 1, 1)  # noqa: E731
    assert got[("online_handling_share", "pudong", y(2021), "Y")] == (85.0, "=")
    assert got[("online_handling_share", "pudong", y(2022), "Y")] == (85.3, "=")  # by Chinese names
    assert got[("online_handling_share", "hongkou", y(2021), "Y")] == (76.5, "=")  # full-width digits
    assert got[("iot_nodes", "pudong", y(2021), "Y")] == (1_500_000.0, "=")
    assert got[("iot_nodes", "hongkou", y(2021), "Y")] == (15_000_000.0, "=")  # 1500万
    assert got[("info_software_revenue", "pudong", y(2021), "Y")] == (4500.0, "=")  # 4500亿元 in 亿元
    assert got[("info_software_revenue", "pudong", y(2022), "Y")] == pytest.approx(
        (4500.0, "=")
    )  # 0.45万亿元
    assert got[("online_handling_share", "pudong", date(2022, 7, 1), "M")] == (84.1, "=")  # ISO date
    assert got[("online_handling_share", "pudong", date(2022, 7, 1), "Q")] == (84.0, "=")  # 2022Q3
    assert got[("gov_cloud_level", "pudong", y(2022), "Y")] == (2.0, "=")  # 先进级 = position 2
    assert got[("open_datasets", "pudong", y(2023), "Y")] == (500.0, ">")
    assert got[("open_datasets", "pudong", y(2022), "Y")] == (480.0, "~")
    sat = result.accepted.filter(pl.col("kpi_id") == "citizen_satisfaction").row(0, named=True)
    assert (sat["std_error"], sat["status"]) == (1.1, "provisional")
    statuses = dict(
        result.accepted.filter(pl.col("kpi_id") == "open_datasets").select("period", "status").iter_rows()
    )
    assert statuses[y(2023)] == "provisional"  # 初步


EXPECTED_BAD = {
    2: (
        "kpi_id",
        "unknown_kpi",
        "unknown KPI 'no_such_kpi': not an id or name in the registry (see `dtscope kpis`)",
    ),
    3: (
        "region",
        "unknown_region",
        "unknown region 'atlantis': use a district id or name such as pudong / 浦东新区",
    ),
    4: (
        "period",
        "bad_period",
        "'FY21' is not a period (expected a year 2021 or 2021年, a month 2021-07, an ISO date, "
        "or a quarter 2022Q3)",
    ),
    5: ("value", "bad_value", "'abc' is not a number (expected e.g. 85, 85.3%, 1500万, 4500亿元, >500)"),
    6: (
        "value",
        "out_of_bounds",
        "value 105 is above the natural upper bound 100 of online_handling_share (%)",
    ),
    7: ("value", "out_of_bounds", "value -3 is below the natural lower bound 0 of open_datasets (项)"),
    8: ("value", "missing", "no value (cell is '—')"),
    11: ("std_error", "bad_std_error", "std_error 'x' is not a number"),
    12: ("status", "bad_status", "status 'draft' is not provisional or final"),
    13: ("value", "unit_mismatch", "a percentage was given but this KPI is measured in 项"),
    14: ("value", "bad_value", "'卓越级' is not a number (expected e.g. 85, 85.3%, 1500万, 4500亿元, >500)"),
}


def test_bad_rows_each_get_their_exact_reason() -> None:
    result = _validate(FIXTURES / "ingest_bad_rows.csv")
    _conserved(result)
    assert result.rows_in == 14
    assert result.accepted.height == 1  # row 15 is the one good row
    assert result.accepted["row"].to_list() == [15]
    rejects = {
        r["row"]: (r["column"], r["reason_code"], r["reason"])
        for r in result.rejects.iter_rows(named=True)
        if r["reason_code"] != "duplicate_key"
    }
    assert rejects == EXPECTED_BAD
    dups = result.rejects.filter(pl.col("reason_code") == "duplicate_key")
    assert dups["row"].to_list() == [9, 10]
    assert all("appears at row 9 column value, row 10 column value" in r for r in dups["reason"])
    # every reject keeps the original row, so nothing is lost
    assert all('"kpi_id"' in raw for raw in result.rejects["raw"])


def test_wide_csv_with_chinese_headers_and_dashes() -> None:
    result = _validate(FIXTURES / "ingest_wide.csv")
    _conserved(result)
    assert (result.layout, result.rows_in, result.accepted.height) == ("wide", 12, 6)
    codes = result.rejects.group_by("reason_code").len().sort("reason_code").rows()
    assert codes == [("missing", 2), ("unknown_kpi", 4)]
    pudong = result.accepted.filter(pl.col("region") == "pudong").sort("period")
    assert pudong["value"].to_list() == [60.2, 68.5, 75.1, 81.0]
    missing = result.rejects.filter(pl.col("reason_code") == "missing").sort("column")
    assert missing.select("row", "column").rows() == [(4, "2021年"), (4, "2022年")]


def test_wide_excel_with_numeric_headers_units_and_percent_fractions() -> None:
    result = _validate(FIXTURES / "ingest_wide.xlsx")
    _conserved(result)
    assert (result.layout, result.rows_in, result.accepted.height) == ("wide", 9, 6)
    rev = (
        result.accepted.filter(pl.col("kpi_id") == "info_software_revenue").sort("period")["value"].to_list()
    )
    assert rev == [2890.5, 3120.0, 3410.0]
    stations = (
        result.accepted.filter(pl.col("kpi_id") == "outdoor_5g_stations").sort("period")["value"].to_list()
    )
    assert stations == [620.0, 1010.0, 1300.0]
    amb = result.rejects.filter(pl.col("reason_code") == "ambiguous_share")
    assert amb.height == 2
    assert amb.sort("column")["reason"][0] == (
        "'0.5' is ambiguous for a share kept in percent: write 50% if it is a fraction, or 0.5% if it is already a "
        "percentage"
    )


def test_parquet_long_file(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "kpi_id": ["open_datasets", "open_datasets"],
            "region": ["pudong", "pudong"],
            "period": [2020, 2021],
            "value": [310.0, 402.0],
        }
    )
    path = tmp_path / "obs.parquet"
    frame.write_parquet(path)
    result = _validate(path)
    _conserved(result)
    assert result.accepted["value"].to_list() == [310.0, 402.0]
    assert result.accepted["source"].unique().to_list() == ["file:obs.parquet"]


def test_unknown_layout_rejects_every_row_with_the_header(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    result = _validate(path)
    _conserved(result)
    assert result.rejects["reason_code"].to_list() == ["bad_layout", "bad_layout"]
    assert "cannot tell the layout from the header ['a', 'b']" in result.rejects["reason"][0]


def test_gb18030_csv_is_read(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("指标,区,2021年\n政务服务实际办件网办比例,浦东新区,80%\n".encode("gb18030"))
    result = _validate(path)
    assert result.accepted["value"].to_list() == [80.0]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such file"),
        ("empty.csv", b"", "the file is empty"),
        ("notes.docx", b"PK..", "unknown file type '.docx'"),
        ("broken.xlsx", b"not a zip", "cannot read it as xlsx"),
    ],
)
def test_unreadable_files_name_the_file(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputFileError) as err:
        read_table(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)
