"""``/scenarios/<scenario_id>`` — one scenario: radar, contributions, efficacy and completeness flags."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import polars as pl
from dash import dcc, html

from dashboard import context
from dashboard.components import empty_state, export_bar, graph, synthetic_banner
from dashboard.figures import contributions_chart, efficacy_chart, grade_probability_chart, radar_chart
from dashboard.i18n import bracketed, format_number, format_value, region_name, t
from dashboard.routes import register_page
from dashboard.views import dimension_columns, is_synthetic, league_table

register_page(__name__)


def _fmt(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def layout(scenario_id: str = "", lang: str = "zh", **_: Any) -> html.Div:
    """The drill-down of one scenario (latest period of the first scheme)."""
    lang = lang or "zh"
    published = context.tables()
    scores = published.read("scores")
    if scores is None:
        return empty_state(t("empty.table", lang, table="scores"))
    scenarios = published.read("scenarios")
    league = league_table(scores, scenarios)
    hit = league.filter(pl.col("scenario_id") == scenario_id)
    if hit.height == 0:
        return html.Div([dcc.Link(t("scen.back", lang), href="/scenarios"),
                         empty_state(t("empty.scenario", lang, scenario_id=scenario_id))])  # fmt: skip
    row = hit.row(0, named=True)
    name = row["name_zh"] if lang == "zh" else row["name_en"]
    dims = {c: row[c] for c in dimension_columns(scores) if row[c] is not None}

    explanations = published.read("explanations")
    contrib: Any
    if explanations is None:
        contrib = empty_state(t("empty.table", lang, table="explanations"))
    else:
        rows = explanations.filter(
            (pl.col("scenario_id") == scenario_id) & (pl.col("period") == row["period"])
        )
        contrib = (
            graph(contributions_chart(rows, lang), lang, "scen-contrib")
            if rows.height
            else empty_state(t("empty.contrib", lang))
        )

    efficacy = published.read("efficacy")
    series = published.read("efficacy_series")
    eff_row = None
    if efficacy is not None:
        e = efficacy.filter(pl.col("scenario_id") == scenario_id)
        eff_row = e.row(0, named=True) if e.height else None
    flags: list[Any] = []
    missing = (row.get("missing_indicators") or "").strip()
    flags.append(html.Li(t("scen.missing", lang, items=missing) if missing else t("scen.complete", lang),
                         className="flag-missing" if missing else "flag-ok"))  # fmt: skip
    effect_text: Any = None
    eff_chart: Any = empty_state(t("empty.table", lang, table="efficacy_series"))
    if eff_row is not None:
        if eff_row["status"] == "insufficient_data":
            flags.append(html.Li(t("scen.insufficient", lang, n_pre=eff_row["n_pre"], n_post=eff_row["n_post"]),
                                 className="flag-insufficient"))  # fmt: skip
        else:
            effect_text = t("scen.effect", lang, effect=_fmt(eff_row["effect"]), lo=_fmt(eff_row["ci_lo"]),
                            hi=_fmt(eff_row["ci_hi"]), p=_fmt(eff_row["p_value"], 3), method=eff_row["method"])  # fmt: skip
    if series is not None:
        s = series.filter(pl.col("scenario_id") == scenario_id)
        if s.height:
            eff_chart = graph(efficacy_chart(s, row.get("launch_date"), lang), lang, "scen-efficacy")
        else:
            eff_chart = empty_state(t("empty.efficacy", lang))
    if row.get("benchmark"):
        flags.append(html.Li(f"★ {t('scen.benchmark', lang)}", className="flag-benchmark"))

    facts = [
        (t("filter.district", lang), region_name(row["region"], lang)),
        (t("col.street", lang), row.get("street") or "—"),
        (t("col.domain", lang), t(f"domain.{row['domain']}", lang) if row.get("domain") in ("life", "governance", "economy") else "—"),
        (t("filter.category", lang), row.get("category") or "—"),
        (t("col.owner", lang), row.get("owner") or "—"),
        (t("scen.budget", lang), format_value(row.get("budget"), "万元", lang)),
        (t("col.total", lang), format_number(row["total"], lang)),
        (t("col.grade", lang), row["grade"]),
        (t("col.rank", lang), bracketed(row["rank"], f"{row['rank_lo']}–{row['rank_hi']}", lang)),
    ]  # fmt: skip
    return html.Div(
        [
            synthetic_banner(lang) if is_synthetic(hit) else None,
            dcc.Link(t("scen.back", lang), href="/scenarios", className="back-link"),
            html.H2(name, className="page-title", id="scenario-title"),
            dbc.Row(
                [
                    dbc.Col(
                        html.Div(
                            [html.Div(k, className="stat-label"), html.Div(v, className="stat-value")],
                            className="stat",
                        ),
                        xs=6,
                        md=4,
                        lg=True,
                    )
                    for k, v in facts
                ],
                className="g-2 mb-3 stats",
            ),
            html.H5(t("scen.completeness", lang)),
            html.Ul(flags, id="scenario-flags", className="flags"),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            graph(radar_chart(dims, lang), lang, "scen-radar"),
                            graph(grade_probability_chart(row, lang), lang, "scen-grades"),
                        ],
                        md=5,
                    ),
                    dbc.Col(contrib, md=7),
                ]
            ),
            export_bar(f"explanations:{scenario_id}", lang),
            html.Div(eff_chart, className="mt-3"),
            export_bar(f"efficacy_series:{scenario_id}", lang),
            html.P(effect_text, id="scenario-effect", className="lead") if effect_text else None,
        ],
        className="page page-scenario",
    )
