"""Results applied of a round (issue 15, item 6): ``GET /rounds/{id}/rectifications``, ``PUT
/rounds/{id}/rectifications/{scenario_id}`` (the owners of the scenario's department), ``GET
/rounds/{id}/benchmarks`` (标杆) and ``GET /rounds/{id}/funds`` (budget, cost per case and grade per
department). Reads need the round's regions in scope; owners read only their department's scenarios.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from service.api.deps import authenticated, require
from service.api.rounds import (
    READ_ERRORS,
    WRITE_ERRORS,
    Db,
    RoundId,
    ScenarioId,
    _actor,
    _In,
    _readable,
    _run,
)
from service.principal import ROLES, Principal
from service.rounds import results

router = APIRouter(prefix="/rounds", tags=["rounds"], dependencies=[Depends(authenticated)])


class RectificationIn(_In):
    status: Literal["open", "done"]
    note: str | None = Field(default=None, max_length=4000, description="what was done, or why it is still open")


@router.get("/{round_id}/rectifications", responses=READ_ERRORS)
def get_rectifications(round_id: RoundId, session: Db,
                       principal: Annotated[Principal, Depends(require(*ROLES))]) -> Any:
    """Rectification items of the scenarios graded lowest at approval (owners: their department's)."""
    r = _readable(session, round_id, principal)
    return {"round": r.id, "state": r.state, "items": results.rectifications(session, r, principal)}


@router.put("/{round_id}/rectifications/{scenario_id}", responses=WRITE_ERRORS)
def put_rectification(
    request: Request, round_id: RoundId, scenario_id: ScenarioId, *, body: RectificationIn, session: Db,
    principal: Annotated[Principal, Depends(require("owner"))],
) -> Any:
    """Set the status and note of your department's rectification item (owners)."""
    return _run(lambda: results.update(session, _actor(request, principal), round_id, scenario_id,
                                       status=body.status, note=body.note))


@router.get("/{round_id}/benchmarks", responses=READ_ERRORS)
def get_benchmarks(round_id: RoundId, session: Db, principal: Annotated[Principal, Depends(require(*ROLES))]) -> Any:
    """The round's 标杆 (benchmark) scenarios under the scheme's benchmark rule."""
    r = _readable(session, round_id, principal, hidden_check=True)
    return {"round": r.id, "state": r.state, "items": _run(lambda: results.benchmarks(session, r))}


@router.get("/{round_id}/funds", responses=READ_ERRORS)
def get_funds(round_id: RoundId, session: Db, principal: Annotated[Principal, Depends(require(*ROLES))]) -> Any:
    """Per department (owners: their own): budget, cost per case and grade of each scenario."""
    r = _readable(session, round_id, principal, hidden_check=True)
    return {"round": r.id, "state": r.state, "period": r.period,
            "items": _run(lambda: results.funds(session, r, principal))}


ROUTERS = (router,)
