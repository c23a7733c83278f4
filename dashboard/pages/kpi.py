"""``/kpi/<kpi_id>?region=`` — one KPI: history, forecast fan, target, required path and a what-if."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, dcc, html

from dashboard import context
from dashboard.components import (
    empty_state,
    export_bar,
    graph,
    obligation_badge,
    status_chip,
    sync_url,
    synthetic_banner,
)
from dashboard.figures import fan_chart
from dashboard.i18n import bracketed, format_growth, format_pct, format_value, region_name, t
from dashboard.routes import register_page
from dashboard.views import (
    added_scenarios_lever,
    added_scenarios_max,
    fitted_history,
    is_synthetic,
    kpi_grid,
    kpi_sentence,
    query_number,
    reliability_sentence,
    shows_probability,
    target_text,
    whatif_probability,
)

register_page(__name__)


def _row(frame: pl.DataFrame | None, kpi_id: str, region: str) -> dict[str, Any] | None:
    if frame is None:
        return None
    hit = frame.filter((pl.col("kpi_id") == kpi_id) & (pl.col("region") == region))
    return hit.row(0, named=True) if hit.height else None


def whatif_inputs(kpi_id: str, region: str) -> dict[str, Any] | None:
    """What the what-if needs, from the published tables: the KPI row, its attainment row, the
    predictive draws for its target year and ``years_ahead``; None when there are no draws to use."""
    published = context.tables()
    samples = published.read("forecast_samples")
    kpi = _row(published.read("kpis"), kpi_id, region)
    if samples is None or kpi is None or kpi["target_year"] is None or kpi["target_kind"] is None:
        return None
    draws = samples.filter(
        (pl.col("kpi_id") == kpi_id) & (pl.col("region") == region) & (pl.col("period") == kpi["target_year"])
    )["value"].to_numpy()
    att = _row(published.read("attainment"), kpi_id, region) or {}
    if draws.size == 0 or att.get("last_year") is None:
        return None
    return {
        "kpi": kpi,
        "att": att,
        "draws": draws,
        "years_ahead": float(kpi["target_year"] - att["last_year"]),
    }


def whatif_text(
    kpi_id: str,
    region: str,
    growth_pct: float,
    lang: str,
    added: float = 0.0,
    *,
    inputs: dict[str, Any] | None = None,
) -> str:
    """The what-if sentence for ``growth_pct`` (percent) extra annual growth and ``added`` scenarios a
    year, computed from the published samples; "was" is the published ``p_reach``.

    ``inputs`` is :func:`whatif_inputs`' answer when the caller already has it.
    """
    inputs = inputs if inputs is not None else whatif_inputs(kpi_id, region)
    if inputs is None:
        return t("kpi.whatif_na", lang)
    kpi = inputs["kpi"]
    if added_scenarios_lever(kpi, inputs["years_ahead"]) is not None:
        added = 0.0  # the lever does not apply to this KPI (the page disables it; a URL may still carry n=)
    spec = {"years_ahead": inputs["years_ahead"], "target_kind": kpi["target_kind"],
            "target_value": kpi["target_value"], "target_high": kpi["target_high"], "lower": kpi["lower"],
            "upper": kpi["upper"], "precision": kpi["precision"]}  # fmt: skip
    p = whatif_probability(inputs["draws"], growth=growth_pct / 100.0, added_per_year=added, **spec)
    published = inputs["att"].get("p_reach")
    if published is not None:
        # The 99 published draws and the dense quantiles behind p_reach differ by up to about a point; the
        # levers' effect is measured on the draws and added to the published number, so levers at zero
        # read exactly the published p_reach.
        p0 = whatif_probability(inputs["draws"], growth=0.0, added_per_year=0.0, **spec)
        p = min(max(float(published) + p - p0, 0.0), 1.0)
    # "was": the probability the pipeline published (the grid and this page's stat show the same number).
    values = {"g": format_growth(growth_pct / 100.0), "year": kpi["target_year"], "p": format_pct(p),
              "p0": format_pct(inputs["att"].get("p_reach"))}  # fmt: skip
    if added:
        return t("kpi.whatif_result_added", lang, n=f"{added:g}", **values)
    return t("kpi.whatif_result", lang, **values)


def whatif_controls(kpi_id: str, region: str, growth: float, added: float, lang: str) -> html.Div:
    """The two what-if levers — extra annual growth (%) and added scenarios per year — and the result.

    The second lever is disabled, with the reason, for KPIs that are not cumulative counts of scenarios.
    """
    inputs = whatif_inputs(kpi_id, region)
    # Without published draws the result line already says the what-if cannot run; no second note.
    reason = added_scenarios_lever(inputs["kpi"], inputs["years_ahead"]) if inputs else "kpi.whatif_na"
    top = (
        added_scenarios_max(
            inputs["kpi"]["target_value"], inputs["att"].get("last_value"), inputs["years_ahead"]
        )
        if inputs and reason is None
        else 5
    )
    added = min(max(added, 0.0), float(top)) if reason is None else 0.0
    added_marks = {v: str(v) for v in sorted({0, top // 2, top})}
    return html.Div(
        [
            html.H4(t("kpi.whatif", lang), className="mt-3"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.Label(t("kpi.whatif_growth", lang), htmlFor="whatif-growth"),
                            dcc.Slider(
                                id="whatif-growth", min=-5, max=10, step=0.5, value=growth,
                                marks={v: f"{v:+d}%" for v in range(-5, 11, 5)}, tooltip={"placement": "bottom"},
                            ),
                        ],
                        md=6,
                    ),
                    dbc.Col(
                        [
                            html.Label(t("kpi.whatif_added", lang), htmlFor="whatif-added"),
                            dcc.Slider(
                                id="whatif-added", min=0, max=top, step=1, value=added, marks=added_marks,
                                tooltip={"placement": "bottom"}, disabled=reason is not None,
                            ),
                            html.Small(t(reason, lang), id="whatif-added-na", className="text-muted")
                            if reason and reason != "kpi.whatif_na"
                            else None,
                        ],
                        md=6,
                        id="whatif-added-col",
                    ),
                ],
                className="g-2",
            ),
            html.Div(whatif_text(kpi_id, region, growth, lang, added, inputs=inputs), id="whatif-result", className="whatif-result"),
        ]
    )  # fmt: skip


def _stat(label: str, value: Any, stat_id: str | None = None) -> dbc.Col:
    body = html.Div([html.Div(label, className="stat-label"), html.Div(value, className="stat-value")],
                    className="stat", id=stat_id or "")  # fmt: skip
    return dbc.Col(body, xs=6, md=3)


def layout(
    kpi_id: str = "",
    lang: str = "zh",
    region: str | None = None,
    g: str | None = None,
    n: str | None = None,
    **_: Any,
) -> html.Div:
    """The KPI page; ``region``, ``g`` (what-if growth, %) and ``n`` (added scenarios a year) come from
    the URL query."""
    lang = lang or "zh"
    published = context.tables()
    kpis = published.read("kpis")
    if kpis is None:
        return empty_state(t("empty.table", lang, table="kpis"))
    regions = sorted(kpis.filter(pl.col("kpi_id") == kpi_id)["region"].to_list())
    if not regions:
        return empty_state(t("empty.kpi", lang, kpi_id=kpi_id, region=region or "—"))
    region = region if region is not None and region in regions else regions[0]
    observations = published.read("observations")
    attainment = published.read("attainment")
    grid = kpi_grid(
        kpis.filter((pl.col("kpi_id") == kpi_id) & (pl.col("region") == region)), attainment, observations
    )
    row = grid.row(0, named=True)
    att = _row(attainment, kpi_id, region)
    forecasts = published.read("forecasts")
    history = fitted_history(observations, forecasts, kpi_id, region)
    if forecasts is None:
        chart: Any = empty_state(t("empty.forecasts", lang))
        fc = None
    else:
        fc = forecasts.filter((pl.col("kpi_id") == kpi_id) & (pl.col("region") == region))
        model = row["model"] or (fc["model"][0] if fc.height else None)
        fc = fc.filter(pl.col("model") == model)
        chart = graph(fan_chart(history, fc, row, att, lang), lang, "kpi-fan")
    name = row["name_zh"] if lang == "zh" else row["name_en"]
    run_href = context.run_link(row["run_id"])
    run = (
        html.A(row["run_id"], href=run_href, target="_blank", id="kpi-run-link")
        if run_href
        else (row["run_id"] or "—")
    )
    expected = row["expected_year"] if row["expected_year"] is not None else t("kpi.not_reached", lang)
    # next to the probability: how often past calls of its size came true in the backtests (issue 16)
    reliability = (
        reliability_sentence(published.read("calibration"), row["p_reach"], lang, row["model"])
        if shows_probability(row)
        else None
    )
    region_links = [
        dcc.Link(region_name(r, lang), href=f"/kpi/{kpi_id}?region={r}",
                 className="region-link active" if r == region else "region-link")
        for r in regions
    ]  # fmt: skip
    return html.Div(
        [
            synthetic_banner(lang) if row["synthetic"] or is_synthetic(history) else None,
            dcc.Link(t("kpi.back", lang), href=f"/?region={region}", className="back-link"),
            html.H2([name, " ", obligation_badge(row["obligation"], lang)], className="page-title", id="kpi-title"),
            html.Div([html.Span(f"{t('region.label', lang)}："), *region_links], className="region-links mb-2"),
            html.P([status_chip(row["status"], lang), " ", kpi_sentence(row, lang)], className="lead", id="kpi-sentence"),
            html.P(reliability, className="text-muted reliability", id="kpi-reliability") if reliability else None,
            dbc.Row(
                [
                    _stat(t("col.latest", lang), bracketed(format_value(row["last_value"], row["unit"], lang), row["last_year"], lang)),
                    _stat(t("col.target", lang), bracketed(target_text(row, lang), row["target_year"], lang)),
                    _stat(t("col.p_reach", lang), format_pct(row["p_reach"]), "kpi-p-reach"),
                    _stat(t("kpi.expected_year", lang), expected),
                    _stat(t("kpi.anticipated_growth", lang), format_growth(row["anticipated_growth"])),
                    _stat(t("kpi.required_growth", lang), format_growth(row["required_growth"])),
                    _stat(t("kpi.model", lang), row["model"] or "—"),
                    _stat(t("kpi.run", lang), run),
                ],
                className="g-2 mb-3 stats",
            ),
            chart,
            export_bar(f"forecasts:{kpi_id}", lang, region=region),
            whatif_controls(kpi_id, region, query_number(g), query_number(n), lang),
            dcc.Store(id="kpi-key", data={"kpi_id": kpi_id, "region": region}),
            dcc.Store(id="kpi-url-sync"),
        ],
        className="page page-kpi",
    )  # fmt: skip


@callback(
    Output("whatif-result", "children"),
    Input("whatif-growth", "value"),
    Input("whatif-added", "value"),
    State("kpi-key", "data"),
    State("lang", "value"),
    prevent_initial_call=True,
)
def update_whatif(growth: float | None, added: float | None, key: dict[str, str], lang: str) -> str:
    """Recompute the probability from the published sample paths (no refitting)."""
    return whatif_text(key["kpi_id"], key["region"], float(growth or 0.0), lang, float(added or 0.0))


# The address bar's query follows the what-if levers (levers at zero are left out; region stays).
sync_url("kpi", [("whatif-growth", "g", 0), ("whatif-added", "n", 0)], keep=True)
