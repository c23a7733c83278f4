"""``/`` — the leadership overview: the KPI grid with targets, probabilities and status chips."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, State, callback, dcc, html

from dashboard import context
from dashboard.components import (
    STATUS_STYLE,
    FilteredPage,
    GridColumn,
    empty_state,
    export_bar,
    grid,
    obligation_text,
    page_header,
    status_text,
    sync_url,
    synthetic_banner,
)
from dashboard.i18n import bracketed, format_pct, format_value, region_name, t
from dashboard.routes import register_page
from dashboard.views import STATUS_ORDER, filter_grid, kpi_grid, kpi_sentence, query_list, target_text

register_page(__name__)
PAGE = FilteredPage("overview")
SORTS = ("p_asc", "p_desc", "status", "name")
# Rows drawn at once: enough for one district's KPIs several times over; all 16 districts (~400 rows)
# are a filter or a download away, and the browser stays responsive.
MAX_ROWS = 100


def grid_frame() -> pl.DataFrame | None:
    """The unfiltered KPI grid of the current app's published tables (None: no ``kpis`` yet)."""
    published = context.tables()
    kpis = published.read("kpis")
    if kpis is None:
        return None
    return kpi_grid(kpis, published.read("attainment"), published.read("observations"))


def grid_columns(lang: str) -> list[GridColumn]:
    """The overview grid's columns: the name links to the KPI page with its region."""

    def latest(row: dict[str, Any]) -> str:
        if row["last_value"] is None:
            return "—"
        return bracketed(format_value(row["last_value"], row["unit"], lang), row["last_year"], lang)

    def target(row: dict[str, Any]) -> str:
        if row["target_year"] is None:
            return "—"
        return bracketed(target_text(row, lang), row["target_year"], lang)

    return [
        GridColumn("name", "col.kpi", text=lambda r: r["name_zh"] if lang == "zh" else r["name_en"],
                   renderer="AppLink", params={"hrefField": "href", "className": "kpi-link"},
                   extra=lambda r: {"href": f"/kpi/{r['kpi_id']}?region={r['region']}", "kpi_id": r["kpi_id"]}),
        GridColumn("region", "col.region", text=lambda r: region_name(r["region"], lang)),
        GridColumn("last_value", "col.latest", text=latest),
        GridColumn("target_value", "col.target", text=target),
        GridColumn("p_reach", "col.p_reach", text=lambda r: format_pct(r["p_reach"]) if r["p_reach"] is not None else None,
                   renderer="FillBar", params={"fractionField": "p", "className": "p-cell"},
                   extra=lambda r: {"p": r["p_reach"]}),
        GridColumn("status", "col.status", text=lambda r: status_text(r["status"], lang), renderer="StatusChip",
                   params={"keyField": "status_key"},
                   extra=lambda r: {"status_key": r["status"] if r["status"] in STATUS_STYLE else "unknown"}),
        GridColumn("obligation", "col.obligation", text=lambda r: obligation_text(r["obligation"], lang)),
        GridColumn("summary", "col.summary", text=lambda r: kpi_sentence(r, lang)),
    ]  # fmt: skip


def render_grid(frame: pl.DataFrame, lang: str) -> html.Div:
    """The KPI grid as a table (name links to the KPI page with its region)."""
    return grid(frame, grid_columns(lang), lang, max_rows=MAX_ROWS, grid_id="kpi-grid-table")


def _grid_outputs(
    *, region: str, statuses: list[str], obligation: str, search: str, sort: str, lang: str
) -> dict[str, Any]:
    """The parts of the page the controls change (see :func:`dashboard.components.filtered_page`)."""
    grid = grid_frame()
    if grid is None:
        return {"table": empty_state(t("empty.table", lang, table="kpis")), "banner": None, "export": None, "count": ""}
    if region not in set(grid["region"].to_list()):
        region = "all"  # a region outside what the viewer may see is no filter, and never echoed back
    shown = filter_grid(
        grid, region=region, statuses=statuses, obligation=obligation, search=search, sort=sort
    )
    banner = synthetic_banner(lang) if shown["synthetic"].any() else None
    counts = {s: shown.filter(pl.col("status") == s).height for s in STATUS_ORDER}
    summary = " · ".join(f"{t(f'status.{s}', lang)} {n}" for s, n in counts.items())
    return {"table": render_grid(shown, lang), "banner": banner,
            "export": export_bar("kpi_grid", lang, region=region, brief=True), "count": summary}  # fmt: skip


