"""Pure frame → frame / text functions behind the pages: the KPI grid, sentences, the what-if.

Nothing here fits or scores: the what-if rescales the *published* predictive sample paths.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from dashboard.contract import SYNTHETIC_SOURCE
from dashboard.i18n import format_pct, format_value, t

# Imported with the app, not on the first what-if: it pulls in scipy (~1.5 s), which made the first
# KPI page a visitor opened after a restart take over 2 s on the server.
from evaluation.forecasting.attainment import Target, what_if
from evaluation.likelihood import likelihood_key

STATUS_ORDER = ("off_track", "at_risk", "on_track", "achieved")

GRID_COLUMNS = (
    "kpi_id", "region", "name_zh", "name_en", "unit", "kind", "direction", "lower", "upper", "precision",
    "obligation", "target_kind", "target_value", "target_high", "target_label", "target_year",
    "last_value", "last_year", "p_reach", "status", "likelihood", "anticipated_growth", "required_growth",
    "expected_year", "model", "run_id", "synthetic",
)  # fmt: skip


def is_synthetic(*frames: pl.DataFrame | None) -> bool:
    """True when any row of any frame is synthetic demo data.

    Observations say it by ``provenance`` (set by the loader) or the ``data_set`` derived from it, never
    by their free-text ``source``; other tables (scenarios, scores), which only the demo loader writes,
    by ``source``.

    >>> is_synthetic(pl.DataFrame({"source": ["x", "synthetic-demo"]}), None)
    True
    >>> is_synthetic(pl.DataFrame({"data_set": ["published"]}))
    False
    >>> is_synthetic(pl.DataFrame({"source": ["synthetic-demo"], "provenance": ["uploaded"]}))
    False
    """
    for frame in frames:
        if frame is None:
            continue
        if frame.height and _synthetic_rows(frame).any():
            return True
    return False


def _synthetic_rows(frame: pl.DataFrame) -> pl.Series:
    """Per row: synthetic demo data (by provenance, else data_set, else source)."""
    if "provenance" in frame.columns:
        return frame["provenance"] == "synthetic"
    if "data_set" in frame.columns:
        return frame["data_set"] == SYNTHETIC_SOURCE
    if "source" in frame.columns:
        return frame["source"] == SYNTHETIC_SOURCE
    return pl.Series([False] * frame.height)


def likelihood_label(p: float | None, lang: str) -> str:
    """The IPCC likelihood words for ``p`` in ``lang`` (the one scale, :mod:`evaluation.likelihood`); "" for none.

    Every page and the brief put words on a probability through this function, from ``p`` itself, so the
    words never disagree with the number shown next to them.

    >>> likelihood_label(0.33, "en"), likelihood_label(0.5, "zh"), likelihood_label(None, "en")
    ('unlikely', '可能性约一半', '')
    """
    key = likelihood_key(p)
    return t(f"likelihood.{key}", lang) if key else ""


def kpi_grid(
    kpis: pl.DataFrame, attainment: pl.DataFrame | None, observations: pl.DataFrame | None
) -> pl.DataFrame:
    """One row per KPI and region: its target, latest value and attainment.

    Args:
        kpis: the ``kpis`` table.
        attainment: the ``attainment`` table, or None when not published (p_reach etc. are then null).
        observations: the ``observations`` table, used for the latest value when ``attainment`` has
            none, and for the ``synthetic`` flag; may be None.

    Returns:
        Columns :data:`GRID_COLUMNS`; ``synthetic`` is True when the KPI's observations include
        synthetic-demo rows.
    """
    grid = kpis.select(
        "kpi_id", "region", "name_zh", "name_en", "unit", "kind", "direction", "lower", "upper", "precision",
        "obligation", "target_kind", "target_value", "target_high", "target_label", "target_year",
    )  # fmt: skip
    if observations is not None and observations.height:
        latest = (
            observations.sort("period", "vintage", nulls_last=False)
            .group_by("kpi_id", "region")
            .agg(
                pl.col("value").last().alias("obs_value"),
                pl.col("period").last().dt.year().cast(pl.Int32).alias("obs_year"),
                (
                    pl.col("provenance") == "synthetic"
                    if "provenance" in observations.columns
                    else pl.col("data_set") == SYNTHETIC_SOURCE
                )
                .fill_null(False)
                .any()
                .alias("synthetic"),
            )
        )
        grid = grid.join(latest, on=["kpi_id", "region"], how="left")
    else:
        grid = grid.with_columns(
            pl.lit(None, pl.Float64).alias("obs_value"),
            pl.lit(None, pl.Int32).alias("obs_year"),
            pl.lit(False).alias("synthetic"),
        )
    att_cols = [
        "p_reach", "status", "likelihood", "anticipated_growth", "required_growth", "expected_year",
        "last_value", "last_year", "model", "run_id",
    ]  # fmt: skip
    if attainment is not None and attainment.height:
        # The attainment row for the KPI's own target year; a KPI without one keeps nulls.
        att = attainment.select("kpi_id", "region", "target_year", *att_cols).unique(
            ["kpi_id", "region", "target_year"], keep="last"
        )
        grid = grid.join(att, on=["kpi_id", "region", "target_year"], how="left", nulls_equal=True)
    else:
        grid = grid.with_columns(
            pl.lit(None, pl.Float64).alias("p_reach"),
            pl.lit(None, pl.String).alias("status"),
            pl.lit(None, pl.String).alias("likelihood"),
            pl.lit(None, pl.Float64).alias("anticipated_growth"),
            pl.lit(None, pl.Float64).alias("required_growth"),
            pl.lit(None, pl.Int32).alias("expected_year"),
            pl.lit(None, pl.Float64).alias("last_value"),
            pl.lit(None, pl.Int32).alias("last_year"),
            pl.lit(None, pl.String).alias("model"),
            pl.lit(None, pl.String).alias("run_id"),
        )
    grid = grid.with_columns(
        pl.coalesce("last_value", "obs_value").alias("last_value"),
        pl.coalesce(pl.col("last_year").cast(pl.Int32), "obs_year").alias("last_year"),
        pl.col("synthetic").fill_null(False),
    )
    return grid.select(GRID_COLUMNS)


def filter_grid(
    grid: pl.DataFrame,
    *,
    region: str | None = None,
    statuses: Sequence[str] | None = None,
    obligation: str | None = None,
    search: str | None = None,
    sort: str = "p_asc",
) -> pl.DataFrame:
    """Filter and sort the KPI grid the way the overview's controls ask.

    Args:
        grid: output of :func:`kpi_grid`.
        region: a region id, or None / ``"all"`` for every region.
        statuses: keep these statuses (None or empty keeps all; ``"unknown"`` keeps null statuses).
        obligation: ``"binding"`` or ``"expected"``; None / ``"all"`` keeps both.
        search: case-insensitive text matched against the KPI id and both names.
        sort: ``p_asc``, ``p_desc``, ``name`` or ``status`` (worst first).

    Returns:
        The selected rows of ``grid``, same columns.

    >>> g = pl.DataFrame({"kpi_id": ["a", "b"], "region": ["x", "y"], "name_zh": ["甲", "乙"],
    ...     "name_en": ["A", "B"], "obligation": ["binding", "expected"], "p_reach": [0.9, 0.2],
    ...     "status": ["on_track", "off_track"]})
    >>> filter_grid(g, sort="p_asc")["kpi_id"].to_list(), filter_grid(g, region="x")["kpi_id"].to_list()
    (['b', 'a'], ['a'])
    """
    out = grid
    if region and region != "all":
        out = out.filter(pl.col("region") == region)
    if statuses:
        wanted = [s for s in statuses if s != "unknown"]
        keep = pl.col("status").is_in(wanted)
        if "unknown" in statuses:
            keep = keep | pl.col("status").is_null()
        out = out.filter(keep.fill_null(False))
    if obligation and obligation != "all":
        out = out.filter(pl.col("obligation") == obligation)
    if search and search.strip():
        needle = search.strip().lower()
        out = out.filter(
            pl.col("kpi_id").str.to_lowercase().str.contains(needle, literal=True)
            | pl.col("name_zh").str.contains(needle, literal=True)
            | pl.col("name_en").str.to_lowercase().str.contains(needle, literal=True)
        )
    if sort == "p_desc":
        return out.sort("p_reach", "kpi_id", descending=[True, False], nulls_last=True)
    if sort == "name":
        return out.sort("name_zh", "region")
    if sort == "status":
        rank = pl.col("status").replace_strict(
            {s: i for i, s in enumerate(STATUS_ORDER)}, default=len(STATUS_ORDER), return_dtype=pl.Int32
        )
        return out.with_columns(rank.alias("_s")).sort("_s", "p_reach", nulls_last=True).drop("_s")
    return out.sort("p_reach", "kpi_id", nulls_last=True)


def target_text(row: dict[str, Any], lang: str) -> str:
    """The target as a reader writes it: ``≥1000 Mbps``, ``100%``, ``80%–90%``, ``先进级``.

    >>> target_text({"target_kind": "at_least", "target_value": 80.0, "unit": "%"}, "zh")
    '≥80%'
    >>> target_text({"target_kind": None, "target_value": None, "unit": "%"}, "en")
    '—'
    """
    kind = row.get("target_kind")
    unit = row.get("unit")
    value = row.get("target_value")
    if row.get("target_label"):
        return str(row["target_label"])
    if kind is None or value is None:
        return "—"
    text = format_value(value, unit, lang)
    if kind == "range":
        return f"{text}–{format_value(row.get('target_high'), unit, lang)}"
    return {"at_least": "≥", "at_most": "≤", "more_than": ">"}.get(kind, "") + text


def kpi_sentence(row: dict[str, Any], lang: str) -> str:
    """The plain-language line for a KPI, e.g. ``likely to reach ≥85% by 2025: 78%``.

    Args:
        row: a row of :func:`kpi_grid` as a dict.
        lang: ``"zh"`` or ``"en"``.

    Returns:
        The sentence.

    >>> row = {"target_kind": "at_least", "target_value": 85.0, "unit": "%", "target_year": 2025,
    ...        "p_reach": 0.78, "status": "on_track", "likelihood": None}
    >>> kpi_sentence(row, "en")
    'likely to reach ≥85% by 2025: 78%'
    >>> kpi_sentence(row, "zh")
    '2025年达到≥85%的可能性：78%（可能）'
    >>> kpi_sentence({**row, "status": "off_track", "last_year": 2025, "last_value": 80.0}, "en")
    'target ≥85% for 2025 not reached; latest 80%'
    """
    if row.get("target_kind") is None or row.get("target_year") is None:
        return t("sentence.no_target", lang)
    target = target_text(row, lang)
    if row.get("status") == "achieved":
        return t("sentence.achieved", lang, target=target, year=row.get("last_year") or row["target_year"])
    last_year = row.get("last_year")
    if (
        last_year is not None
        and last_year >= row["target_year"]
        and row.get("status") in ("off_track", "at_risk")
    ):
        latest = format_value(row.get("last_value"), row.get("unit"), lang)
        return t("sentence.missed", lang, target=target, year=row["target_year"], latest=latest)
    p = row.get("p_reach")
    if p is None:
        return t("sentence.no_forecast", lang)
    return t(
        "sentence.reach",
        lang,
        year=row["target_year"],
        target=target,
        p=format_pct(p),
        likelihood=likelihood_label(p, lang),
    )


def whatif_probability(
    draws: np.ndarray,
    *,
    growth: float,
    years_ahead: float,
    target_kind: str,
    target_value: float,
    target_high: float | None = None,
    lower: float | None = None,
    upper: float | None = None,
    precision: float | None = None,
    added_per_year: float = 0.0,
) -> float:
    """Probability of reaching the target if the KPI grew by an extra ``growth`` each year.

    The published draws are equal-probability quantiles of the predictive distribution for the target
    year (draw ``j`` of ``n`` at probability ``(j + 1) / (n + 1)``). Each is scaled by
    ``(1 + growth) ** years_ahead``, shifted by ``added_per_year × years_ahead`` (scenarios added each year
    to a cumulative count, see :func:`added_scenarios_lever`) and clipped to the natural bounds, and the
    probability is read off the interpolated distribution with
    :func:`evaluation.forecasting.attainment.what_if` — the same rule the pipeline used for the published
    ``p_reach``, so with both levers at zero the two agree. No model is refitted.

    Args:
        draws: 1-D predictive quantile draws of the KPI in its target year.
        growth: extra annual growth as a fraction (0.02 = +2% a year); must be > -1.
        years_ahead: target year minus the last observed year.
        target_kind, target_value, target_high, precision: the registry target.
        lower, upper: the KPI's natural bounds (None = unbounded).
        added_per_year: units added to the KPI each year (0 = none), on top of the growth.

    Returns:
        A probability in [0, 1].

    >>> d = np.array([70.0, 80.0, 90.0, 100.0])
    >>> whatif_probability(d, growth=0.0, years_ahead=2, target_kind="at_least", target_value=85.0)
    0.5
    >>> round(whatif_probability(d, growth=0.1, years_ahead=2, target_kind="at_least", target_value=85.0,
    ...                          upper=100.0), 3)
    0.795
    >>> whatif_probability(d, growth=0.0, years_ahead=2, target_kind="at_least", target_value=85.0,
    ...                    added_per_year=5.0)  # +10 by the target year: 85 is where 75 was
    0.7
    """
    if growth <= -1:
        raise ValueError(f"growth must be above -100% (got {growth}); it is a fraction, 0.02 = +2% a year")
    values = np.sort(np.asarray(draws, dtype=float))
    if values.size == 0:
        raise ValueError("no predictive draws to rescale; publish forecast_samples for this KPI")
    probs = np.arange(1, values.size + 1) / (values.size + 1)
    return what_if(
        probs,
        values,
        Target(target_kind, target_value, high=target_high, precision=precision or 0.0, upper=upper),
        steps=max(years_ahead, 0.0),  # type: ignore[arg-type]
        extra_growth=growth,
        lower=lower,
        added_per_step=added_per_year,
    )


# A KPI counts scenarios when it is a cumulative count in 个 whose Chinese name says 场景 (scenario), as the
# registry's 高效处置一件事 benchmark scenarios, 政社联合共建 governance scenarios, 智能物联 closed-loop IoT and
# 便捷就医 scenarios do; the registry has no other marker for what a count counts.
SCENARIO_WORD = "场景"
SCENARIO_UNIT = "个"


def added_scenarios_lever(kpi: Mapping[str, Any], years_ahead: float | None) -> str | None:
    """Why the "added scenarios per year" what-if does not apply to ``kpi``, or None when it does.

    The lever adds N scenarios a year to the KPI, so it only makes sense for a cumulative count of
    scenarios (adding to a share, an amount or a yearly flow would be meaningless) with years left
    before the target.

    Args:
        kpi: the KPI's ``kpis`` row (``kind``, ``unit``, ``cumulative``, ``name_zh``).
        years_ahead: target year minus the last observed year (None when unknown).

    Returns:
        None, or the label key of the short explanation shown instead of the lever.

    >>> row = {"kind": "count", "unit": "个", "cumulative": True, "name_zh": "“高效处置一件事”标杆场景数量"}
    >>> added_scenarios_lever(row, 2.0) is None
    True
    >>> added_scenarios_lever({**row, "unit": "%", "kind": "share"}, 2.0)
    'kpi.added_na_scenarios'
    >>> added_scenarios_lever({**row, "cumulative": False}, 2.0), added_scenarios_lever(row, 0.0)
    ('kpi.added_na_cumulative', 'kpi.added_na_years')
    """
    if (
        kpi.get("kind") != "count"
        or kpi.get("unit") != SCENARIO_UNIT
        or SCENARIO_WORD not in (kpi.get("name_zh") or "")
    ):
        return "kpi.added_na_scenarios"
    if not kpi.get("cumulative"):
        return "kpi.added_na_cumulative"
    if years_ahead is None or years_ahead <= 0:
        return "kpi.added_na_years"
    return None


def added_scenarios_max(target: float | None, last: float | None, years_ahead: float) -> int:
    """The top of the "added scenarios per year" slider: twice the yearly pace that closes the gap to the
    target, rounded up to a multiple of 5 (at least 5, at most 200).

    >>> added_scenarios_max(50.0, 30.0, 2.0), added_scenarios_max(10.0, 12.0, 2.0), added_scenarios_max(None, 3, 1)
    (20, 5, 5)
    """
    if target is None or last is None or years_ahead <= 0:
        return 5
    pace = max(float(target) - float(last), 0.0) / years_ahead
    return int(min(max(5 * math.ceil(2 * pace / 5), 5), 200))


def league_table(
    scores: pl.DataFrame,
    scenarios: pl.DataFrame | None,
    *,
    filters: Mapping[str, Iterable[str] | None] | None = None,
    period: str | None = None,
    scheme: str | None = None,
) -> pl.DataFrame:
    """Scores joined to scenario attributes, filtered, sorted by rank.

    Args:
        scores: the ``scores`` table.
        scenarios: the ``scenarios`` table (None: names fall back to the id).
        filters: column → allowed values for ``domain``, ``region``, ``street``, ``category``, ``owner``;
            None or empty means no filter on that column.
        period: the period to show (default: the latest).
        scheme: the assessment scheme (default: the first alphabetically).

    Returns:
        ``scores`` columns plus ``name_zh, name_en, region, street, domain, category, owner, budget,
        launch_date, source``, one row per scenario, sorted by ``rank``.

    >>> s = pl.DataFrame({"scenario_id": ["a", "b"], "period": ["2024"] * 2, "scheme": ["x"] * 2,
    ...     "total": [80.0, 60.0], "rank": [1, 2]})
    >>> c = pl.DataFrame({"scenario_id": ["a", "b"], "domain": ["life", "economy"]})
    >>> league_table(s, c, filters={"domain": ["economy"]})["scenario_id"].to_list()
    ['b']
    """
    attrs = [
        "name_zh",
        "name_en",
        "region",
        "street",
        "domain",
        "category",
        "owner",
        "budget",
        "launch_date",
        "source",
    ]
    if scores.height == 0:
        return scores
    period = period or max(scores["period"].to_list())
    scheme = scheme or min(scores["scheme"].to_list())
    out = scores.filter((pl.col("period") == period) & (pl.col("scheme") == scheme))
    if scenarios is not None:
        keep = ["scenario_id", *[a for a in attrs if a in scenarios.columns]]
        out = out.join(scenarios.select(keep), on="scenario_id", how="left")
    for attr in attrs:
        if attr not in out.columns:
            out = out.with_columns(pl.lit(None, pl.String).alias(attr))
    out = out.with_columns(
        pl.col("name_zh").fill_null(pl.col("scenario_id")), pl.col("name_en").fill_null(pl.col("scenario_id"))
    )
    for column, allowed in (filters or {}).items():
        values = list(allowed or [])
        if values:
            out = out.filter(pl.col(column).is_in(values).fill_null(False))
    return out.sort("rank", "scenario_id")


def dimension_columns(scores: pl.DataFrame) -> list[str]:
    """The ``dim_*`` columns of ``scores``, in table order.

    >>> dimension_columns(pl.DataFrame({"total": [1.0], "dim_usage": [2.0], "dim_cost": [3.0]}))
    ['dim_usage', 'dim_cost']
    """
    return [c for c in scores.columns if c.startswith("dim_")]


SUMMARY_METRICS = ("crps", "mase", "coverage80", "coverage95", "brier")


def champion_table(runs: pl.DataFrame, metrics: pl.DataFrame | None) -> pl.DataFrame:
    """Champion and challenger runs with their published backtest metrics, one row per run and KPI kind.

    ``backtest_metrics`` holds, per run, model and KPI kind, one row per forecast horizon and a
    ``horizon = 0`` row over all horizons. The table shows exactly those ``horizon = 0`` figures; it never
    averages rows of different horizons or kinds together (they count different backtest rows, and the
    mean of them is none of the published figures).

    Args:
        runs: the ``runs`` table.
        metrics: the ``backtest_metrics`` table, or None.

    Returns:
        ``run_id, run_name, alias, mlflow_url, kind`` plus one Float64 column per metric in
        :data:`SUMMARY_METRICS` that the metrics table has; the production version first, then by run and kind.
        ``kind`` is null for a run without published metrics.

    >>> runs = pl.DataFrame({"run_id": ["a", "b", "c"], "run_name": ["x", "y", "z"],
    ...     "alias": ["challenger", "production", None], "mlflow_url": [None, None, None]})
    >>> m = pl.DataFrame({"run_id": ["b", "b", "b", "a"], "kind": ["share", "share", "count", "share"],
    ...     "horizon": [0, 1, 0, 0], "metric": ["crps"] * 4, "value": [1.0, 9.0, 2.0, 3.0]})
    >>> champion_table(runs, m).select("run_id", "kind", "crps").rows()
    [('b', 'count', 2.0), ('b', 'share', 1.0), ('a', 'share', 3.0)]
    """
    ranked = runs.filter(pl.col("alias").is_not_null()).select("run_id", "run_name", "alias", "mlflow_url")
    if metrics is not None and metrics.height:
        wide = (
            metrics.filter((pl.col("horizon") == 0) & pl.col("metric").is_in(SUMMARY_METRICS))
            .group_by("run_id", "kind", "metric")
            .agg(pl.col("value").first())  # one published figure per run, kind and metric
            .pivot(on="metric", index=["run_id", "kind"], values="value")
        )
        ranked = ranked.join(wide, on="run_id", how="left")
    else:
        ranked = ranked.with_columns(pl.lit(None, pl.String).alias("kind"))
    order = pl.when(pl.col("alias") == "production").then(0).otherwise(1)
    return ranked.with_columns(order.alias("_o")).sort("_o", "run_id", "kind", nulls_last=True).drop("_o")


def query_number(text: str | None) -> float:
    """A URL query number, 0 when absent or unreadable.

    >>> query_number("2.5"), query_number(None), query_number("x")
    (2.5, 0.0, 0.0)
    """
    try:
        return float(text) if text is not None else 0.0
    except ValueError:
        return 0.0


def query_list(value: Any) -> list[str]:
    """A URL query list (``a,b``; Dash may pass a list too) as strings, empty items dropped.

    >>> query_list("life,economy"), query_list(["a", 1]), query_list(None), query_list("")
    (['life', 'economy'], ['a', '1'], [], [])
    """
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [v for v in str(value).split(",") if v]


def fitted_history(
    observations: pl.DataFrame | None, forecasts: pl.DataFrame | None, kpi_id: str, region: str
) -> pl.DataFrame:
    """The observations the forecast was fitted on: annual values (the forecasts are annual) of the data set
    the forecast used (the published ``forecasts.data_set``), so monthly figures or another data set's
    points do not zigzag through the line."""
    if observations is None:
        return pl.DataFrame(schema={"period": pl.Date, "value": pl.Float64})
    hist = observations.filter((pl.col("kpi_id") == kpi_id) & (pl.col("region") == region))
    if "freq" in hist.columns and hist.filter(pl.col("freq") == "Y").height:
        hist = hist.filter(pl.col("freq") == "Y")
    if forecasts is not None and "data_set" in forecasts.columns and "data_set" in hist.columns:
        used = forecasts.filter((pl.col("kpi_id") == kpi_id) & (pl.col("region") == region))[
            "data_set"
        ].unique()
        if used.len() == 1 and hist.filter(pl.col("data_set") == used[0]).height:
            hist = hist.filter(pl.col("data_set") == used[0])
    return hist


# A bin of the published ``calibration`` table needs at least this many backtest calls before the dashboard
# states how often such calls came true: with fewer, the observed share moves by 5+ points with one call
# (1/20) and its 95% interval spans ±20 points or more, so leaders get "too few" instead of a figure.
MIN_RELIABILITY_N = 20


def shows_probability(row: Mapping[str, Any]) -> bool:
    """True when :func:`kpi_sentence` states the KPI's ``p_reach`` (a target ahead, not achieved or missed)."""
    if row.get("target_kind") is None or row.get("target_year") is None or row.get("p_reach") is None:
        return False
    if row.get("status") == "achieved":
        return False
    last_year = row.get("last_year")
    return not (last_year is not None and last_year >= row["target_year"] and row.get("status") in ("off_track", "at_risk"))


