"""The round's state machine, in the store, every write audited.

States: ``open → submitted → approved`` (immutable), ``submitted → returned`` (with a reason) and
``returned → open`` on the next evaluator write. A correction of an approved round is a revision: a new
row (``version`` + 1, a reason, the ratings copied, its own approval); the approved row is never touched.

Concurrency: every write starts with :func:`_lock`, a guarded ``UPDATE rounds SET lock_version =
lock_version + 1 WHERE id = ? AND state IN (…)``. It takes the row's write lock (PostgreSQL: the row;
SQLite: the database's write lock, waited for with the busy timeout) before anything is read, and it
matches no row when the state forbids the write (409). A rating and an approval therefore serialise:
the rating lands before (and the round is not submitted yet, so the approval is refused) or after
(and is refused) — never half of each.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from evaluation.assessment.engine import parse_period
from evaluation.assessment.scheme import Scheme, SchemeError
from service import audit
from service.principal import Principal
from service.rounds import inputs as frozen
from service.rounds.scoring import Rating, agreement_report, canonical_json, score_round, scores_digest
from service.store.models import Judgement, JudgementComment, Round, RoundSubmission

State = Literal["open", "submitted", "approved", "returned"]
EDITABLE: tuple[State, ...] = ("open", "returned")


class RoundError(Exception):
    """A refused round operation: ``status`` is the HTTP status the API answers with."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Actor:
    """Who writes, for the audit log."""

    principal: Principal
    address: str | None = None


def target(round_id: int, *rest: str) -> str:
    return "/".join([f"round:{round_id}", *rest])


def _audit(session: Session, actor: Actor, action: str, tgt: str, *, before: Any = None, after: Any = None) -> None:
    audit.record(
        session, actor=actor.principal.name, role=actor.principal.role, action=action, target=tgt,
        address=actor.address, before=before, after=after,
    )


# ------------------------------------------------------------------------------------------------ reads
def get(session: Session, round_id: int, principal: Principal) -> Round:
    """The round, or 404; 403 when one of its regions is outside the caller's scope."""
    found = session.get(Round, round_id, populate_existing=True)
    if found is None:
        raise RoundError(404, f"no round {round_id}")
    outside = [r for r in found.region_list if not principal.can_read_region(r)]
    if outside:
        raise RoundError(403, f"round {round_id} covers region(s) {', '.join(outside)} outside your account's regions")
    return found


def visible(session: Session, principal: Principal) -> list[Round]:
    """Rounds whose every region is in the caller's scope, newest first."""
    rows = session.scalars(select(Round).order_by(Round.id.desc()))
    return [r for r in rows if all(principal.can_read_region(g) for g in r.region_list)]


def scheme_of(r: Round) -> Scheme:
    return frozen.thaw_scheme(r.scheme_text, r.scheme)


def scenario_ids(r: Round) -> list[str]:
    ids: list[str] = json.loads(r.scenarios)
    return ids


def submitted_evaluators(session: Session, round_id: int) -> set[str]:
    return set(session.scalars(select(RoundSubmission.evaluator).where(RoundSubmission.round_id == round_id)))


def ratings(session: Session, round_id: int, *, evaluators: Iterable[str] | None = None) -> list[Rating]:
    stmt = select(Judgement).where(Judgement.round_id == round_id)
    if evaluators is not None:
        stmt = stmt.where(Judgement.evaluator.in_(list(evaluators)))
    rows = session.scalars(stmt.order_by(Judgement.evaluator, Judgement.scenario_id, Judgement.indicator_id))
    return [Rating(j.evaluator, j.scenario_id, j.indicator_id, j.score) for j in rows]


def counted_ratings(session: Session, r: Round) -> list[Rating]:
    """Ratings that count: those of evaluators who submitted (the others' stay private drafts)."""
    return ratings(session, r.id, evaluators=submitted_evaluators(session, r.id))


def may_see_others(session: Session, r: Round, principal: Principal) -> bool:
    """An evaluator sees the other raters' ratings (and what derives from them) once it has submitted."""
    if principal.role != "evaluator" or r.state in ("submitted", "approved"):
        return True
    return principal.name in submitted_evaluators(session, r.id)


