"""Assessment rounds (DESIGN.md "The service", issue 15): open, rate, submit, approve, return, revise.

Role and region checks: the router requires an authenticated caller; each route names the roles that may
call it (:func:`service.api.deps.require`, 403 otherwise) and the round's regions must all be in the
caller's scope (403). A write the round's state forbids answers 409; a rating off the indicator's scale
422. Every write is audited in the same transaction (``GET /api/v1/audit?round={id}``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from service import backend
from service.api.deps import get_settings
from service.api.round_deps import (
    READ_ERRORS,
    WRITE_ERRORS,
    Db,
    Evaluator,
    Leader,
    ReadableRound,
    Reader,
    ResultsRound,
    RoundId,
    ScenarioId,
    StrictIn,
    acting,
    rounds_router,
    run,
)
from service.rounds import ahp as round_ahp
from service.rounds import core
from service.settings import ServiceSettings
from service.store.models import Round

NodeId = Annotated[str, Path(max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

router = rounds_router()


class RoundCreate(StrictIn):
    scheme: str = Field(default="default", pattern=r"^[a-z][a-z0-9_]*$", max_length=64)
    period: str = Field(pattern=r"^[0-9]{4}(-[0-9]{2})?$", examples=["2024"])
    regions: list[str] = Field(min_length=1, max_length=32)


class JudgementIn(StrictIn):
    scores: dict[str, float] = Field(max_length=64, description="indicator_id → rating on its scale")
    comment: str | None = Field(default=None, max_length=4000)


class ReasonIn(StrictIn):
    reason: str = Field(min_length=3, max_length=2000)


class AhpIn(StrictIn):
    matrix: list[list[float | str]] = Field(min_length=2, max_length=15,
                                            description="reciprocal pairwise matrix; numbers or fractions like 1/3")


class JudgedIndicator(BaseModel):
    id: str
    name_zh: str
    name_en: str
    scale: str
    min: float
    max: float
    anchors: dict[int, str]
    min_raters: int
    combine: str
    max_spread: float


class RoundOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int
    state: str
    family_id: int
    version: int
    revision_of: int | None
    reason: str | None
    scheme: str
    scheme_label: str
    scheme_sha256: str
    period: str
    regions: list[str]
    scenarios: list[str]
    judged_indicators: list[JudgedIndicator]
    ahp_nodes: dict[str, list[str]]
    ahp_settings: dict[str, Any] | None = Field(default=None, description="method, ri_table and max_cr of the AHP nodes")
    vintage: str | None
    inputs_sha256: str
    created_by: str
    created_at: str
    submitted_at: str | None
    approved_by: str | None
    approved_at: str | None
    returned_reason: str | None
    scores_sha256: str | None
    progress: dict[str, dict[str, Any]]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def round_out(session: Session, r: Round) -> RoundOut:
    scheme = core.scheme_of(r)
    judged = []
    for i in scheme.judged_ids:
        spec, rule = scheme.spec.indicators[i], scheme.judged(i)
        lo, hi = rule.bounds
        judged.append(JudgedIndicator(id=i, name_zh=spec.name_zh, name_en=spec.name_en, scale=rule.scale, min=lo,
                                      max=hi, anchors=rule.anchors, min_raters=rule.min_raters, combine=rule.combine,
                                      max_spread=rule.spread_limit))
    return RoundOut(
        id=r.id, state=r.state, family_id=r.family_id or r.id, version=r.version, revision_of=r.revision_of,
        reason=r.reason, scheme=r.scheme, scheme_label=r.scheme_label, scheme_sha256=r.scheme_sha256,
        period=r.period, regions=list(r.region_list), scenarios=core.scenario_ids(r), judged_indicators=judged,
        ahp_nodes=round_ahp.nodes(r), ahp_settings=round_ahp.options(r), vintage=_iso(r.vintage), inputs_sha256=r.inputs_sha256,
        created_by=r.created_by, created_at=_iso(r.created_at) or "", submitted_at=_iso(r.submitted_at),
        approved_by=r.approved_by, approved_at=_iso(r.approved_at), returned_reason=r.returned_reason,
        scores_sha256=r.scores_sha256, progress=core.progress(session, r),
    )


@router.post("", status_code=201, response_model=RoundOut, responses=WRITE_ERRORS)
def open_round(
    body: RoundCreate,
    session: Db,
    settings: Annotated[ServiceSettings, Depends(get_settings)],
    actor: Annotated[core.Actor, Depends(acting("admin", "leader"))],
) -> Any:
    """Open a round: the scheme and the metric inputs of the regions are frozen now (admin, or leader of those regions)."""
    r = run(lambda: core.open_round(session, actor, scheme=body.scheme, period=body.period, regions=body.regions,
                                    home=settings.home, known_regions=backend.known_regions()))
    return round_out(session, r)


@router.get("", response_model=list[RoundOut])
def list_rounds(session: Db, principal: Reader) -> Any:
    """Rounds whose regions are all in your scope, newest first."""
    return [round_out(session, r) for r in core.visible(session, principal)]


@router.get("/{round_id}", response_model=RoundOut, responses=READ_ERRORS)
def get_round(r: ReadableRound, session: Db) -> Any:
    """State, scenarios, judged indicators (with scale and anchors), progress per evaluator."""
    return round_out(session, r)


@router.put("/{round_id}/judgements/{scenario_id}", responses=WRITE_ERRORS)
def put_judgement(
    round_id: RoundId, scenario_id: ScenarioId, *, body: JudgementIn, session: Db, actor: Evaluator
) -> Any:
    """Save your own ratings of one scenario (evaluators; open or returned rounds)."""
    return run(lambda: core.save_judgement(session, actor, round_id, scenario_id, scores=body.scores,
                                           comment=body.comment))


@router.get("/{round_id}/judgements", responses=READ_ERRORS)
def get_judgements(r: ReadableRound, session: Db, principal: Reader) -> Any:
    """Your own ratings, and the submitted raters' once you may see them."""
    return {"round": r.id, "state": r.state, "items": core.judgements(session, r, principal)}


