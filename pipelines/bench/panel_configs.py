"""Validation of pipeline settings on draws of the demos (2-district; 16-district with --scale all), by kind.

Run ``python -m pipelines.bench.panel_configs --config LABEL='{"recalibrate": "small"}' …``. For each demo
seed (default: the demo's own and seeds 1–6, the validation draws named in ``models.champion``) it builds a
2-district demo home in a temporary folder once, then runs the pipeline's forecast step (the same tasks,
groups and whole-champion backtest ``dtscope run`` publishes, :mod:`pipelines.steps.forecast`) under each
configuration: the pipeline's champion settings (``RunConfig().champion``) updated by the JSON given. It
prints one markdown table: per configuration and kind, the backtest rows pooled over the draws, their 80 %
and 95 % coverage, MSIS, MASE and attainment Brier (``backtest_metrics`` at horizon 0, weighted by rows),
and the total absolute coverage gap ``Σ_kinds |cov80 − 80| + |cov95 − 95|`` over the continuous kinds, with
the row-weighted CRPS and Brier score. The key ``interval_prior`` sets the pipeline's interval recalibration
(:func:`pipelines.steps.forecast.calibrate_intervals`; ``null`` switches it off), ``interval_smooth`` its
shape and ``interval_panel_prior`` what a kind borrows from (``interval_recalibration.PANEL_PRIOR``),
``attainment_prior`` the attainment recalibration's reference weight (``null``: unmapped) and
``attainment_horizon_prior`` the weight of the identity in its per-horizon stage (``null``: none), instead of a
champion setting.

``--scale all`` runs draws of the 16-district demo instead (seeds given with ``--seeds``, which must not
include the demo's own: that draw is the held-out panel of ``python -m evaluation.bench.panels``).
Every number printed is measured in the run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from evaluation.bench.panels import build_demo

if TYPE_CHECKING:
    from models.champion import ChampionConfig
    from pipelines.steps.forecast import GroupTask

DEFAULT_SEEDS = (None, 1, 2, 3, 4, 5, 6)
METRICS = ("coverage80", "coverage95", "msis", "crps", "mase", "brier")


def demo_tasks(home: Path, config: ChampionConfig) -> list[GroupTask]:
    """The forecast step's groups of a demo home's warehouse, as ``dtscope run`` forms them."""
    from pipelines.io.kpi_registry import load_registry
    from pipelines.io.warehouse import Warehouse
    from pipelines.run.pipeline import RunConfig, _targets
    from pipelines.settings import resolve_settings
    from pipelines.steps import forecast as F
    from pipelines.steps.series import annual_series

    settings = resolve_settings(home)
    kpis = load_registry(settings.registry_dir).kpis_table()
    specs, _ = F.build_specs(annual_series(Warehouse(settings.warehouse_path).observations()), kpis)
    return F.group_tasks(specs, targets=_targets(kpis), config=config, n_origins=RunConfig().n_origins)


def panel_metrics(home: Path, overrides: dict[str, Any], workers: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``kind, n, <metric>…`` at horizon 0 of the forecast step's published backtest under the settings, and
    the published ``calibration`` (reliability) table."""
    from evaluation.forecasting import recalibration as recal
    from evaluation.forecasting.interval_recalibration import DEFAULT_PRIOR, PANEL_PRIOR, SMOOTH
    from models.champion import ChampionConfig
    from pipelines.run.executors import make_executor
    from pipelines.run.pipeline import RunConfig
    from pipelines.steps import forecast as F

    run = RunConfig()
    settings_ = dict(overrides)
    prior = settings_.pop("interval_prior", DEFAULT_PRIOR)
    smooth = bool(settings_.pop("interval_smooth", SMOOTH))
    panel_prior = settings_.pop("interval_panel_prior", PANEL_PRIOR)
    attainment_prior = settings_.pop("attainment_prior", F.ATTAINMENT_MAP_PRIOR)
    horizon_prior = settings_.pop("attainment_horizon_prior", recal.HORIZON_PRIOR)
    tasks = demo_tasks(home, ChampionConfig.model_validate({**run.champion, **settings_}))
    ex = make_executor("processes" if workers > 1 else "inprocess", workers=workers)
    try:
        results = F.calibrate_intervals(
            F.forecast_groups(tasks, ex), prior=prior, smooth=smooth, panel_prior=panel_prior
        )
    finally:
        ex.close()
    metrics, calibration = F.backtest_tables(
        results, {t.name: t.specs[0].kind for t in tasks}, prior=attainment_prior, horizon_prior=horizon_prior
    )
    return (
        metrics.filter(pl.col("horizon") == 0)
        .pivot(on="metric", index="kind", values="value")
        .select("kind", "n", *METRICS)
    ), calibration


