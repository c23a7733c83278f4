"""The ordinal level chain on the demos' ``level`` KPIs: the chain by level (the default) against the chain
with one step distribution for every level, in the backtest the pipeline publishes.

Run ``python -m pipelines.bench.levels [--out pipelines/bench/levels.md]``. For each demo draw it builds a
demo home in a temporary folder (``dtscope demo``), reads its ``level`` series as the forecast step groups
them (:func:`pipelines.steps.forecast.group_tasks`) and runs the rolling-origin backtest the pipeline
publishes for them (:func:`evaluation.forecasting.ordinal_backtest.ordinal_backtest`, the same origins and
horizons) once per chain. Validation draws (the chain was chosen on them): the 2-district demo's seeds 1–6
and the 16-district demo's seeds 1–3. Held out (reported, never chosen on): the 16-district demo's own draw,
the panel of ``python -m evaluation.bench.panels``; the 2-district demo's own draw is what ``make run``
shows. Every number printed is measured in the run. The demo data are synthetic.

Scores, over the backtest rows pooled across a part's draws (each row a series, origin and horizon):
coverage of the central 80 / 95 % intervals read on the randomised PIT
(:func:`models.metrics.pit_coverage`), the log score ``−log P(actual level)`` (lower is better, a proper
score) and the attainment Brier score of the published events (0 on the demos: their level series start
at level 0, so the backtest's growth is 0, its targets are the last level reached, and a level that never
falls reaches them for certain; kept so a panel where that is not so shows it).
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from evaluation.bench.panels import build_demo
from evaluation.forecasting.ordinal_backtest import ordinal_backtest
from models.metrics import ForecastRows, pit_coverage, score

CHAINS = {"by level (default)": True, "one step distribution for every level (before)": False}
VALIDATION = (
    ("two", 1),
    ("two", 2),
    ("two", 3),
    ("two", 4),
    ("two", 5),
    ("two", 6),
    ("all", 1),
    ("all", 2),
    ("all", 3),
)
HELD_OUT = (("all", None), ("two", None))


def level_groups(home: Path) -> list[tuple[list[np.ndarray], int, int, int]]:
    """``(histories, n_levels, n_origins, horizon)`` of each ``level`` group of the forecast step, as it
    backtests them."""
    from models.champion import ChampionConfig
    from pipelines.bench.panel_configs import demo_tasks
    from pipelines.run.pipeline import RunConfig
    from pipelines.steps.forecast import _trim

    tasks = demo_tasks(home, ChampionConfig.model_validate(RunConfig().champion))
    return [
        ([_trim(s) for s in t.specs], int(t.specs[0].upper) + 1, t.n_origins, min(t.horizon, 3))
        for t in tasks
        if t.specs[0].kind == "level" and t.specs[0].upper is not None
    ]


def draw_rows(scale: str, seed: int | None) -> dict[str, pl.DataFrame]:
    """Per chain, the backtest rows of every ``level`` group of one demo draw."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        build_demo(scale, home, seed)
        groups = level_groups(home)
    if not groups:
        raise SystemExit(f"the {scale} demo (seed {seed}) has no level KPI to backtest")
    return {
        label: pl.concat(
            [ordinal_backtest(h, n, n_origins=o, horizon=hz, by_level=by) for h, n, o, hz in groups],
            how="diagonal",
        )
        for label, by in CHAINS.items()
    }


def summary(rows: pl.DataFrame) -> dict[str, float]:
    lo, hi = rows["pit_lo"].to_numpy(), rows["pit_hi"].to_numpy()
    return {
        "n": float(rows.height),
        "cov80": float(pit_coverage(lo, hi, 80.0).mean()),
        "cov95": float(pit_coverage(lo, hi, 95.0).mean()),
        "log": float(np.mean(-np.log(np.clip(hi - lo, 1e-12, None)))),
        "brier": score(ForecastRows.from_frame(rows), "brier_loss"),
    }


def render(parts: dict[str, dict[str, list[pl.DataFrame]]], draws: dict[str, tuple], seconds: float) -> str:
    lines = [
        "| part | draws | chain | rows | cov 80 % | cov 95 % | log score | Brier |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for part, by_chain in parts.items():
        named = ", ".join(f"{s} {'own' if d is None else d}" for s, d in draws[part])
        for label, frames in by_chain.items():
            s = summary(pl.concat(frames, how="diagonal"))
            lines.append(
                f"| {part} | {named} | {label} | {s['n']:.0f} | {s['cov80']:.1f} | {s['cov95']:.1f} | "
                f"{s['log']:.4f} | {s['brier']:.4f} |"
            )
    per_draw = [
        "",
        "Coverage at 80 % per draw (rows):",
        "",
        "| draw | " + " | ".join(CHAINS) + " |",
        "| --- | " + " | ".join("---" for _ in CHAINS) + " |",
    ]
    for part, by_chain in parts.items():
        for j, (scale, seed) in enumerate(draws[part]):
            cells = []
            for label in CHAINS:
                s = summary(by_chain[label][j])
                cells.append(f"{s['cov80']:.1f} ({s['n']:.0f})")
            per_draw.append(
                f"| {part}: {scale} {'own' if seed is None else seed} | " + " | ".join(cells) + " |"
            )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = [
        "# The ordinal level chain on the demos' level KPIs (synthetic demo data)",
        "",
        f"Written by `python -m pipelines.bench.levels` from one run ({stamp}, {platform.machine()}, "
        f"Python {platform.python_version()}, {seconds:.0f} s); protocol in its module docstring. The "
        "2-district demo has 2 level series, the 16-district demo 16, so a draw's rows are few and strongly "
        "dependent (the series of a draw share one generator path); read the per-draw coverage with that in mind.",
        "",
    ]
    return "\n".join([*head, *lines, *per_draw, ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("levels.md"))
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    draws = {"validation": VALIDATION, "held out": HELD_OUT}
    parts: dict[str, dict[str, list[pl.DataFrame]]] = {}
    for part, which in draws.items():
        by_chain: dict[str, list[pl.DataFrame]] = {label: [] for label in CHAINS}
        for scale, seed in which:
            for label, rows in draw_rows(scale, seed).items():
                by_chain[label].append(rows)
        parts[part] = by_chain
    text = render(parts, draws, time.perf_counter() - t0)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
