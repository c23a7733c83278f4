"""``/scenarios`` — the evaluators' league table with filters and the weight-sensitivity view."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, State, callback, dcc, html

from dashboard import context
from dashboard.components import (
    FilteredPage,
    GridColumn,
    empty_state,
    export_bar,
    graph,
    grid,
    page_header,
    rank_bar_spans,
    sync_url,
    synthetic_banner,
)
from dashboard.figures import sensitivity_heatmap
from dashboard.i18n import format_number, region_name, t
from dashboard.routes import register_page
from dashboard.views import is_synthetic, league_table, query_list

register_page(__name__)
FILTERS = ("domain", "region", "street", "category", "owner")  # region is shown as "district"
FILTER_LABELS = {"domain": "filter.domain", "region": "filter.district", "street": "filter.street",
                 "category": "filter.category", "owner": "filter.owner"}  # fmt: skip
URL_KEYS = {
    "domain": "domain",
    "region": "district",
    "street": "street",
    "category": "category",
    "owner": "owner",
}
SENSITIVITY_TOP = 15
PAGE = FilteredPage("scen", more=("sensitivity",))


def _rank_bar(row: dict[str, Any], n_total: int) -> dict[str, Any]:
    rank, lo, hi = row["rank"], row["rank_lo"], row["rank_hi"]
    if rank is None or n_total <= 0:
        return {"rank_band": None, "rank_tick": None}
    band, tick = rank_bar_spans(rank, lo if lo is not None else rank, hi if hi is not None else rank, n_total)
    return {"rank_band": band, "rank_tick": tick}


def _interval(row: dict[str, Any]) -> str | None:
    if row["rank"] is None:
        return None
    lo = row["rank_lo"] if row["rank_lo"] is not None else row["rank"]
    hi = row["rank_hi"] if row["rank_hi"] is not None else row["rank"]
    return f"{lo}–{hi}"


def render_league(league: pl.DataFrame, n_total: int, lang: str) -> html.Div:
    """The league table: rank, name (linked), district, domain, total, grade and the rank-interval bar."""
    columns = [
        GridColumn("rank", "col.rank"),
        GridColumn("name", "col.scenario", text=lambda r: r["name_zh"] if lang == "zh" else r["name_en"],
                   renderer="AppLink", params={"hrefField": "href", "className": "scenario-link"},
                   extra=lambda r: {"href": f"/scenarios/{r['scenario_id']}", "scenario_id": r["scenario_id"]}),
        GridColumn("region", "filter.district", text=lambda r: region_name(r["region"], lang)),
        GridColumn("street", "col.street"),
        GridColumn("domain", "col.domain",
                   text=lambda r: t(f"domain.{r['domain']}", lang) if r["domain"] in ("life", "governance", "economy") else r["domain"]),
        GridColumn("total", "col.total", text=lambda r: format_number(r["total"], lang)),
        GridColumn("grade", "col.grade", text=lambda r: f"{r['grade']}{' ★' if r.get('benchmark') else ''}"),
        GridColumn("rank_interval", "col.rank_interval", text=_interval, renderer="RankInterval",
                   params={"bandField": "rank_band", "tickField": "rank_tick"}, extra=lambda r: _rank_bar(r, n_total)),
    ]  # fmt: skip
    return grid(league, columns, lang, max_rows=300, grid_id="league-table")


def _outputs(filters: dict[str, list[str]], lang: str) -> dict[str, Any]:
    """The parts of the page the filters change (see :func:`dashboard.components.filtered_page`)."""
    published = context.tables()
    scores = published.read("scores")
    if scores is None:
        return {"table": empty_state(t("empty.table", lang, table="scores")), "banner": None, "export": None,
                "count": "", "sensitivity": None}  # fmt: skip
    scenarios = published.read("scenarios")
    full = league_table(scores, scenarios)
    league = league_table(scores, scenarios, filters=filters)
    banner = synthetic_banner(lang) if is_synthetic(league) else None
    sensitivity = published.read("sensitivity")
    if sensitivity is None:
        sens: Any = empty_state(t("empty.table", lang, table="sensitivity"))
    else:
        top = league.head(SENSITIVITY_TOP)
        labels = dict(zip(top["scenario_id"], top["name_zh" if lang == "zh" else "name_en"], strict=True))
        sens = graph(
            sensitivity_heatmap(sensitivity, labels, top["scenario_id"].to_list(), lang),
            lang,
            "sensitivity-graph",
        )
    region = filters.get("region") or []
    exports = export_bar("league", lang, region=region[0] if len(region) == 1 else None)
    # ranks run over every scored scenario, including those outside the viewer's scope
    every = context.all_tables().read("scores")
    top_rank = every["rank"].max() if every is not None and every.height else None
    n_total = max(full.height, int(top_rank) if isinstance(top_rank, int | float) else 0)
    return {"table": render_league(league, n_total, lang), "banner": banner, "export": exports,
            "count": t("scen.count", lang, n=league.height), "sensitivity": sens}  # fmt: skip


def layout(lang: str = "zh", **query: Any) -> html.Div:
    """The league table; each filter comes from the URL (``domain``, ``district``, ``street``, ``category``, ``owner``)."""
    lang = lang or "zh"
    published = context.tables()
    scores = published.read("scores")
    if scores is None:
        return PAGE.unpublished(t("scen.title", lang), "scores", lang)
    options = league_table(scores, published.read("scenarios"))
    # only values that exist in what the viewer may see (a shared link may name another district)
    chosen = {
        col: [v for v in query_list(query.get(URL_KEYS[col])) if v in set(options[col].drop_nulls().to_list())]
        for col in FILTERS
    }
    controls = []
    for col in FILTERS:
        values = sorted({v for v in options[col].to_list() if v is not None})
        if col == "region":
            opts = [{"label": region_name(v, lang), "value": v} for v in values]
        elif col == "domain":
            opts = [{"label": t(f"domain.{v}", lang) if v in ("life", "governance", "economy") else v, "value": v}
                    for v in values]  # fmt: skip
        else:
            opts = [{"label": v, "value": v} for v in values]
        controls.append(
            dbc.Col(
                [
                    dbc.Label(t(FILTER_LABELS[col], lang)),
                    dcc.Dropdown(
                        id=f"scen-filter-{col}",
                        options=opts,
                        value=[v for v in chosen[col] if v in values],
                        multi=True,
                    ),
                ],
                md=True,
            )
        )
    header = page_header(t("scen.title", lang), t("scen.lead", lang))
    row = dbc.Row(controls, className="g-2 mb-3 controls")
    return PAGE.layout(header, row, _outputs(chosen, lang), page_class="page-scenarios")


@callback(
    *PAGE.outputs(),
    *[Input(f"scen-filter-{col}", "value") for col in FILTERS],
    State("lang", "value"),
    prevent_initial_call=True,
)
def update_league(*args: Any) -> tuple[Any, ...]:
    """Re-filter the league table and the sensitivity view when a filter changes."""
    *values, lang = args
    return PAGE.contents(_outputs({col: list(v or []) for col, v in zip(FILTERS, values, strict=True)}, lang))


# The address bar's query follows the filters (a shared link opens the same view).
sync_url("scen", [(f"scen-filter-{col}", URL_KEYS[col], None) for col in FILTERS])
