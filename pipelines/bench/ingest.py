"""Bench: peak memory and wall time of ``dtscope ingest`` on large files and on three compression bombs.

``python -m pipelines.bench.ingest [--rows 1000000 2600000] [--out pipelines/bench/ingest.md]`` generates
the inputs in a temporary folder, runs ``dtscope ingest`` on each in its own process (peak RSS from
``wait4``, so the numbers do not mix) into a fresh home, and writes a markdown table. A first row times
the interpreter and the CLI's imports alone (``import pipelines.cli.app``), the floor under every refusal;
each row notes the machine's load average when it started (the machine is shared).

Inputs:
- ``long-<N>.csv``: N valid rows of the long layout (distinct keys: KPI × region × month × source);
- ``bomb-inflate.xlsx``: one worksheet member that inflates to 1.5 GB from about 1.5 MB;
- ``bomb-rows.xlsx``: a worksheet of 5,000,000 rows (about 24 MB compressed);
- ``bomb-forged.xlsx``: a valid workbook whose 2,000,000-row worksheet (200 MB) is declared in the zip as
  1 MB, so size checks that trust the zip's directory pass it (about 16 MB compressed).
"""

from __future__ import annotations

import argparse
import os
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

OUT = Path(__file__).with_name("ingest.md")
KPIS = (
    ("5g_coverage", "50%"),
    ("iot_nodes", "1200"),
    ("open_datasets", "35"),
    ("info_software_revenue", "4500"),
)
REGIONS = ("pudong", "hongkou", "shanghai")
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>'
)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_OFFICE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_WORKBOOK_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_OFFICE}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_OFFICE}.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_RELS}"><Relationship Id="rId1" '
        f'Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_RELS}"><Relationship Id="rId1" '
        f'Type="{_DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def write_long_csv(path: Path, rows: int) -> Path:
    """N valid long-layout rows with distinct keys (months 1990–2100, sources bench-0…)."""
    months = [f"{y}-{m:02d}" for y in range(1990, 2101) for m in range(1, 13)]
    per_source = len(KPIS) * len(REGIONS) * len(months)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("kpi_id,region,period,value,source\n")
        for i in range(rows):
            kpi, value = KPIS[i % len(KPIS)]
            region = REGIONS[(i // len(KPIS)) % len(REGIONS)]
            month = months[(i // (len(KPIS) * len(REGIONS))) % len(months)]
            fh.write(f"{kpi},{region},{month},{value},bench-{i // per_source}\n")
    return path


def write_inflating_xlsx(path: Path, inflated_bytes: int = 1_500_000_000) -> Path:
    """An xlsx whose worksheet member inflates to ``inflated_bytes`` (spaces compress about 1000:1)."""
    block = b" " * (1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            for _ in range(inflated_bytes // len(block)):
                member.write(block)
    return path


def write_rows_xlsx(path: Path, rows: int = 5_000_000) -> Path:
    """An xlsx worksheet of ``rows`` one-cell rows (a few MB compressed)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            member.write(b'<?xml version="1.0"?><worksheet><sheetData>')
            chunk = []
            for r in range(1, rows + 1):
                chunk.append(f'<row r="{r}"><c r="A{r}"><v>1</v></c></row>')
                if len(chunk) == 100_000:
                    member.write("".join(chunk).encode())
                    chunk = []
            member.write(("".join(chunk) + "</sheetData></worksheet>").encode())
    return path


def write_workbook(path: Path, rows: list[list[str]], *, declare_sheet_bytes: int | None = None) -> Path:
    """A minimal valid xlsx of one worksheet of inline-string cells (the first row is the header).

    ``declare_sheet_bytes`` forges the worksheet's uncompressed size in the zip (local header and central
    directory) to that number, as a compression bomb does to pass checks that trust it.
    """
    sheet = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for part, text in _WORKBOOK_PARTS.items():
            zf.writestr(part, text)
        with zf.open(sheet, "w") as member:
            member.write(
                f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}"><sheetData>'.encode()
            )
            for start in range(0, len(rows), 10_000):
                member.write(
                    "".join(
                        f'<row r="{r}">'
                        + "".join(f'<c t="inlineStr"><is><t>{cell}</t></is></c>' for cell in cells)
                        + "</row>"
                        for r, cells in enumerate(rows[start : start + 10_000], start=start + 1)
                    ).encode()
                )
            member.write(b"</sheetData></worksheet>")
    if declare_sheet_bytes is not None:
        data = bytearray(path.read_bytes())
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(sheet)
        struct.pack_into("<I", data, info.header_offset + 22, declare_sheet_bytes)  # local header
        entry = data.find(b"PK\x01\x02")
        while entry >= 0:  # the central directory entry naming the sheet
            name_len = struct.unpack_from("<H", data, entry + 28)[0]
            if data[entry + 46 : entry + 46 + name_len] == sheet.encode():
                struct.pack_into("<I", data, entry + 24, declare_sheet_bytes)
                break
            entry = data.find(b"PK\x01\x02", entry + 4)
        path.write_bytes(bytes(data))
    return path


def write_forged_xlsx(path: Path, rows: int = 2_000_000, declared: int | None = 1_000_000) -> Path:
    """A valid long-layout workbook of ``rows`` data rows whose worksheet declares ``declared`` bytes
    (``None``: its true size, an honest workbook)."""
    body = [["kpi_id", "region", "period", "value"]]
    body += [["5g_coverage", "pudong", "2021", "50%"]] * rows
    return write_workbook(path, body, declare_sheet_bytes=declared)


def measure(path: Path, home: Path) -> dict[str, object]:
    """Run ``dtscope ingest PATH --home HOME`` in its own process; wall time, peak RSS, exit code, last line."""
    cmd = [
        sys.executable,
        "-m",
        "pipelines.cli.app",
        "ingest",
        str(path),
        "--home",
        str(home),
        "--show-rejects",
        "0",
    ]
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    output = proc.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    return {
        "file": path.name,
        "size_mb": path.stat().st_size / 1e6,
        "seconds": wall,
        "peak_mb": usage.ru_maxrss / 1024,
        "exit": proc.returncode,
        "load": load,
        # an error, else the summary table's first data row
        "said": next(
            (ln for ln in lines if "error" in ln.lower() or "limit" in ln.lower()),
            next((ln for ln in lines if ln.startswith("│")), lines[-1] if lines else ""),
        ),
    }


def measure_startup() -> dict[str, object]:
    """The interpreter and the CLI's imports alone: the floor under every command, refusals included."""
    cmd = [sys.executable, "-c", "import pipelines.cli.app"]
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return {
        "file": "(start-up: import pipelines.cli.app)",
        "size_mb": 0.0,
        "seconds": time.perf_counter() - start,
        "peak_mb": usage.ru_maxrss / 1024,
        "exit": os.waitstatus_to_exitcode(status),
        "load": load,
        "said": "",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000, 2_600_000])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="dtscope-bench-ingest-") as tmp_dir:
        tmp = Path(tmp_dir)
        inputs = [write_long_csv(tmp / f"long-{n}.csv", n) for n in args.rows]
        inputs += [
            write_inflating_xlsx(tmp / "bomb-inflate.xlsx"),
            write_rows_xlsx(tmp / "bomb-rows.xlsx"),
            write_forged_xlsx(tmp / "bomb-forged.xlsx"),
        ]
        results.append(measure_startup())
        for i, path in enumerate(inputs):
            results.append(measure(path, tmp / f"home{i}"))
            path.unlink()
    lines = [
        "# Ingest bench",
        "",
        f"`python -m pipelines.bench.ingest` on {os.cpu_count()} cores; each file into a fresh home, in its own",
        "process (peak = max RSS of that process). Goals: large CSVs under 1 GB and flat; bombs refused in",
        "under 5 s and under 300 MB. `load` is the machine's 1-minute load average when the run started.",
        "",
        "| file | size MB | seconds | peak MB | exit | load | said |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        said = str(r["said"]).replace("|", "/")[:160]
        lines.append(
            f"| {r['file']} | {r['size_mb']:.1f} | {r['seconds']:.1f} | {r['peak_mb']:.0f} | {r['exit']} "
            f"| {r['load']:.1f} | {said} |"
        )
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
