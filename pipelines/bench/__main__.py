"""Benchmark ``dtscope run`` and the executors; writes ``pipelines/bench/pipeline.md``.

Measured in one invocation, on this machine, while it runs:

1. wall time and peak memory (max RSS of the process and its children) of a complete ``dtscope run`` into a
   fresh home, on the demo with 2 districts and with all 16 districts; each in its own subprocess so the
   numbers do not mix;
2. series forecast per second for the same forecasting work (every KPI × region group of the 16-district demo)
   in-process, on a local pool of 2 processes and on a Dask LocalCluster with 2 workers, start-up included
   and excluded.
"""

from __future__ import annotations

import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

OUT = Path(__file__).with_name("pipeline.md")


def _one_run(scale: str) -> dict[str, float]:
    """Child mode: load the demo at ``scale`` into a fresh home and time a full pipeline run."""
    from pipelines.io.kpi_registry import load_registry
    from pipelines.io.warehouse import Warehouse
    from pipelines.run.pipeline import RunConfig, load_demo, run_pipeline
    from pipelines.settings import resolve_settings

    home = Path(tempfile.mkdtemp(prefix=f"dtscope-bench-{scale}-"))
    settings = resolve_settings(home)
    registry = load_registry()
    load_demo(settings, registry, Warehouse(settings.warehouse_path), scale=scale)
    start = time.perf_counter()
    summary = run_pipeline(settings, RunConfig())
    wall = time.perf_counter() - start
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    n_series = summary.published.get("forecasts", 0)
    return {
        "wall_s": wall,
        "peak_mib": peak / 1024,
        "forecast_rows": float(n_series),
        **{f"t_{k}": v for k, v in summary.timings.items()},
        "home": str(home),
    }  # type: ignore[dict-item]


def _executor_rates(home: Path) -> list[dict[str, float | str]]:
    from pipelines.io.kpi_registry import load_registry
    from pipelines.io.warehouse import Warehouse
    from pipelines.run.executors import make_executor
    from pipelines.settings import resolve_settings
    from pipelines.steps import forecast as F
    from pipelines.steps.series import annual_series

    settings = resolve_settings(home)
    kpis = load_registry().kpis_table()
    specs, _ = F.build_specs(annual_series(Warehouse(settings.warehouse_path).observations()), kpis)
    targets = {
        (r["kpi_id"], r["region"]): r["target_year"] for r in kpis.iter_rows(named=True) if r["target_year"]
    }
    tasks = F.group_tasks(specs, targets=targets, config=F.KPI_CONFIG)
    rows: list[dict[str, float | str]] = []
    reference = None
    for kind in ("inprocess", "processes", "dask"):
        start = time.perf_counter()
        ex = make_executor(kind, workers=2)  # type: ignore[arg-type]
        try:
            if kind == "dask":
                ex._connect()  # type: ignore[attr-defined]
            if kind == "processes":
                ex.map(abs, [1, 2])  # start the pool's workers
            ready = time.perf_counter()
            results = ex.map(F.forecast_group, tasks)
            done = time.perf_counter()
        finally:
            ex.close()
        same = True
        if reference is None:
            reference = results
        else:
            same = all(a.forecasts.equals(b.forecasts) for a, b in zip(reference, results, strict=True))
        rows.append(
            {
                "executor": kind,
                "series": float(len(specs)),
                "groups": float(len(tasks)),
                "startup_s": ready - start,
                "work_s": done - ready,
                "same": "yes" if same else "NO",
            }
        )
    return rows


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        sys.stdout.write(json.dumps(_one_run(sys.argv[2])) + "\n")
        return
    runs = {}
    for scale in ("two", "all"):
        proc = subprocess.run(
            [sys.executable, "-m", "pipelines.bench", "--one", scale],
            capture_output=True,
            text=True,
            check=True,
        )
        runs[scale] = json.loads(proc.stdout.strip().splitlines()[-1])
    rates = _executor_rates(Path(runs["all"]["home"]))
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"] * 3
    lines = [
        "# Pipeline benchmark",
        "",
        f"Written by `python -m pipelines.bench` (`make bench`) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; every number "
        "below was measured in that run. Demo data is SYNTHETIC (`dtscope demo`).",
        "",
        f"- machine: {platform.machine()}, Python {platform.python_version()}, load average after the run "
        f"{' '.join(load)} (the machine is shared)",
        "",
        "## `dtscope run` end to end (fresh home, demo loaded, default configuration)",
        "",
        "| demo | wall s | peak memory MiB | forecast rows | score s | forecast s | tracking s | register s | publish s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for scale, label in (("two", "2 districts (Pudong, Hongkou)"), ("all", "all 16 districts")):
        r = runs[scale]
        lines.append(
            f"| {label} | {r['wall_s']:.1f} | {r['peak_mib']:.0f} | {r['forecast_rows']:.0f} | {r.get('t_score', 0):.1f} "
            f"| {r.get('t_forecast', 0):.1f} | {r.get('t_track', 0):.1f} | {r.get('t_register', 0):.1f} "
            f"| {r.get('t_publish', 0):.1f} |"
        )
    lines += [
        "",
        "## Executors: the forecasting work of the 16-district demo",
        "",
        "Series are forecast in groups of one KPI kind and scale (the champion and its calibration are pooled "
        "across a group), so the unit of parallel work is a group; `same` says whether the forecasts equal the "
        "in-process ones exactly.",
        "",
        "| executor | series | groups | start-up s | work s | series/s (work) | series/s (incl. start-up) | same |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rates:
        n, su, w = float(r["series"]), float(r["startup_s"]), float(r["work_s"])
        lines.append(
            f"| {r['executor']} | {n:.0f} | {float(r['groups']):.0f} | {su:.1f} | {w:.1f} | {n / w:.1f} "
            f"| {n / (su + w):.1f} | {r['same']} |"
        )
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
