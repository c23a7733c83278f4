"""The Dash app shell: navigation, language toggle, downloads; ``create_app``, ``configure`` and ``serve``.

The dashboard displays published tables; it never fits or scores. Everything is served locally
(``serve_locally=True``, a local stylesheet, plotly's zh-CN locale passed inline), so it works offline.

Pages are standard Dash pages: each module of ``dashboard/pages/`` calls ``dash.register_page`` (through
:func:`dashboard.routes.register_page`, with its row of the one route table) and has a
``layout()`` function and ``@callback``s; Dash imports them from ``pages_folder`` when the app is built.
Dash keeps pages and ``@callback``s in module globals and hands them to the app that serves first, so there
is one dashboard app per process (Dash's own rule: plotly/dash#2399); :func:`configure` points it at
another folder or other upload handlers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict, Unpack

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from flask import Response, request

from dashboard import context
from dashboard.contract import TABLES
from dashboard.data import PublishedTables
from dashboard.exports import leadership_brief_html, to_csv_bytes, to_excel_bytes
from dashboard.i18n import DEFAULT_LANG, LABELS, t
from dashboard.plotly_bundle import ASSETS_IGNORE, BUNDLE, pin_script
from dashboard.routes import NAV
from dashboard.scope import Viewer
from dashboard.views import filter_grid, kpi_grid, league_table

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent / "assets"
PAGES = Path(__file__).resolve().parent / "pages"

LOGOUT_PATH = "/logout"  # the service's logout route (POST with the session's csrf_token)
# Dash routes that answer with data; under the service they are refused without a principal. The index page,
# assets and component bundles carry none (the service reads the index page to hash its inline scripts).
DATA_ROUTES = ("/_dash-layout", "/_dash-update-component", "/_dash-dependencies", "/_reload-hash")

UploadHandler = Callable[[str, bytes], tuple[pl.DataFrame, pl.DataFrame]]
ConfirmHandler = Callable[[str, bytes], Any]


def _nav_links(lang: str) -> list[Any]:
    return [dbc.NavItem(dbc.NavLink(t(key, lang), href=href, active="exact", id=f"nav-{href.strip('/') or 'overview'}"))
            for key, href in NAV]  # fmt: skip


def account_bar(viewer: Viewer | None, lang: str = DEFAULT_LANG) -> html.Div | None:
    """Who is signed in and a logout button (a form posting to the service's ``/logout`` with the session's
    CSRF token); None in development mode."""
    if viewer is None:
        return None
    role = t(f"role.{viewer.role}", lang) if f"role.{viewer.role}" in LABELS[lang] else viewer.role
    return html.Div(
        [
            html.Span(t("auth.signed_in", lang, name=viewer.name, role=role), id="signed-in", className="me-2"),
            html.Form(
                [
                    dcc.Input(type="hidden", name="csrf_token", value=viewer.csrf_token or "", id="logout-csrf"),
                    html.Button(t("auth.logout", lang), type="submit", id="logout", className="btn btn-outline-light btn-sm"),
                ],
                action=LOGOUT_PATH,
                method="post",
                id="logout-form",
                className="d-inline",
            ),
        ],
        id="account",
        className="account text-light ms-3",
    )


def _shell_viewer() -> Viewer | None:
    """The viewer for the shell's account bar. The shell holds no data, and Dash calls it without a request
    principal (its layout check on the first request, the index page the service hashes); raising there
    would abort Dash's server setup before it registers the pages' callbacks, so none would ever run."""
    try:
        return context.principal()
    except context.NoPrincipal:
        return None


def shell() -> html.Div:
    """The frame around every page: navigation bar, language toggle, account, page container, download target."""
    return html.Div(
        [
            dbc.Navbar(
                dbc.Container(
                    [
                        dbc.NavbarBrand(t("app.brand", DEFAULT_LANG), href="/", id="brand"),
                        dbc.Nav(_nav_links(DEFAULT_LANG), id="nav-links", navbar=True),
                        html.Div(account_bar(_shell_viewer()), id="account-slot"),
                        dbc.RadioItems(
                            id="lang",
                            options=[{"label": "中文", "value": "zh"}, {"label": "English", "value": "en"}],
                            value=DEFAULT_LANG,
                            inline=True,
                            persistence=True,
                            persistence_type="session",
                            className="lang-toggle",
                        ),
                    ],
                    fluid=True,
                ),
                color="dark",
                dark=True,
                className="mb-3",
            ),
            dbc.Container(dash.page_container, fluid=True, id="page"),
            dcc.Download(id="download"),
        ]
    )


_APP: list[dash.Dash] = []  # the process's one app (see the module docstring)


class AppSettings(TypedDict, total=False):
    """The settings of the dashboard app, each optional, as :func:`create_app`, :func:`configure` and
    :func:`app_for` take them (keyword arguments); :func:`configure` holds the defaults.

    Attributes:
        mlflow_ui_url: base address of the MLflow UI, used for run links the ``runs`` table lacks (default None).
        upload_handler: ``(filename, content) -> (accepted, rejects)`` validating an uploaded file
            with the project's ingest rules; without it the Data page's upload explains it is off.
        confirm_handler: ``(filename, content) -> message`` that ingests a validated file.
        max_upload_mb: uploads larger than this are refused, in the browser before they are sent, with a
            message naming the file and the limit (default 5).
        require_principal: serve signed-in users only (``dtscope serve``): every data route refuses a
            request without the service's principal in the WSGI environ (``dtscope.principal``), and every
            table is filtered to the principal's regions. False (``dtscope dashboard``, the default): a single
            user sees everything, unless the environ carries a principal.
    """

    mlflow_ui_url: str | None
    upload_handler: UploadHandler | None
    confirm_handler: ConfirmHandler | None
    max_upload_mb: float
    require_principal: bool


def create_app(published_dir: Path, **settings: Unpack[AppSettings]) -> dash.Dash:
    """Build the process's dashboard app for the tables in ``published_dir``.

    Args:
        published_dir: folder of ``<name>.parquet`` published tables (``HOME/published_tables``).
        **settings: see :class:`AppSettings`.

    Returns:
        The Dash app (pages ``/``, ``/kpi/<kpi_id>``, ``/scenarios``, ``/scenarios/<scenario_id>``,
        ``/models``, ``/data``).

    Raises:
        RuntimeError: an app was already built in this process (use :func:`configure` on it instead).
    """
    if _APP:
        raise RuntimeError(
            "the dashboard app was already built in this process; Dash keeps pages and @callback in module "
            "globals, so a second app would serve no callbacks. Point the existing app at other tables "
            "with dashboard.app.configure(app, published_dir, ...)"
        )
    app = dash.Dash(
        "dashboard",  # the package: Dash names the page modules dashboard.pages.<page>
        use_pages=True,
        pages_folder=str(PAGES),
        assets_folder=str(ASSETS),
        assets_ignore=ASSETS_IGNORE,
        serve_locally=True,
        suppress_callback_exceptions=True,
        title=t("app.title", DEFAULT_LANG),
        routing_callback_inputs={"lang": Input("lang", "value")},
        update_title="",
    )
    # dcc.Graph loads the vendored cartesian plotly.js, not the full bundle (see dashboard.plotly_bundle).
    app.index_string = app.index_string.replace(
        "{%config%}", "{%config%}\n<script>" + pin_script(app.get_asset_url(BUNDLE)) + "</script>", 1
    )
    app.layout = shell
    app.server.before_request(_refuse_without_principal)
    app.server.register_error_handler(context.NoPrincipal, _no_principal)
    configure(app, published_dir, **settings)
    _APP.append(app)
    return app


def app_for(published_dir: Path, **settings: Unpack[AppSettings]) -> dash.Dash:
    """The process's one app pointed at ``published_dir`` with ``settings`` (those of :func:`create_app`):
    built on first use, re-pointed with :func:`configure` afterwards (the service mounts it this way)."""
    if _APP:
        configure(_APP[0], published_dir, **settings)
        return _APP[0]
    return create_app(published_dir, **settings)


def configure(app: dash.Dash, published_dir: Path, **settings: Unpack[AppSettings]) -> None:
    """Point ``app`` at the tables in ``published_dir`` and set its MLflow link and upload handlers.

    The settings live in the Flask config and are read per request (:mod:`dashboard.context`), so the
    next page load uses them. A setting not given takes its default (see :class:`AppSettings`).
    """
    max_upload_mb = settings.get("max_upload_mb", 5.0)
    app.server.config.update(
        {
            context.TABLES_KEY: PublishedTables(published_dir),
            context.MLFLOW_KEY: settings.get("mlflow_ui_url"),
            context.UPLOAD_KEY: settings.get("upload_handler"),
            context.CONFIRM_KEY: settings.get("confirm_handler"),
            context.MAX_UPLOAD_KEY: int(max_upload_mb * 1024 * 1024),
            context.REQUIRE_PRINCIPAL_KEY: settings.get("require_principal", False),
            # The Data page refuses an oversized file in the browser, before sending it (pages/data.py); this
            # cap (room for base64's 4/3) only stops requests that bypass the page.
            "MAX_CONTENT_LENGTH": int(max_upload_mb * 1024 * 1024 * 2 + 1024 * 1024),
        }
    )


def _refuse_without_principal() -> Any:
    """Flask ``before_request``: under the service, a data route without a principal gets 401 (never data)."""
    if request.path.startswith(DATA_ROUTES):
        try:
            context.principal()
        except context.NoPrincipal as exc:
            return _no_principal(exc)
    return None


def _no_principal(exc: Exception) -> Any:
    return Response(str(exc) or "log in first", status=401, mimetype="text/plain")


@callback(
    Output("nav-links", "children"),
    Output("brand", "children"),
    Output("account-slot", "children"),
    Input("lang", "value"),
)
def translate_nav(lang: str) -> tuple[list[Any], str, Any]:
    """Switch the navigation labels (and the account bar) with the language toggle."""
    lang = lang or DEFAULT_LANG
    return _nav_links(lang), t("app.brand", lang), account_bar(context.principal(), lang)


def export_frame(table: str, region: str | None) -> pl.DataFrame | None:
    """The frame behind a download button: a published table, the KPI grid or the league table.

    Args:
        table: a published table name, ``kpi_grid`` or ``league``; ``name:key`` keeps the rows whose
            ``kpi_id`` (or, without that column, ``scenario_id``) equals ``key``.
        region: a region id, or ``"all"``; filters tables that have a ``region`` column.

    Returns:
        The frame, or None when the table is not published.
    """
    published = context.tables()
    table, _, key = table.partition(":")
    if table == "kpi_grid":
        kpis = published.read("kpis")
        if kpis is None:
            return None
        grid = kpi_grid(kpis, published.read("attainment"), published.read("observations"))
        return filter_grid(grid, region=region)
    if table == "league":
        scores = published.read("scores")
        if scores is None:
            return None
        league = league_table(scores, published.read("scenarios"))
        return league.filter(pl.col("region") == region) if region and region != "all" else league
    if table not in TABLES:
        return None
    frame = published.read(table)
    if frame is not None and region and region != "all" and "region" in frame.columns:
        frame = frame.filter(pl.col("region") == region)
    if frame is not None and key:
        column = "kpi_id" if "kpi_id" in frame.columns else "scenario_id"
        frame = frame.filter(pl.col(column) == key)
    return frame


@callback(
    Output("download", "data"),
    Input({"type": "download-btn", "table": ALL, "fmt": ALL, "region": ALL}, "n_clicks"),
    State("lang", "value"),
    prevent_initial_call=True,
)
def download(clicks: list[int | None], lang: str) -> Any:
    """Serve the table behind the clicked button as CSV, Excel or the leadership brief."""
    trigger = ctx.triggered_id
    if not trigger or not any(clicks) or not ctx.triggered or not ctx.triggered[0].get("value"):
        return no_update  # a button was (re)rendered, not clicked
    table, fmt, region = trigger["table"], trigger["fmt"], trigger["region"]
    frame = export_frame(table, region)
    if frame is None:
        return no_update
    stem = f"dtscope_{table.replace(':', '_')}" + (f"_{region}" if region and region != "all" else "")
    if fmt == "csv":
        return dcc.send_bytes(to_csv_bytes(frame), f"{stem}.csv")
    if fmt == "xlsx":
        return dcc.send_bytes(to_excel_bytes(frame, table), f"{stem}.xlsx")
    published = context.tables()
    brief = leadership_brief_html(
        frame,
        published.read("forecasts"),
        published.read("observations"),
        lang or DEFAULT_LANG,
        region=region,
        calibration=published.read("calibration"),
    )
    return dcc.send_string(brief, f"dtscope_brief{'_' + region if region and region != 'all' else ''}.html")


def serve(
    published_dir: Path,
    host: str = "127.0.0.1",
    port: int = 8050,
    *,
    mlflow_ui_url: str | None = None,
    upload_handler: UploadHandler | None = None,
    confirm_handler: ConfirmHandler | None = None,
    debug: bool = False,
) -> None:
    """Serve the dashboard until interrupted (logs the address it listens on)."""
    app = create_app(
        published_dir,
        mlflow_ui_url=mlflow_ui_url,
        upload_handler=upload_handler,
        confirm_handler=confirm_handler,
    )
    log.info("dtscope dashboard on http://%s:%d/ (tables from %s)", host, port, published_dir)
    app.run(host=host, port=port, debug=debug)
