"""Forecast every KPI × region series and judge every target: the pure half of the forecast step.

Series of one KPI kind and scale form a *group*: the champion is chosen, and its conformal calibration
pooled, across the group (short annual series need the pooling). A group is the unit of work an executor
runs. If fitting a group fails, each of its series is retried alone, so one bad series fails by itself
and the others still publish.
"""

from __future__ import annotations

import logging
import math
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from evaluation import tables
from evaluation.forecasting import attainment as att
from evaluation.forecasting import interval_recalibration as intervals
from evaluation.forecasting import recalibration as recal
from evaluation.forecasting.ordinal_backtest import ordinal_backtest
from evaluation.forecasting.origin_backtest import backtest_summary, champion_backtest, reliability
from models.base import dense_probs
from models.champion import ChampionConfig, fit_champion
from models.champion.chunked import Mapper, Piece, fit_chunked, forecast_piece
from models.champion.ordinal import fit_ordinal
from models.champion.plausible import point_forecast, snap_to_bounds
from models.transforms import Scale, choose_scale, fill_gaps, monotone_quantiles, widen_quantiles

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]

OUT_PROBS = (0.025, 0.1, 0.5, 0.9, 0.975)
QUANTILE_COLUMNS = tuple(f"q{p}" for p in OUT_PROBS)
DENSE = dense_probs(0.01)  # 99 equal-probability draws for what-if
PROBS = dense_probs(0.005)  # an even grid holding DENSE and OUT_PROBS (widen_quantiles needs it even)
KPI_CONFIG = ChampionConfig(n_origins=6, min_train=4)
MIN_POINTS = 4
MIN_HORIZON = 3
MAX_HORIZON = 10
CHUNK = 1000  # series per chunk of a large group
ORDINAL_MODEL = "dtscope:ordinal-by-level"  # the level chain of models.champion.ordinal (steps by level)

FORECAST_SCHEMA = tables.dtypes(tables.Forecasts)
SAMPLE_SCHEMA = tables.dtypes(tables.ForecastSamples)
FAILURE_SCHEMA = tables.dtypes(tables.ForecastFailures)


@dataclass(frozen=True)
class SeriesSpec:
    """One annual KPI × region series and what the registry says about the KPI."""

    kpi_id: str
    region: str
    kind: str
    lower: float | None
    upper: float | None
    cumulative: bool
    survey: bool
    precision: float
    years: tuple[int, ...]
    values: tuple[float, ...]  # NaN where a year has no value
    std_error: float
    data_set: str

    @property
    def key(self) -> str:
        return f"{self.kpi_id}/{self.region}"

    def last(self) -> tuple[int, float]:
        """(year, value) of the last observed point."""
        for year, value in zip(reversed(self.years), reversed(self.values), strict=True):
            if math.isfinite(value):
                return year, value
        raise ValueError(f"{self.key}: no observed value")


@dataclass(frozen=True)
class GroupTask:
    """Series forecast together: same kind, bounds and model scale."""

    name: str
    specs: tuple[SeriesSpec, ...]
    horizon: int
    config: ChampionConfig
    n_origins: int = 3


@dataclass
class GroupResult:
    """What one group produced (frames are empty when every series failed)."""

    name: str
    champion: str | None
    forecasts: pl.DataFrame
    samples: pl.DataFrame
    backtest: pl.DataFrame
    failures: list[dict[str, str]] = field(default_factory=list)
    candidate_scores: pl.DataFrame | None = None
    dense: np.ndarray | None = None  # (series forecast, horizon, len(PROBS)): what forecasts were read from


