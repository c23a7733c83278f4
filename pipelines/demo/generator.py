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
import os
import tempfile
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt
import polars as pl

from pipelines import schemas
from pipelines.io.kpi_registry import Indicator, Registry

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

OBSERVATION_COLUMNS = ("kpi_id", "region", "period", "value", "std_error", "source", "status", "note")
OBSERVATIONS_LONG_POLARS: dict[str, pl.DataType | type[pl.DataType]] = dict.fromkeys(
    OBSERVATION_COLUMNS, pl.String
)
TRUTH_POLARS: dict[str, pl.DataType | type[pl.DataType]] = {
    "scenario_id": pl.String,
    "outcome": pl.String,
    "true_effect": pl.Float64,
    "true_effect_pct": pl.Float64,
}
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
        scenarios: :data:`pipelines.schemas.SCENARIOS` (one row per application scenario).
        scenario_metrics: :data:`pipelines.schemas.SCENARIO_METRICS`, monthly from each launch month.
        street_outcomes: :data:`pipelines.schemas.STREET_OUTCOMES`, monthly 2019-01..2024-12.
        truth: ``scenario_id, outcome, true_effect, true_effect_pct`` — the additive change in the
            street's monthly outcome level from the launch month on, and that change as a percentage
            of the street's own base level (negative = a reduction).
    """

    observations: pl.DataFrame
    scenarios: pl.DataFrame
    scenario_metrics: pl.DataFrame
    street_outcomes: pl.DataFrame
    truth: pl.DataFrame


# ---------------------------------------------------------------------------------------------- streets
# Real street (街道) and town (镇) names of each district. Hongkou's eight are complete; the other lists
# hold most of each district's subdivisions, enough for treated and comparison streets.
STREETS: dict[str, tuple[str, ...]] = {
    "pudong": (
        "陆家嘴街道",
        "潍坊新村街道",
        "塘桥街道",
        "洋泾街道",
        "花木街道",
        "周家渡街道",
        "上钢新村街道",
        "南码头路街道",
        "沪东新村街道",
        "金杨新村街道",
        "浦兴路街道",
        "东明路街道",
        "张江镇",
        "川沙新镇",
        "北蔡镇",
        "周浦镇",
        "唐镇",
        "高行镇",
        "金桥镇",
        "惠南镇",
        "航头镇",
        "三林镇",
        "康桥镇",
        "高桥镇",
        "曹路镇",
        "合庆镇",
        "祝桥镇",
        "新场镇",
        "宣桥镇",
        "大团镇",
        "书院镇",
        "老港镇",
    ),
    "hongkou": (
        "欧阳路街道",
        "曲阳路街道",
        "广中路街道",
        "嘉兴路街道",
        "凉城新村街道",
        "四川北路街道",
        "北外滩街道",
        "江湾镇街道",
    ),
    "huangpu": (
        "南京东路街道",
        "外滩街道",
        "半淞园路街道",
        "小东门街道",
        "豫园街道",
        "老西门街道",
        "五里桥街道",
        "打浦桥街道",
        "淮海中路街道",
        "瑞金二路街道",
    ),
    "xuhui": (
        "天平路街道",
        "湖南路街道",
        "斜土路街道",
        "枫林路街道",
        "长桥街道",
        "田林街道",
        "虹梅路街道",
        "康健新村街道",
        "徐家汇街道",
        "凌云路街道",
        "龙华街道",
        "漕河泾街道",
        "华泾镇",
    ),
    "changning": (
        "华阳路街道",
        "江苏路街道",
        "新华路街道",
        "周家桥街道",
        "天山路街道",
        "仙霞新村街道",
        "虹桥街道",
        "程家桥街道",
        "北新泾街道",
        "新泾镇",
    ),
    "jingan": (
        "江宁路街道",
        "石门二路街道",
        "南京西路街道",
        "静安寺街道",
        "曹家渡街道",
        "天目西路街道",
        "北站街道",
        "宝山路街道",
        "共和新路街道",
        "大宁路街道",
        "彭浦新村街道",
        "临汾路街道",
        "芷江西路街道",
        "彭浦镇",
    ),
    "putuo": (
        "曹杨新村街道",
        "长风新村街道",
        "长寿路街道",
        "甘泉路街道",
        "石泉路街道",
        "宜川路街道",
        "万里街道",
        "真如镇街道",
        "长征镇",
        "桃浦镇",
    ),
    "yangpu": (
        "定海路街道",
        "平凉路街道",
        "江浦路街道",
        "四平路街道",
        "控江路街道",
        "长白新村街道",
        "延吉新村街道",
        "殷行街道",
        "大桥街道",
        "五角场街道",
        "新江湾城街道",
        "长海路街道",
    ),
    "minhang": (
        "江川路街道",
        "古美街道",
        "新虹街道",
        "浦锦街道",
        "莘庄镇",
        "七宝镇",
        "颛桥镇",
        "华漕镇",
        "虹桥镇",
        "梅陇镇",
        "吴泾镇",
        "马桥镇",
        "浦江镇",
    ),
    "baoshan": (
        "友谊路街道",
        "吴淞街道",
        "张庙街道",
        "罗店镇",
        "大场镇",
        "杨行镇",
        "月浦镇",
        "罗泾镇",
        "顾村镇",
        "高境镇",
        "庙行镇",
        "淞南镇",
    ),
    "jiading": (
        "新成路街道",
        "真新街道",
        "菊园新区管委会",
        "嘉定镇街道",
        "南翔镇",
        "安亭镇",
        "马陆镇",
        "徐行镇",
        "华亭镇",
        "外冈镇",
        "江桥镇",
    ),
    "jinshan": (
        "石化街道",
        "朱泾镇",
        "枫泾镇",
        "张堰镇",
        "亭林镇",
        "吕巷镇",
        "廊下镇",
        "金山卫镇",
        "漕泾镇",
        "山阳镇",
    ),
    "songjiang": (
        "岳阳街道",
        "永丰街道",
        "方松街道",
        "中山街道",
        "广富林街道",
        "九里亭街道",
        "泗泾镇",
        "佘山镇",
        "车墩镇",
        "新桥镇",
        "洞泾镇",
        "九亭镇",
        "泖港镇",
        "石湖荡镇",
        "新浜镇",
        "叶榭镇",
        "小昆山镇",
    ),
    "qingpu": (
        "夏阳街道",
        "盈浦街道",
        "香花桥街道",
        "朱家角镇",
        "练塘镇",
        "金泽镇",
        "赵巷镇",
        "徐泾镇",
        "华新镇",
        "重固镇",
        "白鹤镇",
    ),
    "fengxian": (
        "西渡街道",
        "奉浦街道",
        "金海街道",
        "南桥镇",
        "奉城镇",
        "庄行镇",
        "金汇镇",
        "四团镇",
        "青村镇",
        "柘林镇",
        "海湾镇",
    ),
    "chongming": (
        "城桥镇",
        "堡镇",
        "新河镇",
        "庙镇",
        "竖新镇",
        "向化镇",
        "三星镇",
        "港沿镇",
        "中兴镇",
        "陈家镇",
        "绿华镇",
        "港西镇",
        "建设镇",
        "新海镇",
        "东平镇",
        "长兴镇",
    ),
}

REGION_CODES = {
    "pudong": "PD",
    "huangpu": "HP",
    "xuhui": "XH",
    "changning": "CN",
    "jingan": "JA",
    "putuo": "PT",
    "hongkou": "HK",
    "yangpu": "YP",
    "minhang": "MH",
    "baoshan": "BS",
    "jiading": "JD",
    "jinshan": "JS",
    "songjiang": "SJ",
    "qingpu": "QP",
    "fengxian": "FX",
    "chongming": "CM",
}

# Relative size (Pudong = 1) of the two plan districts; the other districts' sizes are drawn from the seed.
_FIXED_SIZES = {"pudong": 1.0, "hongkou": 0.14}


# ------------------------------------------------------------------------------------------- KPI shapes
class _Shape(NamedTuple):
    """How one indicator's annual history is drawn.

    ``start`` is an absolute value range for logistic shares, survey shares and levels, and a range of
    fractions of the end value for stocks, growth amounts and flows. ``elasticity`` says how a district's
    reference scales with its size when it borrows another district's target (0 = not at all).
    """

    family: Literal["logistic", "survey", "stock", "growth", "level", "flow"]
    first_year: int
    start: tuple[float, float]
    elasticity: float = 0.0
    noise: float = 0.05


_SHAPES: dict[str, _Shape] = {
    "5g_coverage": _Shape("logistic", 2019, (2.0, 8.0), noise=0.12),
    "broadband_speed": _Shape("growth", 2016, (0.08, 0.14), noise=0.04),
    "iot_nodes": _Shape("stock", 2017, (0.02, 0.06), elasticity=1.0),
    "gov_cloud_level": _Shape("level", 2016, (0.0, 0.6)),
    "online_handling_share": _Shape("logistic", 2019, (35.0, 55.0), noise=0.06),
    "efficient_disposal_scenarios": _Shape("stock", 2020, (0.02, 0.08), elasticity=0.5),
    "mlps_compliance": _Shape("logistic", 2016, (55.0, 70.0), noise=0.08),
    "cim_coverage": _Shape("logistic", 2020, (1.0, 5.0), noise=0.12),
    "info_software_revenue": _Shape("growth", 2016, (0.26, 0.32), elasticity=1.0, noise=0.03),
    "benchmark_smart_factories": _Shape("stock", 2019, (0.05, 0.12), elasticity=1.0),
    "industrial_internet_platforms": _Shape("stock", 2019, (0.0, 0.2), elasticity=0.7),
    "co_governance_scenarios": _Shape("stock", 2020, (0.02, 0.08), elasticity=0.5),
    "open_datasets": _Shape("stock", 2016, (0.10, 0.20), elasticity=0.6),
    "open_data_applications": _Shape("stock", 2019, (0.05, 0.12), elasticity=0.5),
    "citizen_satisfaction": _Shape("survey", 2019, (68.0, 76.0), noise=0.05),
    "outdoor_5g_stations": _Shape("stock", 2019, (0.03, 0.08), elasticity=1.0),
    "iot_closed_loop_scenarios": _Shape("stock", 2021, (0.1, 0.3), elasticity=0.4),
    "health_scenarios": _Shape("stock", 2021, (0.1, 0.3), elasticity=0.3),
    "experimental_schools": _Shape("stock", 2019, (0.1, 0.2), elasticity=0.5),
    "one_thing_new": _Shape("flow", 2019, (0.8, 1.2), elasticity=0.3),
    "one_thing_optimised": _Shape("flow", 2019, (0.8, 1.2), elasticity=0.3),
    "4g_coverage": _Shape("logistic", 2016, (95.0, 98.0), noise=0.1),
    "enterprise_services_full_online": _Shape("stock", 2018, (0.2, 0.4), elasticity=0.5),
    "livelihood_services_citywide": _Shape("stock", 2018, (0.2, 0.4), elasticity=0.3),
    "iot_devices": _Shape("stock", 2017, (0.1, 0.2), elasticity=1.0),
}

_DEFAULT_SHAPES: dict[str, _Shape] = {
    "share": _Shape("logistic", 2016, (20.0, 40.0), noise=0.08),
    "rate": _Shape("growth", 2016, (0.3, 0.5), noise=0.04),
    "amount": _Shape("growth", 2016, (0.3, 0.5), elasticity=1.0, noise=0.04),
    "level": _Shape("level", 2016, (0.0, 0.6)),
}

# A region with scenarios of this category reports the KPI as the number launched by each year end.
_SCENARIO_COUNT_KPIS = {"iot_closed_loop_scenarios": "智能物联闭环", "health_scenarios": "便捷就医"}

Status = Literal["on_track", "at_risk", "off_track"]
_STATUS_FACTOR: dict[Status, tuple[float, float]] = {
    "on_track": (1.03, 1.12),
    "at_risk": (0.95, 1.0),
    "off_track": (0.72, 0.88),
}


def _shape_for(kpi_id: str, ind: Indicator) -> _Shape:
    if kpi_id in _SHAPES:
        return _SHAPES[kpi_id]
    if ind.kind == "count":
        if ind.cumulative:
            return _Shape("stock", 2016, (0.1, 0.3), elasticity=0.7)
        return _Shape("flow", 2016, (0.8, 1.2), elasticity=0.5)
    return _DEFAULT_SHAPES[ind.kind]


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
    ind: Indicator, shape: _Shape, region: str, registry: Registry, sizes: dict[str, float]
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
    rng: np.random.Generator, ind: Indicator, shape: _Shape, ref: _Reference, factor: float
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
class _Template(NamedTuple):
    code: str
    name_zh: str
    name_en: str
    domain: Literal["life", "governance", "economy"]
    category: str
    owner: str
    outcome: str | None


IOT, HEALTH, DISPOSAL = "智能物联闭环", "便捷就医", "高效处置一件事"

HONGKOU_IOT = (
    _Template(
        "IOT",
        "违法排污监测",
        "Illegal-discharge monitoring",
        "governance",
        IOT,
        "区生态环境局",
        "illegal_discharge_incidents",
    ),
    _Template(
        "IOT",
        "街面废物箱满溢",
        "Street litter-bin overflow alerts",
        "governance",
        IOT,
        "区绿化市容局",
        "bin_overflow_complaints",
    ),
    _Template(
        "IOT",
        "小区垃圾厢房满溢",
        "Estate refuse-room overflow alerts",
        "governance",
        IOT,
        "区绿化市容局",
        "refuse_room_overflow_complaints",
    ),
    _Template(
        "IOT",
        "污水井满溢",
        "Sewer-manhole overflow alerts",
        "governance",
        IOT,
        "区建设管理委",
        "sewer_overflow_events",
    ),
    _Template(
        "IOT",
        "非机动车车棚充电保护",
        "E-bike shed charging protection",
        "governance",
        IOT,
        "区消防救援支队",
        "ebike_fire_alarms",
    ),
    _Template(
        "IOT",
        "沿街店铺“三合一”管控",
        'Street-front shop "three-in-one" control',
        "governance",
        IOT,
        "区市场监管局",
        "shop_violation_cases",
    ),
    _Template(
        "IOT",
        "火灾预警监测",
        "Fire early-warning monitoring",
        "governance",
        IOT,
        "区消防救援支队",
        "fire_alarm_response_minutes",
    ),
    _Template(
        "IOT",
        "消防栓水压监测",
        "Hydrant water-pressure monitoring",
        "governance",
        IOT,
        "区消防救援支队",
        "hydrant_pressure_faults",
    ),
    _Template(
        "IOT",
        "小区消防通道管理",
        "Estate fire-lane management",
        "governance",
        IOT,
        "区住房保障房屋管理局",
        "fire_lane_blockages",
    ),
    _Template(
        "IOT",
        "楼宇安全管控",
        "Building safety control",
        "governance",
        IOT,
        "区应急局",
        "building_safety_incidents",
    ),
)

HONGKOU_HEALTH = tuple(
    _Template("HLTH", zh, en, "life", HEALTH, "区卫生健康委", None)
    for zh, en in (
        ("云病历", "Cloud medical records"),
        ("云学习", "Cloud learning for medical staff"),
        ("云质控", "Cloud quality control"),
        ("云药房", "Cloud pharmacy"),
        ("云公卫", "Cloud public health"),
        ("卫生驾驶舱", "Health cockpit"),
    )
)

HONGKOU_OTHER = (
    _Template(
        "GOV",
        "北外滩CIM一体化管理",
        "North Bund CIM integrated management",
        "governance",
        "数字北外滩",
        "北外滩开发办",
        None,
    ),
    _Template(
        "GOV",
        "北外滩滨水公共空间管理",
        "North Bund waterfront public-space management",
        "governance",
        "数字北外滩",
        "北外滩街道",
        None,
    ),
    _Template("ECON", "一楼一档案", "One building, one file", "economy", "数字北外滩", "北外滩开发办", None),
    _Template(
        "GOV",
        "全天候自助政务服务专区",
        "24-hour self-service government hall",
        "governance",
        "一网通办",
        "区政府办公室",
        None,
    ),
    _Template("LIFE", "便捷停车", "Convenient parking", "life", "数字出行", "区建设管理委", None),
    _Template("LIFE", "“一键”扬招", "One-tap taxi hailing", "life", "数字出行", "区建设管理委", None),
    _Template(
        "LIFE", "智慧步道与智慧球场", "Smart fitness trails and courts", "life", "数字体育", "区体育局", None
    ),
    _Template(
        "ECON",
        "数字人民币应用场景",
        "Digital-RMB payment scenarios",
        "economy",
        "金融科技",
        "区金融工作局",
        None,
    ),
    _Template(
        "ECON",
        "航运数字化平台",
        "Digital shipping-services platform",
        "economy",
        "数字航运",
        "区投促办",
        None,
    ),
)

PUDONG_DISPOSAL = tuple(
    _Template("GXCZ", zh, en, "governance", DISPOSAL, owner, outcome)
    for zh, en, owner, outcome in (
        ("群租整治", "Group-rental remediation", "区城运中心", "disposal_handling_hours"),
        ("渣土车违规治理", "Muck-truck violations", "区建交委", "disposal_handling_hours"),
        ("占道经营处置", "Street-occupying vending", "区城管执法局", "disposal_handling_hours"),
        ("违法建筑处置", "Illegal construction", "区城管执法局", "disposal_handling_hours"),
        ("河道水质异常处置", "River water-quality anomalies", "区生态环境局", "disposal_handling_hours"),
        ("高空抛物处置", "Objects thrown from height", "区公安分局", "disposal_handling_hours"),
        ("井盖缺失处置", "Missing manhole covers", "区建交委", "disposal_handling_hours"),
        ("共享单车乱停放治理", "Shared-bike parking disorder", "区建交委", "disposal_handling_hours"),
        ("暴雨积水处置", "Rainstorm waterlogging", "区城运中心", "disposal_handling_hours"),
        ("噪声扰民处置", "Noise nuisance", "区生态环境局", "disposal_handling_hours"),
        ("电梯困人处置", "Elevator entrapment", "区市场监管局", "disposal_handling_hours"),
        ("燃气泄漏处置", "Gas leaks", "区建交委", "disposal_handling_hours"),
        ("工地扬尘处置", "Construction-site dust", "区生态环境局", "disposal_handling_hours"),
        ("餐饮油烟扰民处置", "Restaurant fume nuisance", "区生态环境局", "disposal_handling_hours"),
        ("违规户外广告处置", "Illegal outdoor advertising", "区城管执法局", "disposal_handling_hours"),
        ("独居老人应急救助", "Emergency help for elderly people living alone", "区民政局", None),
        ("道路塌陷处置", "Road subsidence", "区建交委", None),
        ("非法客运治理", "Illegal passenger transport", "区建交委", None),
    )
)

PUDONG_LIFE = (
    _Template("LIFE", "社区智慧养老", "Smart community elderly care", "life", "数字养老", "区民政局", None),
    _Template("LIFE", "互联网医院", "Internet hospital", "life", "数字医疗", "区卫生健康委", None),
    _Template("LIFE", "数字课堂", "Digital classroom", "life", "数字教育", "区教育局", None),
    _Template(
        "LIFE",
        "15分钟生活圈数字地图",
        "15-minute life-circle digital map",
        "life",
        "数字社区",
        "区商务委",
        None,
    ),
    _Template("LIFE", "智慧停车", "Smart parking", "life", "数字出行", "区建交委", None),
    _Template("LIFE", "无人清扫车", "Driverless street sweepers", "life", "未来交通", "区绿化市容局", None),
    _Template("LIFE", "未来社区", "Future community", "life", "数字社区", "区建交委", None),
    _Template("LIFE", "数字文旅", "Digital culture and tourism", "life", "数字文旅", "区文体旅游局", None),
    _Template(
        "LIFE",
        "小区垃圾厢房智能监管",
        "Smart estate refuse-room supervision",
        "life",
        "数字社区",
        "区绿化市容局",
        "refuse_room_overflow_complaints",
    ),
    _Template(
        "LIFE",
        "电动自行车充电安全",
        "E-bike charging safety",
        "life",
        "数字社区",
        "区消防救援支队",
        "ebike_fire_alarms",
    ),
)

PUDONG_ECONOMY = (
    _Template(
        "ECON",
        "行业性工业互联网平台",
        "Sector industrial-internet platform",
        "economy",
        "智能制造",
        "区科经委",
        None,
    ),
    _Template("ECON", "标杆性智能工厂", "Benchmark smart factory", "economy", "智能制造", "区科经委", None),
    _Template(
        "ECON",
        "张江人工智能岛",
        "Zhangjiang AI Island",
        "economy",
        "人工智能",
        "张江科学城建设管理办公室",
        None,
    ),
    _Template("ECON", "金融数据港", "Financial data port", "economy", "金融科技", "区金融局", None),
    _Template(
        "ECON", "跨境贸易数字化", "Digital cross-border trade", "economy", "数字贸易", "区商务委", None
    ),
    _Template(
        "ECON",
        "企业服务“全程网办”",
        "Enterprise services fully online",
        "economy",
        "一网通办",
        "区企业服务中心",
        None,
    ),
    _Template(
        "ECON",
        "智能网联汽车示范应用",
        "Connected-vehicle demonstration",
        "economy",
        "未来交通",
        "区科经委",
        None,
    ),
    _Template("ECON", "数字农业", "Digital agriculture", "economy", "数字农业", "区农业农村委", None),
    _Template(
        "ECON", "在线新经济生态园", "Online new-economy park", "economy", "在线新经济", "区科经委", None
    ),
)

# What other districts build when scale is "all" (a sample of these per district).
GENERIC_POOL = (
    *HONGKOU_IOT[1:9],
    *(t for t in PUDONG_DISPOSAL[:4]),
    PUDONG_LIFE[0],
    PUDONG_LIFE[1],
    PUDONG_ECONOMY[1],
    PUDONG_ECONOMY[5],
)

_PLAN_TEMPLATES = {
    "hongkou": (*HONGKOU_IOT, *HONGKOU_HEALTH, *HONGKOU_OTHER),
    "pudong": (*PUDONG_DISPOSAL, *PUDONG_LIFE, *PUDONG_ECONOMY),
}

# Budget range (万元) by category profile.
_BUDGET = {
    "iot": (80, 400),
    "health": (200, 800),
    "disposal": (50, 300),
    "life": (100, 600),
    "governance": (100, 500),
    "economy": (300, 2000),
}


def _profile(category: str, domain: str) -> str:
    return {IOT: "iot", HEALTH: "health", DISPOSAL: "disposal"}.get(category, domain)


def _scenarios(rng: np.random.Generator, regions: list[str]) -> pl.DataFrame:
    launch_months = _month_starts(LAUNCH_FIRST, LAUNCH_LAST)
    rows = []
    for region in regions:
        if region not in STREETS:
            raise DemoError(
                f"no street list for district {region!r}: add its streets to STREETS in pipelines/demo/generator.py"
            )
        templates = _PLAN_TEMPLATES.get(region)
        if templates is None:
            k = int(rng.integers(5, 9))
            picks = sorted(rng.choice(len(GENERIC_POOL), k, replace=False))
            templates = tuple(GENERIC_POOL[i] for i in picks)
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
            lo, hi = _BUDGET[_profile(tpl.category, tpl.domain)]
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
    return pl.DataFrame(rows, schema=schemas.SCENARIOS_POLARS)


# ----------------------------------------------------------------------------------- scenario metrics
# Per category profile: cases/month, active users, median handling hours at full maturity, quality 0.
_METRIC_SCALE = {
    "iot": (120.0, 40.0, 8.0),
    "health": (2000.0, 5000.0, 1.5),
    "disposal": (300.0, 150.0, 36.0),
    "life": (1500.0, 8000.0, 24.0),
    "governance": (400.0, 300.0, 24.0),
    "economy": (80.0, 300.0, 72.0),
}


def _metric_series(
    rng: np.random.Generator, quality: float, n: int, profile: str, budget: float
) -> dict[str, FloatArray]:
    """Twelve monthly indicators for one scenario, ``n`` months from its launch; quality drives most."""
    cases0, users0, hours0 = _METRIC_SCALE[profile]
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
            rng, float(rng.normal()), len(span), _profile(sc["category"], sc["domain"]), sc["budget"]
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
    return frame.select(list(schemas.SCENARIO_METRICS_POLARS))


# ------------------------------------------------------------------------------------- street outcomes
class _OutcomeSpec(NamedTuple):
    level: float  # typical street level per month
    season: float  # seasonal amplitude as a share of the district mean level
    peak_month: int
    trend: float  # common trend per year, as a share of the district mean level
    decimals: int


OUTCOMES: dict[str, _OutcomeSpec] = {
    "bin_overflow_complaints": _OutcomeSpec(40, 0.15, 7, -0.02, 0),
    "refuse_room_overflow_complaints": _OutcomeSpec(30, 0.15, 7, -0.01, 0),
    "illegal_discharge_incidents": _OutcomeSpec(12, 0.10, 6, -0.03, 0),
    "sewer_overflow_events": _OutcomeSpec(10, 0.35, 6, 0.0, 0),
    "ebike_fire_alarms": _OutcomeSpec(8, 0.25, 8, 0.02, 0),
    "shop_violation_cases": _OutcomeSpec(20, 0.08, 5, -0.02, 0),
    "fire_alarm_response_minutes": _OutcomeSpec(14, 0.04, 1, -0.01, 1),
    "hydrant_pressure_faults": _OutcomeSpec(9, 0.2, 1, 0.0, 0),
    "fire_lane_blockages": _OutcomeSpec(25, 0.1, 10, 0.01, 0),
    "building_safety_incidents": _OutcomeSpec(7, 0.1, 8, 0.0, 0),
    "disposal_handling_hours": _OutcomeSpec(48, 0.06, 1, -0.04, 1),
}


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
        raise DemoError(f"outcomes {unknown} have no entry in OUTCOMES in pipelines/demo/generator.py")
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
    frame = pl.DataFrame(cols, schema={k: schemas.STREET_OUTCOMES_POLARS[k] for k in cols})
    frame = frame.with_columns(source=pl.lit(SOURCE)).select(list(schemas.STREET_OUTCOMES_POLARS))
    truth_frame = pl.DataFrame(truth, schema=TRUTH_POLARS).sort("scenario_id")
    return frame, truth_frame


# ------------------------------------------------------------------------------------------- checks
def _check_observations(obs: pl.DataFrame, registry: Registry) -> None:
    """The long layout has its eight string columns, parseable numbers and values inside the bounds."""
    if tuple(obs.columns) != OBSERVATION_COLUMNS or any(dt != pl.String for dt in obs.dtypes):
        raise schemas.TableError(f"demo observations: columns must be the strings {OBSERVATION_COLUMNS}")
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
        raise schemas.TableError(
            f"demo observations: {bad.height} rows out of bounds or malformed:\n{bad.head()}"
        )
    if obs.select(pl.struct("kpi_id", "region", "period").is_duplicated().any()).item():
        raise schemas.TableError("demo observations: duplicate (kpi_id, region, period) rows")


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
        pipelines.schemas.TableError: a generated frame broke its contract (a bug here).
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
        scenarios=schemas.validate(scenarios, schemas.SCENARIOS, what=where),
        scenario_metrics=schemas.validate(metrics, schemas.SCENARIO_METRICS, what=where),
        street_outcomes=schemas.validate(outcomes, schemas.STREET_OUTCOMES, what=where),
        truth=truth,
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
    """Write the five tables as UTF-8 CSV files with a header row, each atomically (temp file + rename).

    Args:
        data: the generated tables.
        out_dir: folder to write into (created if missing).

    Returns:
        Table name (``observations``, ``scenarios``, ``scenario_metrics``, ``street_outcomes``,
        ``truth``) → the path written (``<name>.csv``).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for f in fields(data):
        frame: pl.DataFrame = getattr(data, f.name)
        final = out_dir / f"{f.name}.csv"
        fd, tmp_name = tempfile.mkstemp(prefix=f".{f.name}.", suffix=".csv.tmp", dir=out_dir)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            frame.write_csv(tmp)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        written[f.name] = final
    return written


def read_demo(in_dir: Path) -> DemoData:
    """Read the five CSV files :func:`write_demo` wrote, with the tables' dtypes (empty fields → null).

    Raises:
        FileNotFoundError: a file is missing; run ``dtscope demo`` to (re)generate them.
    """
    in_dir = Path(in_dir)
    dtypes: dict[str, dict[str, pl.DataType | type[pl.DataType]]] = {
        "observations": OBSERVATIONS_LONG_POLARS,
        "scenarios": schemas.SCENARIOS_POLARS,
        "scenario_metrics": schemas.SCENARIO_METRICS_POLARS,
        "street_outcomes": schemas.STREET_OUTCOMES_POLARS,
        "truth": TRUTH_POLARS,
    }
    frames = {}
    for name, schema in dtypes.items():
        path = in_dir / f"{name}.csv"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing; run `dtscope demo` to generate the demo files")
        frames[name] = pl.read_csv(path, schema=schema)
    return DemoData(**frames)