@router.put("/{round_id}/ahp/{node}", responses=WRITE_ERRORS)
def put_ahp(round_id: RoundId, node: NodeId, *, body: AhpIn, session: Db, actor: Evaluator) -> Any:
    """Save your pairwise matrix for a node; answers its weights, CR and the most inconsistent judgement."""
    return run(lambda: core.save_ahp(session, actor, round_id, node, body.matrix))


@router.get("/{round_id}/ahp", responses=READ_ERRORS)
def get_ahp(r: ResultsRound, session: Db) -> Any:
    """Per node: each expert's CR and the pooled weights the round uses (hidden from unsubmitted evaluators)."""
    scheme = run(lambda: core.scoring_scheme(session, r))
    return {"round": r.id, "nodes": round_ahp.report(session, r, scheme)}


@router.post("/{round_id}/submit", response_model=RoundOut, responses=WRITE_ERRORS)
def submit(round_id: RoundId, session: Db, actor: Evaluator) -> Any:
    """Submit your complete ratings (evaluators); the round is submitted once every cell has its minimum raters."""
    return round_out(session, run(lambda: core.submit(session, actor, round_id)))


@router.post("/{round_id}/approve", response_model=RoundOut, responses=WRITE_ERRORS)
def approve(round_id: RoundId, session: Db, actor: Leader) -> Any:
    """Approve a submitted round: its scores are computed and fixed (leaders)."""
    return round_out(session, run(lambda: core.approve(session, actor, round_id)))


@router.post("/{round_id}/return", response_model=RoundOut, responses=WRITE_ERRORS)
def return_round(round_id: RoundId, *, body: ReasonIn, session: Db, actor: Leader) -> Any:
    """Return a round to the evaluators with a reason; their submissions reopen (leaders)."""
    return round_out(session, run(lambda: core.return_round(session, actor, round_id, body.reason)))


@router.post("/{round_id}/revisions", status_code=201, response_model=RoundOut, responses=WRITE_ERRORS)
def revise(round_id: RoundId, *, body: ReasonIn, session: Db, actor: Leader) -> Any:
    """Open a new version of an approved round with a reason; the approved one stays as it is (leaders)."""
    return round_out(session, run(lambda: core.revise(session, actor, round_id, body.reason)))


@router.get("/{round_id}/scores", responses=READ_ERRORS)
def get_scores(r: ResultsRound, session: Db) -> Any:
    """Per scenario: total, grade, rank and its interval (stored at approval; else from the submitted ratings now)."""
    from service.rounds import results  # each scenario's rectification item of the previous round, if any

    items = run(lambda: results.with_previous(session, r, core.scores(session, r)))
    return JSONResponse({"round": r.id, "state": r.state, "scheme": r.scheme_label, "period": r.period,
                         "scores_sha256": r.scores_sha256, "items": items})


@router.get("/{round_id}/agreement", responses=READ_ERRORS)
def get_agreement(r: ResultsRound, session: Db) -> Any:
    """Per judged indicator: ICC(2,1), ICC(2,k), Kendall's W over the submitted raters, and the disputed cells."""
    return {"round": r.id, "state": r.state, "items": core.agreement(session, r)}


@router.get("/{round_id}/report", responses=READ_ERRORS)
def get_report(
    r: ResultsRound, session: Db, principal: Reader,
    fmt: Annotated[Literal["json", "html", "xlsx"], Query(alias="format")] = "json",
    lang: Annotated[Literal["zh", "en"], Query()] = "zh",
) -> Any:
    """Everything a sign-off needs: scheme and version, weights with CRs, scores, grades, rank intervals,
    agreement, rectifications, 标杆, and who approved when; ``?format=html|xlsx`` renders it (``?lang=zh|en``)."""
    from service.rounds import report, results

    scheme = run(lambda: core.scoring_scheme(session, r))
    doc = {
        "round": round_out(session, r).model_dump(),
        "weights": dict(zip(scheme.indicator_ids, [float(w) for w in scheme.subjective_weights()], strict=True)),
        "ahp": round_ahp.report(session, r, scheme),
        "agreement": core.agreement(session, r),
        **run(lambda: results.report_parts(session, r, principal, core.scores(session, r))),
    }
    if fmt == "html":
        return HTMLResponse(report.html(doc, lang))
    if fmt == "xlsx":
        return Response(report.xlsx(doc, lang), media_type=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="round-{r.id}-v{r.version}-report.xlsx"'})
    return JSONResponse(doc)


ROUTERS = (router,)
