"""The two file contracts of DESIGN.md as plain functions: forecast any long CSV, and judge targets.

``forecast_file``: IN ``series_id, period, value`` (period = integer year or ISO date ``YYYY-MM-DD``)
→ OUT ``series_id, period, mean, q0.025, q0.1, q0.5, q0.9, q0.975, model`` (``mean`` is the point
forecast, the predictive median: :func:`models.champion.plausible.point_forecast`).

``attain_file``: IN as above plus T ``series_id, target_period, target_value, direction`` (``>=`` or
``<=``) → OUT ``series_id, target_period, p_reach, status, anticipated_growth, required_growth,
expected_period``.

Both run the backtested, conformally calibrated champion of :mod:`models.champion`
over all series of the file at once (so short series borrow strength from the others). Missing
periods inside a series are filled by linear interpolation on the model scale before fitting. Bad
input raises :class:`FileContractError` naming the file, row and column and saying how to fix it;
outputs are written atomically (a temporary file renamed into place).
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Required, TypedDict, Unpack

import numpy as np
import polars as pl

from evaluation.forecasting.attainment import (
    Target,
    expected_period,
    growth_view,
    p_reach,
    status,
)
from models.base import dense_probs
from models.champion import ChampionConfig, fit_champion
from models.champion.plausible import point_forecast
from models.transforms import Scale, choose_scale, fill_gaps
from pipelines.io.catalog import write_csv
from pipelines.steps import forecast_inputs
from pipelines.steps.forecast_chunks import Progress, Summary, write_forecasts

if TYPE_CHECKING:
    from pipelines.run.executors import Executor

IN_COLUMNS = ("series_id", "period", "value")
TARGET_COLUMNS = ("series_id", "target_period", "target_value", "direction")
ATTAIN_COLUMNS = (
    "series_id",
    "target_period",
    "p_reach",
    "status",
    "anticipated_growth",
    "required_growth",
    "expected_period",
)
OUT_QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)
KINDS = ("auto", "share", "count", "amount")
MIN_POINTS = 3
FILE_CONFIG = ChampionConfig(n_origins=6, min_train=4)

_YEAR = re.compile(r"^\d{4}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class FileContractError(ValueError):
    """An input file breaks its contract; the message names file, row and column and the fix."""


@dataclass(frozen=True)
class Series:
    """One series on a regular grid: ``values[i]`` at step ``i`` (NaN where the file had no row)."""

    series_id: str
    start: int  # step number of the first period (years, or months since year 0 for dates)
    values: np.ndarray
    first_row: int


@dataclass(frozen=True)
class Panel:
    """All series of one IN file and how their periods map to steps."""

    path: Path
    series: list[Series]
    dated: bool  # ISO dates (else integer years)
    step: int  # months per step for dates; 1 (year) for integer years


# ---------------------------------------------------------------- reading and validation


def _err(path: Path, row: int | None, column: str | None, problem: str, fix: str) -> FileContractError:
    where = f"{path.name}"
    if row is not None:
        where += f", row {row} (line {row + 1})"
    if column is not None:
        where += f", column {column!r}"
    return FileContractError(f"{where}: {problem}. Fix: {fix}")


def _read_csv(path: Path, columns: tuple[str, ...]) -> pl.DataFrame:
    if not path.exists():
        raise _err(path, None, None, "file not found", f"check the path {path}")
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError) as exc:
        raise _err(
            path, None, None, f"not a readable CSV ({exc})", "save it as comma-separated UTF-8 text"
        ) from exc
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise _err(
            path,
            None,
            missing[0],
            f"missing column(s) {missing}; found {frame.columns}",
            f"give the header {', '.join(columns)}",
        )
    return frame.select(columns)


def _number(path: Path, row: int, column: str, raw: str | None) -> float:
    text = (raw or "").strip()
    try:
        value = float(text)
    except ValueError:
        raise _err(
            path,
            row,
            column,
            f"{text!r} is not a number",
            "write a plain number such as 27.6 (no units, % signs or thousands separators)",
        ) from None
    if not math.isfinite(value):
        raise _err(path, row, column, f"{text!r} is not a finite number", "write a finite number")
    return value


def _period(path: Path, row: int, column: str, raw: str | None) -> tuple[bool, int]:
    """``(dated, step number)``: years as-is; dates as months since year 0 (day must be 1)."""
    text = (raw or "").strip()
    if _YEAR.match(text):
        return False, int(text)
    if _DATE.match(text):
        try:
            d = date.fromisoformat(text)
        except ValueError:
            d = None
        if d is not None and d.day == 1:
            return True, d.year * 12 + d.month - 1
    raise _err(
        path,
        row,
        column,
        f"{text!r} is not a period",
        "write an integer year (2021) or the ISO date of the period's first day (2021-04-01)",
    )


def read_panel(path: Path, *, min_points: int = MIN_POINTS) -> Panel:
    """Read and validate a long ``series_id, period, value`` CSV into a :class:`Panel`.

    Raises:
        FileContractError: missing column, empty id, non-numeric value, bad or mixed periods,
            duplicate periods, or a series with fewer than ``min_points`` observations.
    """
    frame = _read_csv(path, IN_COLUMNS)
    if frame.height == 0:
        raise _err(path, None, None, "no data rows", "add rows series_id, period, value")
    parsed: dict[str, list[tuple[int, float, int]]] = {}
    kinds: set[bool] = set()
    for i, rec in enumerate(frame.iter_rows(named=True), start=1):
        sid = (rec["series_id"] or "").strip()
        if not sid:
            raise _err(path, i, "series_id", "empty series id", "name every series")
        dated, step = _period(path, i, "period", rec["period"])
        kinds.add(dated)
        if len(kinds) > 1:
            raise _err(
                path, i, "period", "years and dates are mixed", "use one period format for the whole file"
            )
        parsed.setdefault(sid, []).append((step, _number(path, i, "value", rec["value"]), i))
    dated = kinds.pop()
    step = _infer_step(parsed) if dated else 1
    series = []
    for sid, recs in parsed.items():
        recs.sort()
        steps = [r[0] for r in recs]
        dup = [r for r, c in Counter(steps).items() if c > 1]
        if dup:
            row = next(r[2] for r in recs if r[0] == dup[0])
            raise _err(
                path,
                row,
                "period",
                f"series {sid!r} has the period twice",
                "keep one row per series and period",
            )
        if len(recs) < min_points:
            raise _err(
                path,
                recs[0][2],
                "value",
                f"series {sid!r} has {len(recs)} observation(s), fewer than {min_points}",
                f"give at least {min_points} periods per series or drop the series",
            )
        offsets = [(s - steps[0]) for s in steps]
        if any(o % step for o in offsets):
            row = next(r[2] for r in recs if (r[0] - steps[0]) % step)
            raise _err(
                path, row, "period", f"period off the series' {step}-month grid", "use regular periods"
            )
        values = np.full(offsets[-1] // step + 1, np.nan)
        values[[o // step for o in offsets]] = [r[1] for r in recs]
        series.append(Series(sid, steps[0], values, recs[0][2]))
    return Panel(path, series, dated, step)


def _infer_step(parsed: dict[str, list[tuple[int, float, int]]]) -> int:
    gaps: Counter[int] = Counter()
    for recs in parsed.values():
        s = sorted(r[0] for r in recs)
        gaps.update(b - a for a, b in itertools.pairwise(s) if b > a)
    return min(gaps, key=lambda g: (-gaps[g], g)) if gaps else 12


def period_label(panel: Panel, step_number: int) -> int | str:
    """The period at a step number: the year, or the ISO date of its first day."""
    if not panel.dated:
        return step_number
    return date(step_number // 12, step_number % 12 + 1, 1).isoformat()


def _years(panel: Panel, step_numbers: np.ndarray) -> np.ndarray:
    return step_numbers / 12.0 if panel.dated else step_numbers.astype(float)


# ---------------------------------------------------------------- forecasting


def _scale_for(kind: str, values: np.ndarray) -> Scale:
    if kind not in KINDS:
        raise FileContractError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    if kind == "share":
        upper = 100.0 if np.nanmax(values) > 1 else 1.0
        if np.nanmin(values) < 0 or np.nanmax(values) > upper:
            raise FileContractError(f"kind 'share' needs values within 0–{upper:g}; use --kind auto or count")
        return Scale("logit", 0.0, upper)
    finite = values[np.isfinite(values)]
    return choose_scale("count" if kind == "auto" else kind, 0.0, None, finite)


@dataclass(frozen=True)
class SeriesForecast:
    """Calibrated forecast of one series: dense quantiles per step on the original scale."""

    probs: np.ndarray
    quantiles: np.ndarray  # (horizon, k)
    mean: np.ndarray
    model: str


def forecast_panel(
    panel: Panel, horizon: int, kind: str = "auto", config: ChampionConfig = FILE_CONFIG
) -> dict[str, SeriesForecast]:
    """Forecast every series of ``panel`` ``horizon`` steps ahead with the champion.

    Series are grouped by model scale (all series of one kind share one calibration pool).
    """
    if horizon < 1:
        raise FileContractError(f"horizon must be a positive number of periods, got {horizon}")
    allvals = np.concatenate([s.values for s in panel.series])
    groups: dict[Scale, list[Series]] = {}
    for s in panel.series:
        sc = _scale_for(kind, s.values) if kind != "share" else _scale_for(kind, allvals)
        groups.setdefault(sc, []).append(s)
    probs = np.union1d(dense_probs(0.005), np.array(OUT_QUANTILES))
    out: dict[str, SeriesForecast] = {}
    for sc, members in groups.items():
        histories = [fill_gaps(sc.forward(s.values)) for s in members]
        champ = fit_champion(
            histories, horizon, config, sc, observed=[np.isfinite(s.values) for s in members]
        )
        _, q = champ.forecast(histories, horizon, probs)
        raw = np.sort(sc.inverse(q), axis=2)
        for i, s in enumerate(members):
            out[s.series_id] = SeriesForecast(
                probs, raw[i], point_forecast(raw[i], probs), f"dtscope:{champ.name}"
            )
    return out


class ForecastOptions(TypedDict, total=False):
    """The options of one forecast-file call, handed down unchanged from :func:`forecast_file` (or
    ``dtscope forecast-file``) through :func:`write_forecasts_checked` to
    :func:`~pipelines.steps.forecast_chunks.write_forecasts`.

    Attributes:
        horizon: periods ahead (the one required option).
        kind: ``auto`` (log scale when all values are positive), ``share`` (logit within 0–100, or
            0–1 when no value exceeds 1), ``count`` or ``amount`` (log scale); default ``auto``.
        config: the champion's settings; default :data:`FILE_CONFIG`.
        executor: where the chunks run (:mod:`pipelines.run.executors`); in process when ``None``.
        chunk: series per chunk (sets peak memory); default
            :data:`~pipelines.steps.forecast_chunks.DEFAULT_CHUNK`.
        progress: called with ``(stage, done, total)`` as tasks finish.
    """

    horizon: Required[int]
    kind: str
    config: ChampionConfig
    executor: Executor | None
    chunk: int
    progress: Progress | None


def forecast_file(in_path: Path, out_path: Path, **options: Unpack[ForecastOptions]) -> pl.DataFrame:
    """Forecast every series of a long CSV and write ``OUT`` (see the module docstring).

    The file is read in batches and forecast in chunks of ``chunk`` series on ``executor`` (in process
    by default), OUT written chunk by chunk (:mod:`pipelines.steps.forecast_chunks`); the numbers do not
    depend on either. :func:`write_forecasts_checked` does the same without reading OUT back.

    Args:
        in_path: IN CSV ``series_id, period, value``.
        out_path: where OUT is written (atomically).
        options: :class:`ForecastOptions` (``horizon`` is required).

    Returns:
        The OUT frame ``series_id, period, mean, q0.025, q0.1, q0.5, q0.9, q0.975, model``.
    """
    summary = write_forecasts_checked(in_path, out_path, **options)
    period = pl.String if summary.dated else pl.Int64
    return pl.read_csv(
        out_path, schema_overrides={"series_id": pl.String, "period": period, "model": pl.String}
    )


def write_forecasts_checked(in_path: Path, out_path: Path, **options: Unpack[ForecastOptions]) -> Summary:
    """:func:`~pipelines.steps.forecast_chunks.write_forecasts` after the contract's argument checks."""
    from pipelines.run.executors import InProcess

    horizon, kind = options["horizon"], options.get("kind", "auto")
    if kind not in KINDS:
        raise FileContractError(f"--kind {kind!r} is unknown; use one of {', '.join(KINDS)}")
    if horizon < 1:
        raise FileContractError(f"horizon must be a positive number of periods, got {horizon}")
    resolved: ForecastOptions = {
        **options,
        "config": options.get("config", FILE_CONFIG),
        "executor": options.get("executor") or InProcess(),
    }
    # header, period and horizon limits, magnitudes (rescaled), the kind's bounds and neutral text at OUT
    return forecast_inputs.guarded_write(
        Path(in_path),
        Path(out_path),
        horizon=horizon,
        kind=kind,
        write=lambda source: write_forecasts(source, Path(out_path), **resolved),
    )


