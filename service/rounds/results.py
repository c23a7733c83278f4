"""Results applied (issue 15, item 6): rectification items, 标杆 (benchmark) scenarios and the funds view.

- At approval (:func:`open_rectifications`, called by :func:`service.rounds.core.approve` in the approval's
  transaction) every scenario graded the scheme's lowest grade gets a rectification item: owner = the
  scenario's department, due = approval date + the scheme's ``results.rectification_days``, status ``open``.
  Each item is audited.
- The department's owners move an item to ``done`` (or back to ``open``) with a note (:func:`update`,
  audited); every reader of the round reads the items of the scenarios it may see.
- The next round of the same scheme and regions shows each scenario's previous rectification beside its new
  score (:func:`previous`).
- :func:`benchmarks` lists the scenarios the engine flagged 标杆; :func:`funds` gives per department the
  budget, cost per case and grade of each scenario, for the budget discussion.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from evaluation.assessment.engine import period_values
from evaluation.assessment.scheme import Scheme
from service import audit
from service.principal import Principal
from service.rounds import core
from service.rounds import inputs as frozen
from service.rounds.inputs import as_json_value
from service.rounds.owners import visible_scenarios
from service.store.models import Rectification, Round

Status = Literal["open", "done"]
STATUSES: tuple[Status, ...] = ("open", "done")


def lowest_grade(scheme: Scheme) -> str:
    """The scheme's lowest grade (不合格/差): the grades are listed best first."""
    return scheme.spec.grades[-1].id


def grade_labels(scheme: Scheme) -> dict[str, dict[str, str]]:
    return {g.id: {"zh": g.label_zh, "en": g.label_en} for g in scheme.spec.grades}


def _scenario_facts(r: Round) -> dict[str, dict[str, Any]]:
    """Per scenario of the round: names, department and budget, as frozen at opening."""
    frame = frozen.unpack(r.inputs).scenarios
    return {
        row["scenario_id"]: {"name_zh": row["name_zh"], "name_en": row["name_en"], "department": row["owner"],
                             "budget": as_json_value(row["budget"])}
        for row in frame.select("scenario_id", "name_zh", "name_en", "owner", "budget").iter_rows(named=True)
    }


def open_rectifications(session: Session, actor: core.Actor, r: Round, scores: list[dict[str, Any]]) -> list[str]:
    """Create the rectification items of an approved round (in the caller's transaction); audited each."""
    scheme = core.scheme_of(r)
    worst = lowest_grade(scheme)
    assert r.approved_at is not None
    due = r.approved_at.date() + timedelta(days=scheme.spec.results.rectification_days)
    facts = _scenario_facts(r)
    now = audit.utcnow()
    made = []
    for item in scores:
        if item.get("grade_id") != worst:
            continue
        sid = item["scenario_id"]
        dept = facts.get(sid, {}).get("department") or ""
        session.add(Rectification(round_id=r.id, scenario_id=sid, department=dept, grade_id=worst,
                                  total=item.get("total"), due_date=due, status="open", created_at=now))
        core._audit(session, actor, "round.rectification.open", core.target(r.id, "rectification", sid),
                    after={"department": dept, "grade_id": worst, "total": item.get("total"),
                           "due_date": due.isoformat(), "status": "open"})
        made.append(sid)
    session.flush()
    return made


def _out(x: Rectification, facts: dict[str, dict[str, Any]], labels: dict[str, dict[str, str]],
         today: date) -> dict[str, Any]:
    f = facts.get(x.scenario_id, {})
    return {
        "round": x.round_id, "scenario_id": x.scenario_id, "name_zh": f.get("name_zh"), "name_en": f.get("name_en"),
        "department": x.department, "grade_id": x.grade_id, "grade": labels.get(x.grade_id), "total": x.total,
        "due_date": x.due_date.isoformat(), "status": x.status, "note": x.note,
        "overdue": x.status == "open" and today > x.due_date, "updated_by": x.updated_by,
        "updated_at": x.updated_at.isoformat() if x.updated_at else None,
    }


def rectifications(session: Session, r: Round, principal: Principal) -> list[dict[str, Any]]:
    """The round's rectification items of the scenarios the caller may see (owners: their department's)."""
    ids = set(visible_scenarios(r, principal))
    rows = session.scalars(select(Rectification).where(Rectification.round_id == r.id)
                           .order_by(Rectification.scenario_id))
    facts, labels, today = _scenario_facts(r), grade_labels(core.scheme_of(r)), audit.utcnow().date()
    return [_out(x, facts, labels, today) for x in rows if x.scenario_id in ids]


def update(session: Session, actor: core.Actor, round_id: int, scenario_id: str, *, status: Status,
           note: str | None) -> dict[str, Any]:
    """The department's owner sets an item's status and note (403 for another department; 404 no item)."""
    p = actor.principal
    if p.role != "owner":
        raise core.RoundError(403, f"role {p.role} may not update rectifications; the scenario's owner does")
    r = core.get(session, round_id, p)
    row = session.scalars(
        select(Rectification).where(Rectification.round_id == r.id, Rectification.scenario_id == scenario_id)
        .with_for_update()
    ).one_or_none()
    if row is None:
        raise core.RoundError(404, f"round {round_id} has no rectification item for scenario {scenario_id}")
    if not p.department or row.department != p.department:
        raise core.RoundError(403, f"scenario {scenario_id} belongs to another department than {p.department}")
    before = {"status": row.status, "note": row.note}
    row.status, row.note, row.updated_by, row.updated_at = status, note, p.name, audit.utcnow()
    core._audit(session, actor, "round.rectification", core.target(r.id, "rectification", scenario_id),
                before=before, after={"status": status, "note": note})
    session.flush()
    return _out(row, _scenario_facts(r), grade_labels(core.scheme_of(r)), audit.utcnow().date())