def pooled_reliability(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """The reliability bins summed over the draws: ``bin_lo, n, predicted, observed``."""
    return (
        pl.concat(frames)
        .group_by("bin_lo")
        .agg(
            pl.col("n").sum(),
            ((pl.col("predicted_mean") * pl.col("n")).sum() / pl.col("n").sum()).alias("predicted"),
            ((pl.col("observed_freq") * pl.col("n")).sum() / pl.col("n").sum()).alias("observed"),
        )
        .sort("bin_lo")
    )


def pooled(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Row-weighted means of each metric per kind over the draws, with the rows summed."""
    df = pl.concat(frames)
    return (
        df.group_by("kind")
        .agg(
            pl.col("n").sum(),
            *[((pl.col(m) * pl.col("n")).sum() / pl.col("n").sum()).alias(m) for m in METRICS],
        )
        .sort("kind")
    )


def render_reliability(results: dict[str, pl.DataFrame]) -> list[str]:
    """Per configuration, the pooled bins' gaps in points (observed − predicted), with their rows."""
    bins = sorted({b for df in results.values() for b in df["bin_lo"].to_list()})
    lines = [
        "| configuration | "
        + " | ".join(f"{b:.1f}–{b + 0.1:.1f}" for b in bins)
        + " | Brier of the bins' gaps² |",
        "| --- | " + " | ".join("---" for _ in bins) + " | --- |",
    ]
    for label, df in results.items():
        by = {r["bin_lo"]: r for r in df.iter_rows(named=True)}
        cells = [
            f"{100 * (by[b]['observed'] - by[b]['predicted']):+.1f} ({by[b]['n']})" if b in by else "–"
            for b in bins
        ]
        weighted = float(
            np.average((df["observed"] - df["predicted"]).to_numpy() ** 2, weights=df["n"].to_numpy())
        )
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {weighted:.5f} |")
    return ["Reliability pooled over the draws: gap in points (rows).", "", *lines, ""]


def render(results: dict[str, pl.DataFrame], seeds: tuple[int | None, ...], seconds: float) -> str:
    lines = [
        "| configuration | kind | n | cov 80 % | cov 95 % | MSIS | CRPS | MASE | Brier |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    gaps = []
    for label, df in results.items():
        for r in df.iter_rows(named=True):
            lines.append(
                f"| {label} | {r['kind']} | {r['n']:.0f} | {r['coverage80']:.1f} | {r['coverage95']:.1f} | "
                f"{r['msis']:.2f} | {r['crps']:.3f} | {r['mase']:.3f} | {r['brier']:.4f} |"
            )
        cont = df.filter(pl.col("kind") != "level")
        gap = float(((cont["coverage80"] - 80).abs() + (cont["coverage95"] - 95).abs()).sum())
        crps = float(np.average(cont["crps"].to_numpy(), weights=cont["n"].to_numpy()))
        brier = float(np.average(df["brier"].to_numpy(), weights=df["n"].to_numpy()))
        gaps.append(
            f"- {label}: total absolute coverage gap over the continuous kinds {gap:.1f} points; "
            f"row-weighted CRPS (continuous kinds) {crps:.4f}, Brier (all kinds) {brier:.5f}"
        )
    drawn = ", ".join("demo's own" if s is None else str(s) for s in seeds)
    return "\n".join([f"Demo seeds: {drawn}; {seconds:.0f} s in all.", "", *lines, "", *gaps, ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="LABEL=JSON",
        help="a configuration to try: a label and the champion settings it changes (repeatable)",
    )
    parser.add_argument("--seeds", default=None, help="comma-separated demo seeds; 'own' for the demo's own")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scale", choices=("two", "all"), default="two", help="which demo to draw")
    args = parser.parse_args(argv)
    configs: dict[str, dict[str, Any]] = {"pipeline settings": {}}
    for item in args.config:
        label, _, text = item.partition("=")
        configs[label] = json.loads(text)
    seeds: tuple[int | None, ...] = (
        DEFAULT_SEEDS
        if args.seeds is None
        else tuple(None if s == "own" else int(s) for s in args.seeds.split(","))
    )
    if args.scale == "all" and None in seeds:
        parser.error("the 16-district demo's own draw is the held-out panel: give other --seeds")
    t0 = time.perf_counter()
    frames: dict[str, list[pl.DataFrame]] = {label: [] for label in configs}
    bins: dict[str, list[pl.DataFrame]] = {label: [] for label in configs}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            home = Path(tmp) / f"seed-{seed}"
            build_demo(args.scale, home, seed)
            for label, overrides in configs.items():
                kinds, reliability = panel_metrics(home, overrides, args.workers)
                frames[label].append(kinds)
                bins[label].append(reliability)
                print(f"seed {seed}, {label}: done at {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    print(render({k: pooled(v) for k, v in frames.items()}, seeds, time.perf_counter() - t0))
    print("\n".join(render_reliability({k: pooled_reliability(v) for k, v in bins.items()})))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
