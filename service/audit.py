"""The append-only audit log: one row per write, with who, role, when, what, from where, before → after."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.store.models import AuditEvent

SYSTEM_ACTOR = "cli"  # account changes made on the server's command line
SYSTEM_ROLE = "operator"


def utcnow() -> datetime:
    """Naive UTC now (the store keeps naive UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def record(
    session: Session,
    *,
    actor: str,
    role: str,
    action: str,
    target: str,
    address: str | None = None,
    before: Any = None,
    after: Any = None,
) -> AuditEvent:
    """Append one audit row in the caller's transaction (so the write and its record commit together)."""
    event = AuditEvent(
        at=utcnow(),
        actor=actor,
        role=role,
        action=action,
        target=target[:256],
        address=address,
        before=_json(before),
        after=_json(after),
    )
    session.add(event)
    session.flush()
    return event


def events(session: Session, *, after_id: int = 0, limit: int = 100, target: str | None = None) -> list[AuditEvent]:
    """Audit rows with id > ``after_id``, oldest first; with ``target``, only that target and the ones below it
    (``round:7`` matches ``round:7`` and ``round:7/judgement/PD-01``)."""
    stmt = select(AuditEvent).where(AuditEvent.id > after_id)
    if target is not None:
        stmt = stmt.where(or_(AuditEvent.target == target, AuditEvent.target.startswith(target + "/", autoescape=True)))
    return list(session.scalars(stmt.order_by(AuditEvent.id).limit(limit)))


def record_ingest(session: Session, *, actor: str, role: str, address: str | None, answer: Any, via: str) -> AuditEvent:
    """The audit row of one ingest (API or dashboard upload): the file and its counts."""
    return record(
        session,
        actor=actor,
        role=role,
        action="ingest",
        target=answer.file,
        address=address,
        after={
            "in": answer.rows_in,
            "accepted": answer.accepted,
            "unchanged": answer.unchanged,
            "rejected": answer.rejected,
            "via": via,
        },
    )