def previous_round(session: Session, r: Round) -> Round | None:
    """The latest approved round of another family with the same scheme and regions, opened before ``r``."""
    found = session.scalars(
        select(Round).where(Round.scheme == r.scheme, Round.regions == r.regions, Round.state == "approved",
                            Round.id < r.id, Round.family_id != (r.family_id or r.id))
        .order_by(Round.id.desc()).limit(1)
    ).one_or_none()
    return found


def previous(session: Session, r: Round) -> dict[str, dict[str, Any]]:
    """scenario_id → its rectification item in the previous round (:func:`previous_round`), if it had one."""
    prev = previous_round(session, r)
    if prev is None:
        return {}
    facts, labels, today = _scenario_facts(prev), grade_labels(core.scheme_of(prev)), audit.utcnow().date()
    rows = session.scalars(select(Rectification).where(Rectification.round_id == prev.id))
    return {x.scenario_id: {**_out(x, facts, labels, today), "period": prev.period} for x in rows}


def with_previous(session: Session, r: Round, scores: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The scores, each with ``previous_rectification`` (the previous round's item, or null)."""
    prev = previous(session, r)
    return [{**s, "previous_rectification": prev.get(s["scenario_id"])} for s in scores]


def benchmarks(session: Session, r: Round) -> list[dict[str, Any]]:
    """The 标杆 scenarios of the round's scores (the scheme's benchmark rule, applied by the engine)."""
    facts = _scenario_facts(r)
    labels = grade_labels(core.scheme_of(r))
    out = []
    for s in core.scores(session, r):
        if s.get("benchmark"):
            f = facts.get(s["scenario_id"], {})
            out.append({"scenario_id": s["scenario_id"], "name_zh": f.get("name_zh"), "name_en": f.get("name_en"),
                        "department": f.get("department"), "region": s.get("region"), "total": s.get("total"),
                        "grade_id": s.get("grade_id"), "grade": labels.get(s.get("grade_id") or ""),
                        "rank": s.get("rank"), "rank_lo": s.get("rank_lo"), "rank_hi": s.get("rank_hi")})
    return out


def funds(session: Session, r: Round, principal: Principal) -> list[dict[str, Any]]:
    """Per department (owners: their own): each scenario's budget, cost per case (the scheme's
    ``results.cost_indicator`` over the round's period, from the frozen inputs) and grade, with totals."""
    scheme = core.scheme_of(r)
    ids = visible_scenarios(r, principal)
    facts, labels = _scenario_facts(r), grade_labels(scheme)
    cost_id = scheme.spec.results.cost_indicator
    costs: dict[str, Any] = {}
    if cost_id and cost_id in scheme.indicator_ids:
        metrics = frozen.unpack(r.inputs).scenario_metrics.filter(pl.col("scenario_id").is_in(ids))
        values = period_values(metrics, scheme, r.period).filter(pl.col("indicator_id") == cost_id)
        costs = {k: as_json_value(v) for k, v in zip(values["scenario_id"], values["value"], strict=True)}
    scored = {s["scenario_id"]: s for s in core.scores(session, r)}
    by_dept: dict[str, list[dict[str, Any]]] = {}
    for sid in ids:
        f, s = facts.get(sid, {}), scored.get(sid, {})
        by_dept.setdefault(f.get("department") or "", []).append({
            "scenario_id": sid, "name_zh": f.get("name_zh"), "name_en": f.get("name_en"), "budget": f.get("budget"),
            "cost_per_case": costs.get(sid), "total": s.get("total"), "grade_id": s.get("grade_id"),
            "grade": labels.get(s.get("grade_id") or ""),
        })  # fmt: skip
    out = []
    for dept, items in sorted(by_dept.items()):
        budget_by_grade: dict[str, float] = {}
        for x in items:
            key = x["grade_id"] or "ungraded"
            budget_by_grade[key] = budget_by_grade.get(key, 0.0) + float(x["budget"] or 0.0)
        out.append({"department": dept, "n_scenarios": len(items),
                    "budget": float(sum(float(x["budget"] or 0.0) for x in items)),
                    "budget_by_grade": budget_by_grade, "scenarios": items})
    return out


def report_parts(session: Session, r: Round, principal: Principal, scores: list[dict[str, Any]]) -> dict[str, Any]:
    """The report's results-applied parts: the scheme's version and grade labels, the scores with names and
    the previous round's rectification, this round's rectification items and its 标杆 scenarios."""
    scheme = core.scheme_of(r)
    facts = _scenario_facts(r)
    named = [{**s, "name_zh": facts.get(s["scenario_id"], {}).get("name_zh"),
              "name_en": facts.get(s["scenario_id"], {}).get("name_en")} for s in with_previous(session, r, scores)]
    return {
        "scheme_version": scheme.spec.version, "grades": grade_labels(scheme), "scores": named,
        "rectifications": rectifications(session, r, principal), "benchmarks": benchmarks(session, r),
    }