def build_specs(
    series: pl.DataFrame, kpis: pl.DataFrame, *, min_points: int = MIN_POINTS
) -> tuple[list[SeriesSpec], list[dict[str, str]]]:
    """Series frames (see :func:`pipelines.steps.series.annual_series`) → specs; too-short series → failures.

    Args:
        series: ``kpi_id, region, year, value, std_error, data_set`` with contiguous years.
        kpis: the ``kpis`` table (the indicator columns are read from any row of each kpi_id).
    """
    info = kpis.unique("kpi_id", keep="first").select(
        "kpi_id", "kind", "lower", "upper", "cumulative", "survey", "precision"
    )
    joined = series.join(info, on="kpi_id", how="inner")
    specs, failures = [], []
    for (kpi_id, region), part in joined.sort("year").group_by(["kpi_id", "region"], maintain_order=True):
        values = part["value"].fill_null(float("nan")).to_numpy().astype(float)
        n_obs = int(np.isfinite(values).sum())
        if n_obs < min_points:
            failures.append(
                {
                    "kpi_id": str(kpi_id),
                    "region": str(region),
                    "stage": "input",
                    "error": f"only {n_obs} annual value(s); a forecast needs at least {min_points}",
                }
            )
            continue
        row = part.row(0, named=True)
        se = part["std_error"].drop_nulls()
        specs.append(
            SeriesSpec(
                kpi_id=str(kpi_id),
                region=str(region),
                kind=row["kind"],
                lower=row["lower"],
                upper=row["upper"],
                cumulative=bool(row["cumulative"]),
                survey=bool(row["survey"]),
                precision=float(row["precision"]),
                years=tuple(int(y) for y in part["year"]),
                values=tuple(float(v) for v in values),
                std_error=float(se.median()) if se.len() else 0.0,  # type: ignore[arg-type]
                data_set=str(row["data_set"]),
            )
        )
    return specs, failures


def _scale(spec: SeriesSpec) -> Scale:
    vals = np.array(spec.values)
    return choose_scale(spec.kind, spec.lower, spec.upper, vals[np.isfinite(vals)])


def group_tasks(
    specs: list[SeriesSpec],
    *,
    targets: dict[tuple[str, str], int],
    config: ChampionConfig,
    n_origins: int = 3,
) -> list[GroupTask]:
    """Group specs by (kind, scale); each group's horizon reaches its furthest target year (≥ 3 steps)."""
    groups: dict[tuple[str, Scale], list[SeriesSpec]] = {}
    for spec in specs:
        groups.setdefault((spec.kind, _scale(spec)), []).append(spec)
    tasks = []
    for (kind, scale), members in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1].name, kv[0][1].upper)
    ):
        need = [targets.get((s.kpi_id, s.region), 0) - s.last()[0] for s in members]
        horizon = int(min(MAX_HORIZON, max(MIN_HORIZON, *need)))
        name = f"{kind}:{scale.name}" + (
            f"[{scale.lower:g},{scale.upper:g}]" if scale.name == "logit" else ""
        )
        tasks.append(GroupTask(name, tuple(members), horizon, config, n_origins))
    return tasks


def _trim(spec: SeriesSpec) -> np.ndarray:
    """Values from the first to the last observed year (leading/trailing gaps cut)."""
    v = np.array(spec.values)
    ok = np.flatnonzero(np.isfinite(v))
    return v[ok[0] : ok[-1] + 1]


