"""Hostile and unkind input files: bombs, limits, duplicate columns, overflowing numbers, Excel serials,
separators, ragged rows, merged cells, and the upload path (no bypass, no leftovers, no server paths)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.bench.ingest import write_inflating_xlsx, write_long_csv
from pipelines.cli.app import app
from pipelines.io.catalog import InputFileError, iter_table, read_table
from pipelines.io.kpi_registry import load_registry
from pipelines.io.limits import LimitExceeded, Limits
from pipelines.io.warehouse import Warehouse
from pipelines.settings import REGISTRY_DIR, resolve_settings
from pipelines.steps.ingest import validate_batches, validate_table
from pipelines.steps.uploads import UploadHandlers, UploadRefused, ingest_upload, safe_name

runner = CliRunner()
REGISTRY = load_registry(REGISTRY_DIR)


def _csv(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_inflating_xlsx_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    bomb = write_inflating_xlsx(tmp_path / "bomb.xlsx", inflated_bytes=100 * (1 << 20))
    start = time.perf_counter()
    with pytest.raises(LimitExceeded, match="max_xlsx_uncompressed_bytes") as err:
        read_table(bomb)
    assert time.perf_counter() - start < 5
    assert err.value.limit == "max_xlsx_uncompressed_bytes"


def test_a_highly_compressed_xlsx_is_refused_by_its_ratio(tmp_path: Path) -> None:
    bomb = write_inflating_xlsx(tmp_path / "bomb.xlsx", inflated_bytes=8 * (1 << 20))
    with pytest.raises(LimitExceeded, match="max_xlsx_ratio"):
        read_table(bomb)


def test_a_csv_over_the_row_limit_is_refused_whole_with_the_limit_named(tmp_path: Path) -> None:
    path = write_long_csv(tmp_path / "long.csv", 120)
    with pytest.raises(LimitExceeded, match=r"max_rows"):
        list(iter_table(path, limits=Limits(max_rows=100), batch_rows=50))


def test_columns_and_cell_length_limits(tmp_path: Path) -> None:
    wide = _csv(tmp_path, ",".join(f"c{i}" for i in range(600)) + "\n" + ",".join("1" * 600) + "\n")
    with pytest.raises(LimitExceeded, match="max_columns"):
        read_table(wide)
    long_cell = _csv(tmp_path, "kpi_id,region,period,value\n" + "x" * 5000 + ",pudong,2021,1\n", "c.csv")
    with pytest.raises(LimitExceeded, match=r"row 2 .*max_cell_chars"):
        read_table(long_cell)


def test_rejects_beyond_the_cap_are_counted_not_stored(tmp_path: Path) -> None:
    rows = "".join(f"5g_coverage,pudong,bad{i},50\n" for i in range(3000))
    path = _csv(tmp_path, "kpi_id,region,period,value\n" + rows)
    result = validate_batches(iter_table(path, batch_rows=700), REGISTRY, file_label="f.csv")
    assert result.n_rejected == 3000 and result.accepted.height == 0
    assert result.rejects.height == 1001
    summary = result.rejects.row(-1, named=True)
    assert summary["reason_code"] == "more_rejects" and "2,000 more" in summary["reason"]
    home = tmp_path / "home"
    s = Warehouse(home / "warehouse.duckdb").ingest(result, file="f.csv", file_sha256="x" * 64)
    assert (s.rows_in, s.rejected, s.rejects_by_reason) == (3000, 3000, {"bad_period": 3000})
    assert Warehouse(home / "warehouse.duckdb").table("rejects").height == 1001


def test_a_key_repeated_across_batches_rejects_every_copy(tmp_path: Path) -> None:
    rows = "5g_coverage,pudong,2021,50\n" + "".join(f"5g_coverage,pudong,{y},50\n" for y in range(2000, 2010))
    rows += "5g_coverage,pudong,2021,60\n"
    path = _csv(tmp_path, "kpi_id,region,period,value\n" + rows)
    result = validate_batches(iter_table(path, batch_rows=4), REGISTRY, file_label="f.csv")
    assert result.rejects_by_reason == {"duplicate_key": 2}
    assert result.accepted.height == 10


def test_a_column_named_twice_refuses_the_file(tmp_path: Path) -> None:
    path = _csv(tmp_path, "kpi_id,region,period,value,value\n5g_coverage,pudong,2021,50,70\n")
    with pytest.raises(InputFileError, match="'value' appears twice"):
        read_table(path)
    result = runner.invoke(app, ["ingest", str(path), "--home", str(tmp_path / "h")])
    assert result.exit_code == 2 and "appears twice" in result.output


@pytest.mark.parametrize("cell", ["1e309", "1e305万", "-1e309", "1e20"])
def test_overflowing_numbers_are_row_rejects_with_a_reason(tmp_path: Path, cell: str) -> None:
    path = _csv(
        tmp_path, f"kpi_id,region,period,value\niot_nodes,pudong,2021,{cell}\niot_nodes,pudong,2022,5\n"
    )
    result = runner.invoke(app, ["ingest", str(path), "--home", str(tmp_path / "h")])
    assert result.exit_code == 0, result.output
    assert "out_of_range" in result.output and "Traceback" not in result.output
    obs = Warehouse(tmp_path / "h" / "warehouse.duckdb").observations()
    assert obs.height == 1 and obs["value"].to_list() == [5.0]


def test_an_excel_date_serial_reads_as_a_date(tmp_path: Path) -> None:
    path = _csv(tmp_path, "kpi_id,region,period,value\niot_nodes,pudong,44392,5\n")
    result = validate_table(read_table(path), REGISTRY, file_label="f.csv")
    assert result.rejects.height == 0
    assert str(result.accepted["period"][0]) == "2021-07-01"


def test_a_semicolon_csv_is_read_and_decimal_commas_are_row_rejects(tmp_path: Path) -> None:
    path = _csv(
        tmp_path, "kpi_id;region;period;value\niot_nodes;pudong;2021;5\n5g_coverage;pudong;2021;85,5\n"
    )
    result = validate_table(read_table(path), REGISTRY, file_label="f.csv")
    assert result.accepted.height == 1
    assert result.rejects.row(0, named=True)["row"] == 3


def test_a_ragged_row_is_named(tmp_path: Path) -> None:
    path = _csv(
        tmp_path, "kpi_id,region,period,value\niot_nodes,pudong,2021,5\niot_nodes,pudong,2022,5,9,9\n"
    )
    with pytest.raises(InputFileError, match="row 3 has 6 fields but the header has 4"):
        read_table(path)


def test_merged_cells_in_a_wide_sheet_are_named(tmp_path: Path) -> None:
    path = _csv(tmp_path, "指标,区,2020,2021\niot_nodes,pudong,5,6\niot_nodes,,7,8\n")
    result = validate_table(read_table(path), REGISTRY, file_label="f.csv")
    assert result.rejects.height == 2
    assert all("merged cells" in r for r in result.rejects["reason"].to_list())


# ---------------------------------------------------------------------------------------------- uploads
GOOD = b"kpi_id,region,period,value\niot_nodes,pudong,2021,5\n"


def _leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("dtscope-upload-*")}


def test_confirm_cannot_skip_validation(tmp_path: Path) -> None:
    handlers = UploadHandlers(resolve_settings(tmp_path), max_bytes=1000)
    with pytest.raises(UploadRefused, match="max_upload_bytes"):
        handlers.confirm("big.csv", GOOD + b"iot_nodes,pudong,2022,5\n" * 200)
    with pytest.raises(UploadRefused, match=r"takes \.csv"):
        handlers.confirm("x.parquet", b"PAR1")
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_upload_temp_copies_are_removed_and_messages_name_no_path(tmp_path: Path) -> None:
    before = _leftovers()
    settings = resolve_settings(tmp_path)
    with pytest.raises(UploadRefused) as err:
        ingest_upload(settings, "bad.csv", b"\xff\xfe\x00garbage\x00" * 10)
    assert tempfile.gettempdir() not in str(err.value) and "dtscope-upload" not in str(err.value)
    answer = ingest_upload(settings, "../../x\n![b](http://e/i.png).csv", GOOD)
    assert answer.accepted == 1 and "\n" not in answer.file and "/" not in answer.file
    assert Warehouse(settings.warehouse_path).table("ingests")["file"].to_list() == [f"upload:{answer.file}"]
    assert _leftovers() == before


def test_safe_name_strips_markup_and_control_characters() -> None:
    name = safe_name("a\r\n[re-login](https://evil.example)\u202e.csv")
    assert all(c not in name for c in "\r\n[]()\u202e")