def reliability_row(calibration: pl.DataFrame | None, p: float | None, model: str | None = None) -> dict[str, Any] | None:
    """The ``calibration`` bin holding probability ``p``, plus its edges, or None.

    The table holds one reliability curve per ``model``; the curve of ``model`` is used when it is there,
    else the first model's (the pipeline publishes one curve, its champion procedure's). Bins are
    ``[bin_lo, bin_hi)`` with 1.0 in the top bin, as the backtest bins them; the pipeline omits empty
    bins, so a probability may fall in none (the answer then has ``n = 0`` and no observed frequency).

    Returns:
        ``bin_lo, bin_hi, observed_freq, n`` (and ``predicted_mean``), or None without a calibration
        table or probability.

    >>> cal = pl.DataFrame({"model": ["m", "m"], "bin_lo": [0.6, 0.7], "bin_hi": [0.7, 0.8],
    ...     "predicted_mean": [0.65, 0.74], "observed_freq": [0.8, 0.76], "n": [40, 54]})
    >>> r = reliability_row(cal, 0.72); (r["bin_lo"], r["observed_freq"], r["n"])
    (0.7, 0.76, 54)
    >>> reliability_row(cal, 0.95)["n"]
    0
    """
    if calibration is None or calibration.height == 0 or p is None or math.isnan(p):
        return None
    models = calibration["model"].unique(maintain_order=True).to_list()
    curve = calibration.filter(pl.col("model") == (model if model in models else models[0]))
    width = float(np.min(curve["bin_hi"].to_numpy() - curve["bin_lo"].to_numpy()))
    hit = curve.filter(
        (pl.col("bin_lo") <= p) & ((pl.col("bin_hi") > p) | ((pl.col("bin_hi") >= 1.0) & (p >= 1.0)))
    )
    if hit.height:
        return hit.row(0, named=True)
    # no backtest call fell in this range: name the range the pipeline's equal-width bins would give it
    lo = min(math.floor(p / width + 1e-9) * width, 1.0 - width) if width > 0 else p
    return {"bin_lo": round(lo, 6), "bin_hi": round(lo + width, 6), "predicted_mean": None, "observed_freq": None, "n": 0}