def _forecast_group(task: GroupTask, mapper: Mapper | None = None, chunk: int = CHUNK) -> GroupResult:
    if task.specs[0].kind == "level" and task.specs[0].upper is not None:
        return _forecast_levels(task)
    scale = _scale(task.specs[0])
    raw = [_trim(s) for s in task.specs]
    z = [fill_gaps(scale.forward(r)) for r in raw]
    seen = [np.isfinite(r) for r in raw]
    if mapper is None or len(z) <= chunk:
        champ = fit_champion(z, task.horizon, task.config, scale, observed=seen)
        _, q = champ.forecast(z, task.horizon, PROBS)
    else:
        # a large group: map → reduce → map over chunks of its series on the executor (same numbers)
        pieces = [
            Piece(a, tuple(z[a : a + chunk]), tuple(seen[a : a + chunk])) for a in range(0, len(z), chunk)
        ]
        champ = fit_chunked(
            pieces, task.horizon, task.config, scale, lengths=[len(v) for v in z], mapper=mapper
        )
        q = np.concatenate([r[1] for r in mapper(_forecast_piece, pieces, (champ, task.horizon))])
    raw_q = np.sort(scale.inverse(q), axis=2)
    dense_idx = np.searchsorted(PROBS, DENSE)
    model = f"dtscope:{champ.name}"
    f_rows: list[dict[str, Any]] = []
    s_rows: list[dict[str, Any]] = []
    dense: list[np.ndarray] = []
    for i, spec in enumerate(task.specs):
        qi = raw_q[i]
        if spec.survey and spec.std_error > 0:
            qi = widen_quantiles(qi, PROBS, spec.std_error, scale)
        lo = -np.inf if spec.lower is None else spec.lower
        hi = np.inf if spec.upper is None else spec.upper
        qi = snap_to_bounds(np.clip(qi, lo, hi), scale)  # a share at its bound is at it
        last_year, last_value = spec.last()
        if spec.cumulative:
            qi = monotone_quantiles(qi, last_value)
        qi = np.sort(qi, axis=1)
        dense.append(qi)
        for h in range(task.horizon):
            period = last_year + h + 1
            row = {
                "kpi_id": spec.kpi_id,
                "region": spec.region,
                "period": period,
                "model": model,
                "mean": float(point_forecast(qi[h], PROBS)),  # the median (models.champion.plausible)
                "data_set": spec.data_set,
            }
            for p, col in zip(OUT_PROBS, QUANTILE_COLUMNS, strict=True):
                row[col] = float(np.interp(p, PROBS, qi[h]))
            f_rows.append(row)
            s_rows.extend(
                {"kpi_id": spec.kpi_id, "region": spec.region, "period": period, "draw": j, "value": float(v)}
                for j, v in enumerate(qi[h, dense_idx])
            )
    bt = champion_backtest(
        z,
        [np.array(r) for r in raw],
        scale,
        config=task.config,
        n_origins=task.n_origins,
        horizon=min(task.horizon, 3),
        probs=PROBS,
        cumulative=[s.cumulative for s in task.specs],
    )
    if bt.height:
        ids = [s.key for s in task.specs]
        bt = bt.with_columns(
            pl.col("series").replace_strict(dict(enumerate(ids))).alias("series_id"),
            pl.lit(task.specs[0].kind).alias("kind"),  # the recalibration's map is per kind
        )
    return GroupResult(
        name=task.name,
        champion=champ.name,
        forecasts=pl.DataFrame(f_rows, schema=FORECAST_SCHEMA),
        samples=pl.DataFrame(s_rows, schema=SAMPLE_SCHEMA),
        backtest=bt,
        candidate_scores=champ.scores,
        dense=np.stack(dense),
    )


def _forecast_levels(task: GroupTask) -> GroupResult:
    """An ordinal ``level`` group: the step chain of :mod:`models.champion.ordinal` (integer levels
    ``0 … upper``), its median as ``mean``, and its own rolling-origin backtest."""
    raw = [_trim(s) for s in task.specs]
    n_levels = int(task.specs[0].upper or 0) + 1
    q = fit_ordinal(raw, n_levels=n_levels).quantiles(task.horizon, PROBS)
    dense_idx = np.searchsorted(PROBS, DENSE)
    f_rows: list[dict[str, Any]] = []
    s_rows: list[dict[str, Any]] = []
    for i, spec in enumerate(task.specs):
        last_year, _ = spec.last()
        for h in range(task.horizon):
            period = last_year + h + 1
            row = {"kpi_id": spec.kpi_id, "region": spec.region, "period": period, "model": ORDINAL_MODEL}
            row["mean"] = float(point_forecast(q[i, h], PROBS))
            row["data_set"] = spec.data_set
            for p, col in zip(OUT_PROBS, QUANTILE_COLUMNS, strict=True):
                row[col] = float(np.interp(p, PROBS, q[i, h]))
            f_rows.append(row)
            s_rows.extend(
                {"kpi_id": spec.kpi_id, "region": spec.region, "period": period, "draw": j, "value": float(v)}
                for j, v in enumerate(q[i, h, dense_idx])
            )
    bt = ordinal_backtest(raw, n_levels, n_origins=task.n_origins, horizon=min(task.horizon, 3))
    if bt.height:
        ids = [s.key for s in task.specs]
        bt = bt.with_columns(
            pl.col("series").replace_strict(dict(enumerate(ids))).alias("series_id"),
            pl.lit(task.specs[0].kind).alias("kind"),
        )
    return GroupResult(
        name=task.name,
        champion=ORDINAL_MODEL,
        forecasts=pl.DataFrame(f_rows, schema=FORECAST_SCHEMA),
        samples=pl.DataFrame(s_rows, schema=SAMPLE_SCHEMA),
        backtest=bt,
    )


