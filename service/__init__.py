"""dtscope as a shared service: accounts, roles scoped by region, an HTTP API and the dashboard behind a login.

What the room holds:

- :mod:`service.principal` — who is calling (:class:`Principal`), the roles, and region scope; the dashboard
  reads the principal from the WSGI environ key :data:`PRINCIPAL_ENVIRON_KEY`.
- :mod:`service.store` — the transactional store (accounts, tokens, sessions, login attempts, the
  append-only audit log): SQLAlchemy 2 models and the Alembic migrations shipped with the package.
- :mod:`service.auth` — argon2 passwords, API tokens (shown once, stored as a hash), sessions, rate limits.
- :mod:`service.api` — one FastAPI router per resource under ``/api/v1``.
- :mod:`service.app` — the ASGI application: API, ``/healthz``, ``/readyz``, login page, the Dash dashboard.
- :mod:`service.cli` — ``dtscope serve``, ``users``, ``tokens`` and ``audit`` commands.
"""

from __future__ import annotations

from service.principal import PRINCIPAL_ENVIRON_KEY, ROLES, Principal, Role

__all__ = ["PRINCIPAL_ENVIRON_KEY", "ROLES", "Principal", "Role"]
