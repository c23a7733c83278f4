"""The write routes: ingest (owners and admins, within their regions) and the audit log (admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from sqlalchemy.orm import Session

from service import audit, backend
from service.api import models
from service.api.deps import authenticated, client_address, db_session, get_settings, require
from service.api.problems import ProblemError, responses
from service.api.tables import MAX_LIMIT
from service.principal import INGEST_ROLES, Principal
from service.settings import ServiceSettings

ingest = APIRouter(tags=["ingest"], dependencies=[Depends(authenticated)])


@ingest.post(
    "/ingest",
    response_model=models.IngestResult,
    responses=responses(401, 403, 413, 422, 503),
)
def ingest_file(
    request: Request,
    *,
    file: UploadFile,
    settings: Annotated[ServiceSettings, Depends(get_settings)],
    principal: Annotated[Principal, Depends(require(*sorted(INGEST_ROLES)))],
    session: Annotated[Session, Depends(db_session)],
) -> Any:
    """Validate a CSV or Excel file and append new vintages, as ``dtscope ingest`` does.

    Rows for regions outside your account's scope are rejected with reason ``out_of_scope``; nothing
    else changes for them. ``in = accepted + unchanged + rejected``.
    """
    content = file.file.read(settings.max_upload_bytes + 1)
    if len(content) > settings.max_upload_bytes:
        raise ProblemError(413, f"the file is larger than the {settings.max_upload_bytes // (1024 * 1024)} MB limit")
    try:
        answer = backend.ingest_upload(
            settings.home,
            file.filename or "upload",
            content,
            in_scope=principal.can_ingest_region,
            max_bytes=settings.max_upload_bytes,
        )
    except backend.IngestInputError as exc:
        raise ProblemError(422, str(exc)) from None
    audit.record_ingest(
        session, actor=principal.name, role=principal.role, address=client_address(request), answer=answer, via="api"
    )
    return models.IngestResult(
        file=answer.file,
        layout=answer.layout,
        **{"in": answer.rows_in},
        accepted=answer.accepted,
        unchanged=answer.unchanged,
        rejected=answer.rejected,
        rejects=[models.RejectRow(**r) for r in answer.rejects.iter_rows(named=True)],
    )


audit_log = APIRouter(tags=["audit"], dependencies=[Depends(authenticated)])


@audit_log.get("/audit", response_model=models.Page[models.AuditRow], responses=responses(401, 403, 422))
def list_audit(
    principal: Annotated[Principal, Depends(require("admin"))],
    session: Annotated[Session, Depends(db_session)],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    cursor: Annotated[str | None, Query(max_length=20, pattern=r"^[0-9]+$", description="last id seen")] = None,
    round: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="only this assessment round's events")] = None,
) -> Any:
    """The append-only audit log, oldest first (admins only)."""
    after_id = int(cursor) if cursor else 0
    target = f"round:{round}" if round is not None else None
    rows = audit.events(session, after_id=after_id, limit=limit + 1, target=target)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        models.AuditRow(
            id=r.id, at=r.at.isoformat(), actor=r.actor, role=r.role, action=r.action, target=r.target,
            address=r.address, before=r.before, after=r.after,
        )
        for r in rows
    ]
    return {"items": items, "next_cursor": str(rows[-1].id) if more and rows else None, "total": len(items)}


ROUTERS = (ingest, audit_log)