def _forecast_piece(shared: tuple[Any, int], piece: Piece) -> tuple[np.ndarray, np.ndarray]:
    champ, horizon = shared
    return forecast_piece(champ, piece, horizon, PROBS)


def _group_task(_: None, task: GroupTask) -> GroupResult:
    return forecast_group(task)


def forecast_groups(
    tasks: list[GroupTask], executor: Any, *, chunk: int = CHUNK, progress: Progress | None = None
) -> list[GroupResult]:
    """Forecast every group on ``executor`` (:mod:`pipelines.run.executors`), results in the tasks' order.

    Groups of at most ``chunk`` series are tasks of their own, run side by side; a larger group is fitted
    and forecast in chunks of its series with every phase spread over the executor
    (:func:`models.champion.chunked.fit_chunked`), so one big group no longer holds one worker while the
    others wait. ``progress("forecast", series done, series)`` is called as groups finish.
    """
    total = sum(len(t.specs) for t in tasks)
    done = 0
    results: dict[int, GroupResult] = {}
    small = [i for i, t in enumerate(tasks) if len(t.specs) <= chunk]
    for i, result in zip(small, executor.imap(_group_task, [tasks[i] for i in small]), strict=True):
        results[i] = result
        done += len(tasks[i].specs)
        if progress:
            progress("forecast", done, total)
    for i, t in enumerate(tasks):
        if i not in results:
            results[i] = forecast_group(t, mapper=executor.run, chunk=chunk)
            done += len(t.specs)
            if progress:
                progress("forecast", done, total)
    return [results[i] for i in range(len(tasks))]


def forecast_group(task: GroupTask, mapper: Mapper | None = None, chunk: int = CHUNK) -> GroupResult:
    """Forecast one group; on failure retry each series alone so only the failing ones are lost.

    ``mapper``: an executor's ``run``, to spread a group of more than ``chunk`` series over it.
    """
    try:
        return _forecast_group(task) if mapper is None else _forecast_group(task, mapper, chunk)
    except Exception as exc:
        if len(task.specs) == 1:
            spec = task.specs[0]
            log.warning("forecast of %s failed: %s", spec.key, exc)
            return GroupResult(
                task.name,
                None,
                pl.DataFrame(schema=FORECAST_SCHEMA),
                pl.DataFrame(schema=SAMPLE_SCHEMA),
                pl.DataFrame(),
                failures=[
                    {
                        "kpi_id": spec.kpi_id,
                        "region": spec.region,
                        "stage": "forecast",
                        "error": f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}",
                    }
                ],
            )
        log.warning(
            "group %s failed (%s); retrying its %d series one by one", task.name, exc, len(task.specs)
        )
        parts = [
            forecast_group(GroupTask(f"{task.name}/{s.key}", (s,), task.horizon, task.config, task.n_origins))
            for s in task.specs
        ]
        return GroupResult(
            task.name,
            ",".join(sorted({p.champion for p in parts if p.champion})) or None,
            pl.concat([p.forecasts for p in parts]),
            pl.concat([p.samples for p in parts]),
            pl.concat([p.backtest for p in parts if p.backtest.height], how="diagonal_relaxed")
            if any(p.backtest.height for p in parts)
            else pl.DataFrame(),
            failures=[f for p in parts for f in p.failures],
            dense=np.concatenate([p.dense for p in parts if p.dense is not None])
            if all(p.dense is not None for p in parts if p.forecasts.height)
            and any(p.dense is not None for p in parts)
            else None,
        )


