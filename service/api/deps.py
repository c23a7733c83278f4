"""Dependencies every API route takes: the store, the caller (token or session + CSRF), role checks.

Routers declare :func:`authenticated` at router level and each route asks for a role set through
:func:`require`, so no route can be reached without both.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from service.api.problems import ProblemError
from service.auth import authenticate_token, resolve_session
from service.principal import Principal, Role
from service.settings import ServiceSettings
from service.store.db import Store

SESSION_COOKIE = "dtscope_session"
CSRF_COOKIE = "_csrf_token"  # read by dash-renderer, which sends it back as the X-CSRFToken header
CSRF_HEADERS = ("x-csrftoken", "x-csrf-token")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer = HTTPBearer(auto_error=False, description="An API token from `dtscope tokens create NAME`.")


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> ServiceSettings:
    settings: ServiceSettings = request.app.state.settings
    return settings


def db_session(store: Annotated[Store, Depends(get_store)]) -> Iterator[Session]:
    """One transaction per request (committed when the route returns, rolled back when it raises)."""
    with store.unit() as session:
        yield session


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def csrf_ok(request: Request, principal: Principal, form_token: str | None = None) -> bool:
    """A cookie-authenticated state change must echo the session's CSRF token (header or form field)."""
    expected = principal.csrf_token or ""
    sent = next((request.headers[h] for h in CSRF_HEADERS if h in request.headers), None) or form_token or ""
    return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())


def session_principal(request: Request, store: Store, settings: ServiceSettings) -> Principal | None:
    sid = request.cookies.get(SESSION_COOKIE)
    if not sid:
        return None
    with store.unit() as s:
        return resolve_session(
            s, sid, idle_seconds=settings.session_idle_seconds, absolute_seconds=settings.session_absolute_seconds
        )


def authenticated(
    request: Request,
    store: Annotated[Store, Depends(get_store)],
    settings: Annotated[ServiceSettings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Principal:
    """The caller: a bearer token, else the session cookie (plus CSRF for state changes); else 401."""
    if "authorization" in request.headers:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ProblemError(401, "send Authorization: Bearer <token>")
        with store.unit() as s:
            principal = authenticate_token(s, credentials.credentials.strip())
        if principal is None:
            raise ProblemError(401, "the token is invalid, expired or revoked, or its account is disabled")
    else:
        found = session_principal(request, store, settings)
        if found is None:
            raise ProblemError(401, "log in, or send Authorization: Bearer <token>")
        principal = found
        if request.method not in SAFE_METHODS and not csrf_ok(request, principal):
            raise ProblemError(403, "missing or wrong CSRF token (send the X-CSRFToken header)")
    request.state.principal = principal
    return principal


def require(*roles: Role) -> Callable[..., Principal]:
    """A dependency that lets only ``roles`` through (403 for the others)."""
    allowed = frozenset(roles)

    def dependency(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        if principal.role not in allowed:
            raise ProblemError(403, f"role {principal.role} may not do this; allowed: {', '.join(sorted(allowed))}")
        return principal

    dependency.allowed_roles = allowed  # type: ignore[attr-defined]
    return dependency


def check_region(principal: Principal, region: str | None) -> None:
    """403 when the caller asks for a region outside its scope."""
    if region is not None and not principal.can_read_region(region):
        raise ProblemError(403, f"region {region} is outside your account's regions")
