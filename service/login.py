"""The session pages: sign in (zh/en, CSRF-protected form, throttled), sign out, and the health probes.

They are plain routes beside the API (not in its OpenAPI document); :func:`session_routes` and
:func:`health_routes` bind them to one service's settings and store.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from service.api.deps import CSRF_COOKIE, SESSION_COOKIE, client_address, csrf_ok, session_principal
from service.api.problems import problem_response
from service.auth import RateLimited, login, logout
from service.settings import ServiceSettings
from service.store.db import Store

TEMPLATES = Path(__file__).resolve().parent / "templates"
LOGIN_CSRF_COOKIE = "dtscope_login_csrf"

TEXT = {
    "zh": {
        "title": "dtscope 登录",
        "name": "账号",
        "password": "密码",
        "submit": "登录",
        "failed": "账号或密码不正确。",
        "limited": "登录失败次数过多,请 {s} 秒后再试。",
        "expired": "表单已过期,请重试。",
    },
    "en": {
        "title": "Sign in to dtscope",
        "name": "Account",
        "password": "Password",
        "submit": "Sign in",
        "failed": "Wrong account or password.",
        "limited": "Too many failed logins; try again in {s} s.",
        "expired": "The form expired; please try again.",
    },
}


def _lang(request: Request, given: str | None = None) -> str:
    if given in TEXT:
        return given
    accept = request.headers.get("accept-language", "")
    return "en" if accept.lower().startswith("en") else "zh"


def _safe_next(path: str | None) -> str:
    """Only same-site paths: ``/x`` but never ``//host`` or ``/\\host`` (open redirects)."""
    if not path or not path.startswith("/") or path.startswith(("//", "/\\")) or len(path) > 512:
        return "/"
    return path


def _secure(request: Request, settings: ServiceSettings) -> bool:
    return settings.secure_cookies or request.url.scheme == "https"


def health_routes(settings: ServiceSettings, store: Store) -> APIRouter:
    """``/healthz`` (the process answers) and ``/readyz`` (store, published tables and warehouse readable)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", include_in_schema=False)
    def readyz() -> Response:
        checks = {
            "store": store.ready(),
            "published_tables": (settings.published_dir / "kpis.parquet").is_file(),
            "warehouse": settings.warehouse_path.is_file(),
        }
        if all(checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        failed = ", ".join(k for k, ok in checks.items() if not ok)
        return problem_response(503, f"not ready: {failed}")

    return router


def session_routes(settings: ServiceSettings, store: Store) -> APIRouter:
    """The sign-in form and its submission, sign-out, and the login page's stylesheet."""
    router = APIRouter(include_in_schema=False)
    templates = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))

    def _login_page(
        request: Request, *, lang: str, next_path: str, message: str = "", name: str = "", status: int = 200
    ) -> HTMLResponse:
        token = secrets.token_urlsafe(32)
        html = templates.get_template("login.html").render(
            lang=lang, t=TEXT[lang], next_path=next_path, message=message, name=name, csrf_token=token
        )
        response = HTMLResponse(html, status_code=status)
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=_secure(request, settings),
            path="/login",
        )
        return response

    @router.get("/login", include_in_schema=False)
    def login_form(request: Request, lang: str | None = None, next: str | None = None) -> HTMLResponse:
        return _login_page(request, lang=_lang(request, lang), next_path=_safe_next(next))

    @router.post("/login", include_in_schema=False)
    async def login_submit(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=10)
        field = {k: str(v) for k, v in form.items()}
        lang = _lang(request, field.get("lang"))
        next_path = _safe_next(field.get("next"))
        name = field.get("name", "")[:64]
        sent, expected = field.get("csrf_token", ""), request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
            return _login_page(
                request, lang=lang, next_path=next_path, message=TEXT[lang]["expired"], name=name, status=403
            )
        address = client_address(request)

        def attempt() -> Any:
            with store.unit() as s:
                return login(s, name, field.get("password", ""), address=address, limits=settings.rate_limits)

        try:
            new = await run_in_threadpool(attempt)
        except RateLimited as exc:
            page = _login_page(
                request,
                lang=lang,
                next_path=next_path,
                message=TEXT[lang]["limited"].format(s=exc.retry_after),
                name=name,
                status=429,
            )
            page.headers["Retry-After"] = str(exc.retry_after)
            return page
        if new is None:
            return _login_page(
                request, lang=lang, next_path=next_path, message=TEXT[lang]["failed"], name=name, status=401
            )
        response = RedirectResponse(next_path, status_code=303)
        secure = _secure(request, settings)
        response.set_cookie(
            SESSION_COOKIE, new.session_id, httponly=True, samesite="lax", secure=secure, path="/"
        )
        response.set_cookie(
            CSRF_COOKIE, new.csrf_token, httponly=False, samesite="lax", secure=secure, path="/"
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    @router.post("/logout", include_in_schema=False)
    async def logout_submit(request: Request) -> Response:
        principal = await run_in_threadpool(session_principal, request, store, settings)
        if principal is None:
            return problem_response(401, "no session to end")
        form = await request.form(max_files=0, max_fields=5)
        token = form.get("csrf_token")
        if not csrf_ok(request, principal, token if isinstance(token, str) else None):
            return problem_response(403, "missing or wrong CSRF token")
        sid = request.cookies.get(SESSION_COOKIE, "")

        def end() -> None:
            with store.unit() as s:
                logout(s, sid, address=client_address(request))

        await run_in_threadpool(end)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")
        return response

    @router.get("/static/login.css", include_in_schema=False)
    def login_css() -> Response:
        return Response((TEMPLATES / "login.css").read_text(encoding="utf-8"), media_type="text/css")

    return router