def calibrate_intervals(
    results: list[GroupResult],
    *,
    prior: float | None = intervals.DEFAULT_PRIOR,
    smooth: bool = intervals.SMOOTH,
    panel_prior: float | None = intervals.PANEL_PRIOR,
) -> list[GroupResult]:
    """Every group's forecasts and backtest re-read under the interval recalibration of its kind
    (:mod:`evaluation.forecasting.interval_recalibration`).

    The forecasts' quantiles and draws use the map fitted on every backtest row of the kind; each backtest
    row is re-read by the map fitted on the other half of the series (so the published ``backtest_metrics``
    and the attainment recalibration fitted after it see out-of-sample intervals and probabilities). The
    median, hence ``mean``, never moves. ``prior=None`` switches it off (the backtests only lose ``qd``).
    """
    if prior is None:
        return [replace(r, backtest=r.backtest.drop("qd", strict=False)) for r in results]
    frames = [r.backtest for r in results]
    maps = intervals.fit_by_kind(frames, prior=prior, smooth=smooth, panel_prior=panel_prior)
    crossed = intervals.crossfit(frames, PROBS, prior=prior, smooth=smooth, panel_prior=panel_prior)
    out = []
    for r, bt in zip(results, crossed, strict=True):
        kind = recal.kind_of(r.backtest)
        rec = maps.get(kind)
        if rec is None or r.dense is None or rec.identity or r.forecasts.height == 0:
            out.append(replace(r, backtest=bt))
            continue
        q = rec.read(r.dense, PROBS, np.array(OUT_PROBS)).reshape(-1, len(OUT_PROBS))
        draws = rec.read(r.dense, PROBS, DENSE).reshape(-1)
        if q.shape[0] != r.forecasts.height or draws.size != r.samples.height:
            raise RuntimeError(f"group {r.name}: forecasts do not line up with the quantiles they came from")
        forecasts = r.forecasts.with_columns(
            pl.Series(col, q[:, j]) for j, col in enumerate(QUANTILE_COLUMNS)
        )
        out.append(
            replace(
                r, forecasts=forecasts, samples=r.samples.with_columns(pl.Series("value", draws)), backtest=bt
            )
        )
    return out


ATTAINMENT_MAP_PRIOR: float | None = 100.0
"""The reference weight ``n₀`` of the direct attainment map per kind (:mod:`evaluation.forecasting.recalibration`),
applied after the interval recalibration (:func:`calibrate_intervals`), which already maps every probability read
from the distribution (``P(Y ≥ t) = 1 − G(F(t))``); ``None``: no direct map.

Chosen on validation draws, by the attainment map's own criterion, the published (cross-fitted) Brier score over
every kind, pooled by rows (``python -m pipelines.bench.panel_configs``, configurations
``{"attainment_prior": …}``): the 2-district demo (the demo's seed and seeds 1–6, 1,309 rows) and, after the
2-district draws alone had favoured no map, draws of the 16-district demo (seeds 1–3, 4,467 rows; never its own
draw, the held-out report). 2-district: 0.09569 without the map, 0.09753 at ``n₀ = 25`` (the default before the
interval recalibration), 0.09643 at 100 (0.09947 / 0.09748 / 0.09883 at 5 / 400 / 2000); 16-district draws:
0.09044, 0.08769, 0.08750. Pooled: 0.09163, 0.08992, **0.08952**. The rule set before the 16-district runs
called differences under 0.0005 a tie, broken by the reliability table (row-weighted squared gaps of the
bins); the map at 100 had the smaller ones on the 16-district draws (0.00051 against 0.00056; without the map
0.00164). On the thin panel the per-kind maps are fitted on a few dozen pairs per fold (two series per kind for
amounts and rates) and cost a little; on the larger one they correct a middle of the scale the
distributions leave flat (bins 0.3–0.5 said 7–9 points too much, 0.7–0.9 7–9 too little). These figures were
taken with the smooth interval map first chosen on the 2-district draws; re-checked with the interval map finally
chosen (empirical, ``n₀ = 25``): pooled 0.09120 without the map, 0.08969 at 25, **0.08934** at 100. Re-checked
once more after the backtest's events were read as published (a point mass at the target counted,
:mod:`evaluation.forecasting.recalibration`), the kind maps alone on the same draws: 0.08271 without, 0.08021
at 25, **0.07993** at 100, 0.08067 at 400, 0.08285 at 2000. The per-horizon stage after it
(:data:`evaluation.forecasting.recalibration.HORIZON_PRIOR`) was chosen the same way."""


