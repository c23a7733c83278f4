"""``/rounds`` — the assessment rounds the viewer may see, with their state and how many evaluators submitted,
and, for leaders and admins, the form that opens a round.

The list comes from the service's API (``GET /api/v1/rounds``, already filtered to the caller's regions),
fetched by the browser (``assets/rounds.js``) and rendered here; see :mod:`dashboard.rounds_view`. The form
builds ``POST /api/v1/rounds`` (scheme, period, the districts of the caller's scope) and the browser sends it
with the session cookie and CSRF token, so the API decides (role and scope, 403; unknown scheme or period,
422) and audits the opening.
"""

from __future__ import annotations

import re
from typing import Any

import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import context
from dashboard.components import (
    GridColumn,
    api_stores,
    api_writer,
    empty_state,
    grid,
    load_from_api,
    page_header,
    send_to_api,
)
from dashboard.i18n import region_name, t
from dashboard.rounds_view import API, body, problem
from dashboard.routes import register_page
from dashboard.scope import Viewer
from evaluation.assessment.scheme import SCHEME_DIR, SchemeError, resolve_scheme_data

register_page(__name__)
OPENERS = ("leader", "admin")  # the roles the API lets open a round (in their regions)
PERIOD = re.compile(r"^[0-9]{4}(-[0-9]{2})?$")  # the API's pattern of a round's period


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


def scheme_options(lang: str) -> list[dict[str, str]]:
    """The assessment schemes of the registry a round may freeze (``<name>.yaml`` with a ``scheme`` key; the
    AHP judgement files beside them are not schemes), labelled by their name in ``lang``.

    >>> [o["value"] for o in scheme_options("en")][:2]
    ['default', 'default_ahp']
    """
    out = []
    for path in sorted(SCHEME_DIR.glob("*.yaml")):
        try:
            data, _ = resolve_scheme_data(path)
        except SchemeError:
            continue  # a broken file: the API names the problem if anyone asks for it
        if data.get("scheme") != path.stem:
            continue
        name = data.get("name_zh" if lang == "zh" else "name_en") or path.stem
        out.append({"label": f"{name} ({path.stem} {data.get('version', '')})".replace(" )", ")"), "value": path.stem})
    return out


def region_options(viewer: Viewer, lang: str) -> list[dict[str, str]]:
    """The districts with published scenarios that the viewer may open a round for (its scope only)."""
    scenarios = context.tables().read("scenarios")
    regions = [] if scenarios is None else sorted(set(scenarios["region"].drop_nulls().to_list()))
    return [{"label": region_name(g, lang), "value": g} for g in regions if viewer.can_read_region(g)]


def latest_period() -> str | None:
    """The latest year the published scores cover (the form's default period), or None."""
    scores = context.tables().read("scores")
    periods = [] if scores is None else [p for p in scores["period"].drop_nulls().to_list() if PERIOD.match(str(p))]
    return str(max(periods)) if periods else None


def open_form(viewer: Viewer, lang: str) -> html.Div:
    """The "open a round" form: scheme, period and the districts of the viewer's scope (leaders and admins)."""
    schemes = scheme_options(lang)
    regions = region_options(viewer, lang)
    return html.Div([
        html.H4(t("rounds.open", lang)),
        html.P(t("rounds.open_lead", lang), className="text-muted"),
        dbc.Row([
            dbc.Col([dbc.Label(t("rounds.open_scheme", lang), html_for="rounds-open-scheme"),
                     dcc.Dropdown(id="rounds-open-scheme", options=schemes, clearable=False,
                                  value=schemes[0]["value"] if schemes else None)], md=5),
            dbc.Col([dbc.Label(t("rounds.open_period", lang), html_for="rounds-open-period"),
                     dcc.Input(id="rounds-open-period", type="text", value=latest_period(), placeholder="2024",
                               maxLength=7, className="form-control")], md=2),
            dbc.Col([dbc.Label(t("rounds.open_regions", lang), html_for="rounds-open-regions"),
                     dcc.Dropdown(id="rounds-open-regions", options=regions, multi=True,
                                  value=[regions[0]["value"]] if len(regions) == 1 else [])], md=5),
        ], className="mb-2"),
        html.Button(t("rounds.open_button", lang), id="rounds-open-button", className="btn btn-primary"),
        html.Div(id="rounds-open-message", className="mt-2"),
        *api_writer("rounds", viewer.csrf_token),
    ], id="rounds-open-section", className="round-section mb-4")  # fmt: skip


