"""The transactional store: schema (:mod:`.models`), migrations, and :func:`open_store`."""

from __future__ import annotations

from service.store.db import Store, migrate, open_store
from service.store.models import ApiToken, AuditEvent, Base, LoginAttempt, LoginSession, User

__all__ = ["ApiToken", "AuditEvent", "Base", "LoginAttempt", "LoginSession", "Store", "User", "migrate", "open_store"]
