"""The dashboard's upload callbacks under the service: scoped to the caller and audited like the API's ingest.

The dashboard (which may not import ``service`` or ``pipelines``) is handed :meth:`DashboardUploads.validate`
and :meth:`DashboardUploads.confirm`. Both read the principal the service's gate put in the WSGI environ; a
request without one is refused. ``confirm`` runs the one validate-and-store path (:func:`backend.ingest_upload`,
rows outside the caller's regions rejected as ``out_of_scope``) and appends an audit row in the same step.
"""

from __future__ import annotations

import polars as pl

from service import audit, backend
from service.principal import INGEST_ROLES, PRINCIPAL_ENVIRON_KEY, Principal
from service.settings import ServiceSettings
from service.store.db import Store


class UploadNotAllowed(PermissionError):
    """The caller may not upload (no principal, or a role that does not ingest)."""


def _caller() -> tuple[Principal, str]:
    import flask

    principal = flask.request.environ.get(PRINCIPAL_ENVIRON_KEY)
    if not isinstance(principal, Principal):
        raise UploadNotAllowed("sign in to upload")
    if principal.role not in INGEST_ROLES:
        raise UploadNotAllowed("your role does not upload data; owners and administrators of a region do")
    return principal, flask.request.remote_addr or "unknown"


class DashboardUploads:
    """Upload callbacks bound to one service (its home and store)."""

    def __init__(self, settings: ServiceSettings, store: Store) -> None:
        self.settings = settings
        self.store = store

    def validate(self, filename: str, content: bytes) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Accepted and rejected rows of the file, without writing anything (a preview)."""
        from pipelines.settings import resolve_settings
        from pipelines.steps.uploads import validate_upload

        _caller()
        result = validate_upload(
            resolve_settings(self.settings.home), filename, content, max_bytes=self.settings.max_upload_bytes
        )
        return result.accepted, result.rejects

    def confirm(self, filename: str, content: bytes) -> str:
        """Validate and store the file within the caller's regions, audit it, and say what happened."""
        principal, address = _caller()
        if len(content) > self.settings.max_upload_bytes:
            limit = self.settings.max_upload_bytes // (1024 * 1024)
            return f"{filename}: refused, larger than the {limit} MB limit"
        answer = backend.ingest_upload(self.settings.home, filename, content, in_scope=principal.can_ingest_region)
        with self.store.unit() as session:
            audit.record_ingest(
                session, actor=principal.name, role=principal.role, address=address, answer=answer, via="dashboard"
            )
        return f"{answer.summary()}; they appear after the next dtscope run"
