"""``/rounds/<round_id>`` — one assessment round: progress, the caller's judgement and AHP forms, the state
buttons its role may use, the scores and the raters' agreement.

How it talks to the round store: through the service's API, from the browser. ``assets/rounds.js`` fetches
the round's GET routes into ``round-data`` and sends the requests the Python callbacks build
(``round-request``) with the session cookie and the principal's CSRF token; the answer (``round-response``)
is shown and the page reloads its data. So every write takes the API's one path — role and region checks,
state checks (409), scale checks (422), the audit — and the dashboard imports nothing of the service.

The AHP form's consistency ratio is computed here, live, with the same review the API answers on save
(:func:`dashboard.rounds_view.ahp_review`); a matrix whose CR is above the scheme's limit cannot be submitted.

Owners see their department's scenarios (``GET …/self-assessment``, which the API filters to the department):
the metric values the round will score, and per indicator a form for a self-assessment note, evidence links
and a disputed value with its reason (``PUT …/self-assessment/{scenario}/{indicator}``). The other roles read
the owners' notes and disputes beside the progress. Notes and links are shown as text, never as markup.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import dash_bootstrap_components as dbc
import polars as pl
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard import context
from dashboard.components import (
    GridColumn,
    api_stores,
    api_writer,
    empty_state,
    grid,
    html_attrs,
    load_from_api,
    page_header,
    send_to_api,
)
from dashboard.i18n import format_number, label_or, region_name, t
from dashboard.pages.rounds import refusal, state_text
from dashboard.rounds_view import (
    API,
    action_request,
    ahp_request,
    ahp_review,
    allowed_actions,
    body,
    judgement_request,
    own_sheet,
    problem,
    progress_frame,
    report_urls,
    round_urls,
    scenario_progress,
    scores_frame,
)
from dashboard.routes import register_page
from evaluation.assessment.scheme import SCHEME_DIR, SchemeError, load_scheme

register_page(__name__)
HIDDEN = {"display": "none"}
SCHEME_NAME = re.compile(r"^[a-z][a-z0-9_]*$")  # the API's pattern of a scheme's name


def page_urls(round_id: int) -> dict[str, str]:
    """What the round page reads from the API: :func:`round_urls`, with the owners' part from
    ``GET …/self-assessment`` (notes, evidence and disputes; owners get only their department's scenarios).

    >>> page_urls(7)["owners"]
    '/api/v1/rounds/7/self-assessment'
    """
    return {**round_urls(round_id), "owners": f"{API}/{round_id}/self-assessment"}


def _name_of(lang: str) -> dict[str, str]:
    """Scenario id → its name in ``lang``, for the scenarios the viewer may see."""
    scenarios = context.tables().read("scenarios")
    if scenarios is None:
        return {}
    col = "name_zh" if lang == "zh" else "name_en"
    return dict(zip(scenarios["scenario_id"].to_list(), scenarios[col].to_list(), strict=True))


def _node_label(node: str, lang: str) -> str:
    return label_or(f"dim.{node}", node, lang)


def _yes(value: Any, lang: str) -> str:
    return t("yes" if value else "no", lang)


def _fmt(value: Any, digits: int = 3) -> str | None:
    return None if value is None else f"{float(value):.{digits}f}"


# ---------------------------------------------------------------------------------------------- rendering
def render_head(doc: dict[str, Any], lang: str) -> list[Any]:
    """Title, state, scheme with its version (SHA-256 prefix), period, districts, vintage, sign-off."""
    parts: list[Any] = [
        html.H2([t("round.title", lang, id=doc["id"]), " ",
                 dbc.Badge(state_text(doc.get("state"), lang), id="round-state", className=f"state-{doc.get('state')}")]),
        html.P(t("round.meta", lang, scheme=doc.get("scheme_label"), sha=(doc.get("scheme_sha256") or "")[:12],
                 period=doc.get("period"), regions="、".join(region_name(g, lang) for g in doc.get("regions") or []),
                 version=doc.get("version"), vintage=(doc.get("vintage") or "—")[:19]),
               className="text-muted"),
    ]  # fmt: skip
    if doc.get("state") == "returned" and doc.get("returned_reason"):
        parts.append(dbc.Alert(t("round.returned", lang, reason=doc["returned_reason"]), color="warning"))
    if doc.get("approved_by"):
        parts.append(html.P(t("round.approved_by", lang, who=doc["approved_by"], at=(doc.get("approved_at") or "")[:19]),
                            id="round-approved"))  # fmt: skip
    return parts


def render_progress(doc: dict[str, Any], items: list[dict[str, Any]], me: str, lang: str) -> tuple[Any, Any]:
    names = _name_of(lang)
    evaluators = progress_frame(doc)
    cols = [GridColumn("evaluator", "col.evaluator"), GridColumn("rated", "col.rated"),
            GridColumn("expected", "col.expected"),
            GridColumn("submitted", "col.submitted", text=lambda r: _yes(r["submitted"], lang))]  # fmt: skip
    scen = scenario_progress(doc, items, me)
    scols = [GridColumn("scenario_id", "col.scenario", text=lambda r: names.get(r["scenario_id"], r["scenario_id"])),
             GridColumn("mine", "col.mine"), GridColumn("judged", "col.judged"), GridColumn("raters", "col.raters")]  # fmt: skip
    return grid(evaluators, cols, lang, grid_id="round-progress-table"), grid(scen, scols, lang, grid_id="round-scen-table")


def render_scores(answer: dict[str, Any] | None, lang: str) -> Any:
    doc = body(answer)
    if doc is None:
        return dbc.Alert(t("round.scores_hidden", lang) if answer and answer.get("status") == 409
                         else t("rounds.failed", lang, detail=problem(answer) or ""), color="light")  # fmt: skip
    names = _name_of(lang)
    frame = scores_frame(doc.get("items") or [])
    cols = [GridColumn("rank", "col.rank"),
            GridColumn("scenario_id", "col.scenario", text=lambda r: names.get(r["scenario_id"], r["scenario_id"])),
            GridColumn("total", "col.total", text=lambda r: format_number(r.get("total"), lang)),
            GridColumn("grade", "col.grade", text=lambda r: f"{r.get('grade')}{' ★' if r.get('benchmark') else ''}"),
            GridColumn("rank_interval", "col.rank_interval",
                       text=lambda r: None if r.get("rank") is None else f"{r.get('rank_lo')}–{r.get('rank_hi')}")]  # fmt: skip
    return grid(frame, cols, lang, grid_id="round-scores-table")


def render_agreement(answer: dict[str, Any] | None, lang: str) -> Any:
    doc = body(answer)
    if doc is None or not doc.get("items"):
        return None
    frame = pl.DataFrame([{**{k: x.get(k) for k in ("indicator_id", "icc_2_1", "icc_2_k", "kendall_w")},
                           "raters": len(x.get("raters") or []), "flagged": len(x.get("flagged") or [])}
                          for x in doc["items"]], infer_schema_length=None)  # fmt: skip
    cols = [GridColumn("indicator_id", "col.indicator"), GridColumn("raters", "col.raters"),
            GridColumn("icc_2_1", "col.icc_2_1", text=lambda r: _fmt(r["icc_2_1"])),
            GridColumn("icc_2_k", "col.icc_2_k", text=lambda r: _fmt(r["icc_2_k"])),
            GridColumn("kendall_w", "col.kendall_w", text=lambda r: _fmt(r["kendall_w"])),
            GridColumn("flagged", "col.flagged")]  # fmt: skip
    return html.Div([html.H4(t("round.agreement", lang)), grid(frame, cols, lang, grid_id="round-agreement-table")])


def judge_fields(doc: dict[str, Any], items: list[dict[str, Any]], me: str, scenario_id: str | None, lang: str) -> tuple[list[Any], str]:
    """One number field per judged indicator, filled with the caller's own saved ratings (never others')."""
    judged = doc.get("judged_indicators") or []
    if not judged:
        return [html.P(t("round.judge_none", lang), className="text-muted")], ""
    if not scenario_id:
        return [], ""
    scores, comment = own_sheet(items, me, scenario_id)
    fields = []
    for j in judged:
        anchors = j.get("anchors") or {}
        fields.append(dbc.Row([
            dbc.Label([j["name_zh"] if lang == "zh" else j["name_en"], " ",
                       html.Small(t("round.scale", lang, lo=f"{j['min']:g}", hi=f"{j['max']:g}"), className="text-muted")],
                      md=4),
            dbc.Col(dcc.Input(id={"type": "judge-score", "ind": j["id"]}, type="number", min=j["min"], max=j["max"],
                              step="any", value=scores.get(j["id"]), className="form-control"), md=2),
            dbc.Col(html.Small("；".join(f"{k}: {v}" for k, v in sorted(anchors.items(), key=lambda kv: float(kv[0]))),
                               className="text-muted"), md=6),
        ], className="mb-2"))  # fmt: skip
    return fields, comment or ""


def ahp_matrix(order: list[str], lang: str) -> html.Table:
    """The pairwise form: the upper triangle typed (Saaty's 1–9, fractions allowed), the lower one its reciprocal."""
    n = len(order)
    head = html.Tr([html.Th("")] + [html.Th(_node_label(c, lang)) for c in order])
    rows = [head]
    for i in range(n):
        cells: list[Any] = [html.Th(_node_label(order[i], lang))]
        for j in range(n):
            if i == j:
                cells.append(html.Td("1", className="ahp-diag"))
            elif i < j:
                cells.append(html.Td(dcc.Input(id={"type": "ahp-cell", "i": i, "j": j}, type="text", value="1",
                                               debounce=False, size="5", className="form-control form-control-sm")))  # fmt: skip
            else:
                cells.append(html.Td(html.Span("1", id={"type": "ahp-recip", "i": i, "j": j}), className="ahp-recip"))
        rows.append(html.Tr(cells))
    return html.Table(rows, id="ahp-matrix-table", className="table table-sm ahp-matrix")


def render_review(result: dict[str, Any], order: list[str], lang: str) -> list[Any]:
    """CR against the limit (the exact value in ``data-cr``), weights, and the judgement to revisit."""
    if "error" in result:
        return [dbc.Alert(t("round.ahp_bad_cell", lang, detail=result["error"]), color="warning", id="ahp-error")]
    cr, limit = result["cr"], result["limit"]
    parts: list[Any] = [
        html.P(html.Span(t("round.ahp_cr", lang, cr=f"{cr:.4f}", limit=f"{limit:g}"), id="ahp-cr", **html_attrs({"data-cr": repr(cr)}))),
        dbc.Alert(t("round.ahp_ok" if result["consistent"] else "round.ahp_blocked", lang),
                  color="success" if result["consistent"] else "danger", id="ahp-verdict"),
        html.P([t("round.ahp_weights", lang), ": ",
                "，".join(f"{_node_label(k, lang)} {w:.3f}" for k, w in result["weights"].items())], id="ahp-weights"),
    ]  # fmt: skip
    worst = result.get("most_inconsistent")
    if worst is not None and not result["consistent"]:
        parts.append(html.P(t("round.ahp_worst", lang, row=_node_label(worst["row"], lang),
                              column=_node_label(worst["column"], lang), value=f"{worst['value']:.3g}",
                              implied=f"{worst['implied']:.2f}", suggested=worst["suggested"]), id="ahp-worst"))  # fmt: skip
    return parts


@functools.lru_cache(maxsize=16)
def _indicator_names(scheme: str) -> dict[str, tuple[str, str]]:
    """Indicator id → (name_zh, name_en) of the registry's scheme ``scheme`` (empty when it is not there)."""
    if not SCHEME_NAME.match(scheme):
        return {}
    try:
        spec = load_scheme(SCHEME_DIR / f"{scheme}.yaml").spec
    except (SchemeError, OSError):
        return {}
    return {i: (x.name_zh, x.name_en) for i, x in spec.indicators.items()}


def indicator_label(doc: dict[str, Any], indicator_id: str, lang: str) -> str:
    """An indicator's name in ``lang`` (from the round's scheme), else its id."""
    names = _indicator_names(str(doc.get("scheme") or ""))
    found = names.get(indicator_id)
    return indicator_id if found is None else (found[0] if lang == "zh" else found[1])


def _sheet(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The owners' part the browser fetched (``GET …/self-assessment`` items), or none."""
    found = body(data.get("owners"))
    return list(found.get("items") or []) if isinstance(found, dict) else []


def owner_entry(items: list[dict[str, Any]], scenario_id: str | None, indicator_id: str | None) -> dict[str, Any]:
    """The saved self-assessment of one indicator of one scenario (empty when there is none).

    >>> items = [{"scenario_id": "S1", "indicators": [{"indicator_id": "a", "note": "ok"}]}]
    >>> owner_entry(items, "S1", "a")["note"], owner_entry(items, "S2", "a")
    ('ok', {})
    """
    for x in items:
        if x.get("scenario_id") == scenario_id:
            return next((i for i in x.get("indicators") or [] if i.get("indicator_id") == indicator_id), {})
    return {}


def evidence_links(text: str | None) -> list[str]:
    """The evidence field's links: one per line, blank lines dropped (the API checks each is http(s)).

    >>> evidence_links(" https://a.example/1 \\n\\nhttps://b.example/2")
    ['https://a.example/1', 'https://b.example/2']
    """
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def self_assessment_request(round_id: int, scenario_id: str, indicator_id: str, *, note: str | None,
                            evidence: str | None, disputed: bool, reason: str | None) -> dict[str, Any]:
    """The ``PUT …/self-assessment/{scenario}/{indicator}`` request of the owner's form.

    >>> r = self_assessment_request(3, "S1", "usage_cases", note=" fine ", evidence="https://a.example/r.pdf",
    ...                             disputed=False, reason="x")
    >>> r["url"], r["body"]
    ('/api/v1/rounds/3/self-assessment/S1/usage_cases', {'note': 'fine', 'evidence': ['https://a.example/r.pdf'], \
'disputed': False, 'dispute_reason': None})
    """
    reason = (reason or "").strip()
    doc = {"note": (note or "").strip() or None, "evidence": evidence_links(evidence), "disputed": bool(disputed),
           "dispute_reason": (reason or None) if disputed else None}  # fmt: skip
    return {"action": "self_assessment", "method": "PUT",
            "url": f"{API}/{round_id}/self-assessment/{scenario_id}/{indicator_id}", "body": doc}  # fmt: skip


def _note_row(x: dict[str, Any]) -> dict[str, Any]:
    """The text of a saved self-assessment: note, evidence links, dispute reason, author."""
    return {"note": x.get("note"), "evidence": " · ".join(str(e) for e in x.get("evidence") or []) or None,
            "dispute": (x.get("dispute_reason") or "✔") if x.get("disputed") else None, "author": x.get("author")}  # fmt: skip


NOTE_COLUMNS = [GridColumn("note", "col.note"), GridColumn("evidence", "col.evidence"),
                GridColumn("dispute", "col.dispute"), GridColumn("author", "col.author")]  # fmt: skip
NOTE_SCHEMA = dict.fromkeys(("indicator", "note", "evidence", "dispute", "author"), pl.String)


def render_owner_sheet(doc: dict[str, Any], entry: dict[str, Any], lang: str) -> Any:
    """One scenario's indicators: how each is scored, the value the round will score, and the saved notes."""
    rows = [{"indicator": indicator_label(doc, str(x["indicator_id"]), lang),
             "judged_by": t("round.judged" if x.get("judged") else "round.measured", lang),
             "value": None if x.get("value") is None else format_number(x["value"], lang), **_note_row(x)}
            for x in entry.get("indicators") or []]  # fmt: skip
    frame = pl.DataFrame(rows, schema={**NOTE_SCHEMA, "judged_by": pl.String, "value": pl.String})
    cols = [GridColumn("indicator", "col.indicator"), GridColumn("judged_by", "col.judged_by"),
            GridColumn("value", "col.value"), *NOTE_COLUMNS]  # fmt: skip
    return grid(frame, cols, lang, grid_id="owner-sheet-table")


def render_owner_notes(doc: dict[str, Any], items: list[dict[str, Any]], lang: str) -> Any:
    """The owners' notes and disputes (for evaluators and leaders, who read them before rating and signing)."""
    names = _name_of(lang)
    rows = [{"scenario": names.get(x["scenario_id"], x["scenario_id"]),
             "indicator": indicator_label(doc, str(i["indicator_id"]), lang), **_note_row(i)}
            for x in items for i in x.get("indicators") or []
            if i.get("note") or i.get("evidence") or i.get("disputed")]  # fmt: skip
    if not rows:
        return None
    frame = pl.DataFrame(rows, schema={"scenario": pl.String, **NOTE_SCHEMA})
    cols = [GridColumn("scenario", "col.scenario"), GridColumn("indicator", "col.indicator"), *NOTE_COLUMNS]
    return _section(t("round.owner_notes", lang), grid(frame, cols, lang, grid_id="round-owner-notes-table"),
                    section_id="owner-notes-section")  # fmt: skip


# ----------------------------------------------------------------------------------------------- layout
def _section(title: str, *children: Any, section_id: str, style: dict[str, str] | None = None) -> html.Div:
    return html.Div([html.H4(title), *children], id=section_id, className="round-section mb-4", style=style)


def evaluator_sections(lang: str) -> list[Any]:
    return [
        _section(
            t("round.judge", lang),
            html.P(t("round.judge_hidden", lang), className="text-muted"),
            dbc.Row([dbc.Label(t("round.judge_scenario", lang), md=2),
                     dbc.Col(dcc.Dropdown(id="judge-scenario", clearable=False), md=6)], className="mb-2"),
            html.Div(id="judge-fields"),
            dbc.Label(t("round.judge_comment", lang)),
            dcc.Textarea(id="judge-comment", className="form-control mb-2", maxLength=4000),
            html.Button(t("round.judge_save", lang), id="judge-save", className="btn btn-primary"),
            section_id="judge-section", style=HIDDEN,
        ),
        _section(
            t("round.ahp", lang),
            html.P(t("round.ahp_lead", lang), className="text-muted"),
            dbc.Row([dbc.Label(t("round.ahp_node", lang), md=2),
                     dbc.Col(dcc.RadioItems(id="ahp-node", inline=True, inputClassName="me-1", labelClassName="me-3"), md=10)], className="mb-2"),
            html.Div(id="ahp-matrix"),
            html.Div(id="ahp-review"),
            html.Button(t("round.ahp_save", lang), id="ahp-save", className="btn btn-primary", disabled=True),
            section_id="ahp-section", style=HIDDEN,
        ),
        _section(t("round.actions", lang),
                 html.Button(t("round.submit", lang), id="round-submit", className="btn btn-success", disabled=True),
                 section_id="evaluator-actions"),
    ]


def leader_sections(lang: str) -> list[Any]:
    return [_section(
        t("round.actions", lang),
        dcc.Textarea(id="round-reason", placeholder=t("round.reason", lang), className="form-control mb-2", maxLength=2000),
        html.Div([
            html.Button(t("round.approve", lang), id="round-approve", className="btn btn-success me-2", disabled=True),
            html.Button(t("round.return", lang), id="round-return", className="btn btn-warning me-2", disabled=True),
            html.Button(t("round.revise", lang), id="round-revise", className="btn btn-outline-secondary", disabled=True),
        ]),
        section_id="leader-actions",
    )]  # fmt: skip


def owner_sections(lang: str) -> list[Any]:
    """The owner's section: its department's scenarios, the values the round scores, the self-assessment form."""
    return [_section(
        t("round.owner", lang),
        html.P(t("round.owner_lead", lang), className="text-muted"),
        html.Div(id="owner-status"),
        dbc.Row([dbc.Label(t("round.owner_scenario", lang), md=2),
                 dbc.Col(dcc.Dropdown(id="owner-scenario", clearable=False), md=6)], className="mb-2"),
        html.Div(id="owner-sheet", className="mb-3"),
        html.Div([
            dbc.Row([dbc.Label(t("round.owner_indicator", lang), md=2),
                     dbc.Col(dcc.Dropdown(id="owner-indicator", clearable=False), md=6)], className="mb-2"),
            dbc.Label(t("round.owner_note", lang), html_for="owner-note"),
            dcc.Textarea(id="owner-note", className="form-control mb-2", maxLength=4000),
            dbc.Label(t("round.owner_evidence", lang), html_for="owner-evidence"),
            dcc.Textarea(id="owner-evidence", className="form-control mb-2", maxLength=20 * 2001),
            dcc.Checklist(id="owner-disputed", options=[{"label": t("round.owner_disputed", lang), "value": "yes"}],
                          value=[], inputClassName="me-1", className="mb-2"),
            dcc.Textarea(id="owner-reason", placeholder=t("round.owner_reason", lang), className="form-control mb-2",
                         maxLength=2000),
            html.Button(t("round.owner_save", lang), id="owner-save", className="btn btn-primary"),
        ], id="owner-form", style=HIDDEN),
        section_id="owner-section",
    )]  # fmt: skip


def report_links(rid: int, lang: str) -> html.P:
    """Links to the round's report (``GET /api/v1/rounds/{id}/report``) as a page and as a workbook."""
    urls = report_urls(rid, lang)
    return html.P([
        html.A(t("round.report_html", lang), href=urls["html"], id="round-report-html", target="_blank",
               rel="noopener"),
        " · ",
        html.A(t("round.report_xlsx", lang), href=urls["xlsx"], id="round-report-xlsx", download=""),
    ], className="round-report-links")  # fmt: skip


def layout(round_id: str = "", lang: str = "zh", **_: Any) -> html.Div:
    """The round page; its data arrives from the API once the browser has fetched it."""
    lang = lang or "zh"
    back = dcc.Link(t("rounds.back", lang), href="/rounds")
    viewer = context.principal()
    if viewer is None:
        return html.Div([back, page_header(t("rounds.title", lang)), empty_state(t("rounds.needs_service", lang))],
                        className="page page-round")  # fmt: skip
    try:
        rid = int(round_id)
    except ValueError:
        return html.Div([back, empty_state(t("rounds.failed", lang, detail=round_id))], className="page page-round")
    role_sections: list[Any] = []
    if viewer.role == "evaluator":
        role_sections = evaluator_sections(lang)
    elif viewer.role == "leader":
        role_sections = leader_sections(lang)
    elif viewer.role == "owner":
        role_sections = owner_sections(lang)
    return html.Div(
        [
            back,
            dcc.Store(id="round-id", data=rid),
            dcc.Store(id="round-me", data={"name": viewer.name, "role": viewer.role}),
            *api_stores("round", page_urls(rid)),
            *api_writer("round", viewer.csrf_token),
            html.Div(html.Div(t("rounds.loading", lang), className="text-muted"), id="round-head"),
            report_links(rid, lang),
            html.Div(id="round-message"),
            *role_sections,
            _section(t("round.progress", lang), html.Div(id="round-progress"), section_id="progress-section"),
            _section(t("round.scenario_progress", lang), html.Div(id="round-scen-progress"), section_id="scen-section"),
            _section(t("round.scores", lang), html.Div(id="round-scores"), section_id="scores-section"),
            html.Div(id="round-agreement"),
            html.Div(id="round-owner-notes"),
        ],
        className="page page-round",
    )


# -------------------------------------------------------------------------------------------- callbacks
load_from_api("round")
send_to_api("round")


def _items(data: dict[str, Any]) -> list[dict[str, Any]]:
    found = body(data.get("judgements"))
    return list(found.get("items") or []) if found else []


@callback(
    Output("round-head", "children"),
    Output("round-progress", "children"),
    Output("round-scen-progress", "children"),
    Output("round-scores", "children"),
    Output("round-agreement", "children"),
    Output("round-owner-notes", "children"),
    Input("round-data", "data"),
    State("round-me", "data"),
    State("lang", "value"),
    prevent_initial_call=True,
)
def show_round(data: dict[str, Any] | None, me: dict[str, str], lang: str) -> tuple[Any, ...]:
    """Render what the browser fetched: head, progress per evaluator and per scenario, scores, agreement, and
    (for the roles other than owners, who have their own section) the owners' notes and disputes."""
    lang = lang or "zh"
    data = data or {}
    doc = body(data.get("round"))
    if doc is None:
        return empty_state(t("rounds.failed", lang, detail=problem(data.get("round")) or "")), None, None, None, None, None
    prog, scen = render_progress(doc, _items(data), me["name"], lang)
    notes = None if me.get("role") == "owner" else render_owner_notes(doc, _sheet(data), lang)
    return (render_head(doc, lang), prog, scen, render_scores(data.get("scores"), lang),
            render_agreement(data.get("agreement"), lang), notes)  # fmt: skip


@callback(
    Output("judge-section", "style"),
    Output("judge-scenario", "options"),
    Output("judge-scenario", "value"),
    Output("ahp-section", "style"),
    Output("ahp-node", "options"),
    Output("ahp-node", "value"),
    Output("round-submit", "disabled"),
    Input("round-data", "data"),
    State("judge-scenario", "value"),
    State("ahp-node", "value"),
    State("round-me", "data"),
    State("lang", "value"),
    prevent_initial_call=True,
)
def evaluator_controls(data: dict[str, Any] | None, scenario: str | None, node: str | None, me: dict[str, str],
                       lang: str) -> tuple[Any, ...]:
    """Show the forms the evaluator may use in this state; keep the chosen scenario and node."""
    doc = body((data or {}).get("round"))
    if doc is None:
        return HIDDEN, [], None, HIDDEN, [], None, True
    allowed = allowed_actions(me["role"], me["name"], doc)
    names = _name_of(lang or "zh")
    sids = doc.get("scenarios") or []
    options = [{"label": f"{names.get(s, s)} ({s})", "value": s} for s in sids]
    nodes = list((doc.get("ahp_nodes") or {}).keys())
    node_options = [{"label": _node_label(n, lang or "zh"), "value": n} for n in nodes]
    return (
        {} if "rate" in allowed and doc.get("judged_indicators") else HIDDEN, options, scenario if scenario in sids else (sids[0] if sids else None),
        {} if "ahp" in allowed else HIDDEN, node_options, node if node in nodes else (nodes[0] if nodes else None),
        "submit" not in allowed,
    )  # fmt: skip


@callback(
    Output("judge-fields", "children"),
    Output("judge-comment", "value"),
    Input("judge-scenario", "value"),
    State("round-data", "data"),
    State("round-me", "data"),
    State("lang", "value"),
    prevent_initial_call=True,
)
def show_judge_fields(scenario: str | None, data: dict[str, Any] | None, me: dict[str, str], lang: str) -> tuple[Any, ...]:
    doc = body((data or {}).get("round"))
    if doc is None:
        return [], ""
    return judge_fields(doc, _items(data or {}), me["name"], scenario, lang or "zh")


@callback(
    Output("round-request", "data", allow_duplicate=True),
    Output("round-message", "children", allow_duplicate=True),
    Input("judge-save", "n_clicks"),
    State("judge-scenario", "value"),
    State({"type": "judge-score", "ind": ALL}, "value"),
    State({"type": "judge-score", "ind": ALL}, "id"),
    State("judge-comment", "value"),
    State("round-id", "data"),
    State("round-data", "data"),
    State("lang", "value"),
    prevent_initial_call=True,
)
def save_judgement(*args: Any) -> tuple[Any, Any]:
    """Build the PUT of the judgement form (the browser sends it); refuse a value off the scale here."""
    clicks, scenario, values, ids, comment, rid, data, lang = args
    doc = body((data or {}).get("round"))
    if not clicks or not scenario or doc is None:
        return no_update, no_update
    request, why = judgement_request(rid, scenario, {i["ind"]: v for i, v in zip(ids, values, strict=True)}, comment,
                                     doc.get("judged_indicators") or [])  # fmt: skip
    if request is None:
        return no_update, dbc.Alert(t("round.refused", lang or "zh", status=422, detail=why), color="danger")
    return request, None


@callback(
    Output("ahp-matrix", "children"),
    Input("ahp-node", "value"),
    State("round-data", "data"),
    State("lang", "value"),
    prevent_initial_call=True,
)
def show_ahp_matrix(node: str | None, data: dict[str, Any] | None, lang: str) -> Any:
    order, _ = _ahp_node(data, node)
    return ahp_matrix(order, lang or "zh") if order else None


def _ahp_node(data: dict[str, Any] | None, node: str | None) -> tuple[list[str], dict[str, Any] | None]:
    """The criteria of AHP node ``node`` in the round the page loaded (empty when it has no such node) and the
    round's AHP settings (method, RI table, CR limit)."""
    doc = body((data or {}).get("round")) or {}
    return list((doc.get("ahp_nodes") or {}).get(node or "") or []), doc.get("ahp_settings")


def _cells(inputs: list[dict[str, Any]]) -> dict[tuple[int, int], Any]:
    return {(x["id"]["i"], x["id"]["j"]): x.get("value") for x in inputs}


def _refused(result: dict[str, Any]) -> bool:
    """A review whose matrix the API would refuse on save: a cell it cannot read, or a CR above the limit."""
    return "error" in result or not result["consistent"]


@callback(
    Output("ahp-review", "children"),
    Output({"type": "ahp-recip", "i": ALL, "j": ALL}, "children"),
    Output("ahp-save", "disabled"),
    Input({"type": "ahp-cell", "i": ALL, "j": ALL}, "value"),
    State("ahp-node", "value"),
    State("round-data", "data"),
    State("lang", "value"),
    prevent_initial_call=True,
)
def review_ahp(_values: list[Any], node: str | None, data: dict[str, Any] | None, lang: str) -> tuple[Any, ...]:
    """The live review of the matrix being typed: CR, verdict, weights, the judgement to revisit."""
    order, settings = _ahp_node(data, node)
    recips = ctx.outputs_list[1]
    cells = _cells(ctx.inputs_list[0])
    if not order or len(cells) != len(order) * (len(order) - 1) // 2:
        return None, ["1"] * len(recips), True
    result = ahp_review(order, cells, settings)
    shown = result.get("reciprocals", {})
    texts = [shown.get((o["id"]["i"], o["id"]["j"]), "?") for o in recips]
    return render_review(result, order, lang or "zh"), texts, _refused(result)


@callback(
    Output("round-request", "data", allow_duplicate=True),
    Input("ahp-save", "n_clicks"),
    State({"type": "ahp-cell", "i": ALL, "j": ALL}, "value"),
    State("ahp-node", "value"),
    State("round-id", "data"),
    State("round-data", "data"),
    prevent_initial_call=True,
)
def save_ahp(clicks: int | None, _values: list[Any], node: str | None, rid: int, data: dict[str, Any] | None) -> Any:
    """Build the PUT of the matrix, only when its CR is within the limit (the API refuses the submission otherwise)."""
    order, settings = _ahp_node(data, node)
    if not clicks or not order:
        return no_update
    cells = _cells(ctx.states_list[0])
    if _refused(ahp_review(order, cells, settings)):
        return no_update
    return ahp_request(rid, str(node), order, cells)


@callback(
    Output("round-request", "data", allow_duplicate=True),
    Input("round-submit", "n_clicks"),
    State("round-id", "data"),
    prevent_initial_call=True,
)
def submit(clicks: int | None, rid: int) -> Any:
    return action_request(rid, "submit") if clicks else no_update


@callback(
    Output("round-approve", "disabled"),
    Output("round-return", "disabled"),
    Output("round-revise", "disabled"),
    Input("round-data", "data"),
    State("round-me", "data"),
    prevent_initial_call=True,
)
def leader_controls(data: dict[str, Any] | None, me: dict[str, str]) -> tuple[bool, bool, bool]:
    doc = body((data or {}).get("round"))
    allowed = allowed_actions(me["role"], me["name"], doc) if doc else set()
    return "approve" not in allowed, "return" not in allowed, "revise" not in allowed


@callback(
    Output("round-request", "data", allow_duplicate=True),
    Input("round-approve", "n_clicks"),
    Input("round-return", "n_clicks"),
    Input("round-revise", "n_clicks"),
    State("round-reason", "value"),
    State("round-id", "data"),
    prevent_initial_call=True,
)
def leader_action(_a: int | None, _r: int | None, _v: int | None, reason: str | None, rid: int) -> Any:
    action = {"round-approve": "approve", "round-return": "return", "round-revise": "revisions"}.get(str(ctx.triggered_id))
    if action is None or not (ctx.triggered and ctx.triggered[0].get("value")):
        return no_update
    return action_request(rid, action, (reason or "").strip())


@callback(
    Output("round-message", "children"),
    Output("round-refresh", "data"),
    Input("round-response", "data"),
    State("round-refresh", "data"),
    State("lang", "value"),
    prevent_initial_call=True,
)
def show_answer(answer: dict[str, Any] | None, refresh: int | None, lang: str) -> tuple[Any, Any]:
    """Say what the API answered, then reload the round (a revision opens its new version's page)."""
    lang = lang or "zh"
    if not answer:
        return no_update, no_update
    refused = refusal(answer, lang, "round-refused")
    if refused is not None:
        return refused, (refresh or 0) + 1
    doc = answer.get("body") or {}
    if answer.get("action") == "ahp":
        text = t("round.ahp_saved", lang, node=_node_label(str(doc.get("node")), lang), cr=f"{doc.get('cr', 0):.4f}")
    elif answer.get("action") == "revisions" and doc.get("id"):
        return dcc.Location(id="round-goto", href=f"/rounds/{doc['id']}"), no_update
    else:
        text = t("round.done", lang, action=t(f"round.{answer.get('action')}", lang)
                 if answer.get("action") in ("submit", "approve", "return", "self_assessment")
                 else str(answer.get("action")))  # fmt: skip
    return dbc.Alert(text, color="success", id="round-done"), (refresh or 0) + 1


@callback(
    Output("owner-scenario", "options"),
    Output("owner-scenario", "value"),
    Output("owner-form", "style"),
    Output("owner-status", "children"),
    Input("round-data", "data"),
    State("owner-scenario", "value"),
    State("round-me", "data"),
    State("lang", "value"),
    prevent_initial_call=True,
)
def owner_controls(data: dict[str, Any] | None, scenario: str | None, me: dict[str, str], lang: str) -> tuple[Any, ...]:
    """The owner's scenarios in the round (the API sent only its department's); the form while it may write."""
    lang = lang or "zh"
    doc = body((data or {}).get("round"))
    sids = [str(x["scenario_id"]) for x in _sheet(data or {})]
    if doc is None or not sids:
        return [], None, HIDDEN, html.P(t("round.owner_none", lang), className="text-muted") if doc else None
    names = _name_of(lang)
    options = [{"label": f"{names.get(s, s)} ({s})", "value": s} for s in sids]
    editable = "self_assess" in allowed_actions(me["role"], me["name"], doc)
    closed = None if editable else html.P(t("round.owner_closed", lang), className="text-muted", id="owner-closed")
    # the same scenario is left alone, so a reload (after a save, or a refused one) keeps what the owner typed
    return options, no_update if scenario in sids else sids[0], {} if editable else HIDDEN, closed


@callback(
    Output("owner-sheet", "children"),
    Output("owner-indicator", "options"),
    Output("owner-indicator", "value"),
    Output("owner-note", "value"),
    Output("owner-evidence", "value"),
    Output("owner-disputed", "value"),
    Output("owner-reason", "value"),
    Input("owner-scenario", "value"),
    Input("owner-indicator", "value"),
    Input("round-data", "data"),
    State("lang", "value"),
    prevent_initial_call=True,
)
def show_owner_sheet(scenario: str | None, indicator: str | None, data: dict[str, Any] | None, lang: str) -> tuple[Any, ...]:
    """The chosen scenario's indicators with their values and notes; the form filled with the chosen
    indicator's saved self-assessment when the owner picks a scenario or an indicator (a reload of the round
    alone re-renders the table and keeps the form as typed: a refused save loses nothing)."""
    lang = lang or "zh"
    doc = body((data or {}).get("round"))
    items = _sheet(data or {})
    entry = next((x for x in items if x.get("scenario_id") == scenario), None)
    if doc is None or entry is None:
        return None, [], None, "", "", [], ""
    ids = [str(i["indicator_id"]) for i in entry.get("indicators") or []]
    options = [{"label": indicator_label(doc, i, lang), "value": i} for i in ids]
    picked = {"owner-scenario.value", "owner-indicator.value"} & set(ctx.triggered_prop_ids)
    if indicator in ids and not picked:
        return (render_owner_sheet(doc, entry, lang), options, *[no_update] * 5)
    indicator = indicator if indicator in ids else (ids[0] if ids else None)
    saved = owner_entry(items, scenario, indicator)
    return (render_owner_sheet(doc, entry, lang), options, indicator, saved.get("note") or "",
            "\n".join(saved.get("evidence") or []), ["yes"] if saved.get("disputed") else [],
            saved.get("dispute_reason") or "")  # fmt: skip


@callback(
    Output("round-request", "data", allow_duplicate=True),
    Input("owner-save", "n_clicks"),
    State("owner-scenario", "value"),
    State("owner-indicator", "value"),
    State("owner-note", "value"),
    State("owner-evidence", "value"),
    State("owner-disputed", "value"),
    State("owner-reason", "value"),
    State("round-id", "data"),
    prevent_initial_call=True,
)
def save_self_assessment(*args: Any) -> Any:
    """Build the PUT of the owner's form (the browser sends it; the API checks department, state and links)."""
    clicks, scenario, indicator, note, evidence, disputed, reason, rid = args
    viewer = context.principal()
    if not clicks or not scenario or not indicator or viewer is None or viewer.role != "owner":
        return no_update
    return self_assessment_request(rid, scenario, indicator, note=note, evidence=evidence, disputed=bool(disputed),
                                   reason=reason)