def backtest_tables(
    results: list[GroupResult],
    kinds: dict[str, str],
    *,
    prior: float | None = ATTAINMENT_MAP_PRIOR,
    horizon_prior: float | None = recal.HORIZON_PRIOR,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``backtest_metrics`` (model, kind, horizon, metric, value) and ``calibration`` (reliability) tables.

    ``prior``: the direct attainment map's reference weight (:func:`recal.crossfit`); ``None`` publishes the
    probabilities as the (interval-recalibrated) distributions give them (:data:`ATTAINMENT_MAP_PRIOR`).
    ``horizon_prior``: the weight of the identity in its per-horizon stage (``None``: no such stage).
    """
    metric_frames, rel_frames = [], []
    by_kind: dict[str, list[pl.DataFrame]] = {}
    # attainment probabilities as published: each row's recalibrated by the map fitted on other series
    frames = [r.backtest for r in results]
    mapped = frames if prior is None else recal.crossfit(frames, prior=prior, horizon_prior=horizon_prior)
    recalibrated = dict(zip([r.name for r in results], mapped, strict=True))
    for r in results:
        if r.backtest.height:
            by_kind.setdefault(kinds[r.name], []).append(recalibrated[r.name])
    for kind, frames in sorted(by_kind.items()):
        bt = pl.concat(frames, how="diagonal_relaxed")
        metric_frames.append(
            backtest_summary(bt).with_columns(
                pl.lit("dtscope champion").alias("model"), pl.lit(kind).alias("kind")
            )
        )
    all_bt = [recalibrated[r.name] for r in results if r.backtest.height]
    if all_bt:
        rel_frames.append(
            reliability(pl.concat(all_bt, how="diagonal_relaxed")).with_columns(
                pl.lit("dtscope champion").alias("model")
            )
        )
    metrics = (
        pl.concat(metric_frames).select("model", "kind", pl.col("h").alias("horizon"), "metric", "value")
        if metric_frames
        else tables.empty(tables.BacktestMetrics)
    )
    calib = (
        pl.concat(rel_frames).select("model", "bin_lo", "bin_hi", "predicted_mean", "observed_freq", "n")
        if rel_frames
        else tables.empty(tables.Calibration)
    )
    return metrics, calib


ATTAINMENT_SCHEMA = tables.dtypes(tables.Attainment)


def attainment_recalibration(
    results: list[GroupResult],
    *,
    prior: float | None = ATTAINMENT_MAP_PRIOR,
    horizon_prior: float | None = recal.HORIZON_PRIOR,
) -> dict[str, recal.KindMap]:
    """The direct attainment map per KPI kind, fitted on every group's backtest pairs of that kind (with the
    shipped reference's credibility weight ``prior``, then per horizon with the identity's weight
    ``horizon_prior``, :mod:`evaluation.forecasting.recalibration`), or none (an empty mapping) when ``prior``
    is ``None``; ``backtest_tables`` publishes the same maps' cross-fitted reliability."""
    if prior is None:
        return {}
    return recal.fit_by_kind(
        [r.backtest for r in results if r.backtest.height], prior=prior, horizon_prior=horizon_prior
    )


