"""The ASGI application: API at ``/api/v1``, ``/healthz``, ``/readyz``, login/logout, and the dashboard at ``/``.

Layers of every request, outermost first: Host allow-list → security headers → body-size limit → routes.
The dashboard (a Dash/Flask WSGI app) is mounted at ``/`` through a2wsgi behind a session check; the
authenticated :class:`service.Principal` is put in the WSGI environ under ``"dtscope.principal"`` (see
:mod:`service.principal` for what the dashboard can ask of it). Cookie-authenticated state changes (the
dashboard's callbacks included) must carry the session's CSRF token in the ``X-CSRFToken`` header, which
dash-renderer sends by itself from the ``_csrf_token`` cookie.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from a2wsgi import WSGIMiddleware
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api import PREFIX, api_router
from service.api import problems as problems_module
from service.api.deps import (
    SAFE_METHODS,
    csrf_ok,
    session_principal,
)
from service.api.problems import PROBLEM_JSON, Problem, problem_response
from service.login import health_routes, session_routes
from service.principal import PRINCIPAL_ENVIRON_KEY
from service.settings import ServiceSettings, load_settings
from service.store.db import Store, open_store

log = logging.getLogger(__name__)

LOGIN_CSRF_COOKIE = "dtscope_login_csrf"
WSGIApp = Callable[..., Iterable[bytes]]

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
LOGIN_CSP = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
DOCS_CSP = (
    "default-src 'none'; script-src https://cdn.jsdelivr.net 'unsafe-inline'; style-src https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def dashboard_csp(script_hashes: Iterable[str]) -> str:
    """CSP for the Dash pages: scripts from this origin plus the index page's own inline scripts (by hash)."""
    hashes = " ".join(script_hashes) or "'unsafe-inline'"
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def inline_script_hashes(html: str) -> list[str]:
    """``'sha256-…'`` sources for each executable inline ``<script>`` of a page.

    >>> inline_script_hashes('<script>var a=1;</script><script type="application/json">{}</script>')
    ["'sha256-...'"]
    """
    out = []
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S):
        if "src=" in attrs or re.search(r"type=\"application/(json|ld\+json)\"", attrs):
            continue
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
        out.append(f"'sha256-{digest}'")
    return out