def reliability_sentence(
    calibration: pl.DataFrame | None, p: float | None, lang: str, model: str | None = None
) -> str | None:
    """How reliable past probabilities of the size of ``p`` were, from the published ``calibration`` table.

    Returns:
        e.g. ``of past 70–80% calls, 76% came true (n = 54)``; a "too few" sentence when the bin holds
        fewer than :data:`MIN_RELIABILITY_N` calls; None without a calibration table or probability.

    >>> cal = pl.DataFrame({"model": ["m", "m"], "bin_lo": [0.6, 0.7], "bin_hi": [0.7, 0.8],
    ...     "predicted_mean": [0.65, 0.74], "observed_freq": [0.8, 0.76], "n": [4, 54]})
    >>> reliability_sentence(cal, 0.72, "en")
    'of past 70–80% calls, 76% came true (n = 54)'
    >>> reliability_sentence(cal, 0.72, "zh")
    '过去预测概率在70–80%之间的判断中，76%实现（n = 54）'
    >>> reliability_sentence(cal, 0.61, "en")
    'only 4 past 60–70% calls (fewer than 20): too few to say how reliable they are'
    """
    row = reliability_row(calibration, p, model)
    if row is None:
        return None
    values = {"lo": f"{row['bin_lo'] * 100:.0f}", "hi": f"{row['bin_hi'] * 100:.0f}%", "n": row["n"]}
    if not row["n"]:
        return t("reliability.none", lang, **values)
    if row["n"] < MIN_RELIABILITY_N or row["observed_freq"] is None:
        return t("reliability.few", lang, min=MIN_RELIABILITY_N, **values)
    return t("reliability.sentence", lang, freq=format_pct(row["observed_freq"]), **values)
