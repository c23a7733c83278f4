"""Bench: peak memory and wall time of ``dtscope ingest`` on large files and on two compression bombs.

``python -m pipelines.bench.ingest [--rows 1000000 2600000] [--out pipelines/bench/ingest.md]`` generates
the inputs in a temporary folder, runs ``dtscope ingest`` on each in its own process (peak RSS from
``wait4``, so the numbers do not mix) into a fresh home, and writes a markdown table.

Inputs:
- ``long-<N>.csv``: N valid rows of the long layout (distinct keys: KPI × region × month × source);
- ``bomb-inflate.xlsx``: one worksheet member that inflates to 1.5 GB from about 1.5 MB;
- ``bomb-rows.xlsx``: a worksheet of 5,000,000 rows (about 2 MB compressed).
"""

from __future__ import annotations

import argparse
import os
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
        "said": next(
            (ln for ln in lines if "error" in ln.lower() or "limit" in ln.lower()), lines[-1] if lines else ""
        ),
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
        inputs += [write_inflating_xlsx(tmp / "bomb-inflate.xlsx"), write_rows_xlsx(tmp / "bomb-rows.xlsx")]
        for i, path in enumerate(inputs):
            results.append(measure(path, tmp / f"home{i}"))
            path.unlink()
    lines = [
        "# Ingest bench",
        "",
        f"`python -m pipelines.bench.ingest` on {os.cpu_count()} cores; each file into a fresh home, in its own",
        "process (peak = max RSS of that process). Goals: large CSVs under 1 GB and flat; bombs refused in",
        "under 5 s and under 300 MB.",
        "",
        "| file | size MB | seconds | peak MB | exit | said |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        said = str(r["said"]).replace("|", "/")[:160]
        lines.append(
            f"| {r['file']} | {r['size_mb']:.1f} | {r['seconds']:.1f} | {r['peak_mb']:.0f} | {r['exit']} | {said} |"
        )
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