# ---------------------------------------------------------------------------------------------- middleware
async def _send_problem(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    response = problem_response(status, detail, headers=headers)
    await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:  # pragma: no cover - responses never read
    return {"type": "http.disconnect"}


def host_name(host_header: str) -> str:
    """The host part of a ``Host`` header (no port), lower-case.

    >>> host_name("LocalHost:8050"), host_name("[::1]:8050"), host_name("127.0.0.1")
    ('localhost', '[::1]', '127.0.0.1')
    """
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if ":" in host else host


class HostAllowList:
    """Refuse requests whose ``Host`` is not allowed (DNS rebinding), with a 400 problem."""

    def __init__(self, app: ASGIApp, allowed: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = frozenset(h.lower() for h in allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and "*" not in self.allowed:
            headers = dict(scope.get("headers") or [])
            host = host_name(headers.get(b"host", b"").decode("latin-1"))
            if host not in self.allowed:
                if scope["type"] == "http":
                    await _send_problem(send, 400, "this Host is not served here (see DTSCOPE_ALLOWED_HOSTS)")
                return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """Add CSP, X-Content-Type-Options, X-Frame-Options, Referrer-Policy (and HSTS under TLS) to every answer."""

    def __init__(self, app: ASGIApp, dashboard_policy: str) -> None:
        self.app = app
        self.dashboard_policy = dashboard_policy

    def _csp(self, path: str) -> str:
        if path in (f"{PREFIX}/docs", f"{PREFIX}/docs/oauth2-redirect"):
            return DOCS_CSP
        if path.startswith(PREFIX) or path in ("/healthz", "/readyz"):
            return API_CSP
        if path in ("/login", "/logout") or path.startswith("/static/"):
            return LOGIN_CSP
        return self.dashboard_policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = self._csp(scope["path"])
        tls = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _OWN_HEADERS]
                headers += [
                    (b"content-security-policy", csp.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                if tls:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                if not any(k.lower() == b"cache-control" for k, _ in headers) and not scope["path"].startswith(
                    ("/assets/", "/_dash-component-suites/")
                ):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


_OWN_HEADERS = frozenset(
    {b"content-security-policy", b"x-content-type-options", b"x-frame-options", b"referrer-policy", b"server"}
)


class BodyLimit:
    """413 for bodies over the limit: at once from ``Content-Length``, else while the body streams in."""

    def __init__(self, app: ASGIApp, *, upload_paths: tuple[str, ...], upload_limit: int, default_limit: int) -> None:
        self.app = app
        self.upload_paths = upload_paths
        self.upload_limit = upload_limit
        self.default_limit = default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # multipart framing adds a little around the file itself
        limit = self.upload_limit + 64 * 1024 if scope["path"] in self.upload_paths else self.default_limit
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _send_problem(send, 413, f"the request body is over the {limit // 1024} KiB limit")
            return
        seen = 0
        started = False
        refused = False

        async def counting_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # answer 413 now; the app sees a disconnect and whatever it sends is dropped
                    refused = True
                    if not started:
                        await _send_problem(send, 413, f"the request body is over the {limit // 1024} KiB limit")
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except Exception:
            if not refused:
                raise


# ---------------------------------------------------------------------------------------------- dashboard
def with_principal(wsgi_app: WSGIApp) -> WSGIApp:
    """Copy the principal the gate put in the ASGI scope into the WSGI environ (``dtscope.principal``)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        scope = environ.get("asgi.scope") or {}
        environ[PRINCIPAL_ENVIRON_KEY] = scope.get(PRINCIPAL_ENVIRON_KEY)
        return wsgi_app(environ, start_response)

    return app


class DashboardGate:
    """Only live sessions reach the dashboard; page loads without one are sent to the login page."""

    def __init__(self, wsgi_app: WSGIApp, store: Store, settings: ServiceSettings) -> None:
        self.app: Any = WSGIMiddleware(with_principal(wsgi_app))
        self.store = store
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope)
        principal = await run_in_threadpool(session_principal, request, self.store, self.settings)
        if principal is None:
            if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
                target = "/login?next=" + quote(request.url.path, safe="/")
                await RedirectResponse(target, status_code=303)(scope, receive, send)
            else:
                await problem_response(401, "log in first")(scope, receive, send)
            return
        if request.method not in SAFE_METHODS and not csrf_ok(request, principal):
            await problem_response(403, "missing or wrong CSRF token")(scope, receive, send)
            return
        await self.app({**scope, PRINCIPAL_ENVIRON_KEY: principal}, receive, send)


def default_dashboard(settings: ServiceSettings, store: Store) -> tuple[WSGIApp, list[str]]:
    """The project's Dash app for this home, refusing data routes without a principal; its uploads are
    scoped to the caller's regions and audited (:class:`service.dashboard_uploads.DashboardUploads`).

    Returns the Flask server and the hashes of the index page's inline scripts (for the CSP).
    """
    from dashboard.app import app_for
    from service.dashboard_uploads import DashboardUploads

    uploads = DashboardUploads(settings, store)
    dash_app = app_for(
        settings.published_dir,
        upload_handler=uploads.validate,
        confirm_handler=uploads.confirm,
        max_upload_mb=settings.max_upload_bytes / (1024 * 1024),
        require_principal=True,
    )
    server = dash_app.server
    hashes: list[str] = []
    try:
        html = server.test_client().get("/").get_data(as_text=True)
        hashes = inline_script_hashes(html)
    except Exception:  # the CSP falls back to 'unsafe-inline' for scripts
        log.warning("could not read the dashboard's index page to hash its inline scripts", exc_info=True)
    return server, hashes


# ---------------------------------------------------------------------------------------------- the app
def create_app(
    settings: ServiceSettings | None = None,
    *,
    store: Store | None = None,
    dashboard: WSGIApp | str | None = "default",
) -> ASGIApp:
    """Build the service.

    Args:
        settings: where and how (default: :func:`service.settings.load_settings`).
        store: an open store (default: opened, and migrated, from ``settings.database_url``).
        dashboard: a WSGI app to mount at ``/``; ``"default"`` builds the project's Dash app; ``None``
            mounts nothing.

    Returns:
        The ASGI app, wrapped in the Host allow-list, security headers and body limit.
    """
    settings = settings or load_settings()
    store = store or open_store(settings.database_url, lock_dir=settings.home)

    api = FastAPI(
        title="dtscope API",
        version="1",
        summary="Scenario evaluation and KPI forecasting for district digital-transformation offices.",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        swagger_ui_oauth2_redirect_url=f"{PREFIX}/docs/oauth2-redirect",
        redoc_url=None,
        responses={422: {"model": Problem, "description": "Invalid input", "content": {PROBLEM_JSON: {}}}},
    )
    api.state.settings = settings
    api.state.store = store
    problems_module.install(api)
    api.include_router(api_router())
    api.include_router(health_routes(settings, store))
    api.include_router(session_routes(settings, store))

    @api.api_route(f"{PREFIX}/{{rest:path}}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def api_not_found(rest: str) -> Response:
        return problem_response(404, "no such API route; see /api/v1/openapi.json")

    hashes: list[str] = []
    wsgi: WSGIApp | None
    if dashboard == "default":
        wsgi, hashes = default_dashboard(settings, store)
    else:
        wsgi = dashboard if callable(dashboard) else None
    if wsgi is not None:
        api.mount("/", DashboardGate(wsgi, store, settings))

    app: ASGIApp = BodyLimit(
        api,
        upload_paths=(f"{PREFIX}/ingest",),
        upload_limit=settings.max_upload_bytes,
        default_limit=settings.max_body_bytes,
    )
    app = SecurityHeaders(app, dashboard_csp(hashes))
    app = HostAllowList(app, settings.allowed_hosts)
    app.fastapi = api  # type: ignore[attr-defined]  # tests enumerate api.routes
    return app


def app_from_env() -> ASGIApp:
    """Factory for the server processes (``uvicorn --factory service.app:app_from_env``): settings from the environment."""
    return create_app(load_settings())
