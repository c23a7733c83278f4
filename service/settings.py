"""The service's typed settings, built once (CLI or app factory) from arguments and the environment.

Environment variables (all optional):

- ``DTSCOPE_HOME`` — the home folder (warehouse, published tables, ``service.db``).
- ``DTSCOPE_DATABASE_URL`` — a SQLAlchemy URL for the store (e.g. ``postgresql+psycopg://…``); default
  SQLite ``<home>/service.db``.
- ``DTSCOPE_ALLOWED_HOSTS`` — comma-separated Host header values accepted (default: loopback names).
- ``DTSCOPE_MAX_UPLOAD_MB`` — request body limit for uploads (default 5).
- ``DTSCOPE_SESSION_IDLE_MINUTES`` / ``DTSCOPE_SESSION_ABSOLUTE_HOURS`` — session timeouts (30 / 8).
- ``DTSCOPE_SECURE_COOKIES`` — ``1`` marks the cookies ``Secure`` always (behind a TLS proxy that does not
  send ``X-Forwarded-Proto``); otherwise they are ``Secure`` when the request came over TLS.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipelines.settings import HomeFolder

DATABASE_URL_ENV = "DTSCOPE_DATABASE_URL"
ALLOWED_HOSTS_ENV = "DTSCOPE_ALLOWED_HOSTS"
SECURE_COOKIES_ENV = "DTSCOPE_SECURE_COOKIES"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True)
class RateLimits:
    """Failed logins allowed within ``window_seconds`` before further attempts are refused (429)."""

    per_account: int = 5
    per_address: int = 20
    window_seconds: int = 900


@dataclass(frozen=True)
class ServiceSettings(HomeFolder):
    """Where the service reads and writes, and its security limits.

    Attributes:
        home: the dtscope home folder.
        database_url: SQLAlchemy URL of the store.
        allowed_hosts: accepted ``Host`` header names (without port); ``*`` accepts any (not recommended).
        max_upload_bytes: largest request body accepted on upload routes (413 beyond).
        max_body_bytes: largest request body accepted elsewhere.
        session_idle_seconds: a session unused this long ends.
        session_absolute_seconds: a session ends this long after login, used or not.
        rate_limits: login throttling.
        secure_cookies: force the cookies' ``Secure`` flag (otherwise set when the request came over TLS).
    """

    database_url: str
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    max_upload_bytes: int = 5 * 1024 * 1024
    max_body_bytes: int = 4 * 1024 * 1024
    session_idle_seconds: int = 30 * 60
    session_absolute_seconds: int = 8 * 3600
    rate_limits: RateLimits = field(default_factory=RateLimits)
    secure_cookies: bool = False

    def with_(self, **changes: object) -> ServiceSettings:
        """A copy with some fields changed (tests shorten timeouts this way)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def default_database_url(home: Path) -> str:
    """SQLite in the home folder: ``sqlite:///<home>/service.db``."""
    return f"sqlite:///{(home / 'service.db').as_posix()}"


def load_settings(home: Path | str | None = None, *, extra_hosts: tuple[str, ...] = ()) -> ServiceSettings:
    """Settings for ``home`` (else ``$DTSCOPE_HOME``, else the project's ``data/``) and the environment."""
    from service.backend import resolve_home

    home_path = resolve_home(home)
    env = os.environ
    hosts_env = env.get(ALLOWED_HOSTS_ENV, "")
    hosts = tuple(h.strip() for h in hosts_env.split(",") if h.strip()) or LOOPBACK_HOSTS
    hosts = tuple(dict.fromkeys((*hosts, *extra_hosts)))
    return ServiceSettings(
        home=home_path,
        database_url=env.get(DATABASE_URL_ENV) or default_database_url(home_path),
        allowed_hosts=hosts,
        max_upload_bytes=int(float(env.get("DTSCOPE_MAX_UPLOAD_MB", "5")) * 1024 * 1024),
        session_idle_seconds=int(float(env.get("DTSCOPE_SESSION_IDLE_MINUTES", "30")) * 60),
        session_absolute_seconds=int(float(env.get("DTSCOPE_SESSION_ABSOLUTE_HOURS", "8")) * 3600),
        secure_cookies=env.get(SECURE_COOKIES_ENV, "").strip().lower() in ("1", "true", "yes", "on"),
    )
