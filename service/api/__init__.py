"""The HTTP API under ``/api/v1``: one router per resource (:mod:`.reads`, :mod:`.writes`)."""

from __future__ import annotations

from fastapi import APIRouter

from service.api import reads, round_owners, round_results, rounds, writes

PREFIX = "/api/v1"


def api_router() -> APIRouter:
    """All resource routers under ``/api/v1``."""
    router = APIRouter(prefix=PREFIX)
    for sub in (*reads.ROUTERS, *writes.ROUTERS, *rounds.ROUTERS, *round_owners.ROUTERS, *round_results.ROUTERS):
        router.include_router(sub)
    return router


__all__ = ["PREFIX", "api_router"]
