"""``/data`` — ingestion history, rejects with reasons, and a validate-then-confirm upload."""

from __future__ import annotations

import logging
from pathlib import PurePath
from typing import Any

import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard import context
from dashboard.components import GridColumn, empty_state, export_bar, grid, html_attrs, page_header
from dashboard.i18n import format_size, region_name, t
from dashboard.routes import register_page
from dashboard.scope import may_upload, outside_ingest_scope
from dashboard.uploads import check_upload, decode_upload, too_big_values

log = logging.getLogger(__name__)

register_page(__name__)
PREVIEW_ROWS = 20


def _ts(row: dict[str, Any]) -> str | None:
    return row["vintage"].strftime("%Y-%m-%d %H:%M") if row.get("vintage") else None


def _file(row: dict[str, Any]) -> str | None:
    """The file's name only: the folder it was read from is the server's business (no paths in pages)."""
    file = row.get("file")
    return PurePath(file.replace("\\", "/")).name if file else None


VINTAGE = GridColumn("vintage", "col.vintage", text=_ts)
FILE = GridColumn("file", "col.file", text=_file)
REJECT_COLUMNS = [
    GridColumn("row", "col.row"),
    GridColumn("column", "col.column"),
    GridColumn("reason_code", "col.reason_code"),
    GridColumn("reason", "col.reason"),
]


INGEST_COLUMNS = [VINTAGE, FILE, GridColumn("layout", "col.layout"), GridColumn("rows_in", "col.rows_in"),
                  GridColumn("accepted", "col.accepted"), GridColumn("rejected", "col.rejected"),
                  GridColumn("unchanged", "col.unchanged")]  # fmt: skip


def _table_part(
    table: str, frame: pl.DataFrame | None, columns: list[GridColumn], lang: str, *, by: list[str],
    descending: list[bool],
) -> list[Any]:
    """A published table's download buttons and its grid (id ``<table>-table``) sorted by ``by``, or the
    empty state when the table is not published yet."""
    if frame is None:
        return [empty_state(t("empty.table", lang, table=table))]
    shown = grid(frame.sort(by, descending=descending), columns, lang, grid_id=f"{table}-table")
    return [export_bar(table, lang), shown]


def layout(lang: str = "zh", **_: Any) -> html.Div:
    """Ingestion history (newest vintage first), rejects, and the upload."""
    lang = lang or "zh"
    published = context.tables()
    ingests = published.read("ingests")
    rejects = published.read("rejects")
    limit = context.max_upload_bytes()
    parts: list[Any] = [
        page_header(t("data.title", lang), t("data.lead", lang)),
        html.H4(t("data.ingests", lang)),
        *_table_part("ingests", ingests, INGEST_COLUMNS, lang, by=["vintage"], descending=[True]),
        html.H4(t("data.rejects", lang), className="mt-3"),
        *_table_part("rejects", rejects, [VINTAGE, FILE, *REJECT_COLUMNS], lang, by=["vintage", "row"],
                     descending=[True, False]),
    ]  # fmt: skip
    kpis = published.read("kpis")
    if not may_upload(context.principal(), kpis["region"].unique().to_list() if kpis is not None else []):
        # the control is not offered; the callbacks below refuse too (a request can be made without the page)
        parts.append(html.P(t("data.upload_not_allowed", lang), className="text-muted mt-4", id="upload-off"))
        return html.Div(parts, className="page page-data")
    parts += [
        # A file over the limit is refused in the browser before it is sent (`max_size`; a big upload would
        # otherwise hit the server's request-size cap and fail without a word). dcc.Upload drops such a
        # file silently, so assets/upload_limit.js reports it to `upload-refused` (limit: data-max-bytes).
        html.Div(
            dcc.Upload(
                id="upload",
                children=html.Div(t("data.upload", lang, limit=format_size(limit))),
                className="upload-zone",
                # No `accept` filter: the browser would drop other files silently; the server explains instead.
                multiple=False,
                max_size=limit,
            ),
            className="mt-4",
            **html_attrs({"data-max-bytes": str(limit)}),
        ),
        dcc.Store(id="upload-refused"),
        dcc.Loading(html.Div(id="upload-result", className="mt-2")),
        dbc.Button(
            t("data.confirm", lang), id="upload-confirm", color="primary", className="mt-2", disabled=True
        ),
        html.Div(id="upload-confirmed", className="mt-2"),
        dcc.Store(id="upload-pending"),
    ]
    return html.Div(parts, className="page page-data")


