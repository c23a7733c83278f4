"""``dtscope run``: ingest (demo when empty) → score → forecast → attainment → register → publish.

Steps are the pure functions of :mod:`pipelines.steps.score`, :mod:`pipelines.steps.series` and :mod:`pipelines.steps.forecast`;
this module only wires them, tracks them in MLflow (one parent run, a child per step and per KPI × region),
and publishes the tables the dashboard reads, every row carrying the run id that produced it.

Idempotent: a run is identified by its *fingerprint* — the data vintage (ignoring rows dtscope derived
itself), the configuration and the code version. When the published tables already come from a run with
the same fingerprint, ``dtscope run`` says so and publishes nothing new (``--force`` runs anyway).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from evaluation import tables
from evaluation.forecasting.origin_backtest import series_summary
from models.champion import ChampionConfig
from pipelines.faults import fault_point
from pipelines.io.catalog import file_sha256, read_table
from pipelines.io.kpi_registry import Registry, load_registry
from pipelines.io.warehouse import Warehouse
from pipelines.run.executors import ExecutorKind, make_executor
from pipelines.run.wiring import score_step, with_run_id
from pipelines.settings import PUBLISHED_DATA_DIR, Settings
from pipelines.steps import publish
from pipelines.steps.forecast import (
    KPI_CONFIG,
    GroupResult,
    attainment,
    attainment_recalibration,
    backtest_tables,
    build_specs,
    calibrate_intervals,
    forecast_group,
    forecast_groups,
    group_tasks,
)
from pipelines.steps.ingest import validate_table
from pipelines.steps.series import annual_series, data_set_expr
from pipelines.tracking.tracker import CHALLENGER, PRODUCTION, Tracker, environment_tags, git_commit

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a run's numbers (besides the data vintage and the code)."""

    champion: dict[str, Any] = field(default_factory=lambda: KPI_CONFIG.model_dump(mode="json"))
    n_origins: int = 3
    scheme_path: str | None = None
    score_period: str | None = None
    score_draws: int = 2000
    seed: int = 0

    def champion_config(self) -> ChampionConfig:
        """The champion settings, validated (an unknown or ill-typed setting is refused by name)."""
        return ChampionConfig.model_validate(self.champion)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(self), default=list))
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        return cls(**data)


@dataclass
class RunSummary:
    """What a run did, for the terminal summary and the tests."""

    run_id: str | None
    skipped: bool
    fingerprint: str
    vintage: str
    published: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, str]] = field(default_factory=list)
    role: str = PRODUCTION
    model_version: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    attainment: pl.DataFrame | None = None


# ---------------------------------------------------------------------------------------------- data
def load_demo(
    settings: Settings, registry: Registry, warehouse: Warehouse, *, scale: str = "two", seed: int = 20211013
) -> list[tuple[str, int, int, int, int]]:
    """Generate the SYNTHETIC demo and load it with the real published figures and plan baselines.

    Returns:
        (file, in, accepted, unchanged, rejected) per file loaded.
    """
    from pipelines.demo import generator as demo_mod

    data = demo_mod.generate_demo(registry, seed=seed, scale=scale)  # type: ignore[arg-type]
    paths = demo_mod.write_demo(data, settings.home / "demo")
    warehouse.replace_reference("kpis", registry.kpis_table())
    warehouse.replace_reference("scenarios", data.scenarios)
    warehouse.replace_reference("scenario_metrics", data.scenario_metrics)
    warehouse.replace_reference("street_outcomes", data.street_outcomes)
    path = paths["observations"]
    result = validate_table(read_table(path), registry, file_label=path.name)
    s = warehouse.ingest(result, file=str(path), file_sha256=file_sha256(path), provenance="synthetic")
    return [(path.name, s.rows_in, s.accepted, s.unchanged, s.rejected), *load_published(registry, warehouse)]


# The only files whose rows are stored as ``published`` (real figures and the plans' baselines): shipped
# with dtscope under data/published/, read from there by path, never from a user's upload or ingest.
PUBLISHED_FILES = ("published_figures.csv", "plan_baselines.csv")