def attainment(
    specs: list[SeriesSpec],
    forecasts: pl.DataFrame,
    samples: pl.DataFrame,
    kpis: pl.DataFrame,
    *,
    thresholds: att.StatusThresholds | None = None,
    recalibration: Mapping[str, recal.KindMap] | None = None,
) -> pl.DataFrame:
    """Judge every registry target that has a series: probability, status, growth view, expected year.

    A target year already observed is judged on the observation (p_reach 1 or 0). A cumulative count that
    already meets its target is ``achieved`` (it cannot fall back). Otherwise ``p_reach`` comes from the
    predictive draws at the target year, mapped by ``recalibration`` when given (see
    :func:`attainment_recalibration`).
    """
    by_key = {(s.kpi_id, s.region): s for s in specs}
    rows = []
    for t in kpis.filter(pl.col("target_kind").is_not_null()).iter_rows(named=True):
        spec = by_key.get((t["kpi_id"], t["region"]))
        if spec is None:
            continue
        last_year, last_value = spec.last()
        years = np.array(spec.years, dtype=float)
        vals = np.array(spec.values)
        ok = np.isfinite(vals)
        tyear = int(t["target_year"])
        kind, tval = t["target_kind"], float(t["target_value"])
        target = att.Target(
            kind, tval, high=t["target_high"], precision=float(t["precision"]), upper=t["upper"]
        )
        anticipated, required = att.growth_view(years[ok], vals[ok], tyear, tval)
        fc = forecasts.filter((pl.col("kpi_id") == spec.kpi_id) & (pl.col("region") == spec.region)).sort(
            "period"
        )
        achieved = False
        model = fc["model"][0] if fc.height else "observed"
        if tyear <= last_year:
            at_year = vals[ok][years[ok] <= tyear]
            observed = float(at_year[-1]) if at_year.size else last_value
            achieved = target.reached(observed)
            p = 1.0 if achieved else 0.0
            model = "observed"
        else:
            draws = (
                samples.filter(
                    (pl.col("kpi_id") == spec.kpi_id)
                    & (pl.col("region") == spec.region)
                    & (pl.col("period") == tyear)
                )
                .sort("draw")["value"]
                .to_numpy()
            )
            p = att.p_reach(DENSE, np.sort(draws), target) if draws.size else float("nan")
            if recalibration is not None and spec.kind in recalibration and math.isfinite(p):
                # by the map of the target's horizon (years after the last observation)
                p = float(recalibration[spec.kind].apply(np.array([p]), tyear - last_year)[0])
            if spec.cumulative and target.reached(last_value) and kind != "range":
                achieved, p = True, 1.0
        medians = fc["q0.5"].to_numpy() if fc.height else np.empty(0)
        periods = fc["period"].to_numpy().astype(float) if fc.height else np.empty(0)
        expected = att.expected_period(
            periods,
            medians,
            target,
            last_period=float(last_year),
            last_value=last_value,
            anticipated=anticipated,
        )
        gap = (last_value - tval) if kind == "at_most" else (tval - last_value)
        rows.append(
            {
                "kpi_id": spec.kpi_id,
                "region": spec.region,
                "target_year": tyear,
                "target_kind": kind,
                "target_value": tval,
                "target_high": t["target_high"],
                "obligation": t["obligation"],
                "p_reach": p if math.isfinite(p) else None,  # unknown: no draws for the target year
                "status": att.status(p, achieved=achieved, obligation=t["obligation"], thresholds=thresholds)
                if math.isfinite(p)
                else "unknown",
                "likelihood": att.likelihood_term(p) if math.isfinite(p) else "unknown",
                "likelihood_zh": att.likelihood_term(p, "zh") if math.isfinite(p) else "未知",
                "anticipated_growth": anticipated,
                "required_growth": required,
                "sdg_rule": att.sdg_rule(anticipated, required, "<=" if kind == "at_most" else ">="),
                # a year, or null when the median path never reaches the target within the horizon
                "expected_year": round(expected) if math.isfinite(expected) else None,
                "gap": gap,
                "last_value": last_value,
                "last_year": last_year,
                "model": model,
                "data_set": spec.data_set,
            }
        )
    return pl.DataFrame(rows, schema=ATTAINMENT_SCHEMA)
