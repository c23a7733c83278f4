"""``/rounds`` — the assessment rounds the viewer may see, with their state and how many evaluators submitted.

The list comes from the service's API (``GET /api/v1/rounds``, already filtered to the caller's regions),
fetched by the browser (``assets/rounds.js``) and rendered here; see :mod:`dashboard.rounds_view`.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from dash import Input, Output, State, callback, html

from dashboard import context
from dashboard.components import GridColumn, api_stores, empty_state, grid, load_from_api, page_header
from dashboard.i18n import region_name, t
from dashboard.rounds_view import API, body, problem
from dashboard.routes import register_page

register_page(__name__)


def state_text(state: str | None, lang: str) -> str:
    return t(f"state.{state}", lang) if state in ("open", "submitted", "approved", "returned") else str(state)


def rounds_frame(items: list[dict[str, Any]], lang: str) -> pl.DataFrame:
    """One row per round: id, scheme, period, districts, state, version, evaluators submitted, opened, approved."""
    rows = []
    for r in items:
        progress = r.get("progress") or {}
        done = sum(1 for p in progress.values() if p.get("submitted"))
        rows.append({
            "id": str(r["id"]), "scheme": r.get("scheme_label"), "period": r.get("period"),
            "regions": "、".join(region_name(g, lang) for g in r.get("regions") or []),
            "state": state_text(r.get("state"), lang), "version": str(r.get("version")),
            "evaluators": f"{done}/{len(progress)}",
            "created": f"{r.get('created_by')} · {(r.get('created_at') or '')[:10]}",
            "approved": f"{r['approved_by']} · {(r.get('approved_at') or '')[:10]}" if r.get("approved_by") else None,
        })  # fmt: skip
    return pl.DataFrame(rows, schema={k: pl.String for k in ("id", "scheme", "period", "regions", "state", "version",
                                                               "evaluators", "created", "approved")})


COLUMNS = [
    GridColumn("id", "col.round", renderer="AppLink", params={"hrefField": "href", "className": "round-link"},
               extra=lambda r: {"href": f"/rounds/{r['id']}"}),
    GridColumn("scheme", "col.scheme"),
    GridColumn("period", "col.period"),
    GridColumn("regions", "col.regions"),
    GridColumn("state", "col.state"),
    GridColumn("version", "col.version"),
    GridColumn("evaluators", "col.evaluators"),
    GridColumn("created", "col.created"),
    GridColumn("approved", "col.approved"),
]


def render_list(answer: dict[str, Any] | None, lang: str) -> Any:
    """The rounds grid from the API's answer (or why there is none)."""
    if answer is None:
        return html.Div(t("rounds.loading", lang), className="text-muted")
    items = body(answer)
    if items is None:
        return empty_state(t("rounds.failed", lang, detail=problem(answer) or ""))
    if not items:
        return empty_state(t("rounds.none", lang))
    return grid(rounds_frame(items, lang), COLUMNS, lang, grid_id="rounds-table")


def layout(lang: str = "zh", **_: Any) -> html.Div:
    """The list (filled once the browser has fetched it)."""
    lang = lang or "zh"
    header = page_header(t("rounds.title", lang), t("rounds.lead", lang))
    if context.principal() is None:
        return html.Div([header, empty_state(t("rounds.needs_service", lang))], className="page page-rounds")
    return html.Div(
        [
            header,
            *api_stores("rounds", {"rounds": API}),
            html.Div(render_list(None, lang), id="rounds-list"),
        ],
        className="page page-rounds",
    )


load_from_api("rounds")


@callback(Output("rounds-list", "children"), Input("rounds-data", "data"), State("lang", "value"))
def show_rounds(data: dict[str, Any] | None, lang: str) -> Any:
    """Render the list the browser fetched."""
    return render_list((data or {}).get("rounds"), lang or "zh")