def load_published(registry: Registry, warehouse: Warehouse) -> list[tuple[str, int, int, int, int]]:
    """Load the shipped published figures and plan baselines with provenance ``published``.

    Returns:
        (file, in, accepted, unchanged, rejected) per file loaded.
    """
    rows = []
    for name in PUBLISHED_FILES:
        path = PUBLISHED_DATA_DIR / name
        result = validate_table(read_table(path), registry, file_label=path.name)
        s = warehouse.ingest(result, file=str(path), file_sha256=file_sha256(path), provenance="published")
        rows.append((path.name, s.rows_in, s.accepted, s.unchanged, s.rejected))
    return rows


def data_vintage(warehouse: Warehouse, *, as_of: datetime | None = None) -> str:
    """The latest vintage of observations other than dtscope's own derived rows (ISO text, '' when empty)."""
    obs = warehouse.observations(as_of=as_of).with_columns(data_set_expr())
    inputs = obs.filter(pl.col("data_set") != "derived")
    if inputs.height == 0:
        return ""
    latest = inputs["vintage"].max()
    return latest.isoformat() if isinstance(latest, datetime) else str(latest)


def fingerprint(vintage: str, config: RunConfig) -> str:
    """Identity of a run's inputs: data vintage, configuration, code version."""
    text = json.dumps({"vintage": vintage, "config": config.as_dict(), "code": git_commit()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def data_tables(
    warehouse: Warehouse, registry: Registry, *, as_of: datetime | None
) -> dict[str, pl.DataFrame]:
    """The data the dashboard shows beside the results, as it stood at ``as_of``.

    Returns:
        kpis, observations (with ``data_set``), scenarios, rejects and ingests; rows that arrived after
        ``as_of`` are left out, so they cannot appear under a run that never read them.
    """
    obs = warehouse.observations(as_of=as_of).with_columns(data_set_expr())
    rejects, ingests = warehouse.table("rejects"), warehouse.table("ingests")
    if as_of is not None:
        rejects = rejects.filter(pl.col("vintage") <= as_of)
        ingests = ingests.filter(pl.col("vintage") <= as_of)
    return {
        "kpis": registry.kpis_table(),
        "observations": obs,
        "scenarios": warehouse.table("scenarios"),
        "rejects": rejects,
        "ingests": ingests,
    }


# ---------------------------------------------------------------------------------------------- the run
def _targets(kpis: pl.DataFrame) -> dict[tuple[str, str], int]:
    rows = kpis.filter(pl.col("target_year").is_not_null()).iter_rows(named=True)
    return {(r["kpi_id"], r["region"]): int(r["target_year"]) for r in rows}


def _series_metrics(backtest: pl.DataFrame) -> dict[str, dict[str, float]]:
    """Per-series backtest metrics (those of the published backtest_metrics table) keyed by series_id."""
    if backtest.height == 0:
        return {}
    agg = series_summary(backtest).rename({"n": "backtest_rows"})
    return {r.pop("series_id"): r for r in agg.to_dicts()}


def _fan_chart(
    fc: pl.DataFrame, spec_years: list[int], spec_values: list[float], title: str, path: Path
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=90)
    ax.plot(spec_years, spec_values, "o-", color="#333333", label="observed")
    p = fc["period"].to_list()
    ax.fill_between(
        p, fc["q0.025"].to_list(), fc["q0.975"].to_list(), color="#4477AA", alpha=0.2, label="95%"
    )
    ax.fill_between(p, fc["q0.1"].to_list(), fc["q0.9"].to_list(), color="#4477AA", alpha=0.35, label="80%")
    ax.plot(p, fc["q0.5"].to_list(), color="#4477AA", label="median")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def backtest_score(metrics: pl.DataFrame) -> float:
    """One number to rank configurations on a vintage (lower is better): the row-weighted mean MASE."""
    overall = metrics.filter(pl.col("horizon") == 0)
    mase = overall.filter(pl.col("metric") == "mase").select("kind", "value")
    n = overall.filter(pl.col("metric") == "n").select("kind", pl.col("value").alias("n"))
    joined = mase.join(n, on="kind")
    if joined.height == 0:
        return float("nan")
    value = joined.select((pl.col("value") * pl.col("n")).sum() / pl.col("n").sum()).item()
    return float(value)


@dataclass
class _Inputs:
    """What a run reads, fixed at its start: every later read is *as of* ``pinned_at``.

    Attributes:
        vintage: the data vintage of the fingerprint (the latest input row, ignoring derived rows).
        pinned_at: the latest vintage of any row when the run started (None: empty warehouse). An ingest
            that lands while the run is going has a later vintage, so this run neither forecasts nor
            publishes it; the next run does.
    """

    registry: Registry
    warehouse: Warehouse
    tracker: Tracker
    config: RunConfig
    vintage: str
    pinned_at: datetime | None
    fingerprint: str


@dataclass
class _Forecasts:
    """The forecast step's outputs (pure frames) and the MLflow run that tracked it."""

    run_id: str
    series: pl.DataFrame
    specs: list[Any]
    forecasts: pl.DataFrame
    samples: pl.DataFrame
    metrics: pl.DataFrame
    calibration: pl.DataFrame
    attainment: pl.DataFrame
    per_series: dict[str, dict[str, float]]
    failures: list[dict[str, str]]


def _open_inputs(
    settings: Settings,
    config: RunConfig | None,
    on_demo: Callable[[list[tuple[str, int, int, int, int]]], None] | None,
) -> _Inputs:
    """Load the registry, recover from killed runs, load the demo into an empty warehouse, pin the vintage."""
    registry = load_registry(settings.registry_dir)
    warehouse = Warehouse(
        settings.warehouse_path, lock_path=settings.lock_path, lock_timeout=settings.lock_timeout
    )
    tracker = Tracker(settings)
    orphans = tracker.mark_orphans_killed(
        f"its process ended without finishing the run (found by the run started at {datetime.now():%Y-%m-%d %H:%M:%S})"
    )
    if orphans:
        log.warning("marked %d run(s) of killed processes as KILLED in MLflow", len(orphans))
    if warehouse.observations().height == 0:
        rows = load_demo(settings, registry, warehouse)
        if on_demo:
            on_demo(rows)
    if config is None:
        champion = tracker.alias_version(PRODUCTION)
        config = (
            RunConfig.from_dict(json.loads(champion.tags["run_config"]))
            if champion and "run_config" in champion.tags
            else RunConfig()
        )
    vintages = warehouse.vintages()
    pinned_at = vintages[-1] if vintages else None
    vintage = data_vintage(warehouse, as_of=pinned_at)
    return _Inputs(registry, warehouse, tracker, config, vintage, pinned_at, fingerprint(vintage, config))


def _already_published(settings: Settings, inputs: _Inputs) -> str | None:
    """The run id of the published set when it has this run's fingerprint and MLflow still holds that run."""
    manifest = publish.read_manifest(settings.home)
    run_id = manifest.get("run_id")
    if manifest.get("fingerprint") != inputs.fingerprint or not run_id:
        return None
    if not inputs.tracker.run_exists(run_id):
        log.warning(
            "the published tables name run %s, which the MLflow store no longer holds; running again", run_id
        )
        return None
    return str(run_id)


def _forecast_step(
    inputs: _Inputs,
    *,
    parent: str,
    executor: ExecutorKind,
    workers: int,
    scheduler: str | None,
    progress: Progress | None,
) -> _Forecasts:
    """Forecast every KPI × region from the observations as of the data vintage (exactly what reproduce reads)."""
    kpis = inputs.registry.kpis_table()
    obs = inputs.warehouse.observations(as_of=datetime.fromisoformat(inputs.vintage))
    series = annual_series(obs)
    specs, failures = build_specs(series, kpis)
    config = inputs.config
    tasks = group_tasks(
        specs, targets=_targets(kpis), config=config.champion_config(), n_origins=config.n_origins
    )
    with inputs.tracker.run(
        "forecast",
        parent=parent,
        params={"groups": len(tasks), "series": len(specs), "executor": executor},
        tags={"dtscope.step": "forecast"},
    ) as fc_run:
        ex = make_executor(executor, workers=workers, scheduler=scheduler)
        try:
            if progress:
                progress("forecast", 0, len(specs))
            results: list[GroupResult] = calibrate_intervals(forecast_groups(tasks, ex, progress=progress))
        finally:
            ex.close()
        forecasts = pl.concat([r.forecasts for r in results])
        samples = pl.concat([r.samples for r in results])
        failures = failures + [f for r in results for f in r.failures]
        metrics, calibration = backtest_tables(results, {t.name: t.specs[0].kind for t in tasks})
        att = attainment(specs, forecasts, samples, kpis, recalibration=attainment_recalibration(results))
        backtests = [r.backtest for r in results if r.backtest.height]
        per_series = _series_metrics(
            pl.concat(backtests, how="diagonal_relaxed") if backtests else pl.DataFrame()
        )
    return _Forecasts(
        fc_run, series, specs, forecasts, samples, metrics, calibration, att, per_series, failures
    )


def _track_series(tracker: Tracker, fc: _Forecasts, progress: Progress | None) -> float:
    """A child run per KPI × region (metrics, fan chart) and per failure; returns the backtest score."""
    att_by = {(r["kpi_id"], r["region"]): r for r in fc.attainment.iter_rows(named=True)}
    with tempfile.TemporaryDirectory(prefix="dtscope-fan-") as tmp_dir:
        tmp = Path(tmp_dir)
        for i, spec in enumerate(fc.specs):
            if progress:
                progress("track", i + 1, len(fc.specs))
            one = fc.forecasts.filter((pl.col("kpi_id") == spec.kpi_id) & (pl.col("region") == spec.region))
            if one.height == 0:
                continue
            m = dict(fc.per_series.get(spec.key, {}))
            a = att_by.get((spec.kpi_id, spec.region))
            if a is not None:
                m |= {k: a[k] for k in ("p_reach", "anticipated_growth", "required_growth")}
            with tracker.run(
                f"{spec.kpi_id} × {spec.region}",
                parent=fc.run_id,
                params={
                    "kpi_id": spec.kpi_id,
                    "region": spec.region,
                    "model": one["model"][0],
                    "data_set": spec.data_set,
                    "n_years": len(spec.years),
                },
                tags={"dtscope.step": "forecast-series"},
            ) as child:
                tracker.log_metrics(
                    child, {k: float(v) for k, v in m.items() if v is not None and np.isfinite(v)}
                )
                if a is not None:  # a fan chart for every KPI with a target
                    png = tmp / f"fan_{spec.kpi_id}_{spec.region}.png"
                    finite = [(y, v) for y, v in zip(spec.years, spec.values, strict=True) if np.isfinite(v)]
                    _fan_chart(
                        one.sort("period"),
                        [y for y, _ in finite],
                        [v for _, v in finite],
                        f"{spec.kpi_id} · {spec.region} ({spec.data_set})",
                        png,
                    )
                    tracker.log_file(child, png, "charts")
    for f in fc.failures:
        tracker.failed_child(
            f"{f['kpi_id']} × {f['region']}",
            parent=fc.run_id,
            error=f["error"],
            params={"kpi_id": f["kpi_id"], "region": f["region"], "stage": f["stage"]},
            tags={"dtscope.step": "forecast-series"},
        )
    score_value = backtest_score(fc.metrics)
    overall = fc.metrics.filter(pl.col("horizon") == 0)
    tracker.log_metrics(
        fc.run_id, {f"{r['metric']}.{r['kind']}": r["value"] for r in overall.iter_rows(named=True)}
    )
    tracker.log_metrics(
        fc.run_id,
        {
            "backtest_score": score_value,
            "series_failed": float(len(fc.failures)),
            "series_forecast": float(fc.forecasts.select("kpi_id", "region").n_unique()),
        },
    )
    return score_value


def _result_tables(fc: _Forecasts, scored: Any, parent: str) -> dict[str, pl.DataFrame]:
    """The result tables of a run, each carrying its run id."""
    failures = pl.DataFrame(
        fc.failures,
        schema=tables.dtypes(tables.ForecastFailures),
    )
    return {
        "forecasts": with_run_id(fc.forecasts, parent),
        "forecast_samples": fc.samples,
        "attainment": with_run_id(fc.attainment, parent),
        "backtest_metrics": with_run_id(fc.metrics, parent),
        "calibration": with_run_id(fc.calibration, parent),
        "forecast_failures": with_run_id(failures, parent),
        **{
            name: frame.with_columns(pl.lit(parent).alias("pipeline_run_id"))
            for name, frame in scored.tables.items()
        },
    }


def _register(inputs: _Inputs, fc: _Forecasts, parent: str, score_value: float) -> tuple[str, str]:
    """Register this configuration as a forecaster version; returns (role, version)."""
    tracker = inputs.tracker
    example = (
        fc.series.filter(pl.col("value").is_not_null())
        .head(8)
        .select(
            pl.format("{}/{}", "kpi_id", "region").alias("series_id"),
            pl.col("year").cast(pl.Int64).alias("period"),
            "value",
        )
    )
    run_config = inputs.config.as_dict()
    version = tracker.register_forecaster(
        parent, run_config, vintage=inputs.vintage, backtest_score=score_value, input_example=example
    )
    tracker.tag_version(version.version, "run_config", json.dumps(run_config, sort_keys=True))
    current = tracker.alias_version(PRODUCTION)
    if current is None:
        tracker.set_alias(PRODUCTION, version.version)
        role = PRODUCTION
    elif current.version != version.version:
        tracker.set_alias(CHALLENGER, version.version)
        role = CHALLENGER
    else:
        role = PRODUCTION
    tracker.set_tags(parent, {"dtscope.role": role, "dtscope.model_version": version.version})
    return role, str(version.version)


def run_pipeline(
    settings: Settings,
    config: RunConfig | None = None,
    *,
    executor: ExecutorKind = "inprocess",
    workers: int = 2,
    scheduler: str | None = None,
    force: bool = False,
    challenger: bool = False,
    progress: Progress | None = None,
    on_demo: Callable[[list[tuple[str, int, int, int, int]]], None] | None = None,
) -> RunSummary:
    """Run the whole pipeline once and publish its data and result tables in one atomic swap.

    The run pins the data it reads when it starts (:class:`_Inputs`); ingests that land meanwhile wait
    for the next run. A process killed at any point leaves the previous run's published set whole; the
    next run marks the killed run's MLflow runs KILLED.

    Args:
        settings: where data, published tables and MLflow live.
        config: the run's configuration; default: the production version's registered configuration, else defaults.
        executor: where the per-group forecasting runs (``inprocess``, ``processes``, ``dask``).
        workers: worker count for ``processes`` / a local Dask cluster.
        scheduler: a Dask scheduler address (``tcp://host:8786``).
        force: run even when the published tables already come from an identical run.
        challenger: track and register this configuration as a challenger; publish nothing.
        progress: called with (stage, done, total).
        on_demo: called with the demo load summary when the warehouse was empty.
    """
    timings: dict[str, float] = {}
    t = time.perf_counter()
    inputs = _open_inputs(settings, config, on_demo)
    vintage, fp = inputs.vintage, inputs.fingerprint
    if not force and not challenger:
        published_run = _already_published(settings, inputs)
        if published_run is not None:
            log.info("published tables already come from run %s with the same inputs", published_run)
            return RunSummary(run_id=published_run, skipped=True, fingerprint=fp, vintage=vintage)
    timings["prepare"] = time.perf_counter() - t
    fault_point("prepare")
    tracker = inputs.tracker
    params = {
        "config": json.dumps(inputs.config.as_dict(), sort_keys=True),
        "vintage": vintage,
        "executor": executor,
        "role": CHALLENGER if challenger else PRODUCTION,
    }
    tags = {
        **environment_tags(),
        "dtscope.fingerprint": fp,
        "dtscope.vintage": vintage,
        "dtscope.step": "pipeline",
    }
    with tracker.run(f"pipeline {vintage[:19]}", params=params, tags=tags) as parent:
        t = time.perf_counter()
        if progress:
            progress("score", 0, 1)
        scored = score_step(
            inputs.warehouse,
            inputs.registry,
            tracker,
            scheme_path=Path(inputs.config.scheme_path) if inputs.config.scheme_path else None,
            period=inputs.config.score_period,
            n_draws=inputs.config.score_draws,
            seed=inputs.config.seed,
            parent=parent,
        )
        timings["score"] = time.perf_counter() - t
        fault_point("score")
        t = time.perf_counter()
        fc = _forecast_step(
            inputs, parent=parent, executor=executor, workers=workers, scheduler=scheduler, progress=progress
        )
        timings["forecast"] = time.perf_counter() - t
        fault_point("forecast")
        t = time.perf_counter()
        score_value = _track_series(tracker, fc, progress)
        timings["track"] = time.perf_counter() - t
        fault_point("track")
        t = time.perf_counter()
        tracker.log_metrics(parent, {"backtest_score": score_value, "series_failed": float(len(fc.failures))})
        out_tables = _result_tables(fc, scored, parent)
        for name in ("forecasts", "attainment", "backtest_metrics", "scores", "efficacy"):
            tracker.log_table(parent, out_tables[name], name)
        role, model_version = _register(inputs, fc, parent, score_value)
        timings["register"] = time.perf_counter() - t
        fault_point("register")
    summary = RunSummary(
        run_id=parent,
        skipped=False,
        fingerprint=fp,
        vintage=vintage,
        failures=fc.failures,
        role=role,
        model_version=model_version,
        timings=timings,
        attainment=fc.attainment,
    )
    if role != PRODUCTION:
        log.info(
            "configuration registered as %s (version %s); published tables unchanged", role, model_version
        )
        return summary
    t = time.perf_counter()
    tables = {**data_tables(inputs.warehouse, inputs.registry, as_of=inputs.pinned_at), **out_tables}
    tables["runs"] = runs_table(tracker)
    pinned = inputs.pinned_at.isoformat() if inputs.pinned_at else ""
    publish.publish(
        settings.home,
        tables,
        run_id=parent,
        info={"vintage": vintage, "pinned_at": pinned, "fingerprint": fp},
        manifest_fields={"fingerprint": fp, "run_id": parent, "vintage": vintage, "pinned_at": pinned},
    )
    fault_point("publish")
    summary.published = {k: v.height for k, v in tables.items()}
    timings["publish"] = time.perf_counter() - t
    return summary


def runs_table(tracker: Tracker, limit: int = 200) -> pl.DataFrame:
    """The ``runs`` table for the dashboard's Models page: recent runs with params, metrics and aliases."""
    aliases = {v.run_id: ",".join(v.aliases) for v in tracker.versions() if v.aliases}
    rows = []
    for run in tracker.search_runs(max_results=limit):
        info, data = run.info, run.data
        rows.append(
            {
                "run_id": info.run_id,
                "run_name": data.tags.get("mlflow.runName", ""),
                "kind": data.tags.get("dtscope.step", ""),
                "status": info.status,
                "start_time": datetime.fromtimestamp(info.start_time / 1000) if info.start_time else None,
                "end_time": datetime.fromtimestamp(info.end_time / 1000) if info.end_time else None,
                "params_json": json.dumps(data.params, ensure_ascii=False, sort_keys=True),
                "metrics_json": json.dumps(data.metrics, sort_keys=True),
                "alias": aliases.get(info.run_id),
                "mlflow_url": tracker.ui_url(info.run_id),
            }
        )
    return pl.DataFrame(rows, schema=tables.dtypes(tables.Runs))


# ---------------------------------------------------------------------------------------------- reproduce
@dataclass(frozen=True)
class TableCheck:
    """How one table of a past run compares with its rebuild."""

    name: str
    rows: int
    max_abs_diff: float
    matches: bool
    note: str = ""


def _compare(
    name: str, logged: pl.DataFrame, rebuilt: pl.DataFrame, keys: list[str], tol: float = 1e-9
) -> TableCheck:
    drop = [c for c in ("run_id", "pipeline_run_id") if c in logged.columns]
    logged = logged.drop(drop)
    rebuilt = rebuilt.drop([c for c in drop if c in rebuilt.columns])
    if sorted(logged.columns) != sorted(rebuilt.columns) or logged.height != rebuilt.height:
        return TableCheck(
            name,
            logged.height,
            float("inf"),
            False,
            f"shape differs: logged {logged.shape}, rebuilt {rebuilt.shape}",
        )
    a = logged.sort(keys)
    b = rebuilt.select(logged.columns).sort(keys)
    worst = 0.0
    for col in logged.columns:
        x, y = a[col], b[col]
        if x.dtype.is_numeric():
            xa, ya = x.cast(pl.Float64).to_numpy(), y.cast(pl.Float64).to_numpy()
            both_nan = np.isnan(xa) & np.isnan(ya)
            diff = np.where(both_nan, 0.0, np.abs(xa - ya))
            worst = max(worst, float(np.nanmax(diff)) if diff.size else 0.0)
        elif not x.equals(y):
            return TableCheck(name, logged.height, float("inf"), False, f"column {col!r} differs")
    return TableCheck(name, logged.height, worst, worst <= tol)


def reproduce(settings: Settings, run_id: str) -> list[TableCheck]:
    """Rebuild a past pipeline run from its logged data vintage and configuration; compare every number.

    Forecasts, attainment and backtest metrics are rebuilt from the observations as of the run's vintage
    (the warehouse is append-only, so they are exactly what the run read). Scores are rebuilt from the
    scenario tables as they are now; if those changed since, the check says so.
    """
    tracker = Tracker(settings)
    try:
        run = tracker.get_run(run_id)
    except Exception as exc:  # MLflow raises its own exception type for an unknown id
        raise LookupError(
            f"no MLflow run {run_id!r} in {tracker.uri}; `dtscope models list` shows run ids"
        ) from exc
    params = run.data.params
    if "config" not in params or "vintage" not in params:
        raise LookupError(f"run {run_id} is not a dtscope pipeline run (no config/vintage parameters)")
    config = RunConfig.from_dict(json.loads(params["config"]))
    vintage = params["vintage"]
    registry = load_registry(settings.registry_dir)
    warehouse = Warehouse(
        settings.warehouse_path, lock_path=settings.lock_path, lock_timeout=settings.lock_timeout
    )
    kpis = registry.kpis_table()
    series = annual_series(warehouse.observations(as_of=datetime.fromisoformat(vintage)))
    specs, _ = build_specs(series, kpis)
    tasks = group_tasks(
        specs, targets=_targets(kpis), config=config.champion_config(), n_origins=config.n_origins
    )
    results = calibrate_intervals([forecast_group(t) for t in tasks])
    forecasts = pl.concat([r.forecasts for r in results])
    samples = pl.concat([r.samples for r in results])
    att = attainment(specs, forecasts, samples, kpis, recalibration=attainment_recalibration(results))
    metrics, _ = backtest_tables(results, {t.name: t.specs[0].kind for t in tasks})
    checks = [
        _compare(
            "forecasts",
            tracker.download_table(run_id, "forecasts"),
            forecasts,
            ["kpi_id", "region", "period"],
        ),
        _compare("attainment", tracker.download_table(run_id, "attainment"), att, ["kpi_id", "region"]),
        _compare(
            "backtest_metrics",
            tracker.download_table(run_id, "backtest_metrics"),
            metrics,
            ["kind", "horizon", "metric"],
        ),
    ]
    from evaluation.assessment.scheme import DEFAULT_SCHEME, load_scheme
    from pipelines.steps.score import score_scenarios

    scheme = load_scheme(Path(config.scheme_path) if config.scheme_path else DEFAULT_SCHEME)
    result = score_scenarios(
        warehouse.table("scenarios"),
        warehouse.table("scenario_metrics"),
        warehouse.table("street_outcomes"),
        scheme,
        period=config.score_period,
        n_draws=config.score_draws,
        seed=config.seed,
    )
    score_check = _compare("scores", tracker.download_table(run_id, "scores"), result.scores, ["scenario_id"])
    if not score_check.matches:
        score_check = dataclasses.replace(
            score_check,
            note=(score_check.note + "; " if score_check.note else "")
            + "scores read the scenario tables as they are now (not versioned): did they change since the run?",
        )
    checks.append(score_check)
    return checks