@callback(
    Output("upload-result", "children"),
    Output("upload-pending", "data"),
    Output("upload-confirm", "disabled"),
    Input("upload", "contents"),
    Input("upload-refused", "data"),
    State("upload", "filename"),
    State("lang", "value"),
    prevent_initial_call=True,
)
def validate_upload(
    contents: str | None, refused: dict[str, Any] | None, filename: str | None, lang: str
) -> tuple[Any, Any, bool]:
    """Validate an uploaded file with the app's upload handler and show accepted and rejected rows; a file
    the browser refused for its size (``upload-refused``) gets the size message and clears any pending one."""
    if ctx.triggered_id == "upload-refused":
        if not refused:
            return no_update, no_update, True
        values = too_big_values(str(refused.get("filename")), float(refused.get("size") or 0),
                                context.max_upload_bytes())  # fmt: skip
        return dbc.Alert(t("data.too_big", lang, **values), color="danger", id="upload-error"), None, True
    if not contents or not filename:
        return no_update, no_update, True
    if not _may_upload():
        return dbc.Alert(t("data.upload_not_allowed", lang), color="danger", id="upload-error"), None, True
    try:
        content = decode_upload(contents)
    except ValueError as exc:
        return (
            dbc.Alert(
                t("data.upload_bad", lang, file=filename, reason=str(exc)), color="danger", id="upload-error"
            ),
            None,
            True,
        )
    problem = check_upload(filename, len(content), context.max_upload_bytes())
    if problem:
        key, values = problem
        return dbc.Alert(t(key, lang, **values), color="danger", id="upload-error"), None, True
    handler = context.upload_handler()
    if handler is None:
        return dbc.Alert(t("data.no_handler", lang), color="warning", id="upload-error"), None, True
    try:
        accepted, rejects = handler(filename, content)
    except Exception as exc:  # the handler reports a bad file by raising; the user needs the reason
        log.info("upload %s refused: %s", filename, exc)
        return (
            dbc.Alert(
                t("data.upload_bad", lang, file=filename, reason=str(exc)), color="danger", id="upload-error"
            ),
            None,
            True,
        )
    accepted = accepted if isinstance(accepted, pl.DataFrame) else pl.DataFrame(accepted)
    rejects = rejects if isinstance(rejects, pl.DataFrame) else pl.DataFrame(rejects)
    outside = _outside(accepted, lang)
    if outside:
        return dbc.Alert(outside, color="danger", id="upload-error"), None, True
    colour = "success" if rejects.height == 0 else ("warning" if accepted.height else "danger")
    key = "data.upload_ok" if accepted.height else "data.upload_none"
    summary = dbc.Alert(t(key, lang, file=filename, acc=accepted.height, rej=rejects.height),
                        color=colour, id="upload-summary")  # fmt: skip
    acc_cols: list[str] = [
        c for c in ("kpi_id", "region", "period", "value", "source") if c in accepted.columns
    ]
    result = [
        summary,
        html.H5(t("data.rejected_rows", lang)),
        grid(
            rejects, [c for c in REJECT_COLUMNS if c.field in rejects.columns], lang, grid_id="upload-rejects"
        ),
        html.H5(t("data.accepted_rows", lang, n=PREVIEW_ROWS)),
        _plain_table(accepted.head(PREVIEW_ROWS), acc_cols or list(accepted.columns), lang),
    ]
    pending = {"filename": filename, "contents": contents} if accepted.height else None
    return result, pending, accepted.height == 0


def _plain_table(frame: pl.DataFrame, columns: list[str], lang: str) -> html.Div:
    """A table headed by raw column names (the accepted rows' preview)."""
    if frame.height == 0 or not columns:
        return empty_state(t("empty.rows", lang))
    head = html.Thead(html.Tr([html.Th(c) for c in columns]))
    body = html.Tbody([html.Tr([html.Td("—" if r[c] is None else str(r[c])) for c in columns])
                       for r in frame.iter_rows(named=True)])  # fmt: skip
    return html.Div(html.Table([head, body], className="table table-sm data-table", id="upload-accepted"),
                    className="table-responsive")  # fmt: skip


@callback(
    Output("upload-confirmed", "children"),
    Output("upload-confirm", "disabled", allow_duplicate=True),
    Input("upload-confirm", "n_clicks"),
    State("upload-pending", "data"),
    State("lang", "value"),
    prevent_initial_call=True,
)
def confirm_upload(n_clicks: int | None, pending: dict[str, str] | None, lang: str) -> tuple[Any, bool]:
    """Ingest the validated file through the app's confirm handler."""
    if not n_clicks or not pending:
        return no_update, True
    handler = context.confirm_handler()
    if handler is None:
        return dbc.Alert(t("data.no_handler", lang), color="warning"), True
    if not _may_upload():
        return dbc.Alert(t("data.upload_not_allowed", lang), color="danger"), True
    if context.principal() is not None:
        # the pending file came back from the browser: validate it again before anything is written
        validate = context.upload_handler()
        try:
            accepted, _ = validate(pending["filename"], decode_upload(pending["contents"])) if validate else (None, None)
        except Exception as exc:
            return dbc.Alert(t("data.upload_bad", lang, file=pending["filename"], reason=str(exc)), color="danger"), True
        outside = _outside(accepted, lang) if accepted is not None else t("data.no_handler", lang)
        if outside:
            return dbc.Alert(outside, color="danger"), True
    try:
        message = handler(pending["filename"], decode_upload(pending["contents"]))
    except Exception as exc:  # surface the ingest's own error message to the user
        log.warning("ingest of %s failed: %s", pending["filename"], exc)
        return dbc.Alert(
            t("data.upload_bad", lang, file=pending["filename"], reason=str(exc)), color="danger"
        ), True
    return dbc.Alert(t("data.confirmed", lang, msg=str(message)), color="success", id="upload-done"), True


def _may_upload() -> bool:
    kpis = context.tables().read("kpis")
    return may_upload(context.principal(), kpis["region"].unique().to_list() if kpis is not None else [])


def _outside(accepted: Any, lang: str) -> str | None:
    """The refusal when an upload has rows for regions the viewer may not ingest for, else None."""
    frame = accepted if isinstance(accepted, pl.DataFrame) else pl.DataFrame(accepted)
    if "region" not in frame.columns:
        return None
    outside = outside_ingest_scope(context.principal(), frame["region"].unique().to_list())
    if not outside:
        return None
    return t("data.upload_out_of_scope", lang, regions="、".join(region_name(r, lang) for r in outside))