def layout(
    *,
    lang: str = "zh",
    region: str = "all",
    status: str | None = None,
    obligation: str = "all",
    q: str = "",
    sort: str = "p_asc",
    **_: Any,
) -> html.Div:
    """The overview; ``region``, ``status`` (comma list), ``obligation``, ``q`` and ``sort`` come from the URL."""
    lang = lang or "zh"
    published = context.tables()
    kpis = published.read("kpis")
    if kpis is None:
        return PAGE.unpublished(t("overview.title", lang), "kpis", lang)
    regions = sorted(set(kpis["region"].to_list()))
    region = region if region in regions else "all"
    statuses = [s for s in query_list(status) if s in (*STATUS_ORDER, "unknown")]
    sort = sort if sort in SORTS else "p_asc"
    obligation = obligation if obligation in ("binding", "expected") else "all"
    shown = _grid_outputs(region=region, statuses=statuses, obligation=obligation, search=q, sort=sort, lang=lang)
    controls = dbc.Row(
        [
            dbc.Col([dbc.Label(t("region.label", lang)), dcc.Dropdown(
                id="overview-region", clearable=False, value=region,
                options=[{"label": t("region.all", lang), "value": "all"}]
                + [{"label": region_name(r, lang), "value": r} for r in regions])], md=3),
            dbc.Col([dbc.Label(t("filter.status", lang)), dcc.Dropdown(
                id="overview-status", multi=True, value=statuses,
                options=[{"label": t(f"status.{s}", lang), "value": s} for s in (*STATUS_ORDER, "unknown")])], md=3),
            dbc.Col([dbc.Label(t("filter.obligation", lang)), dcc.Dropdown(
                id="overview-obligation", clearable=False, value=obligation,
                options=[{"label": t("filter.all", lang), "value": "all"}]
                + [{"label": t(f"obligation.{o}", lang), "value": o} for o in ("binding", "expected")])], md=2),
            dbc.Col([dbc.Label(t("filter.search", lang)), dbc.Input(
                id="overview-search", value=q, debounce=True, type="search")], md=2),
            dbc.Col([dbc.Label(t("sort.label", lang)), dcc.Dropdown(
                id="overview-sort", clearable=False, value=sort,
                options=[{"label": t(f"sort.{s}", lang), "value": s} for s in SORTS])], md=2),
        ],
        className="g-2 mb-3 controls",
    )  # fmt: skip
    header = page_header(t("overview.title", lang), t("overview.lead", lang))
    return PAGE.layout(header, controls, shown, page_class="page-overview")


@callback(
    *PAGE.outputs(),
    Input("overview-region", "value"),
    Input("overview-status", "value"),
    Input("overview-obligation", "value"),
    Input("overview-search", "value"),
    Input("overview-sort", "value"),
    State("lang", "value"),
    prevent_initial_call=True,
)
def update_grid(*args: Any) -> tuple[Any, ...]:
    """Re-filter the grid when a control changes (the page itself rendered the first state).

    Dash passes (region, statuses, obligation, search, sort, lang) positionally.
    """
    region, statuses, obligation, search, sort, lang = args
    shown = _grid_outputs(
        region=region or "all",
        statuses=statuses or [],
        obligation=obligation or "all",
        search=search or "",
        sort=sort or "p_asc",
        lang=lang,
    )
    return PAGE.contents(shown)


# The address bar's query follows the controls (a shared link opens the same view); defaults are left out.
sync_url(
    "overview",
    [("overview-region", "region", "all"), ("overview-status", "status", None),
     ("overview-obligation", "obligation", "all"), ("overview-search", "q", ""), ("overview-sort", "sort", "p_asc")],
)  # fmt: skip
