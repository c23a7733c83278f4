"""An xlsx is inspected before any spreadsheet reader opens it: members inflated here against their declared
sizes (a forged size is a bomb calamine would inflate whole), worksheet rows counted from the XML."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest

from pipelines.bench.ingest import write_forged_xlsx, write_workbook
from pipelines.io.catalog import read_table
from pipelines.io.limits import InputFileError, LimitExceeded, Limits, _RowCounter, check_xlsx

HEADER = ["kpi_id", "region", "period", "value"]


def test_a_worksheet_larger_than_its_zip_declares_is_refused_unread(tmp_path: Path) -> None:
    honest = write_forged_xlsx(tmp_path / "honest.xlsx", rows=2_000, declared=None)
    assert read_table(honest).height == 2_000  # the same workbook, sizes untouched, reads
    forged = write_forged_xlsx(tmp_path / "forged.xlsx", rows=2_000, declared=1_000)
    assert zipfile.ZipFile(forged).getinfo("xl/worksheets/sheet1.xml").file_size == 1_000
    with pytest.raises(InputFileError, match=r"inflates to more than the 1,000 bytes it declares") as err:
        read_table(forged, label="forged.xlsx")
    assert "forged" in str(err.value) and str(tmp_path) not in str(err.value)


def test_a_sheet_over_the_row_limit_is_refused_from_its_xml(tmp_path: Path) -> None:
    limits = Limits(max_xlsx_rows=100)
    at = write_workbook(tmp_path / "at.xlsx", [HEADER] + [["5g_coverage", "pudong", "2021", "50%"]] * 100)
    check_xlsx(at, "at.xlsx", limits)  # header + 100 data rows: at the limit
    over = write_workbook(tmp_path / "over.xlsx", [HEADER] + [["5g_coverage", "pudong", "2021", "50%"]] * 101)
    with pytest.raises(LimitExceeded, match=r"101 data rows, over the limit of 100 \(max_xlsx_rows\)") as err:
        check_xlsx(over, "over.xlsx", limits)
    assert err.value.limit == "max_xlsx_rows"


def test_a_workbook_saved_by_openpyxl_passes_the_inspection(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADER)
    for year in range(1990, 2090):
        ws.append(["5g_coverage", "浦东新区", f"{year}年", "50%"])
    ws.row_breaks.append(openpyxl.worksheet.pagebreak.Break(id=10))  # <rowBreaks> is not a row
    path = tmp_path / "saved.xlsx"
    wb.save(path)
    check_xlsx(path, "saved.xlsx", Limits(max_xlsx_rows=100))
    assert read_table(path).height == 100


@pytest.mark.parametrize("precise", [False, True])
def test_rows_are_counted_once_however_the_blocks_fall(precise: bool) -> None:
    xml = (
        b'<worksheet><sheetData><row r="1"><c/></row><x:row r="2"/><row>'
        b'<c/></row><rowBreaks count="0"/></sheetData></worksheet>'
    )
    expected = 3 if precise else 4  # the fast count is an upper bound: it counts <rowBreaks too
    for size in range(1, len(xml) + 1):
        counter = _RowCounter(precise=precise)
        for start in range(0, len(xml), size):
            counter.feed(xml[start : start + size])
        assert counter.total() == expected, size


def test_a_cut_short_member_is_refused(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "cut.xlsx", [HEADER, ["5g_coverage", "pudong", "2021", "50%"]])
    info = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    # the member's deflate stream replaced by a shorter one that never ends (same compressed size)
    deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    broken = deflate.compress(b"<worksheet>" * 3) + deflate.flush(zlib.Z_SYNC_FLUSH)
    data[start : start + info.compress_size] = broken.ljust(info.compress_size, b"\0")[: info.compress_size]
    path.write_bytes(bytes(data))
    with pytest.raises(InputFileError, match="damaged or forged"):
        check_xlsx(path, "cut.xlsx")
