"""Results applied of a round (issue 15, item 6): ``GET /rounds/{id}/rectifications``, ``PUT
/rounds/{id}/rectifications/{scenario_id}`` (the owners of the scenario's department), ``GET
/rounds/{id}/benchmarks`` (标杆) and ``GET /rounds/{id}/funds`` (budget, cost per case and grade per
department). Reads need the round's regions in scope; owners read only their department's scenarios.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from service.api.round_deps import (
    READ_ERRORS,
    WRITE_ERRORS,
    Db,
    Owner,
    ReadableRound,
    Reader,
    ResultsRound,
    RoundId,
    ScenarioId,
    StrictIn,
    rounds_router,
    run,
)
from service.rounds import results

router = rounds_router()


class RectificationIn(StrictIn):
    status: Literal["open", "done"]
    note: str | None = Field(default=None, max_length=4000, description="what was done, or why it is still open")


@router.get("/{round_id}/rectifications", responses=READ_ERRORS)
def get_rectifications(r: ReadableRound, session: Db, principal: Reader) -> Any:
    """Rectification items of the scenarios graded lowest at approval (owners: their department's)."""
    return {"round": r.id, "state": r.state, "items": results.rectifications(session, r, principal)}


@router.put("/{round_id}/rectifications/{scenario_id}", responses=WRITE_ERRORS)
def put_rectification(
    round_id: RoundId, scenario_id: ScenarioId, *, body: RectificationIn, session: Db, actor: Owner
) -> Any:
    """Set the status and note of your department's rectification item (owners)."""
    return run(lambda: results.update(session, actor, round_id, scenario_id, status=body.status, note=body.note))


@router.get("/{round_id}/benchmarks", responses=READ_ERRORS)
def get_benchmarks(r: ResultsRound, session: Db) -> Any:
    """The round's 标杆 (benchmark) scenarios under the scheme's benchmark rule."""
    return {"round": r.id, "state": r.state, "items": run(lambda: results.benchmarks(session, r))}


@router.get("/{round_id}/funds", responses=READ_ERRORS)
def get_funds(r: ResultsRound, session: Db, principal: Reader) -> Any:
    """Per department (owners: their own): budget, cost per case and grade of each scenario."""
    items = run(lambda: results.funds(session, r, principal))
    return {"round": r.id, "state": r.state, "period": r.period, "items": items}


ROUTERS = (router,)