def scoring_scheme(session: Session, r: Round) -> Scheme:
    """The frozen scheme with the submitted experts' pooled AHP judgements (when it weights by AHP)."""
    from service.rounds import ahp

    return ahp.pooled_scheme(session, r, scheme_of(r))


def compute_scores(session: Session, r: Round) -> list[dict[str, Any]]:
    """Scores from the frozen inputs and the counted ratings, computed now."""
    return score_round(scoring_scheme(session, r), frozen.unpack(r.inputs), r.period, counted_ratings(session, r))


def scores(session: Session, r: Round) -> list[dict[str, Any]]:
    """The approved scores as stored, else the scores of the counted ratings now."""
    if r.state == "approved" and r.scores is not None:
        stored: list[dict[str, Any]] = json.loads(r.scores)
        return stored
    return compute_scores(session, r)


def save_ahp(session: Session, actor: Actor, round_id: int, node: str, matrix: list[list[Any]]) -> dict[str, Any]:
    """Save the calling evaluator's pairwise matrix for ``node``; answers its CR and worst judgement."""
    from service.rounds import ahp

    r = _lock_for_rater(session, actor, round_id, doing="take AHP judgements", entries="AHP judgements")
    try:
        result, before = ahp.save(session, r, actor.principal.name, node, matrix)
    except KeyError as exc:
        raise RoundError(404, str(exc.args[0])) from None
    except ValueError as exc:
        raise RoundError(422, f"node {node}: {exc}") from None
    if r.state == "returned":
        r.state = "open"
    _audit(session, actor, "round.ahp", target(r.id, "ahp", node), before=before,
           after={"matrix": matrix, "cr": result["cr"]})
    return result


def agreement(session: Session, r: Round) -> list[dict[str, Any]]:
    return agreement_report(scheme_of(r), counted_ratings(session, r), scenario_ids(r))


def progress(session: Session, r: Round) -> dict[str, dict[str, Any]]:
    """Per evaluator: cells rated of the cells expected, and whether it submitted (no values)."""
    expected = len(scenario_ids(r)) * len(scheme_of(r).judged_ids)
    done = submitted_evaluators(session, r.id)
    counts = session.execute(
        select(Judgement.evaluator, func.count()).where(Judgement.round_id == r.id).group_by(Judgement.evaluator)
    )
    out = {e: {"rated": int(n), "expected": expected, "submitted": e in done} for e, n in counts}
    for e in done - out.keys():
        out[e] = {"rated": 0, "expected": expected, "submitted": True}
    return dict(sorted(out.items()))


# ----------------------------------------------------------------------------------------------- writes
def _lock_for_rater(session: Session, actor: Actor, round_id: int, *, doing: str, entries: str) -> Round:
    """The round under its write lock for the calling evaluator's ``entries``: 403 for other roles, 409 when the
    round's state does not allow ``doing`` (:func:`_lock`) or the evaluator has submitted (its entries are final)."""
    p = actor.principal
    if p.role != "evaluator":
        raise RoundError(403, f"role {p.role} may not enter {entries}; evaluators do")
    r = _lock(session, round_id, p, EDITABLE, doing)
    if p.name in submitted_evaluators(session, r.id):
        raise RoundError(409, f"you submitted your {entries} of round {round_id}; they are final")
    return r