def layout(lang: str = "zh", **_: Any) -> html.Div:
    """The list (filled once the browser has fetched it), and the form that opens a round for the roles that may."""
    lang = lang or "zh"
    header = page_header(t("rounds.title", lang), t("rounds.lead", lang))
    viewer = context.principal()
    if viewer is None:
        return html.Div([header, empty_state(t("rounds.needs_service", lang))], className="page page-rounds")
    return html.Div(
        [
            header,
            *api_stores("rounds", {"rounds": API}),
            open_form(viewer, lang) if viewer.role in OPENERS else None,
            html.Div(render_list(None, lang), id="rounds-list"),
        ],
        className="page page-rounds",
    )


load_from_api("rounds")
send_to_api("rounds")


@callback(Output("rounds-list", "children"), Input("rounds-data", "data"), State("lang", "value"))
def show_rounds(data: dict[str, Any] | None, lang: str) -> Any:
    """Render the list the browser fetched."""
    return render_list((data or {}).get("rounds"), lang or "zh")


def refusal(answer: dict[str, Any], lang: str, dom_id: str) -> dbc.Alert | None:
    """The API's refusal of a request a page sent (status and problem+json detail) as an alert, or None when
    the API did it."""
    detail = problem(answer)
    if detail is None:
        return None
    return dbc.Alert(t("round.refused", lang, status=answer.get("status"), detail=detail), color="danger", id=dom_id)


def open_request(scheme: str | None, period: str | None, regions: list[str] | None) -> tuple[dict[str, Any] | None, str | None]:
    """The ``POST /api/v1/rounds`` request of the form, or the label key of what is missing.

    >>> open_request("default", " 2024 ", ["pudong"])[0]["body"]
    {'scheme': 'default', 'period': '2024', 'regions': ['pudong']}
    >>> open_request("default", "24", ["pudong"])[1], open_request("default", "2024", [])[1]
    ('rounds.open_bad_period', 'rounds.open_no_region')
    """
    period = (period or "").strip()
    if not scheme:
        return None, "rounds.open_no_scheme"
    if not PERIOD.match(period):
        return None, "rounds.open_bad_period"
    if not regions:
        return None, "rounds.open_no_region"
    return {"action": "open", "method": "POST", "url": API,
            "body": {"scheme": scheme, "period": period, "regions": sorted(regions)}}, None  # fmt: skip


@callback(
    Output("rounds-request", "data"),
    Output("rounds-open-message", "children"),
    Input("rounds-open-button", "n_clicks"),
    State("rounds-open-scheme", "value"),
    State("rounds-open-period", "value"),
    State("rounds-open-regions", "value"),
    State("lang", "value"),
    prevent_initial_call=True,
)
def open_round(clicks: int | None, scheme: str | None, period: str | None, regions: list[str] | None,
               lang: str) -> tuple[Any, Any]:
    """Build the request that opens a round (the browser sends it; the API checks role and scope)."""
    viewer = context.principal()
    if not clicks or viewer is None or viewer.role not in OPENERS:
        return no_update, no_update
    request, missing = open_request(scheme, period, regions)
    if request is None:
        return no_update, dbc.Alert(t(str(missing), lang or "zh"), color="warning", id="rounds-open-refused")
    return request, dbc.Alert(t("rounds.loading", lang or "zh"), color="light")


@callback(
    Output("rounds-open-message", "children", allow_duplicate=True),
    Output("rounds-refresh", "data"),
    Input("rounds-response", "data"),
    State("rounds-refresh", "data"),
    State("lang", "value"),
    prevent_initial_call=True,
)
def show_opened(answer: dict[str, Any] | None, refresh: int | None, lang: str) -> tuple[Any, Any]:
    """Say what the API answered (the new round with its link, or why not) and reload the list."""
    lang = lang or "zh"
    if not answer:
        return no_update, no_update
    refused = refusal(answer, lang, "rounds-open-refused")
    if refused is not None:
        return refused, no_update
    doc = answer.get("body") or {}
    rid = doc.get("id")
    return dbc.Alert([t("rounds.opened", lang, id=rid, n=len(doc.get("scenarios") or [])), " ",
                      dcc.Link(t("rounds.opened_link", lang), href=f"/rounds/{rid}", id="rounds-opened-link")],
                     color="success", id="rounds-opened"), (refresh or 0) + 1  # fmt: skip
