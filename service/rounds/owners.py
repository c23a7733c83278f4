"""The owners' part of a round (issue 15, "Owners' part"): a department owner sees its own scenarios in the
round, the metric values that will be scored (from the round's frozen inputs), and per indicator adds a
self-assessment note, evidence links, and may flag the metric as disputed with a reason for the evaluators.

Writes take the round's lock like every other round write (:func:`service.rounds.core._lock`), are allowed
while the round is open or returned (409 otherwise), only on the owner's department's scenarios (403), and
are audited in the same transaction. Every role that may read the round reads the notes of the scenarios it
may see (owners: their department's), so evaluators see the disputes before they rate.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from evaluation.assessment.engine import period_values
from service import audit
from service.principal import Principal
from service.rounds import core
from service.rounds import inputs as frozen
from service.rounds.inputs import as_json_value
from service.store.models import OwnerNote, Round

MAX_LINKS = 20


def _department_of(r: Round) -> dict[str, str | None]:
    scenarios = frozen.unpack(r.inputs).scenarios
    return dict(zip(scenarios["scenario_id"].to_list(), scenarios["owner"].to_list(), strict=True))


def visible_scenarios(r: Round, principal: Principal) -> list[str]:
    """The round's scenarios the caller may see: all of them, or an owner's department's."""
    ids = core.scenario_ids(r)
    if principal.role != "owner":
        return ids
    owners = _department_of(r)
    return [s for s in ids if principal.department and owners.get(s) == principal.department]


def check_links(links: list[str]) -> list[str]:
    """Evidence links as given, each an absolute http(s) address (``ValueError`` naming the first that is not).

    >>> check_links(["https://example.org/report.pdf"])
    ['https://example.org/report.pdf']
    >>> check_links(["javascript:alert(1)"])
    Traceback (most recent call last):
    ...
    ValueError: evidence link 1 is not an http(s) address: 'javascript:alert(1)'
    """
    if len(links) > MAX_LINKS:
        raise ValueError(f"at most {MAX_LINKS} evidence links per indicator")
    for k, link in enumerate(links, 1):
        parts = urlsplit(link.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"evidence link {k} is not an http(s) address: {link!r}")
    return [link.strip() for link in links]


def sheet(session: Session, r: Round, principal: Principal) -> list[dict[str, Any]]:
    """Per visible scenario: its department, the metric values the round will score (frozen at opening, for
    the round's period) and the owners' notes per indicator."""
    scheme = core.scheme_of(r)
    data = frozen.unpack(r.inputs)
    ids = visible_scenarios(r, principal)
    owners = _department_of(r)
    # the values the engine scores: the months of the round's period combined by each indicator's rule
    metrics = period_values(data.scenario_metrics.filter(pl.col("scenario_id").is_in(ids)), scheme, r.period)
    notes = {
        (n.scenario_id, n.indicator_id): n
        for n in session.scalars(select(OwnerNote).where(OwnerNote.round_id == r.id, OwnerNote.scenario_id.in_(ids)))
    }
    out = []
    for sid in ids:
        rows = metrics.filter(pl.col("scenario_id") == sid)
        values = dict(zip(rows["indicator_id"].to_list(), [as_json_value(v) for v in rows["value"].to_list()],
                          strict=True))  # fmt: skip
        indicators = []
        for ind in scheme.indicator_ids:
            n = notes.get((sid, ind))
            indicators.append({
                "indicator_id": ind, "judged": ind in scheme.judged_ids, "value": values.get(ind),
                "note": n.note if n else None, "evidence": json.loads(n.evidence) if n else [],
                "disputed": bool(n.disputed) if n else False, "dispute_reason": n.dispute_reason if n else None,
                "author": n.author if n else None, "updated_at": n.updated_at.isoformat() if n else None,
            })  # fmt: skip
        out.append({"scenario_id": sid, "department": owners.get(sid), "indicators": indicators})
    return out


def save(
    session: Session,
    actor: core.Actor,
    round_id: int,
    scenario_id: str,
    indicator_id: str,
    *,
    note: str | None,
    evidence: list[str],
    disputed: bool,
    dispute_reason: str | None,
) -> dict[str, Any]:
    """Save an owner's note, evidence and dispute of one indicator of one of its department's scenarios."""
    p = actor.principal
    if p.role != "owner":
        raise core.RoundError(403, f"role {p.role} may not add self-assessments; the scenario's owner does")
    r = core._lock(session, round_id, p, core.EDITABLE, "take self-assessments")
    if scenario_id not in core.scenario_ids(r):
        raise core.RoundError(404, f"scenario {scenario_id} is not in round {round_id}")
    if scenario_id not in visible_scenarios(r, p):
        raise core.RoundError(403, f"scenario {scenario_id} belongs to another department than {p.department}")
    scheme = core.scheme_of(r)
    if indicator_id not in scheme.indicator_ids:
        raise core.RoundError(404, f"{indicator_id} is not an indicator of {r.scheme_label}")
    if disputed and not (dispute_reason or "").strip():
        raise core.RoundError(422, "a disputed metric needs a reason for the evaluators")
    try:
        links = check_links(evidence)
    except ValueError as exc:
        raise core.RoundError(422, str(exc)) from None
    row = session.scalars(select(OwnerNote).where(
        OwnerNote.round_id == r.id, OwnerNote.scenario_id == scenario_id, OwnerNote.indicator_id == indicator_id,
    )).one_or_none()  # fmt: skip
    reason = dispute_reason if disputed else None
    after = {"note": note, "evidence": links, "disputed": disputed, "dispute_reason": reason}
    before = None
    now = audit.utcnow()
    if row is None:
        session.add(OwnerNote(round_id=r.id, scenario_id=scenario_id, indicator_id=indicator_id,
                              department=p.department or "", author=p.name, evidence=json.dumps(links), updated_at=now,
                              note=note, disputed=disputed, dispute_reason=reason))  # fmt: skip
    else:
        before = {"note": row.note, "evidence": json.loads(row.evidence), "disputed": row.disputed,
                  "dispute_reason": row.dispute_reason, "author": row.author}  # fmt: skip
        row.note, row.evidence, row.disputed = note, json.dumps(links), disputed
        row.dispute_reason, row.author, row.updated_at = reason, p.name, now
    core._audit(session, actor, "round.self_assessment", core.target(r.id, "owner", scenario_id, indicator_id),
                before=before, after=after)  # fmt: skip
    session.flush()
    return {"round": r.id, "scenario_id": scenario_id, "indicator_id": indicator_id, "author": p.name, **after}
