"""What the round routes share (:mod:`.rounds`, :mod:`.round_owners`, :mod:`.round_results`): the router,
path ids, error responses, the strict request body, and the dependencies that resolve the caller as an
audited actor and the round it may read, so that no route can forget a role, the region scope, the
hidden-ratings rule or the caller's address in the audit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from service.api.deps import authenticated, client_address, db_session, require
from service.api.problems import ProblemError, responses
from service.principal import ROLES, Principal, Role
from service.rounds import core
from service.store.models import Round

T = TypeVar("T")
RoundId = Annotated[int, Path(ge=1, le=2**31 - 1, description="a round id")]
ScenarioId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Db = Annotated[Session, Depends(db_session)]
WRITE_ERRORS = responses(401, 403, 404, 409, 422)
READ_ERRORS = responses(401, 403, 404, 409, 422)
Reader = Annotated[Principal, Depends(require(*ROLES))]


def rounds_router() -> APIRouter:
    """A router under ``/rounds`` that lets only authenticated callers through (401 otherwise)."""
    return APIRouter(prefix="/rounds", tags=["rounds"], dependencies=[Depends(authenticated)])


class StrictIn(BaseModel):
    """A request body that refuses fields it does not define (422)."""

    model_config = ConfigDict(extra="forbid")


def run(fn: Callable[[], T]) -> T:
    """``fn()``, a :class:`service.rounds.core.RoundError` answered as its problem document."""
    try:
        return fn()
    except core.RoundError as exc:
        raise ProblemError(exc.status, exc.detail) from None


def acting(*roles: Role) -> Callable[..., core.Actor]:
    """A dependency: the caller as the audit's actor (its account and address), if it holds one of ``roles``
    (403 otherwise)."""
    check = require(*roles)

    def dependency(request: Request, principal: Annotated[Principal, Depends(authenticated)]) -> core.Actor:
        return core.Actor(check(principal), client_address(request))

    return dependency


def readable_round(round_id: RoundId, session: Db, principal: Reader) -> Round:
    """The round, when it exists (404) and all its regions are in the caller's scope (403)."""
    return run(lambda: core.get(session, round_id, principal))


def results_round(r: Annotated[Round, Depends(readable_round)], session: Db, principal: Reader) -> Round:
    """A readable round whose ratings and results the caller may see: an evaluator sees them once it has
    submitted its own (409 before)."""
    if not core.may_see_others(session, r, principal):
        raise ProblemError(409, "submit your own ratings first: the other raters' ratings stay hidden until then")
    return r


ReadableRound = Annotated[Round, Depends(readable_round)]
ResultsRound = Annotated[Round, Depends(results_round)]
Evaluator = Annotated[core.Actor, Depends(acting("evaluator"))]
Owner = Annotated[core.Actor, Depends(acting("owner"))]
Leader = Annotated[core.Actor, Depends(acting("leader"))]
