"""Pure frame → plotly figure functions; pages call them, tests check them without a browser.

Colours are the Okabe–Ito palette (safe for the common colour-vision deficiencies); status is never
told by colour alone (chips carry text and an icon, lines differ in dash style).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

import plotly.graph_objects as go
import polars as pl

from dashboard.i18n import label_or, t

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
SERIES_COLOURS = [OKABE_ITO[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky", "black")]
_T = TypeVar("_T")
_FONT = "PingFang SC, Microsoft YaHei, Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Micro Hei, sans-serif"


def _base_layout(fig: go.Figure, title: str | None = None, *, height: int = 360) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 15}} if title else None,
        height=height,
        margin={"l": 50, "r": 20, "t": 50 if title else 20, "b": 40},
        font={"family": _FONT, "size": 12},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.18},
    )
    return fig


def decimal_year(day: date) -> float:
    """A date as a decimal year, so annual, quarterly and monthly points share one axis.

    >>> decimal_year(date(2023, 1, 1)), decimal_year(date(2023, 7, 1))
    (2023.0, 2023.5)
    """
    return day.year + (day.month - 1) / 12


def fan_chart(
    history: pl.DataFrame,
    forecast: pl.DataFrame,
    kpi: Mapping[str, Any],
    attainment: Mapping[str, Any] | None,
    lang: str,
) -> go.Figure:
    """History, forecast fan (median, 80% and 95% bands), target marker and required trajectory.

    Args:
        history: ``period`` (Date) and ``value`` of one KPI in one region.
        forecast: ``period`` (Int32 year), ``q0.025, q0.1, q0.5, q0.9, q0.975`` for one model.
        kpi: the KPI's ``kpis`` row (``unit``, ``target_value``, ``target_year``, ``target_kind``).
        attainment: its ``attainment`` row (``last_value``, ``last_year``, ``required_growth``) or None.
        lang: ``"zh"`` or ``"en"``.

    Returns:
        A figure; traces are named with the labels of ``lang``. Years sit on the x axis.
    """
    fig = go.Figure()
    hist = history.sort("period")
    hx = [decimal_year(d) for d in hist["period"].to_list()]
    fc = forecast.sort("period")
    if fc.height:
        fx = fc["period"].cast(pl.Float64).to_list()
        # Start the fan at the last observation so the bands join the history line.
        if hist.height:
            fx = [hx[-1], *fx]
            last = hist["value"][-1]
            col = {q: [last, *fc[q].to_list()] for q in ("q0.025", "q0.1", "q0.5", "q0.9", "q0.975")}
        else:
            col = {q: fc[q].to_list() for q in ("q0.025", "q0.1", "q0.5", "q0.9", "q0.975")}
        for lo, hi, key, alpha in (
            ("q0.025", "q0.975", "kpi.band95", 0.15),
            ("q0.1", "q0.9", "kpi.band80", 0.3),
        ):
            fig.add_trace(
                go.Scatter(
                    x=fx + fx[::-1],
                    y=col[hi] + col[lo][::-1],
                    mode="lines",
                    fill="toself",
                    fillcolor=f"rgba(0,114,178,{alpha})",
                    line={"width": 0},
                    hoverinfo="skip",
                    name=t(key, lang),
                )
            )
        fig.add_trace(
            go.Scatter(
                x=fx, y=col["q0.5"], mode="lines", name=t("kpi.median", lang),
                line={"color": OKABE_ITO["blue"], "width": 2, "dash": "dash"},
            )
        )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=hx, y=hist["value"].to_list(), mode="lines+markers", name=t("kpi.history", lang),
            line={"color": OKABE_ITO["black"], "width": 2}, marker={"size": 6},
        )
    )  # fmt: skip
    target, year = kpi.get("target_value"), kpi.get("target_year")
    if target is not None and year is not None:
        fig.add_trace(
            go.Scatter(
                x=[float(year)], y=[target], mode="markers", name=t("kpi.target", lang),
                marker={"symbol": "star", "size": 16, "color": OKABE_ITO["vermillion"],
                        "line": {"width": 1, "color": "black"}},
            )
        )  # fmt: skip
        path = required_path(attainment, float(target), int(year))
        if path:
            fig.add_trace(
                go.Scatter(
                    x=[p[0] for p in path], y=[p[1] for p in path], mode="lines", name=t("kpi.required", lang),
                    line={"color": OKABE_ITO["vermillion"], "width": 2, "dash": "dot"},
                )
            )  # fmt: skip
    title = kpi.get("name_zh") if lang == "zh" else kpi.get("name_en")
    _base_layout(fig, title, height=400)
    unit = kpi.get("unit") or ""
    fig.update_layout(
        xaxis={"title": t("kpi.year", lang), "dtick": 1, "tickformat": "d"}, yaxis={"title": unit}
    )
    return fig


def required_path(
    attainment: Mapping[str, Any] | None, target: float, target_year: int
) -> list[tuple[float, float]]:
    """Yearly points of the trajectory that reaches ``target`` in ``target_year`` from the last value.

    Geometric at the published ``required_growth`` when it is given and the values are positive,
    otherwise a straight line.

    >>> required_path({"last_value": 50.0, "last_year": 2023, "required_growth": None}, 70.0, 2025)
    [(2023.0, 50.0), (2024.0, 60.0), (2025.0, 70.0)]
    >>> required_path(None, 70.0, 2025)
    []
    """
    if not attainment or attainment.get("last_value") is None or attainment.get("last_year") is None:
        return []
    start, y0 = float(attainment["last_value"]), int(attainment["last_year"])
    if target_year <= y0:
        return []
    growth = attainment.get("required_growth")
    points = []
    for year in range(y0, target_year + 1):
        k = year - y0
        if growth is not None and start > 0 and target > 0:
            value = start * (1 + float(growth)) ** k
        else:
            value = start + (target - start) * k / (target_year - y0)
        points.append((float(year), value))
    points[-1] = (float(target_year), target)
    return points


RADAR_RINGS = (20.0, 40.0, 60.0, 80.0, 100.0)


def radar_xy(values: Sequence[float], *, scale: float = 100.0) -> tuple[list[float], list[float]]:
    """Cartesian vertices of a radar polygon: axis ``k`` of ``n`` points up then clockwise, radius
    ``value / scale`` (so ``scale`` sits on the unit circle).

    >>> xs, ys = radar_xy([100.0, 50.0, 100.0, 50.0])
    >>> [round(x, 6) + 0.0 for x in xs], [round(y, 6) + 0.0 for y in ys]
    ([0.0, 0.5, 0.0, -0.5], [1.0, 0.0, -1.0, 0.0])
    """
    n = len(values)
    angles = [math.pi / 2 - 2 * math.pi * k / n for k in range(n)]
    return (
        [float(v) / scale * math.cos(a) for v, a in zip(values, angles, strict=True)],
        [float(v) / scale * math.sin(a) for v, a in zip(values, angles, strict=True)],
    )


def _closed(points: Sequence[_T]) -> list[_T]:
    """The points with the first repeated at the end (a closed outline).

    >>> _closed([1, 2, 3]), _closed([])
    ([1, 2, 3, 1], [])
    """
    return [*points, points[0]] if points else []


def _label_position(x: float, y: float) -> str:
    """Where an axis label sits relative to its anchor so it points away from the centre."""
    vertical = "top" if y > 0.3 else ("bottom" if y < -0.3 else "middle")
    horizontal = "right" if x > 0.3 else ("left" if x < -0.3 else "center")
    return f"{vertical} {horizontal}"


def radar_chart(scores: Mapping[str, float], lang: str, *, title: str | None = None) -> go.Figure:
    """Dimension scores (0–100) of one scenario as a radar drawn on hidden cartesian axes.

    The dashboard ships plotly.js's cartesian bundle, which has no polar traces, so the radar is
    plain ``scatter`` traces: the grid rings at :data:`RADAR_RINGS` and the spokes (one trace each,
    segments split by ``None``), the axis labels, and the filled, closed polygon of the scores.

    Args:
        scores: dimension id → score (the ``dim_`` prefix may be present; it is dropped).
        lang: ``"zh"`` or ``"en"``.
        title: optional figure title.

    Returns:
        A figure whose last trace (named ``scen.radar``) is the closed score polygon; its
        ``customdata`` holds the scores and its ``text`` the dimension labels, first point repeated.
    """
    names = [label_or(f"dim.{k.removeprefix('dim_')}", k.removeprefix("dim_"), lang) for k in scores]
    values = [float(v) for v in scores.values()]
    grey = "#c9ced4"
    fig = go.Figure()
    if values:
        ring_x: list[float | None] = []
        ring_y: list[float | None] = []
        for ring in RADAR_RINGS:
            xs, ys = radar_xy([ring] * len(values))
            ring_x += [*_closed(xs), None]
            ring_y += [*_closed(ys), None]
        spoke_x: list[float | None] = []
        spoke_y: list[float | None] = []
        for x, y in zip(*radar_xy([100.0] * len(values)), strict=True):
            spoke_x += [0.0, x, None]
            spoke_y += [0.0, y, None]
        label_x, label_y = radar_xy([108.0] * len(values))
        score_x, score_y = radar_xy(values)
        fig.add_traces(
            [
                go.Scatter(x=ring_x, y=ring_y, mode="lines", line={"color": grey, "width": 1},
                           hoverinfo="skip", name="grid"),
                go.Scatter(x=spoke_x, y=spoke_y, mode="lines", line={"color": grey, "width": 1},
                           hoverinfo="skip", name="spokes"),
                go.Scatter(x=[0.0] * len(RADAR_RINGS), y=[r / 100.0 for r in RADAR_RINGS], mode="text",
                           text=[f"{r:.0f}" for r in RADAR_RINGS], textposition="middle right",
                           textfont={"size": 10, "color": "#5f6b76"}, hoverinfo="skip", name="ticks"),
                go.Scatter(x=label_x, y=label_y, mode="text", text=names,
                           textposition=[_label_position(x, y) for x, y in zip(label_x, label_y, strict=True)],
                           hoverinfo="skip", name="labels"),
                go.Scatter(
                    x=_closed(score_x), y=_closed(score_y), mode="lines+markers", fill="toself",
                    fillcolor="rgba(0,114,178,0.25)", line={"color": OKABE_ITO["blue"], "width": 2},
                    marker={"size": 6}, text=_closed(names), customdata=_closed(values),
                    hovertemplate="%{text}: %{customdata:.1f}<extra></extra>", name=t("scen.radar", lang),
                ),
            ]
        )  # fmt: skip
    _base_layout(fig, title or t("scen.radar", lang), height=380)
    # Room for the labels just outside the 100 ring; the wider axis is stretched to keep the radar round.
    axis = {"visible": False, "range": [-1.3, 1.3], "fixedrange": True}
    fig.update_layout(
        xaxis=axis, yaxis={**axis, "scaleanchor": "x", "scaleratio": 1}, showlegend=False,
        margin={"l": 10, "r": 10, "t": 45, "b": 10},
    )  # fmt: skip
    return fig


def contributions_chart(explanations: pl.DataFrame, lang: str) -> go.Figure:
    """Horizontal bars of each indicator's contribution to the total, coloured by dimension.

    Args:
        explanations: rows of the ``explanations`` table for one scenario and period
            (``dimension, indicator_id, contribution``; the publisher's optional ``name_zh`` names
            the bars on the Chinese page).
        lang: ``"zh"`` or ``"en"``.

    Returns:
        A figure with one bar trace per dimension, bars sorted by contribution.
    """
    fig = go.Figure()
    frame = explanations.sort("contribution")
    label = pl.col("indicator_id")
    if lang == "zh" and "name_zh" in frame.columns:
        label = pl.coalesce(pl.col("name_zh"), pl.col("indicator_id"))
    frame = frame.with_columns(label.alias("_label"))
    if frame["_label"].n_unique() < frame.height:  # two indicators with one name: keep the ids
        frame = frame.with_columns(pl.col("indicator_id").alias("_label"))
    for i, dim in enumerate(frame["dimension"].unique(maintain_order=True).to_list()):
        part = frame.filter(pl.col("dimension") == dim)
        fig.add_trace(
            go.Bar(
                x=part["contribution"].to_list(), y=part["_label"].to_list(), orientation="h",
                name=label_or(f"dim.{dim}", dim, lang),
                marker={"color": SERIES_COLOURS[i % len(SERIES_COLOURS)]},
            )
        )  # fmt: skip
    _base_layout(fig, t("scen.contrib", lang), height=max(260, 22 * frame.height + 90))
    fig.update_layout(barmode="stack", yaxis={"categoryorder": "total ascending"})
    return fig


def efficacy_chart(series: pl.DataFrame, launch: date | None, lang: str) -> go.Figure:
    """Before/after chart: observed outcome, fitted values and the fitted counterfactual.

    Args:
        series: ``efficacy_series`` rows of one scenario and outcome (``period`` Date,
            ``observed, fitted, counterfactual``).
        launch: the scenario's launch date (drawn as a vertical line), or None.
        lang: ``"zh"`` or ``"en"``.

    Returns:
        A figure with three traces (observed markers, fitted line, counterfactual dashed line).
    """
    frame = series.sort("period")
    x = [d.isoformat() for d in frame["period"].to_list()]
    fig = go.Figure(
        [
            go.Scatter(x=x, y=frame["observed"].to_list(), mode="markers", name=t("scen.observed", lang),
                       marker={"color": OKABE_ITO["black"], "size": 6}),
            go.Scatter(x=x, y=frame["fitted"].to_list(), mode="lines", name=t("scen.fitted", lang),
                       line={"color": OKABE_ITO["blue"], "width": 2}),
            go.Scatter(x=x, y=frame["counterfactual"].to_list(), mode="lines", name=t("scen.counterfactual", lang),
                       line={"color": OKABE_ITO["orange"], "width": 2, "dash": "dash"}),
        ]
    )  # fmt: skip
    if launch is not None:
        fig.add_vline(x=launch.isoformat(), line={"color": OKABE_ITO["vermillion"], "dash": "dot"})
        fig.add_annotation(
            x=launch.isoformat(), y=1, yref="paper", text=t("scen.launch", lang), showarrow=False
        )
    _base_layout(fig, t("scen.efficacy", lang), height=360)
    return fig


def sensitivity_heatmap(
    sensitivity: pl.DataFrame, labels: Mapping[str, str], scenario_ids: Sequence[str], lang: str
) -> go.Figure:
    """Rank change of each scenario when each dimension's weight moves by each delta.

    Args:
        sensitivity: the ``sensitivity`` table (``dimension, delta, scenario_id, rank_change``).
        labels: scenario id → display name.
        scenario_ids: the scenarios to show, top to bottom.
        lang: ``"zh"`` or ``"en"``.

    Returns:
        A heatmap with one column per (dimension, delta) and one row per scenario; the diverging
        blue–orange scale is colour-blind safe and each cell also prints its number.
    """
    wanted = list(scenario_ids)
    frame = sensitivity.filter(pl.col("scenario_id").is_in(wanted))
    columns = (
        frame.select("dimension", "delta").unique().sort("dimension", "delta").iter_rows()
        if frame.height
        else iter(())
    )
    cols = list(columns)
    lookup = {
        (r["scenario_id"], r["dimension"], r["delta"]): r["rank_change"] for r in frame.iter_rows(named=True)
    }
    z = [[lookup.get((sid, d, delta)) for d, delta in cols] for sid in wanted]
    x = [f"{label_or(f'dim.{d}', d, lang)} {delta:+.0%}" for d, delta in cols]
    y = [labels.get(sid, sid) for sid in wanted]
    fig = go.Figure(
        go.Heatmap(
            z=z, x=x, y=y, colorscale=[[0, OKABE_ITO["blue"]], [0.5, "#f7f7f7"], [1, OKABE_ITO["orange"]]],
            zmid=0, text=z, texttemplate="%{text}", colorbar={"title": t("scen.rank_change", lang)},
        )
    )  # fmt: skip
    _base_layout(fig, t("scen.sensitivity", lang, n=len(wanted)), height=max(300, 24 * len(wanted) + 120))
    fig.update_layout(yaxis={"autorange": "reversed"}, xaxis={"title": t("scen.delta", lang)})
    return fig


def backtest_chart(metrics: pl.DataFrame, metric: str, kind: str | None, lang: str) -> go.Figure:
    """Grouped bars of one published backtest metric per model and KPI kind, by horizon.

    Every bar is a published figure: the table's ``horizon = 0`` row (all horizons together) is the bar
    labelled "all", and kinds are never averaged together (they count different backtest rows).

    Args:
        metrics: the ``backtest_metrics`` table.
        metric: the metric to show (``mase``, ``crps``, …).
        kind: a KPI kind to restrict to, or None / ``"all"`` for one trace per kind.
        lang: ``"zh"`` or ``"en"``.

    Returns:
        A figure with one bar trace per model and kind (x = horizon; "all" for ``horizon = 0``).
    """
    frame = metrics.filter(pl.col("metric") == metric)
    if kind and kind != "all":
        frame = frame.filter(pl.col("kind") == kind)
    frame = frame.sort("model", "kind", "horizon")
    models = frame["model"].unique(maintain_order=True).to_list()
    all_label = t("models.all_horizons", lang)
    fig = go.Figure()
    for i, (key, part) in enumerate(frame.group_by("model", "kind", maintain_order=True)):
        model, kind_name = key
        name = f"{kind_name}" if len(models) == 1 else f"{model} · {kind_name}"
        x = [all_label if h == 0 else str(h) for h in part["horizon"].to_list()]
        fig.add_trace(
            go.Bar(
                x=x,
                y=part["value"].to_list(),
                name=name,
                marker={"color": SERIES_COLOURS[i % len(SERIES_COLOURS)]},
            )
        )
    _base_layout(fig, t("models.backtest", lang, metric=metric), height=360)
    fig.update_layout(barmode="group", xaxis={"title": t("models.horizon", lang), "type": "category"})
    return fig


def calibration_chart(calibration: pl.DataFrame, lang: str) -> go.Figure:
    """Reliability plot: observed frequency against predicted probability, per model, with the diagonal.

    Args:
        calibration: the ``calibration`` table (``model, predicted_mean, observed_freq, n``).
        lang: ``"zh"`` or ``"en"``.

    Returns:
        A figure: the perfect-calibration diagonal plus one line per model (marker size ∝ √n).
    """
    fig = go.Figure(
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name=t("models.perfect", lang),
                   line={"color": "grey", "dash": "dot"})
    )  # fmt: skip
    symbols = ["circle", "square", "diamond", "triangle-up", "x", "cross", "star"]
    for i, model in enumerate(sorted(set(calibration["model"].to_list()))):
        part = calibration.filter(pl.col("model") == model).sort("predicted_mean")
        sizes = [max(5.0, min(16.0, float(n) ** 0.5 * 1.5)) for n in part["n"].fill_null(0).to_list()]
        fig.add_trace(
            go.Scatter(
                x=part["predicted_mean"].to_list(), y=part["observed_freq"].to_list(), mode="lines+markers",
                name=model, line={"color": SERIES_COLOURS[i % len(SERIES_COLOURS)]},
                marker={"size": sizes, "symbol": symbols[i % len(symbols)]},
            )
        )  # fmt: skip
    _base_layout(fig, t("models.calibration", lang), height=400)
    fig.update_layout(
        xaxis={"title": t("models.predicted", lang), "range": [0, 1], "tickformat": ".0%"},
        yaxis={"title": t("models.observed", lang), "range": [0, 1], "tickformat": ".0%"},
    )
    return fig


def grade_probability_chart(row: Mapping[str, Any], lang: str) -> go.Figure:
    """One stacked horizontal bar of a scenario's grade probabilities (优秀/良好/合格/不合格).

    Args:
        row: a ``scores`` row with ``p_grade_excellent, p_grade_good, p_grade_pass, p_grade_fail``.
        lang: ``"zh"`` or ``"en"``.

    Returns:
        A figure with four bar traces.
    """
    grades = (("p_grade_excellent", "优秀", "blue"), ("p_grade_good", "良好", "sky"),
              ("p_grade_pass", "合格", "orange"), ("p_grade_fail", "不合格", "vermillion"))  # fmt: skip
    fig = go.Figure(
        [
            go.Bar(x=[row.get(col) or 0.0], y=[""], orientation="h", name=name,
                   marker={"color": OKABE_ITO[colour]}, text=[f"{(row.get(col) or 0.0):.0%}"], textposition="inside")
            for col, name, colour in grades
        ]
    )  # fmt: skip
    _base_layout(fig, t("scen.p_grade", lang), height=200)
    fig.update_layout(barmode="stack", xaxis={"range": [0, 1], "tickformat": ".0%"}, margin={"b": 10})
    return fig
