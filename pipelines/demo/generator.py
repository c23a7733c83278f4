"""Seeded SYNTHETIC demo data: KPI histories, application scenarios, their monthly metrics, street outcomes.

Nothing produced here is a real figure: every row carries ``source = "synthetic-demo"``. The data exist
so that every step (ingest, score, forecast, efficacy, dashboard) can run end to end before real
district data arrive, and so that efficacy estimators can be tested against known true effects.

:func:`generate_demo` is pure (no I/O) and deterministic for a seed: one ``numpy.random.default_rng(seed)``
is split into independent child streams for the KPI histories, the scenarios, their metrics and the
street outcomes, so changing one part's generator does not reshuffle the others.
:func:`write_demo` writes the five CSV files atomically; :func:`read_demo` reads them back.

Shapes follow each registry indicator: shares follow a logistic path strictly inside their bounds,
cumulative counts never decrease, amounts grow with noise, ordinal levels are integers. Each KPI with a
target in a district is given a deliberate attainment status (on track, at risk or off track, balanced
across KPIs) so that downstream forecasts have something to say.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt
import polars as pl

from evaluation import tables
from pipelines.demo.templates import Shape, Status, load_templates
from pipelines.io.catalog import write_csv
from pipelines.io.kpi_registry import Indicator, Registry
from pipelines.steps.ingest import LONG_COLUMNS

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

SOURCE = "synthetic-demo"
DEFAULT_SEED = 20211013  # the Pudong plan's issue date, 2021-10-13
FIRST_YEAR, LAST_YEAR = 2016, 2024
MONTHLY_KPI = "online_handling_share"
MONTHLY_FIRST_YEAR = 2019
METRICS_FIRST_MONTH = date(2021, 1, 1)
OUTCOMES_FIRST_YEAR = 2019
LAUNCH_FIRST, LAUNCH_LAST = date(2021, 3, 1), date(2023, 12, 1)

OBSERVATION_COLUMNS = LONG_COLUMNS  # the demo writes observations in the long input layout
OBSERVATIONS_LONG_POLARS: dict[str, pl.DataType | type[pl.DataType]] = dict.fromkeys(
    OBSERVATION_COLUMNS, pl.String
)
TRUTH_POLARS = tables.dtypes(tables.DemoTruth)
METRIC_IDS = (
    "usage_cases",
    "coverage_share",
    "active_users",
    "closed_loop_rate",
    "on_time_rate",
    "median_handling_hours",
    "recurrence_rate",
    "satisfaction",
    "cost_per_case",
    "budget_execution",
    "data_shared",
    "data_quality",
)
FILE_NAMES = ("observations", "scenarios", "scenario_metrics", "street_outcomes", "truth")

Scale = Literal["two", "all"]


class DemoError(ValueError):
    """The demo generator cannot build data for this registry; the message says what to add."""


@dataclass(frozen=True)
class DemoData:
    """The synthetic demo tables.

    Attributes:
        observations: long layout, every column a string: ``kpi_id, region, period, value, std_error,
            source, status, note``. ``period`` is ``"2021"`` (annual) or ``"2021-07"`` (monthly);
            ``std_error`` is null unless the indicator is a survey; ``note`` is null.
        scenarios: :class:`evaluation.tables.Scenarios` (one row per application scenario).
        scenario_metrics: :class:`evaluation.tables.ScenarioMetrics`, monthly from each launch month.
        street_outcomes: :class:`evaluation.tables.StreetOutcomes`, monthly 2019-01..2024-12.
        truth: ``scenario_id, outcome, true_effect, true_effect_pct`` — the additive change in the
            street's monthly outcome level from the launch month on, and that change as a percentage
            of the street's own base level (negative = a reduction).
    """

    observations: pl.DataFrame
    scenarios: pl.DataFrame
    scenario_metrics: pl.DataFrame
    street_outcomes: pl.DataFrame
    truth: pl.DataFrame


# ------------------------------------------------------------------------------------ demo templates
# Districts, streets, KPI shapes and scenario templates are data: data/registry/demo/*.yaml.
TEMPLATES = load_templates()
STREETS: dict[str, tuple[str, ...]] = {r: d.streets for r, d in TEMPLATES.districts.items()}
REGION_CODES: dict[str, str] = {r: d.code for r, d in TEMPLATES.districts.items()}
_FIXED_SIZES: dict[str, float] = {r: d.size for r, d in TEMPLATES.districts.items() if d.size is not None}
_SCENARIO_COUNT_KPIS = TEMPLATES.shapes.scenario_count_kpis
_STATUS_FACTOR: dict[Status, tuple[float, float]] = TEMPLATES.shapes.status_factor


def _shape_for(kpi_id: str, ind: Indicator) -> Shape:
    shapes = TEMPLATES.shapes
    if kpi_id in shapes.kpis:
        return shapes.kpis[kpi_id]
    if ind.kind == "count":
        if ind.cumulative:
            return Shape(family="stock", first_year=2016, start=(0.1, 0.3), elasticity=0.7)
        return Shape(family="flow", first_year=2016, start=(0.8, 1.2), elasticity=0.5)
    return shapes.defaults_by_kind[ind.kind]


# ------------------------------------------------------------------------------------ small pure helpers
def decimals_for(precision: float) -> int:
    """Number of decimals that shows a value at a reporting precision.

    >>> decimals_for(1), decimals_for(0.1), decimals_for(0.01), decimals_for(5)
    (0, 1, 2, 0)
    """
    if precision >= 1:
        return 0
    return max(0, math.ceil(-math.log10(precision) - 1e-9))


def format_value(value: float, precision: float) -> str:
    """Format a number as the string the long layout carries, at the indicator's precision.

    >>> format_value(3456.4, 1), format_value(87.456, 0.01), format_value(99.96, 0.1)
    ('3456', '87.46', '100.0')
    """
    return f"{value:.{decimals_for(precision)}f}"


def ar1_noise(rng: np.random.Generator, n: int, *, phi: float, sd: float) -> FloatArray:
    """Stationary AR(1) noise ``e_t = phi * e_{t-1} + u_t`` with ``u_t ~ N(0, sd)``.

    Args:
        rng: the random stream.
        n: length.
        phi: autocorrelation, ``|phi| < 1``.
        sd: innovation standard deviation.

    Returns:
        Array of shape ``(n,)``.

    >>> ar1_noise(np.random.default_rng(0), 4, phi=0.5, sd=0.0).tolist()
    [0.0, 0.0, 0.0, 0.0]
    """
    if not -1 < phi < 1:
        raise ValueError(f"phi must be inside (-1, 1) for a stationary AR(1), got {phi}")
    shocks = rng.normal(0.0, sd, n)
    out = np.empty(n)
    prev = 0.0
    for i in range(n):
        prev = phi * prev + shocks[i] if i else shocks[0] / math.sqrt(1 - phi * phi)
        out[i] = prev
    return out


def logistic_share_path(
    times: FloatArray, *, start: float, end: float, t_start: float, t_end: float, lower: float, upper: float
) -> FloatArray:
    """A logistic curve through ``(t_start, start)`` and ``(t_end, end)`` that stays inside the bounds.

    The path is linear in logit space of ``(y - lower) / (upper - lower)``, so every value lies strictly
    between ``lower`` and ``upper`` whatever the times. ``start`` and ``end`` are first pulled 0.1 % inside
    the bounds.

    Args:
        times: time points (fractional years), any shape.
        start, end: values at ``t_start`` and ``t_end``.
        t_start, t_end: two distinct times.
        lower, upper: the share's natural bounds.

    Returns:
        Array shaped like ``times``.

    >>> logistic_share_path(np.array([2019.0, 2025.0]), start=5, end=95, t_start=2019, t_end=2025,
    ...                     lower=0, upper=100).round(6).tolist()
    [5.0, 95.0]
    """
    z = _logit_line(times, start=start, end=end, t_start=t_start, t_end=t_end, lower=lower, upper=upper)
    return lower + (upper - lower) * _sigmoid(z)


def stock_path(increments: FloatArray, *, start: float) -> FloatArray:
    """A cumulative count: ``start`` plus the running sum of non-negative increments, rounded to integers.

    Rounding a non-decreasing sequence keeps it non-decreasing, so the stock never falls.

    >>> stock_path(np.array([0.0, 1.4, 0.2, 3.0]), start=10.3).tolist()
    [10.0, 12.0, 12.0, 15.0]
    """
    if np.any(increments < 0):
        raise ValueError("a cumulative count needs non-negative increments")
    return np.round(start + np.cumsum(increments))


def _clip_fraction(frac: float) -> float:
    return min(max(frac, 1e-3), 1 - 1e-3)


def _logit_line(
    times: FloatArray, *, start: float, end: float, t_start: float, t_end: float, lower: float, upper: float
) -> FloatArray:
    if t_end == t_start:
        raise ValueError("t_start and t_end must differ")
    span = upper - lower
    z0 = _logit(_clip_fraction((start - lower) / span))
    z1 = _logit(_clip_fraction((end - lower) / span))
    return z0 + (z1 - z0) * (np.asarray(times, dtype=float) - t_start) / (t_end - t_start)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _sigmoid(z: FloatArray) -> FloatArray:
    """Logistic function, written with tanh so large ``|z|`` does not overflow.

    >>> _sigmoid(np.array([-1000.0, 0.0, 1000.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))


def _month_starts(first: date, last: date) -> list[date]:
    """First days of the months from ``first`` to ``last`` inclusive.

    >>> _month_starts(date(2023, 11, 1), date(2024, 2, 1))[-1]
    datetime.date(2024, 2, 1)
    """
    out = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


# -------------------------------------------------------------------------------------------- regions
def _demo_regions(registry: Registry, scale: Scale) -> list[str]:
    if scale == "two":
        wanted = ["pudong", "hongkou"]
        missing = [r for r in wanted if r not in registry.regions]
        if missing:
            raise DemoError(f"regions {missing} are missing from regions.yaml; scale 'two' needs both")
        return wanted
    if scale == "all":
        return [r.id for r in registry.regions.values() if r.level == "district"]
    raise DemoError(f"scale must be 'two' or 'all', got {scale!r}")


def _district_sizes(rng: np.random.Generator, registry: Registry) -> dict[str, float]:
    """Relative size of every district (Pudong = 1); the city's size is the districts' sum."""
    sizes = {}
    for r in registry.regions.values():
        if r.level != "district":
            continue
        drawn = float(rng.uniform(0.1, 0.45))  # drawn for every district so sizes do not depend on scale
        sizes[r.id] = _FIXED_SIZES.get(r.id, drawn)
    for r in registry.regions.values():
        if r.level == "city":
            sizes[r.id] = sum(v for k, v in sizes.items() if registry.regions[k].level == "district")
    return sizes


# ------------------------------------------------------------------------------------- KPI observations
class _Reference(NamedTuple):
    year: int
    value: float
    own_target: bool


def _target_center(kind: str, value: float, high: float | None) -> float:
    return (value + high) / 2 if kind == "range" and high is not None else value


def _reference(
    ind: Indicator, shape: Shape, region: str, registry: Registry, sizes: dict[str, float]
) -> _Reference:
    """Where a district's history should head: its own target, its own baseline, or a borrowed one."""
    for t in ind.targets:
        if t.region == region:
            center = _target_center(t.target_kind, t.target_value, t.target_high)
            return _Reference(t.target_year, center, True)
    for b in ind.baselines:
        if b.region == region:
            return _Reference(b.year, b.value, False)
    anchors = [
        (t.region, t.target_year, _target_center(t.target_kind, t.target_value, t.target_high))
        for t in ind.targets
    ]
    anchors += [(b.region, b.year, b.value) for b in ind.baselines]
    district = [a for a in anchors if registry.regions[a[0]].level == "district"]
    owner, year, value = (district or anchors)[0]
    if shape.family in ("stock", "growth", "flow"):
        value *= (sizes[region] / sizes[owner]) ** shape.elasticity
    return _Reference(year, value, False)


def _statuses(rng: np.random.Generator, n: int) -> list[Status]:
    """A balanced, shuffled list of attainment statuses (so every seed mixes all three)."""
    cycle: list[Status] = ["on_track", "at_risk", "off_track"]
    out = [cycle[i % 3] for i in range(n)]
    return [out[i] for i in rng.permutation(n)]


def _annual_values(
    rng: np.random.Generator, ind: Indicator, shape: Shape, ref: _Reference, factor: float
) -> tuple[list[int], FloatArray, FloatArray | None, tuple[float, float, float] | None]:
    """Draw one (KPI, region) annual history.

    Returns:
        years, values, standard errors (surveys only) and, for logistic shares, the logit line
        ``(z at first year, slope per year, first year)`` so a monthly series can follow the same path.
    """
    first = max(FIRST_YEAR, min(shape.first_year, ref.year - 1))
    # Stocks and amounts scale the reference; bounded shapes (shares, levels) scale the progress from
    # their start towards it, so "off track" still means progress, only too little.
    end = ref.value * (factor if ind.direction == "up" else 1 / factor)
    lower = ind.lower if ind.lower is not None else 0.0
    upper = ind.upper
    last = max(LAST_YEAR, ref.year)
    years = list(range(first, last + 1))
    t = np.array(years, dtype=float)
    lo_s, hi_s = shape.start
    line: tuple[float, float, float] | None = None
    se: FloatArray | None = None

    if shape.family in ("logistic", "survey"):
        if upper is None:
            raise DemoError(f"{ind.name_en}: a logistic share needs an upper bound in kpis.yaml")
        start = float(rng.uniform(lo_s, hi_s))
        end = start + factor * (ref.value - start)
        z = _logit_line(t, start=start, end=end, t_start=first, t_end=ref.year, lower=lower, upper=upper)
        line = (float(z[0]), float(z[1] - z[0]) if len(z) > 1 else 0.0, float(first))
        z = z + ar1_noise(rng, len(t), phi=0.5, sd=shape.noise)
        values = lower + (upper - lower) * _sigmoid(z)
        if shape.family == "survey":
            se = rng.uniform(0.8, 1.5, len(t))
            values = np.clip(values + rng.normal(0.0, se), lower, upper)
    elif shape.family == "stock":
        start = end * float(rng.uniform(lo_s, hi_s))
        n_to_ref = ref.year - first
        accel = float(rng.uniform(0.0, 0.4))
        weights = rng.gamma(4.0, 1.0, n_to_ref) * (1 + accel * np.arange(n_to_ref))
        inc = (end - start) * weights / weights.sum()
        after = len(years) - 1 - n_to_ref
        pace = (end - start) / n_to_ref * float(rng.uniform(0.6, 1.2))
        inc = np.concatenate([inc, pace * rng.gamma(4.0, 0.25, after)])
        values = stock_path(np.concatenate([[0.0], inc]), start=start)
    elif shape.family == "growth":
        start = end * float(rng.uniform(lo_s, hi_s))
        slope = (math.log(end) - math.log(start)) / (ref.year - first)
        log_path = math.log(start) + slope * (t - first) + ar1_noise(rng, len(t), phi=0.5, sd=shape.noise)
        values = np.exp(log_path)
    elif shape.family == "level":
        assert upper is not None  # registry validation: a level has bounds 0..len(levels)-1
        start = float(rng.uniform(lo_s, hi_s))
        end = start + factor * (ref.value - start)
        cont = start + (min(end, upper + 0.4) - start) * (t - first) / (ref.year - first)
        jitter = rng.uniform(-0.25, 0.25, len(t))
        values = np.maximum.accumulate(np.clip(np.floor(cont + jitter), lower, upper))
    else:  # flow: a yearly count around the reference, exactly the drawn level in the reference year
        trend = float(rng.uniform(-0.05, 0.1))
        lam = np.maximum(end * np.exp(trend * (t - ref.year)), 0.5)
        values = rng.poisson(lam).astype(float)
        values[years.index(ref.year)] = round(end)
    keep = [i for i, y in enumerate(years) if y <= LAST_YEAR]
    return (
        [years[i] for i in keep],
        np.asarray(values, dtype=float)[keep],
        None if se is None else se[keep],
        line,
    )


def _monthly_share(
    rng: np.random.Generator, line: tuple[float, float, float], lower: float, upper: float
) -> tuple[list[date], FloatArray]:
    """Monthly values on the annual logit line, with a Spring-Festival dip and AR(1) noise (2 decimals)."""
    z0, slope, first = line
    months = _month_starts(date(MONTHLY_FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 1))
    t = np.array([m.year + (m.month - 6.5) / 12 for m in months])
    season = np.array([-0.12 if m.month == 2 else (0.04 if m.month == 12 else 0.0) for m in months])
    z = z0 + slope * (t - first) + season + ar1_noise(rng, len(months), phi=0.6, sd=0.05)
    return months, np.round(lower + (upper - lower) * _sigmoid(z), 2)


def _scenario_counts(
    scenarios: pl.DataFrame, region: str, category: str, years: list[int]
) -> FloatArray | None:
    """Scenarios of a category launched in a region by each year end, or None when it has none."""
    mine = (pl.col("region") == region) & (pl.col("category") == category)
    launches = scenarios.filter(mine)["launch_date"]
    if launches.len() == 0:
        return None
    return np.array([float((launches.dt.year() <= y).sum()) for y in years])


def _observation_rows(
    rng: np.random.Generator, registry: Registry, regions: list[str], scenarios: pl.DataFrame
) -> pl.DataFrame:
    sizes = _district_sizes(rng, registry)
    maturity = {r: float(rng.uniform(0.85, 1.05)) for r in sizes}
    kpis = [(k, ind) for k, ind in registry.indicators.items() if ind.targets or ind.baselines]
    plan = []
    for kpi_id, ind in kpis:
        shape = _shape_for(kpi_id, ind)
        for region in regions:
            plan.append((kpi_id, ind, shape, region, _reference(ind, shape, region, registry, sizes)))
    # Statuses go to the district targets whose history is drawn (not counted from the scenarios).
    present = set(scenarios.select("region", "category").unique().iter_rows())
    from_scenarios = {
        (k, r) for k, cat in _SCENARIO_COUNT_KPIS.items() for r in regions if (r, cat) in present
    }
    own = [i for i, p in enumerate(plan) if p[4].own_target and (p[0], p[3]) not in from_scenarios]
    status_of = dict(zip(own, _statuses(rng, len(own)), strict=True))

    cols: dict[str, list[str | None]] = {c: [] for c in OBSERVATION_COLUMNS}

    def add(kpi_id: str, region: str, period: str, value: str, se: str | None) -> None:
        for col, v in zip(
            OBSERVATION_COLUMNS,
            (
                kpi_id,
                region,
                period,
                value,
                se,
                SOURCE,
                "provisional" if period.startswith(str(LAST_YEAR)) else "final",
                None,
            ),
            strict=True,
        ):
            cols[col].append(v)

    for i, (kpi_id, ind, shape, region, ref) in enumerate(plan):
        if i in status_of:
            lo, hi = _STATUS_FACTOR[status_of[i]]
        elif ref.year <= LAST_YEAR and any(b.region == region for b in ind.baselines):
            lo, hi = 0.98, 1.02
        else:
            lo, hi = 0.85 * maturity[region], 1.1 * maturity[region]
        years, values, se, line = _annual_values(rng, ind, shape, ref, float(rng.uniform(lo, hi)))
        if (kpi_id, region) in from_scenarios:
            counts = _scenario_counts(scenarios, region, _SCENARIO_COUNT_KPIS[kpi_id], years)
            values = values if counts is None else counts
        if kpi_id == MONTHLY_KPI and line is not None:
            assert ind.upper is not None
            months, monthly = _monthly_share(rng, line, ind.lower or 0.0, ind.upper)
            for m, v in zip(months, monthly, strict=True):
                add(kpi_id, region, f"{m.year}-{m.month:02d}", format_value(float(v), ind.precision), None)
            by_year = {
                y: round(float(np.mean(monthly[[m.year == y for m in months]])), 2)
                for y in {m.year for m in months}
            }
            values = np.array([by_year.get(y, float(v)) for y, v in zip(years, values, strict=True)])
        for j, y in enumerate(years):
            add(
                kpi_id,
                region,
                str(y),
                format_value(float(values[j]), ind.precision),
                None if se is None else f"{se[j]:.2f}",
            )
    return pl.DataFrame(cols, schema=OBSERVATIONS_LONG_POLARS)


# ------------------------------------------------------------------------------------------ scenarios
def _scenarios(rng: np.random.Generator, regions: list[str]) -> pl.DataFrame:
    launch_months = _month_starts(LAUNCH_FIRST, LAUNCH_LAST)
    rows = []
    for region in regions:
        if region not in STREETS:
            raise DemoError(
                f"no street list for district {region!r}: add it to data/registry/demo/districts.yaml"
            )
        templates = TEMPLATES.scenarios.plan_districts.get(region)
        if templates is None:
            pool = TEMPLATES.generic_pool
            k = int(rng.integers(5, 9))
            picks = sorted(rng.choice(len(pool), k, replace=False))
            templates = tuple(pool[i] for i in picks)
        streets = STREETS[region]
        used: dict[str, set[str]] = {}
        counters: dict[str, int] = {}
        for tpl in templates:
            counters[tpl.code] = counters.get(tpl.code, 0) + 1
            if tpl.outcome is None:
                street = streets[int(rng.integers(len(streets)))]
            else:
                taken = used.setdefault(tpl.outcome, set())
                free = [s for s in streets if s not in taken]
                if len(free) <= 2:
                    raise DemoError(f"{region}: too few streets left for comparisons of {tpl.outcome}")
                street = free[int(rng.integers(len(free)))]
                taken.add(street)
            lo, hi = TEMPLATES.scenarios.budget_range[TEMPLATES.profile(tpl.category, tpl.domain)]
            rows.append(
                {
                    "scenario_id": f"{REGION_CODES[region]}-{tpl.code}-{counters[tpl.code]:02d}",
                    "name_zh": tpl.name_zh,
                    "name_en": tpl.name_en,
                    "region": region,
                    "street": street,
                    "domain": tpl.domain,
                    "category": tpl.category,
                    "owner": tpl.owner,
                    "launch_date": launch_months[int(rng.integers(len(launch_months)))],
                    "budget": round(float(np.exp(rng.uniform(math.log(lo), math.log(hi)))), 1),
                    "outcome": tpl.outcome,
                    "source": SOURCE,
                }
            )
    return pl.DataFrame(rows, schema=tables.dtypes(tables.Scenarios))


# ----------------------------------------------------------------------------------- scenario metrics
def _metric_series(
    rng: np.random.Generator, quality: float, n: int, profile: str, budget: float
) -> dict[str, FloatArray]:
    """Twelve monthly indicators for one scenario, ``n`` months from its launch; quality drives most."""
    scale = TEMPLATES.scenarios.metric_scale[profile]  # type: ignore[index]
    cases0, users0, hours0 = scale.cases_per_month, scale.active_users, scale.median_handling_hours
    m = np.arange(n, dtype=float)
    ramp = 1 - np.exp(-(m + 1) / 6)

    def pct(a: float, b: float, c: float, sd: float) -> FloatArray:
        return np.round(100 * _sigmoid(a + b * quality + c * ramp + rng.normal(0, sd, n)), 2)

    usage = np.round(cases0 * math.exp(0.35 * quality) * ramp * rng.lognormal(0, 0.15, n))
    spend_rate = budget * 1e4 / (30 * math.exp(-0.15 * quality))
    spent = np.cumsum(spend_rate * rng.gamma(8.0, 1 / 8.0, n))
    return {
        "usage_cases": usage,
        "coverage_share": pct(-1.0, 0.6, 3.0, 0.15),
        "active_users": np.round(users0 * math.exp(0.4 * quality) * ramp * rng.lognormal(0, 0.12, n)),
        "closed_loop_rate": pct(1.8, 0.7, 0.6, 0.25),
        "on_time_rate": pct(1.2, 0.7, 0.5, 0.3),
        "median_handling_hours": np.round(
            hours0 * np.exp(-0.25 * quality - 0.3 * ramp) * rng.lognormal(0, 0.12, n), 1
        ),
        "recurrence_rate": pct(-2.0, -0.5, -0.3, 0.25),
        "satisfaction": pct(1.5, 0.6, 0.0, 0.2),
        "cost_per_case": np.round(spend_rate * rng.lognormal(0, 0.2, n) / np.maximum(usage, 1.0), 2),
        "budget_execution": np.round(np.minimum(100 * spent / (budget * 1e4), 100.0), 2).astype(np.float64),
        "data_shared": np.cumsum(rng.poisson(max(0.2, 1.5 + 0.8 * quality), n)).astype(float),
        "data_quality": pct(2.0, 0.5, 0.5, 0.2),
    }


def _scenario_metrics(rng: np.random.Generator, scenarios: pl.DataFrame) -> pl.DataFrame:
    months = _month_starts(METRICS_FIRST_MONTH, date(LAST_YEAR, 12, 1))
    n_sc = scenarios.height
    missing_n = int(rng.integers(3, 6))
    missing_rows = rng.choice(n_sc, missing_n, replace=False)
    missing_ind = rng.choice(len(METRIC_IDS), missing_n, replace=False)
    missing = {int(r): METRIC_IDS[int(i)] for r, i in zip(missing_rows, missing_ind, strict=True)}
    ids, periods, indicators, values = [], [], [], []
    for row, sc in enumerate(scenarios.iter_rows(named=True)):
        start = months.index(sc["launch_date"])
        span = months[start:]
        series = _metric_series(
            rng, float(rng.normal()), len(span), TEMPLATES.profile(sc["category"], sc["domain"]), sc["budget"]
        )
        for ind_id in METRIC_IDS:
            if missing.get(row) == ind_id:
                continue
            ids.append(np.full(len(span), sc["scenario_id"], dtype=object))
            periods.extend(span)
            indicators.append(np.full(len(span), ind_id, dtype=object))
            values.append(series[ind_id])
    frame = pl.DataFrame(
        {
            "scenario_id": pl.Series(np.concatenate(ids).tolist(), dtype=pl.String),
            "period": pl.Series(periods, dtype=pl.Date),
            "indicator_id": pl.Series(np.concatenate(indicators).tolist(), dtype=pl.String),
            "value": pl.Series(np.concatenate(values), dtype=pl.Float64),
        }
    ).with_columns(source=pl.lit(SOURCE))
    return frame.select(list(tables.dtypes(tables.ScenarioMetrics)))


# ------------------------------------------------------------------------------------- street outcomes
OUTCOMES = TEMPLATES.scenarios.outcomes


def _effects(rng: np.random.Generator, n: int) -> FloatArray:
    """True relative effects: mostly 10–40 % reductions, two zero, one or two slightly harmful."""
    pct = rng.uniform(-0.40, -0.10, n)
    special = rng.permutation(n)
    n_harm = 2 if n >= 20 else 1
    if n >= 6:
        pct[special[:2]] = 0.0
        pct[special[2 : 2 + n_harm]] = rng.uniform(0.03, 0.08, n_harm)
    return pct


def _street_outcomes(rng: np.random.Generator, scenarios: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    months = _month_starts(date(OUTCOMES_FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 1))
    n = len(months)
    month_no = np.array([m.month for m in months], dtype=float)
    t_years = np.arange(n) / 12.0
    treated = scenarios.filter(pl.col("outcome").is_not_null()).sort("scenario_id")
    unknown = sorted(set(treated["outcome"]) - set(OUTCOMES))
    if unknown:
        raise DemoError(f"outcomes {unknown} have no entry in data/registry/demo/scenarios.yaml (outcomes)")
    effects = dict(zip(treated["scenario_id"], _effects(rng, treated.height), strict=True))
    launch = {(r["region"], r["outcome"], r["street"]): r for r in treated.iter_rows(named=True)}
    cols: dict[str, list[object]] = {"region": [], "street": [], "outcome": [], "period": [], "value": []}
    truth = []
    for region, outcome in treated.select("region", "outcome").unique().sort("region", "outcome").iter_rows():
        spec = OUTCOMES[outcome]
        streets = STREETS[region]
        levels = spec.level * rng.lognormal(0.0, 0.35, len(streets))
        common = levels.mean() * (
            spec.trend * t_years + spec.season * np.cos(2 * math.pi * (month_no - spec.peak_month) / 12)
        )
        for street, level in zip(streets, levels, strict=True):
            y = level + common + ar1_noise(rng, n, phi=0.5, sd=0.08 * level)
            sc = launch.get((region, outcome, street))
            if sc is not None:
                pct = float(effects[sc["scenario_id"]])
                post = np.array([m >= sc["launch_date"] for m in months])
                y = y + pct * level * post
                truth.append(
                    {
                        "scenario_id": sc["scenario_id"],
                        "outcome": outcome,
                        "true_effect": float(pct * level),
                        "true_effect_pct": 100 * pct,
                    }
                )
            cols["region"] += [region] * n
            cols["street"] += [street] * n
            cols["outcome"] += [outcome] * n
            cols["period"] += months
            cols["value"] += np.round(np.maximum(y, 0.0), spec.decimals).tolist()
    frame = pl.DataFrame(cols, schema={k: tables.dtypes(tables.StreetOutcomes)[k] for k in cols})
    frame = frame.with_columns(source=pl.lit(SOURCE)).select(list(tables.dtypes(tables.StreetOutcomes)))
    truth_frame = pl.DataFrame(truth, schema=TRUTH_POLARS).sort("scenario_id")
    return frame, truth_frame


# ------------------------------------------------------------------------------------------- checks
def _check_observations(obs: pl.DataFrame, registry: Registry) -> None:
    """The long layout has its eight string columns, parseable numbers and values inside the bounds."""
    if tuple(obs.columns) != OBSERVATION_COLUMNS or any(dt != pl.String for dt in obs.dtypes):
        raise tables.TableError(f"demo observations: columns must be the strings {OBSERVATION_COLUMNS}")
    bounds = pl.DataFrame(
        [{"kpi_id": k, "lower": ind.lower, "upper": ind.upper} for k, ind in registry.indicators.items()],
        schema={"kpi_id": pl.String, "lower": pl.Float64, "upper": pl.Float64},
    )
    bad = obs.join(bounds, on="kpi_id", how="left").filter(
        pl.col("value").cast(pl.Float64, strict=False).is_null()
        | (pl.col("value").cast(pl.Float64) < pl.col("lower"))
        | (pl.col("value").cast(pl.Float64) > pl.col("upper"))
        | ~pl.col("period").str.contains(r"^\d{4}(-\d{2})?$")
    )
    if bad.height:
        raise tables.TableError(
            f"demo observations: {bad.height} rows out of bounds or malformed:\n{bad.head()}"
        )
    if obs.select(pl.struct("kpi_id", "region", "period").is_duplicated().any()).item():
        raise tables.TableError("demo observations: duplicate (kpi_id, region, period) rows")


# -------------------------------------------------------------------------------------------- public
def generate_demo(registry: Registry, *, seed: int = DEFAULT_SEED, scale: Scale = "two") -> DemoData:
    """Generate the SYNTHETIC demo tables for a registry, deterministically for ``seed``.

    Args:
        registry: the loaded KPI and region registry; every indicator with a target or a baseline in any
            region gets an annual 2016–2024 history (from the year the technology existed) in every demo
            region.
        seed: the random seed; the same seed and registry give identical frames.
        scale: ``"two"`` for Pudong and Hongkou, ``"all"`` for the 16 districts (never the city row,
            whose real figures come from the published data set).

    Returns:
        :class:`DemoData` whose frames passed their table contracts.

    Raises:
        DemoError: the registry names a district without a street list or scale is unknown.
        evaluation.tables.TableError: a generated frame broke its contract (a bug here).
    """
    regions = _demo_regions(registry, scale)
    obs_rng, sc_rng, metric_rng, outcome_rng = np.random.default_rng(seed).spawn(4)
    scenarios = _scenarios(sc_rng, regions)
    observations = _observation_rows(obs_rng, registry, regions, scenarios)
    metrics = _scenario_metrics(metric_rng, scenarios)
    outcomes, truth = _street_outcomes(outcome_rng, scenarios)
    where = f"demo (seed {seed}, scale {scale})"
    _check_observations(observations, registry)
    data = DemoData(
        observations=observations,
        scenarios=tables.validate(scenarios, tables.Scenarios, what=where),
        scenario_metrics=tables.validate(metrics, tables.ScenarioMetrics, what=where),
        street_outcomes=tables.validate(outcomes, tables.StreetOutcomes, what=where),
        truth=tables.validate(truth, tables.DemoTruth, what=where),
    )
    log.info(
        "demo data (synthetic, seed %s, scale %s): %d observations, %d scenarios, %d metric rows, "
        "%d street-outcome rows",
        seed,
        scale,
        observations.height,
        scenarios.height,
        metrics.height,
        outcomes.height,
    )
    return data


def write_demo(data: DemoData, out_dir: Path) -> dict[str, Path]:
    """Write the five tables as UTF-8 CSV files with a header row, each atomically (:func:`~pipelines.io.catalog.write_csv`).

    Args:
        data: the generated tables.
        out_dir: folder to write into (created if missing).

    Returns:
        Table name (``observations``, ``scenarios``, ``scenario_metrics``, ``street_outcomes``,
        ``truth``) → the path written (``<name>.csv``).
    """
    out_dir = Path(out_dir)
    return {f.name: write_csv(getattr(data, f.name), out_dir / f"{f.name}.csv") for f in fields(data)}


def read_demo(in_dir: Path) -> DemoData:
    """Read the five CSV files :func:`write_demo` wrote, with the tables' dtypes (empty fields → null).

    Raises:
        FileNotFoundError: a file is missing; run ``dtscope demo`` to (re)generate them.
    """
    in_dir = Path(in_dir)
    dtypes: dict[str, dict[str, pl.DataType | type[pl.DataType]]] = {
        "observations": OBSERVATIONS_LONG_POLARS,
        "scenarios": tables.dtypes(tables.Scenarios),
        "scenario_metrics": tables.dtypes(tables.ScenarioMetrics),
        "street_outcomes": tables.dtypes(tables.StreetOutcomes),
        "truth": TRUTH_POLARS,
    }
    frames = {}
    for name, schema in dtypes.items():
        path = in_dir / f"{name}.csv"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing; run `dtscope demo` to generate the demo files")
        frames[name] = pl.read_csv(path, schema=schema)
    return DemoData(**frames)