# ---------------------------------------------------------------- attainment


def _read_targets(path: Path, panel: Panel) -> list[tuple[int, str, int, float, str]]:
    frame = _read_csv(path, TARGET_COLUMNS)
    known = {s.series_id for s in panel.series}
    out = []
    for i, rec in enumerate(frame.iter_rows(named=True), start=1):
        sid = (rec["series_id"] or "").strip()
        if sid not in known:
            raise _err(
                path, i, "series_id", f"series {sid!r} is not in the IN file", "use a series_id from IN"
            )
        dated, step = _period(path, i, "target_period", rec["target_period"])
        if dated != panel.dated:
            raise _err(path, i, "target_period", "period format differs from IN", "use IN's period format")
        value = _number(path, i, "target_value", rec["target_value"])
        direction = (rec["direction"] or "").strip()
        if direction not in {">=", "<="}:
            raise _err(
                path,
                i,
                "direction",
                f"{direction!r} is not a direction",
                "write >= (at least) or <= (at most)",
            )
        out.append((i, sid, step, value, direction))
    if not out:
        raise _err(
            path, None, None, "no target rows", "add rows series_id, target_period, target_value, direction"
        )
    return out


def attain_file(in_path: Path, targets_path: Path, out_path: Path) -> pl.DataFrame:
    """Probability that each series reaches its target, with the SDG-style growth view; writes OUT.

    A target at an observed period is judged on the observation (``p_reach`` 1 or 0, status
    ``achieved`` or ``off_track``); a later one on the champion's calibrated forecast. Statuses use
    the default thresholds of :class:`evaluation.forecasting.attainment.StatusThresholds` (the file
    carries no obligation, so targets count as expected 预期性 ones).

    Returns:
        ``series_id, target_period, p_reach, status, anticipated_growth, required_growth,
        expected_period``.
    """
    in_path, targets_path, out_path = Path(in_path), Path(targets_path), Path(out_path)
    forecast_inputs.check_attain_input(in_path, targets_path)
    panel = read_panel(in_path)
    targets = _read_targets(targets_path, panel)
    by_id = {s.series_id: s for s in panel.series}
    steps_needed: dict[str, int] = {}
    for row, sid, tstep, _, _ in targets:
        s = by_id[sid]
        last = s.start + (s.values.size - 1) * panel.step
        if (tstep - s.start) % panel.step:
            raise _err(
                targets_path,
                row,
                "target_period",
                "off the series' period grid",
                "use a period of the series' grid",
            )
        if tstep < s.start:
            raise _err(
                targets_path,
                row,
                "target_period",
                "before the first observation",
                "use a later target period",
            )
        steps_needed[sid] = max(steps_needed.get(sid, 0), (tstep - last) // panel.step)
    horizon = max([*steps_needed.values(), 1])
    forecast_inputs.check_attain_targets(targets_path, targets, panel.dated, horizon)
    fcs = forecast_panel(panel, horizon)
    cols: dict[str, list[object]] = {c: [] for c in ATTAIN_COLUMNS}
    for row, sid, tstep, value, direction in targets:
        s = by_id[sid]
        target = Target("at_least" if direction == ">=" else "at_most", value)
        obs_steps = s.start + np.arange(s.values.size) * panel.step
        ok = np.isfinite(s.values)
        years, vals = _years(panel, obs_steps[ok]), s.values[ok]
        last_step = int(obs_steps[-1])
        anticipated, required = growth_view(years, vals, float(_years(panel, np.array([tstep]))[0]), value)
        fc = fcs[sid]
        fsteps = last_step + panel.step * np.arange(1, horizon + 1)
        medians = np.array([np.interp(0.5, fc.probs, q) for q in fc.quantiles])
        if tstep <= last_step:
            k = (tstep - s.start) // panel.step
            observed = s.values[k]
            if not np.isfinite(observed):
                raise _err(
                    targets_path,
                    row,
                    "target_period",
                    "no observation at this past period",
                    "target a period after the last observation or one that was observed",
                )
            prob = 1.0 if target.reached(float(observed)) else 0.0
            stat = "achieved" if prob == 1.0 else "off_track"
        else:
            k = (tstep - last_step) // panel.step - 1
            prob = p_reach(fc.probs, fc.quantiles[k], target)
            stat = status(prob)
        hits = [float(y) for y, v in zip(years, vals, strict=True) if target.reached(float(v))]
        exp = (
            hits[0]
            if hits and tstep <= last_step
            else expected_period(
                _years(panel, fsteps),
                medians,
                target,
                last_period=float(years[-1]),
                last_value=float(vals[-1]),
                anticipated=anticipated,
            )
        )
        cols["series_id"].append(sid)
        cols["target_period"].append(period_label(panel, tstep))
        cols["p_reach"].append(prob)
        cols["status"].append(stat)
        cols["anticipated_growth"].append(anticipated)
        cols["required_growth"].append(required)
        cols["expected_period"].append(None if math.isnan(exp) else _label_from_years(panel, exp))
    frame = pl.DataFrame(cols, strict=False)
    write_csv(frame, out_path)
    return frame


def _label_from_years(panel: Panel, years: float) -> int | str:
    if not panel.dated:
        return round(years)
    return period_label(panel, round(years * 12))