def _lock(session: Session, round_id: int, principal: Principal, states: tuple[State, ...], doing: str) -> Round:
    """Take the round's write lock when its state allows ``doing`` (else 409), then read it fresh."""
    get(session, round_id, principal)  # 404 / 403 before anything is written
    done = session.execute(
        update(Round)
        .where(Round.id == round_id, Round.state.in_(states))
        .values(lock_version=Round.lock_version + 1)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        current = session.get(Round, round_id, populate_existing=True)
        state = current.state if current is not None else "gone"
        raise RoundError(409, f"round {round_id} is {state}: it cannot {doing} (allowed in: {', '.join(states)})")
    locked = session.get(Round, round_id, populate_existing=True)
    assert locked is not None
    return locked


def open_round(
    session: Session,
    actor: Actor,
    *,
    scheme: str,
    period: str,
    regions: list[str],
    home: Path,
    known_regions: Iterable[str],
) -> Round:
    """Open a round: freeze the scheme and the inputs of ``regions`` for ``period``."""
    p = actor.principal
    if p.role not in ("leader", "admin"):
        raise RoundError(403, f"role {p.role} may not open rounds; allowed: admin, leader")
    known = set(known_regions)
    unknown = sorted(set(regions) - known)
    if not regions or unknown:
        raise RoundError(422, f"unknown region(s) {unknown}; known: {sorted(known)}" if unknown else "name at least one region")
    outside = [g for g in regions if not p.can_read_region(g)]
    if outside:
        raise RoundError(403, f"region(s) {', '.join(outside)} outside your account's regions")
    try:
        _, end = parse_period(period)
    except ValueError as exc:
        raise RoundError(422, f"period {period!r}: {exc}") from None
    try:
        fs = frozen.freeze_scheme(scheme)
    except SchemeError as exc:
        raise RoundError(422, str(exc).replace(str(frozen.SCHEME_DIR), "<schemes>")) from None
    data, vintage = frozen.read_inputs(home, tuple(sorted(set(regions))), end)
    if data.scenarios.height == 0:
        raise RoundError(422, f"no scenario of {', '.join(regions)} launched by the end of {period}")
    blob = frozen.pack(data)
    now = audit.utcnow()
    r = Round(
        family_id=None, version=1, state="open", scheme=fs.name, scheme_label=fs.scheme.label,
        scheme_text=fs.text, scheme_sha256=fs.sha256, period=period, regions=",".join(sorted(set(regions))),
        scenarios=json.dumps(data.scenarios["scenario_id"].to_list()), vintage=vintage, inputs=blob,
        inputs_sha256=frozen.sha256(blob), lock_version=0, created_by=p.name, created_at=now,
    )
    session.add(r)
    session.flush()
    r.family_id = r.id
    _audit(session, actor, "round.open", target(r.id), after=summary(r))
    return r


def summary(r: Round) -> dict[str, Any]:
    """The audit's view of a round (no inputs, no scheme text)."""
    return {
        "id": r.id, "family_id": r.family_id, "version": r.version, "state": r.state, "scheme": r.scheme_label,
        "scheme_sha256": r.scheme_sha256, "period": r.period, "regions": list(r.region_list),
        "inputs_sha256": r.inputs_sha256, "vintage": r.vintage.isoformat() if r.vintage else None,
    }


def save_judgement(
    session: Session, actor: Actor, round_id: int, scenario_id: str, *, scores: dict[str, float], comment: str | None
) -> dict[str, Any]:
    """Save the calling evaluator's ratings of one scenario (replacing its earlier ones for those indicators)."""
    p = actor.principal
    r = _lock_for_rater(session, actor, round_id, doing="take ratings", entries="ratings")
    if scenario_id not in scenario_ids(r):
        raise RoundError(404, f"scenario {scenario_id} is not in round {round_id}")
    scheme = scheme_of(r)
    problems = []
    for ind, value in scores.items():
        if ind not in scheme.judged_ids:
            problems.append(f"{ind}: not a judged indicator of {r.scheme_label} (judged: {', '.join(scheme.judged_ids)})")
        elif (why := scheme.judged(ind).check(float(value))) is not None:
            problems.append(f"{ind}: {why}")
    if problems:
        raise RoundError(422, "; ".join(problems))
    before: dict[str, Any] = {}
    now = audit.utcnow()
    for ind, value in sorted(scores.items()):
        row = session.scalars(
            select(Judgement).where(
                Judgement.round_id == r.id, Judgement.evaluator == p.name,
                Judgement.scenario_id == scenario_id, Judgement.indicator_id == ind,
            )
        ).one_or_none()
        if row is None:
            session.add(Judgement(round_id=r.id, evaluator=p.name, scenario_id=scenario_id, indicator_id=ind,
                                  score=float(value), updated_at=now))
        else:
            before[ind] = row.score
            row.score, row.updated_at = float(value), now
    old_comment = None
    if comment is not None:
        c = session.scalars(
            select(JudgementComment).where(
                JudgementComment.round_id == r.id, JudgementComment.evaluator == p.name,
                JudgementComment.scenario_id == scenario_id,
            )
        ).one_or_none()
        if c is None:
            session.add(JudgementComment(round_id=r.id, evaluator=p.name, scenario_id=scenario_id, comment=comment,
                                         updated_at=now))
        else:
            old_comment, c.comment, c.updated_at = c.comment, comment, now
    if r.state == "returned":
        r.state = "open"
    _audit(
        session, actor, "round.judgement", target(r.id, "judgement", scenario_id),
        before={"scores": before, "comment": old_comment} if before or old_comment else None,
        after={"scores": dict(sorted(scores.items())), "comment": comment},
    )
    session.flush()
    return own_sheet(session, r, p.name, scenario_id)


def own_sheet(session: Session, r: Round, evaluator: str, scenario_id: str) -> dict[str, Any]:
    rows = session.scalars(
        select(Judgement).where(Judgement.round_id == r.id, Judgement.evaluator == evaluator,
                                Judgement.scenario_id == scenario_id)
    )
    comment = session.scalars(
        select(JudgementComment.comment).where(
            JudgementComment.round_id == r.id, JudgementComment.evaluator == evaluator,
            JudgementComment.scenario_id == scenario_id,
        )
    ).one_or_none()
    return {"round": r.id, "scenario_id": scenario_id, "evaluator": evaluator,
            "scores": {j.indicator_id: j.score for j in rows}, "comment": comment, "state": r.state}


def judgements(session: Session, r: Round, principal: Principal) -> list[dict[str, Any]]:
    """The ratings the caller may see: its own, and the submitted ones once it may see others'."""
    done = submitted_evaluators(session, r.id)
    others = may_see_others(session, r, principal)
    rows = session.scalars(select(Judgement).where(Judgement.round_id == r.id).order_by(Judgement.id))
    comments = {
        (c.evaluator, c.scenario_id): c.comment
        for c in session.scalars(select(JudgementComment).where(JudgementComment.round_id == r.id))
    }
    out = []
    for j in rows:
        mine = j.evaluator == principal.name
        if mine or (others and j.evaluator in done):
            out.append({"evaluator": j.evaluator, "scenario_id": j.scenario_id, "indicator_id": j.indicator_id,
                        "score": j.score, "submitted": j.evaluator in done,
                        "comment": comments.get((j.evaluator, j.scenario_id))})
    return out


def submit(session: Session, actor: Actor, round_id: int) -> Round:
    """An evaluator submits its complete ratings; the round becomes ``submitted`` once every judged cell
    has the indicator's minimum of submitted raters."""
    p = actor.principal
    if p.role != "evaluator":
        raise RoundError(403, f"role {p.role} may not submit; evaluators submit their ratings")
    r = _lock(session, round_id, p, EDITABLE, "be submitted")
    done = submitted_evaluators(session, r.id)
    if p.name in done:
        raise RoundError(409, f"you already submitted your ratings of round {round_id}")
    scheme = scheme_of(r)
    sids = scenario_ids(r)
    mine = {(x.scenario_id, x.indicator_id) for x in ratings(session, r.id, evaluators=[p.name])}
    missing = [f"{s}/{i}" for s in sids for i in scheme.judged_ids if (s, i) not in mine]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise RoundError(422, f"rate every scenario on every judged indicator before submitting; missing {shown}")
    from service.rounds import ahp  # the experts' matrices: CR above the limit blocks the submission

    ahp.check_submittable(session, r, scheme, p.name)
    session.add(RoundSubmission(round_id=r.id, evaluator=p.name, submitted_at=audit.utcnow()))
    session.flush()
    before = r.state
    counted = ratings(session, r.id, evaluators=done | {p.name})
    raters: dict[tuple[str, str], int] = {}
    for x in counted:
        raters[(x.scenario_id, x.indicator_id)] = raters.get((x.scenario_id, x.indicator_id), 0) + 1
    complete = all(raters.get((s, i), 0) >= scheme.judged(i).min_raters for s in sids for i in scheme.judged_ids)
    if ahp.nodes(r) and len(done) + 1 < ahp.MIN_EXPERTS:
        complete = False  # AHP weights pool at least MIN_EXPERTS experts
    if complete:
        r.state, r.submitted_at = "submitted", audit.utcnow()
    if r.state == "returned":
        r.state = "open"
    _audit(session, actor, "round.submit", target(r.id), before={"state": before},
           after={"state": r.state, "evaluator": p.name})
    return r


def _leader(actor: Actor, doing: str) -> None:
    if actor.principal.role != "leader":
        raise RoundError(403, f"role {actor.principal.role} may not {doing}; leaders do")


def approve(session: Session, actor: Actor, round_id: int) -> Round:
    """Lock the round's scores: computed now from the frozen inputs and the submitted ratings, stored."""
    _leader(actor, "approve rounds")
    r = _lock(session, round_id, actor.principal, ("submitted",), "be approved")
    result = compute_scores(session, r)
    r.scores, r.scores_sha256 = canonical_json(result), scores_digest(result)
    r.state, r.approved_by, r.approved_at = "approved", actor.principal.name, audit.utcnow()
    _audit(session, actor, "round.approve", target(r.id), before={"state": "submitted"},
           after={"state": "approved", "scores_sha256": r.scores_sha256})
    from service.rounds import results

    results.open_rectifications(session, actor, r, result)  # results applied, in the approval's transaction
    return r


def return_round(session: Session, actor: Actor, round_id: int, reason: str) -> Round:
    """Send a submitted round back to the evaluators with a reason (their submissions are reopened)."""
    _leader(actor, "return rounds")
    r = _lock(session, round_id, actor.principal, ("submitted", "open"), "be returned")
    before = r.state
    reopened = sorted(submitted_evaluators(session, r.id))
    session.execute(delete(RoundSubmission).where(RoundSubmission.round_id == r.id))
    r.state, r.returned_reason, r.submitted_at = "returned", reason, None
    _audit(session, actor, "round.return", target(r.id), before={"state": before, "submitted": reopened},
           after={"state": "returned", "reason": reason})
    return r


def revise(session: Session, actor: Actor, round_id: int, reason: str) -> Round:
    """A new version of an approved round (same frozen scheme and inputs, ratings copied), open again."""
    _leader(actor, "revise rounds")
    old = _lock(session, round_id, actor.principal, ("approved",), "be revised")
    latest = session.scalar(select(func.max(Round.version)).where(Round.family_id == old.family_id)) or old.version
    if latest != old.version:
        raise RoundError(409, f"round {round_id} already has a newer version ({latest}); revise that one")
    now: datetime = audit.utcnow()
    new = Round(
        family_id=old.family_id, version=old.version + 1, revision_of=old.id, reason=reason, state="open",
        scheme=old.scheme, scheme_label=old.scheme_label, scheme_text=old.scheme_text,
        scheme_sha256=old.scheme_sha256, period=old.period, regions=old.regions, scenarios=old.scenarios,
        vintage=old.vintage, inputs=old.inputs, inputs_sha256=old.inputs_sha256, lock_version=0,
        created_by=actor.principal.name, created_at=now,
    )
    session.add(new)
    session.flush()
    for j in session.scalars(select(Judgement).where(Judgement.round_id == old.id)):
        session.add(Judgement(round_id=new.id, evaluator=j.evaluator, scenario_id=j.scenario_id,
                              indicator_id=j.indicator_id, score=j.score, updated_at=now))
    for c in session.scalars(select(JudgementComment).where(JudgementComment.round_id == old.id)):
        session.add(JudgementComment(round_id=new.id, evaluator=c.evaluator, scenario_id=c.scenario_id,
                                     comment=c.comment, updated_at=now))
    _audit(session, actor, "round.revise", target(old.id, "revision", str(new.id)), after={"reason": reason})
    _audit(session, actor, "round.open_revision", target(new.id),
           before={"revision_of": old.id, "version": old.version}, after={**summary(new), "reason": reason})
    return new
