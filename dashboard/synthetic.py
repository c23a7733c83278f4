"""Synthetic published tables for the dashboard's tests and benchmark (labelled ``synthetic-demo``).

The numbers are invented: they only have the shapes and the rough sizes of the real tables so pages
can be exercised without running the pipeline. Every row that carries a ``source`` or ``data_set``
says ``synthetic-demo``, so the dashboard shows its SYNTHETIC DATA banner over them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from dashboard.contract import SYNTHETIC_SOURCE, TABLES, conform
from dashboard.i18n import REGION_NAMES as I18N_REGIONS
from dashboard.views import likelihood_key, meets_target


@dataclass(frozen=True)
class _Kpi:
    kpi_id: str
    name_zh: str
    name_en: str
    unit: str
    kind: str
    lower: float | None
    upper: float | None
    precision: float
    target_kind: str
    obligation: str
    base: float  # typical first-year value
    growth: float  # typical annual growth (fraction), or yearly step towards the bound for shares
    target_ratio: float  # target ÷ value expected at the target year (>1 = ambitious)


_KPIS: tuple[_Kpi, ...] = (
    _Kpi("5g_coverage", "5G网络覆盖率", "5G network coverage", "%", "share", 0, 100, 0.1, "full", "expected", 70, 0.25, 1.0),
    _Kpi("broadband_speed", "固定宽带入户平均速率", "Average fixed-broadband speed", "Mbps", "rate", 0, None, 1, "at_least", "expected", 200, 0.35, 1.05),
    _Kpi("iot_nodes", "物联感知神经元节点数量", "IoT sensing nodes", "个", "count", 0, None, 1, "at_least", "expected", 20000, 0.3, 1.1),
    _Kpi("online_handling_share", "政务服务实际办件网办比例", "Share of services handled online", "%", "share", 0, 100, 0.1, "at_least", "binding", 55, 0.2, 0.95),
    _Kpi("one_net_share", "一网通办接入事项比例", "Services on the one-net portal", "%", "share", 0, 100, 0.1, "at_least", "binding", 60, 0.2, 1.0),
    _Kpi("outdoor_5g_stations", "室外5G基站数", "Outdoor 5G base stations", "个", "count", 0, None, 1, "at_least", "expected", 400, 0.3, 1.0),
    _Kpi("digital_economy_output", "数字经济核心产业增加值", "Digital-economy core value added", "亿元", "amount", 0, None, 0.1, "at_least", "expected", 900, 0.09, 1.05),
    _Kpi("data_open_sets", "公共数据开放数据集", "Open public data sets", "项", "count", 0, None, 1, "at_least", "expected", 300, 0.18, 1.0),
    _Kpi("smart_schools", "数字化转型实验校", "Digital-transformation pilot schools", "所", "count", 0, None, 1, "at_least", "expected", 2, 0.4, 1.2),
    _Kpi("health_scenarios", "智慧医疗应用场景", "Smart-health scenarios", "个", "count", 0, None, 1, "at_least", "expected", 1, 0.5, 1.1),
    _Kpi("iot_closed_loop", "物联感知闭环处置场景", "IoT closed-loop scenarios", "个", "count", 0, None, 1, "at_least", "binding", 2, 0.4, 1.0),
    _Kpi("enterprise_online", "企业服务事项全程网办", "Enterprise services fully online", "项", "count", 0, None, 1, "at_least", "expected", 250, 0.12, 1.1),
    _Kpi("livelihood_citywide", "民生服务事项全市通办", "Livelihood services city-wide", "项", "count", 0, None, 1, "at_least", "expected", 120, 0.12, 1.0),
    _Kpi("elderly_digital", "老年人数字技能培训覆盖率", "Elderly digital-skills training coverage", "%", "share", 0, 100, 0.1, "at_least", "expected", 30, 0.15, 1.05),
    _Kpi("complaint_rate", "12345工单重复投诉率", "Repeat-complaint rate on 12345", "%", "share", 0, 100, 0.1, "at_most", "binding", 12, -0.08, 0.9),
    _Kpi("response_hours", "城运事件平均处置时长", "Average city-operations response time", "小时", "rate", 0, None, 0.1, "at_most", "expected", 30, -0.1, 0.95),
    _Kpi("digital_firms", "规上数字经济企业数", "Digital-economy firms above scale", "家", "count", 0, None, 1, "at_least", "expected", 500, 0.08, 1.05),
    _Kpi("gigabit_households", "千兆宽带覆盖家庭", "Households with gigabit broadband", "个", "count", 0, None, 1, "at_least", "expected", 300000, 0.2, 1.0),
    _Kpi("data_centre_pue", "数据中心平均PUE", "Average data-centre PUE", "", "rate", 1, None, 0.01, "at_most", "binding", 1.6, -0.03, 0.97),
    _Kpi("ecommerce_sales", "网络零售额", "Online retail sales", "亿元", "amount", 0, None, 0.1, "at_least", "expected", 1200, 0.1, 1.0),
    _Kpi("ai_applications", "人工智能示范应用", "AI demonstration applications", "个", "count", 0, None, 1, "at_least", "expected", 10, 0.3, 1.1),
    _Kpi("gov_cloud_level", "政务云综合服务水平", "Government-cloud service level", "级", "level", 1, 4, 1, "level", "binding", 2, 0.15, 1.0),
    _Kpi("satisfaction", "市民数字服务满意度", "Citizens' satisfaction with digital services", "%", "share", 0, 100, 0.1, "range", "expected", 80, 0.03, 1.0),
    _Kpi("sensor_uptime", "感知设备在线率", "Sensor uptime", "%", "share", 0, 100, 0.1, "at_least", "expected", 85, 0.1, 1.0),
    _Kpi("one_thing_new", "新增“一件事”", "New integrated 'one thing' services", "个", "count", 0, None, 1, "more_than", "expected", 2, 0.35, 1.0),
)  # fmt: skip

_REGIONS = {k: v for k, v in I18N_REGIONS.items() if k != "shanghai"}
DISTRICTS: tuple[str, ...] = tuple(_REGIONS)
REGION_NAMES: dict[str, tuple[str, str]] = dict(_REGIONS)

_DIMENSIONS = ("usage", "efficiency", "satisfaction", "coverage", "sustainability")
_DIM_WEIGHTS = (0.25, 0.25, 0.2, 0.15, 0.15)
_CATEGORIES = ("一网通办", "一网统管", "智慧社区", "智慧医疗", "数字教育", "数字商圈", "物联感知")
_OWNERS = ("区数据局", "区城运中心", "区卫健委", "区教育局", "区商务委", "街道办事处")
_MODELS = ("naive", "drift", "ets", "theta", "arima", "ensemble")
_METRICS = ("mase", "smape", "msis", "coverage80", "coverage95", "crps", "brier")
_KINDS = ("share", "count", "amount", "rate", "level")
_QUANTILES = {"q0.025": 0.025, "q0.1": 0.1, "q0.5": 0.5, "q0.9": 0.9, "q0.975": 0.975}
_LIKELIHOOD_TEXT = {
    "virtually_certain": "virtually certain", "very_likely": "very likely", "likely": "likely",
    "about_as_likely_as_not": "about as likely as not", "unlikely": "unlikely",
    "very_unlikely": "very unlikely", "exceptionally_unlikely": "exceptionally unlikely",
}  # fmt: skip

FIRST_YEAR = 2017
LAST_YEAR = 2023
HORIZON_END = 2026
MLFLOW_BASE = "http://127.0.0.1:5000"


def _bounded(values: np.ndarray, kpi: _Kpi) -> np.ndarray:
    lo = -np.inf if kpi.lower is None else kpi.lower
    hi = np.inf if kpi.upper is None else kpi.upper
    return np.clip(values, lo, hi)


def _path(kpi: _Kpi, years: np.ndarray, scale: float) -> np.ndarray:
    """A smooth path for ``years``: shares close a fraction of the gap to their bound each year."""
    t = years - FIRST_YEAR
    if kpi.kind == "share" and kpi.upper is not None and kpi.growth > 0:
        start = min(kpi.base * scale, kpi.upper * 0.98)
        return kpi.upper - (kpi.upper - start) * (1 - kpi.growth) ** t
    if kpi.kind == "level":
        return np.minimum(np.floor(kpi.base + kpi.growth * t * scale), kpi.upper or np.inf)
    return kpi.base * scale * (1 + kpi.growth) ** t


def make_published_tables(
    regions: tuple[str, ...] | list[str] = ("pudong", "hongkou"),
    *,
    n_kpis: int = 25,
    n_scenarios: int = 40,
    n_draws: int = 200,
    seed: int = 0,
) -> dict[str, pl.DataFrame]:
    """Build every published table for ``regions`` with invented numbers.

    Args:
        regions: region ids (see :data:`DISTRICTS`).
        n_kpis: KPIs per region (at most 25).
        n_scenarios: scenarios, spread over the regions.
        n_draws: predictive sample paths per KPI and region.
        seed: random seed; the same seed gives the same tables.

    Returns:
        Table name → frame conforming to :data:`dashboard.contract.TABLES`.
    """
    unknown = [r for r in regions if r not in _REGIONS]
    if unknown:
        raise ValueError(f"unknown region ids {unknown}; use ids from dashboard.synthetic.DISTRICTS")
    rng = np.random.default_rng(seed)
    kpi_defs = _KPIS[: max(1, min(n_kpis, len(_KPIS)))]
    vintage = datetime(2024, 3, 1, 9, 0)
    forecast_run = "run-forecast-ets-0001"
    years_hist = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    years_fc = np.arange(LAST_YEAR + 1, HORIZON_END + 1)

    kpis, obs, fcs, samples, att = [], [], [], [], []
    for region in regions:
        target_year = 2023 if region == "hongkou" else 2025
        for kpi in kpi_defs:
            scale = (
                float(rng.uniform(0.6, 1.4))
                if kpi.kind in ("count", "amount")
                else float(rng.uniform(0.9, 1.05))
            )
            hist = _path(kpi, years_hist.astype(float), scale)
            noise = 1 + rng.normal(0, 0.03, hist.size)
            hist = _bounded(hist * noise, kpi)
            if kpi.kind in ("level", "count"):
                hist = np.round(hist)
            if target_year <= LAST_YEAR:  # an older plan: the last observed year is its target year
                hist_years = years_hist[years_hist <= target_year]
                hist = hist[: hist_years.size]
                fc_years = np.arange(target_year + 1, HORIZON_END + 1)
            else:
                hist_years, fc_years = years_hist, years_fc
            last_year, last_value = int(hist_years[-1]), float(hist[-1])
            median = _path(kpi, fc_years.astype(float), scale)
            median = (
                median * last_value / max(float(_path(kpi, np.array([float(last_year)]), scale)[0]), 1e-9)
            )
            h = np.arange(1, fc_years.size + 1)
            spread = 0.04 * np.sqrt(h) if kpi.kind != "share" else 0.015 * np.sqrt(h)
            draws = median[None, :] * np.exp(rng.normal(0, 1, (n_draws, fc_years.size)) * spread[None, :])
            draws = _bounded(draws, kpi)
            if kpi.kind in ("level", "count"):
                draws = np.round(draws)
            at_target = _path(kpi, np.array([float(target_year)]), scale)[0]
            target_value = float(_bounded(np.array([at_target * kpi.target_ratio]), kpi)[0])
            target_value = round(target_value / kpi.precision) * kpi.precision
            target_high = None
            if kpi.target_kind == "full":
                target_value = float(kpi.upper or 100.0)
            elif kpi.target_kind == "range":
                target_value, target_high = 85.0, 95.0
            elif kpi.kind == "level":
                target_value = float(kpi.upper or 4.0)
            kpis.append(
                {
                    "kpi_id": kpi.kpi_id, "region": region, "name_zh": kpi.name_zh, "name_en": kpi.name_en,
                    "unit": kpi.unit, "kind": kpi.kind, "direction": "down" if kpi.target_kind == "at_most" else "up",
                    "lower": kpi.lower, "upper": kpi.upper, "precision": kpi.precision,
                    "cumulative": kpi.kind == "count", "survey": kpi.kpi_id == "satisfaction",
                    "levels": "基础级|标准级|增强级|先进级" if kpi.kind == "level" else None,
                    "target_kind": kpi.target_kind, "target_value": target_value, "target_high": target_high,
                    "target_label": "先进级" if kpi.kind == "level" else None, "target_year": target_year,
                    "obligation": kpi.obligation, "source": SYNTHETIC_SOURCE,
                }
            )  # fmt: skip
            for year, value in zip(hist_years, hist, strict=True):
                obs.append(
                    {
                        "kpi_id": kpi.kpi_id, "region": region, "period": date(int(year), 1, 1), "freq": "Y",
                        "value": float(value), "std_error": 1.2 if kpi.kpi_id == "satisfaction" else None,
                        "qualifier": "=", "source": SYNTHETIC_SOURCE, "status": "final", "note": None,
                        "vintage": vintage, "data_set": SYNTHETIC_SOURCE,
                    }
                )  # fmt: skip
            qs = {name: np.quantile(draws, q, axis=0) for name, q in _QUANTILES.items()}
            for j, year in enumerate(fc_years):
                for model, shift in (("ets", 1.0), ("theta", 1.0 + float(rng.normal(0, 0.02)))):
                    fcs.append(
                        {
                            "kpi_id": kpi.kpi_id, "region": region, "period": int(year), "model": model,
                            "mean": float(draws[:, j].mean() * shift),
                            **{name: float(q[j] * shift) for name, q in qs.items()},
                            "run_id": forecast_run if model == "ets" else "run-forecast-theta-0001",
                        }
                    )  # fmt: skip
                samples.append(
                    pl.DataFrame(
                        {
                            "kpi_id": kpi.kpi_id,
                            "region": region,
                            "period": int(year),
                            "draw": np.arange(n_draws, dtype=np.int32),
                            "value": draws[:, j],
                        }
                    )
                )
            spec: dict[str, Any] = {
                "target_kind": kpi.target_kind, "target_value": target_value, "target_high": target_high,
                "upper": kpi.upper, "precision": kpi.precision,
            }  # fmt: skip
            reached_now = bool(meets_target(np.array([last_value]), **spec)[0])
            if target_year in fc_years:
                p = float(
                    meets_target(draws[:, int(np.flatnonzero(fc_years == target_year)[0])], **spec).mean()
                )
            else:
                p = 1.0 if reached_now else 0.0
            status = (
                "achieved" if reached_now
                else "on_track" if p >= 0.66 else "at_risk" if p >= 0.33 else "off_track"
            )  # fmt: skip
            hits = [
                int(y)
                for y, m in zip(fc_years, median, strict=True)
                if meets_target(np.array([m]), **spec)[0]
            ]
            years_left = max(target_year - last_year, 1)
            ratio = target_value / last_value if last_value > 0 else np.nan
            key = likelihood_key(p)
            att.append(
                {
                    "kpi_id": kpi.kpi_id, "region": region, "target_year": target_year, "p_reach": p,
                    "status": status, "likelihood": _LIKELIHOOD_TEXT[key] if key else None,
                    "anticipated_growth": float((median[-1] / last_value) ** (1 / fc_years.size) - 1)
                    if last_value > 0 else None,
                    "required_growth": float(ratio ** (1 / years_left) - 1) if np.isfinite(ratio) and ratio > 0 else None,
                    "expected_year": (last_year if reached_now else (hits[0] if hits else None)),
                    "gap": target_value - last_value, "last_value": last_value, "last_year": last_year,
                    "model": "ets", "run_id": forecast_run,
                }
            )  # fmt: skip

    tables: dict[str, pl.DataFrame] = {
        "kpis": pl.DataFrame(kpis, infer_schema_length=None),
        "observations": pl.DataFrame(obs, infer_schema_length=None),
        "forecasts": pl.DataFrame(fcs, infer_schema_length=None),
        "forecast_samples": pl.concat(samples),
        "attainment": pl.DataFrame(att, infer_schema_length=None),
    }
    tables.update(_scenario_tables(list(regions), n_scenarios, rng))
    tables.update(_model_tables(rng, vintage))
    return {name: conform(name, frame) for name, frame in tables.items()}


def _scenario_tables(regions: list[str], n: int, rng: np.random.Generator) -> dict[str, pl.DataFrame]:
    streets = {r: [f"{REGION_NAMES[r][0][:-1]}{s}街道" for s in ("东", "西", "南", "北")] for r in regions}
    domains = ("life", "governance", "economy")
    scen: list[dict[str, Any]] = []
    scores: list[dict[str, Any]] = []
    expl: list[dict[str, Any]] = []
    eff: list[dict[str, Any]] = []
    series: list[pl.DataFrame] = []
    sens: list[dict[str, Any]] = []
    dims = rng.uniform(40, 97, (n, len(_DIMENSIONS)))
    totals = dims @ np.array(_DIM_WEIGHTS)
    order = np.argsort(-totals)
    ranks = np.empty(n, dtype=int)
    ranks[order] = np.arange(1, n + 1)
    for i in range(n):
        sid = f"S{i + 1:03d}"
        region = regions[i % len(regions)]
        category = _CATEGORIES[i % len(_CATEGORIES)]
        launch = date(2022, 1 + (i % 12), 1)
        scen.append(
            {
                "scenario_id": sid, "name_zh": f"{category}场景{i + 1}", "name_en": f"Scenario {i + 1}",
                "region": region, "street": streets[region][i % 4], "domain": domains[i % 3],
                "category": category, "owner": _OWNERS[i % len(_OWNERS)], "launch_date": launch,
                "budget": float(round(rng.uniform(50, 3000), 1)), "outcome": "processing_days",
                "source": SYNTHETIC_SOURCE,
            }
        )  # fmt: skip
        total = float(totals[i])
        width = int(rng.integers(1, max(3, n // 10)))
        p = np.array([_p_above(total, 85), _p_above(total, 75), _p_above(total, 60)])
        grade = "优秀" if total >= 85 else "良好" if total >= 75 else "合格" if total >= 60 else "不合格"
        missing = "satisfaction_survey" if i % 11 == 5 else ""
        scores.append(
            {
                "scenario_id": sid, "period": "2024", "scheme": "default",
                **{f"dim_{d}": float(dims[i, k]) for k, d in enumerate(_DIMENSIONS)},
                "total": total, "grade": grade, "rank": int(ranks[i]),
                "rank_lo": max(1, int(ranks[i]) - width), "rank_hi": min(n, int(ranks[i]) + width),
                "p_grade_excellent": float(p[0]), "p_grade_good": float(p[1] - p[0]),
                "p_grade_pass": float(p[2] - p[1]), "p_grade_fail": float(1 - p[2]),
                "benchmark": int(ranks[i]) <= max(1, n // 20), "missing_indicators": missing,
                "run_id": "run-score-0001",
            }
        )  # fmt: skip
        for k, d in enumerate(_DIMENSIONS):
            for j in range(2):
                norm = float(np.clip(dims[i, k] / 100 + rng.normal(0, 0.05), 0, 1))
                weight = _DIM_WEIGHTS[k] / 2
                expl.append(
                    {
                        "scenario_id": sid, "period": "2024", "dimension": d, "indicator_id": f"{d}_{j + 1}",
                        "raw_value": float(round(norm * 120, 1)), "normalised": norm, "weight": weight,
                        "contribution": norm * weight * 100,
                    }
                )  # fmt: skip
        enough = i % 19 != 7
        effect = float(rng.normal(-1.5, 0.8))
        half = abs(effect) * 0.6 + 0.3
        eff.append(
            {
                "scenario_id": sid, "outcome": "processing_days", "method": "its" if i % 4 else "did",
                "effect": effect if enough else None, "ci_lo": effect - half if enough else None,
                "ci_hi": effect + half if enough else None, "p_value": float(rng.uniform(0.001, 0.2)) if enough else None,
                "n_pre": 12 if enough else 3, "n_post": 12 if enough else 2,
                "status": "ok" if enough else "insufficient_data", "run_id": "run-efficacy-0001",
            }
        )  # fmt: skip
        if enough:
            months = [_add_months(launch, m) for m in range(-12, 12)]
            base = 10 + rng.normal(0, 0.5)
            trend = base - 0.02 * np.arange(24)
            post = np.arange(24) >= 12
            observed = trend + np.where(post, effect, 0) + rng.normal(0, 0.3, 24)
            series.append(
                pl.DataFrame(
                    {
                        "scenario_id": sid,
                        "outcome": "processing_days",
                        "period": months,
                        "observed": observed,
                        "fitted": trend + np.where(post, effect, 0),
                        "counterfactual": trend,
                    }
                )
            )
    for k, d in enumerate(_DIMENSIONS):
        for delta in (-0.1, 0.1):
            shift = dims[:, k] - dims.mean(axis=1)
            new_totals = totals + delta * shift
            new_order = np.argsort(-new_totals)
            new_ranks = np.empty(n, dtype=int)
            new_ranks[new_order] = np.arange(1, n + 1)
            sens.extend(
                {
                    "scheme": "default", "dimension": d, "delta": delta, "scenario_id": f"S{i + 1:03d}",
                    "rank": int(new_ranks[i]), "rank_change": int(new_ranks[i] - ranks[i]),
                }
                for i in range(n)
            )  # fmt: skip
    return {
        "scenarios": pl.DataFrame(scen, infer_schema_length=None),
        "scores": pl.DataFrame(scores, infer_schema_length=None),
        "explanations": pl.DataFrame(expl, infer_schema_length=None),
        "efficacy": pl.DataFrame(eff, infer_schema_length=None),
        "efficacy_series": pl.concat(series) if series else pl.DataFrame(schema=TABLES["efficacy_series"]),
        "sensitivity": pl.DataFrame(sens, infer_schema_length=None),
    }


def _model_tables(rng: np.random.Generator, vintage: datetime) -> dict[str, pl.DataFrame]:
    metrics = []
    for model in _MODELS:
        skill = {"naive": 1.0, "drift": 0.95, "ets": 0.8, "theta": 0.82, "arima": 0.88, "ensemble": 0.78}[
            model
        ]
        for kind in _KINDS:
            for h in (1, 2, 3):
                for metric in _METRICS:
                    if metric.startswith("coverage"):
                        nominal = 0.8 if metric == "coverage80" else 0.95
                        value = float(np.clip(nominal - rng.uniform(0, 0.15) * skill, 0, 1))
                    elif metric == "brier":
                        value = float(0.12 * skill + rng.uniform(0, 0.05))
                    else:
                        value = float(skill * (0.6 + 0.25 * h) * rng.uniform(0.8, 1.2))
                    metrics.append(
                        {"model": model, "kind": kind, "horizon": h, "metric": metric, "value": value,
                         "run_id": f"run-forecast-{model}-0001"}
                    )  # fmt: skip
    calibration = []
    for model in _MODELS:
        for b in range(10):
            lo, hi = b / 10, (b + 1) / 10
            predicted = (lo + hi) / 2
            calibration.append(
                {
                    "model": model, "bin_lo": lo, "bin_hi": hi, "predicted_mean": predicted,
                    "observed_freq": float(np.clip(predicted + rng.normal(0, 0.06), 0, 1)),
                    "n": int(rng.integers(5, 60)), "run_id": f"run-forecast-{model}-0001",
                }
            )  # fmt: skip
    runs = [
        {
            "run_id": "run-pipeline-0001", "run_name": "dtscope run", "kind": "pipeline", "status": "FINISHED",
            "start_time": vintage, "end_time": vintage + timedelta(minutes=4), "params_json": json.dumps({"as_of": "2024-03-01"}),
            "metrics_json": "{}", "alias": None, "mlflow_url": f"{MLFLOW_BASE}/#/experiments/1/runs/run-pipeline-0001",
        }
    ]  # fmt: skip
    for model in _MODELS:
        run_id = f"run-forecast-{model}-0001"
        runs.append(
            {
                "run_id": run_id, "run_name": f"forecast {model}", "kind": "forecast", "status": "FINISHED",
                "start_time": vintage + timedelta(minutes=1), "end_time": vintage + timedelta(minutes=3),
                "params_json": json.dumps({"model": model}), "metrics_json": json.dumps({"crps": 0.5}),
                "alias": "champion" if model == "ets" else "challenger",
                "mlflow_url": f"{MLFLOW_BASE}/#/experiments/2/runs/{run_id}",
            }
        )  # fmt: skip
    runs.append(
        {
            "run_id": "run-score-0001", "run_name": "score default", "kind": "score", "status": "FINISHED",
            "start_time": vintage, "end_time": vintage + timedelta(minutes=1), "params_json": "{}",
            "metrics_json": "{}", "alias": None, "mlflow_url": f"{MLFLOW_BASE}/#/experiments/3/runs/run-score-0001",
        }
    )  # fmt: skip
    ingests = [
        {"ingest_id": f"ing-{k}", "file": name, "file_sha256": f"{k:064x}", "layout": layout,
         "vintage": vintage - timedelta(days=30 * (3 - k)), "rows_in": rows, "accepted": rows - bad,
         "rejected": bad, "unchanged": 0}
        for k, (name, layout, rows, bad) in enumerate(
            [("demo_observations.csv", "long", 1200, 0), ("district_2023.xlsx", "wide", 64, 3),
             ("published_figures.csv", "published", 90, 2)], start=1)
    ]  # fmt: skip
    rejects = [
        {"ingest_id": "ing-2", "file": "district_2023.xlsx", "file_sha256": f"{2:064x}", "row": row,
         "column": column, "reason_code": code, "reason": reason, "raw": "{}", "vintage": ingests[1]["vintage"]}
        for row, column, code, reason in [
            (5, "2022", "out_of_bounds", "value 104.0 is above the upper bound 100 of 5g_coverage"),
            (9, "kpi_id", "unknown_kpi", "unknown KPI 'iot_node'; did you mean iot_nodes?"),
            (12, "region", "unknown_region", "unknown region '浦西'"),
        ]
    ] + [
        {"ingest_id": "ing-3", "file": "published_figures.csv", "file_sha256": f"{3:064x}", "row": row,
         "column": "value", "reason_code": "unparseable", "reason": "cannot read '约两成' as a number", "raw": "{}",
         "vintage": ingests[2]["vintage"]}
        for row in (17, 40)
    ]  # fmt: skip
    return {
        "backtest_metrics": pl.DataFrame(metrics, infer_schema_length=None),
        "calibration": pl.DataFrame(calibration, infer_schema_length=None),
        "runs": pl.DataFrame(runs, infer_schema_length=None),
        "ingests": pl.DataFrame(ingests, infer_schema_length=None),
        "rejects": pl.DataFrame(rejects, infer_schema_length=None),
    }


def _p_above(total: float, threshold: float, sd: float = 4.0) -> float:
    """P(score > threshold) for a score known to ±``sd`` (a normal approximation)."""
    from math import erf, sqrt

    return 0.5 * (1 + erf((total - threshold) / (sd * sqrt(2))))


def _add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month.

    >>> _add_months(date(2022, 11, 1), 3), _add_months(date(2022, 1, 1), -1)
    (datetime.date(2023, 2, 1), datetime.date(2021, 12, 1))
    """
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def write_published_tables(tables: dict[str, pl.DataFrame], published_dir: Path) -> list[Path]:
    """Write each table as ``<published_dir>/<name>.parquet``; returns the paths written."""
    published_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in tables.items():
        path = published_dir / f"{name}.parquet"
        frame.write_parquet(path)
        paths.append(path)
    return paths
