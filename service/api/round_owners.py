"""The owners' part of a round: ``GET /rounds/{id}/self-assessment`` (the scenarios you may see, the metric
values the round will score, the owners' notes and disputes) and ``PUT /rounds/{id}/self-assessment/
{scenario_id}/{indicator_id}`` (owners of the scenario's department; open or returned rounds; audited).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from service.api.round_deps import (
    READ_ERRORS,
    WRITE_ERRORS,
    Db,
    Owner,
    ReadableRound,
    Reader,
    RoundId,
    ScenarioId,
    StrictIn,
    rounds_router,
    run,
)
from service.rounds import owners

router = rounds_router()


class SelfAssessmentIn(StrictIn):
    note: str | None = Field(default=None, max_length=4000, description="the owner's self-assessment")
    evidence: list[Annotated[str, Field(max_length=2000)]] = Field(default_factory=list, max_length=owners.MAX_LINKS,
                                                                   description="http(s) links to the evidence")
    disputed: bool = Field(default=False, description="the metric value is disputed (needs a reason)")
    dispute_reason: str | None = Field(default=None, max_length=2000)


IndicatorId = ScenarioId  # the same id pattern


@router.get("/{round_id}/self-assessment", responses=READ_ERRORS)
def get_self_assessment(r: ReadableRound, session: Db, principal: Reader) -> Any:
    """Per scenario you may see (owners: your department's): the metric values the round scores and the
    owners' notes, evidence and disputes per indicator."""
    return {"round": r.id, "state": r.state, "period": r.period, "items": owners.sheet(session, r, principal)}


@router.put("/{round_id}/self-assessment/{scenario_id}/{indicator_id}", responses=WRITE_ERRORS)
def put_self_assessment(
    round_id: RoundId, scenario_id: ScenarioId, indicator_id: IndicatorId, *, body: SelfAssessmentIn, session: Db,
    actor: Owner,
) -> Any:
    """Save your self-assessment of one indicator of one of your department's scenarios (owners)."""
    return run(lambda: owners.save(session, actor, round_id, scenario_id, indicator_id, note=body.note,
                                   evidence=body.evidence, disputed=body.disputed, dispute_reason=body.dispute_reason))


ROUTERS = (router,)
