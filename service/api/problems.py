"""RFC 9457 problem details: the one error shape of the API (``application/problem+json``).

No handler ever puts a traceback, an exception's text from a library, or a server path in a response.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.backend import Busy

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


class ProblemError(Exception):
    """Raise to answer with a problem document."""

    def __init__(
        self, status: int, detail: str | None = None, *, headers: dict[str, str] | None = None, title: str | None = None
    ) -> None:
        super().__init__(detail or TITLES.get(status, "Error"))
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.title = title or TITLES.get(status, "Error")


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
    title: str | None = None,
) -> JSONResponse:
    body = Problem(
        title=title or TITLES.get(status, "Error"), status=status, detail=detail, instance=instance, errors=errors
    )
    if status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="dtscope"', **(headers or {})}
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers, media_type=PROBLEM_JSON)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries declaring problem documents for ``statuses``."""
    return {
        s: {"model": Problem, "description": TITLES.get(s, "Error"), "content": {PROBLEM_JSON: {}}} for s in statuses
    }


async def _problem_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(exc.status, exc.detail, instance=request.url.path, headers=exc.headers, title=exc.title)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) and exc.status_code < 500 else None
    return problem_response(exc.status_code, detail, instance=request.url.path, headers=dict(exc.headers or {}))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]
    return problem_response(422, "the request does not match the API's schema", instance=request.url.path, errors=errors)


BUSY_RETRY_AFTER_SECONDS = 5


async def _busy(request: Request, exc: Exception) -> JSONResponse:
    # the warehouse was held by another writer for longer than the wait: a clear 503 the client can retry
    return problem_response(
        503,
        "the warehouse is busy with another write; try again shortly",
        instance=request.url.path,
        headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(500, "the server failed to answer; the error is logged", instance=request.url.path)


def install(app: Any) -> None:
    """Register the problem handlers on a FastAPI app."""
    app.add_exception_handler(ProblemError, _problem_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Busy, _busy)
    app.add_exception_handler(Exception, _unexpected)
