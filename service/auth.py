"""Passwords, API tokens, sessions and login throttling (OWASP ASVS level 2 in mind).

- Passwords: argon2id (argon2-cffi defaults), at least :data:`MIN_PASSWORD_LENGTH` characters; there is no
  default password anywhere — an account made without one gets a random password printed once.
- API tokens: ``dts_<prefix>_<secret>``, 256 bits of randomness, shown once; the store keeps the SHA-256 of
  the whole token (a fast hash is right for a random secret of this size) and the prefix for listings.
- Sessions: random 256-bit ids in an HttpOnly cookie; the store keeps their SHA-256, a CSRF token, and the
  times that drive the idle and absolute timeouts.
- Login throttling: failed attempts counted per account and per address over a window, in the store, so
  it holds across worker processes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeGuard

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import audit
from service.audit import utcnow
from service.principal import ALL_REGIONS, ROLES, Principal, Role
from service.settings import RateLimits
from service.store.models import ApiToken, LoginAttempt, LoginSession, User

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
TOKEN_PREFIX = "dts_"
NAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")

_hasher = PasswordHasher()
# A hash to verify against when the account does not exist, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """An account operation was refused; the message says why and how to fix it."""


class RateLimited(Exception):
    """Too many failed logins; ``retry_after`` seconds until the window frees up."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after} s")
        self.retry_after = retry_after


# ---------------------------------------------------------------------------------------------- passwords
def check_password_policy(password: str) -> None:
    """Refuse passwords shorter than :data:`MIN_PASSWORD_LENGTH`.

    >>> check_password_policy("short")
    Traceback (most recent call last):
    ...
    service.auth.AccountError: a password needs at least 12 characters (got 5)
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters (got {len(password)})")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"a password may have at most {MAX_PASSWORD_LENGTH} characters")


def hash_password(password: str) -> str:
    check_password_policy(password)
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def random_password() -> str:
    """A random password (20 URL-safe characters, ~120 bits)."""
    return secrets.token_urlsafe(15)


# ---------------------------------------------------------------------------------------------- accounts
def parse_regions(regions: list[str] | tuple[str, ...], known: list[str]) -> tuple[str, ...]:
    """Validate a region scope: region ids from the registry, or ``*`` alone."""
    flat = tuple(dict.fromkeys(r.strip() for item in regions for r in item.split(",") if r.strip()))
    if not flat:
        raise AccountError("give at least one --region (a region id, or * for all)")
    if ALL_REGIONS in flat:
        if len(flat) > 1:
            raise AccountError("--region * means all regions; do not combine it with others")
        return flat
    unknown = [r for r in flat if r not in known]
    if unknown:
        raise AccountError(f"unknown region(s) {unknown}; known: {', '.join(known)}")
    return flat


def _is_role(role: str) -> TypeGuard[Role]:
    return role in ROLES


def check_role(role: str) -> Role:
    if role not in ROLES or not _is_role(role):
        raise AccountError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    return role


def get_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise AccountError(f"no account named {name!r}")
    return user


def user_view(user: User) -> dict[str, object]:
    """What the audit log and listings show of an account (never its hash)."""
    return {
        "name": user.name,
        "role": user.role,
        "regions": list(user.region_list),
        "department": user.department,
        "disabled": user.disabled,
    }


@dataclass(frozen=True)
class Actor:
    """Who makes a change, for the audit log."""

    name: str = audit.SYSTEM_ACTOR
    role: str = audit.SYSTEM_ROLE
    address: str | None = None


def add_user(
    session: Session,
    name: str,
    *,
    role: str,
    regions: tuple[str, ...],
    password: str,
    department: str | None = None,
    actor: Actor = Actor(),
) -> User:
    """Create an account (role and regions already validated by :func:`check_role`/:func:`parse_regions`)."""
    if not NAME_RE.match(name):
        raise AccountError("an account name is 1–64 letters, digits or . _ @ -")
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise AccountError(f"an account named {name!r} already exists")
    now = utcnow()
    user = User(
        name=name,
        password_hash=hash_password(password),
        role=check_role(role),
        regions=",".join(regions),
        department=department,
        disabled=False,
        created_at=now,
        password_changed_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(
        session, actor=actor.name, role=actor.role, action="user.add", target=name,
        address=actor.address, after=user_view(user),
    )
    return user


def set_disabled(session: Session, name: str, disabled: bool, *, actor: Actor = Actor()) -> User:
    user = get_user(session, name)
    before = user_view(user)
    user.disabled = disabled
    if disabled:  # end the account's sessions at once
        for s in session.scalars(select(LoginSession).where(LoginSession.user_id == user.id)):
            s.ended_at = s.ended_at or utcnow()
    audit.record(
        session, actor=actor.name, role=actor.role, action="user.disable" if disabled else "user.enable",
        target=name, address=actor.address, before=before, after=user_view(user),
    )
    return user


def set_role(
    session: Session, name: str, role: str, *, regions: tuple[str, ...] | None = None, actor: Actor = Actor()
) -> User:
    user = get_user(session, name)
    before = user_view(user)
    user.role = check_role(role)
    if regions is not None:
        user.regions = ",".join(regions)
    audit.record(
        session, actor=actor.name, role=actor.role, action="user.set_role", target=name,
        address=actor.address, before=before, after=user_view(user),
    )
    return user


def principal_for(user: User, *, via: str = "token", csrf_token: str | None = None) -> Principal:
    return Principal(
        user_id=user.id,
        name=user.name,
        role=check_role(user.role),
        regions=user.region_list,
        department=user.department,
        via="session" if via == "session" else "token",
        csrf_token=csrf_token,
    )


# ---------------------------------------------------------------------------------------------- tokens
def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_duration(text: str) -> timedelta:
    """``90d``, ``12h``, ``30m`` or ``2w`` as a timedelta.

    >>> parse_duration("90d").days
    90
    """
    match = re.fullmatch(r"\s*(\d{1,5})\s*([mhdw])\s*", text)
    if not match:
        raise AccountError(f"cannot read the duration {text!r}; write e.g. 90d, 12h, 30m or 2w")
    n, unit = int(match[1]), match[2]
    return {"m": timedelta(minutes=n), "h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]


def create_token(
    session: Session, name: str, *, expires: timedelta | None, actor: Actor = Actor()
) -> tuple[ApiToken, str]:
    """Make an API token for account ``name``; returns the row and the token text (shown once, never stored)."""
    user = get_user(session, name)
    prefix = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    now = utcnow()
    row = ApiToken(
        user_id=user.id,
        prefix=prefix,
        token_hash=_sha256(token),
        created_at=now,
        expires_at=now + expires if expires else None,
    )
    session.add(row)
    session.flush()
    audit.record(
        session, actor=actor.name, role=actor.role, action="token.create", target=f"{name}/{prefix}",
        address=actor.address,
        after={"account": name, "prefix": prefix, "expires_at": row.expires_at},
    )
    return row, token


def revoke_token(session: Session, prefix: str, *, actor: Actor = Actor()) -> ApiToken:
    row = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if row is None:
        raise AccountError(f"no token with prefix {prefix!r} (see `dtscope tokens list`)")
    before = {"prefix": prefix, "revoked_at": row.revoked_at}
    row.revoked_at = row.revoked_at or utcnow()
    audit.record(
        session, actor=actor.name, role=actor.role, action="token.revoke", target=prefix,
        address=actor.address, before=before, after={"prefix": prefix, "revoked_at": row.revoked_at},
    )
    return row


def authenticate_token(session: Session, token: str) -> Principal | None:
    """The principal of a valid, unexpired, unrevoked token of an enabled account; else None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _sha256(token)))
    now = utcnow()
    if row is None or not hmac.compare_digest(row.token_hash, _sha256(token)):
        return None
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
    return principal_for(user)


# ---------------------------------------------------------------------------------------------- sessions
@dataclass(frozen=True)
class NewSession:
    session_id: str  # the cookie value; only its hash is stored
    csrf_token: str
    principal: Principal


def _window_failures(session: Session, column: Any, value: str, since: datetime) -> tuple[int, datetime | None]:
    stmt = select(func.count(), func.min(LoginAttempt.at)).where(
        column == value, LoginAttempt.at >= since, LoginAttempt.success.is_(False)
    )
    count, oldest = session.execute(stmt).one()
    return int(count), oldest


def check_rate_limit(session: Session, account: str, address: str, limits: RateLimits) -> None:
    """Raise :class:`RateLimited` when the account or the address has too many recent failures."""
    now = utcnow()
    since = now - timedelta(seconds=limits.window_seconds)
    for column, value, allowed in (
        (LoginAttempt.account, account, limits.per_account),
        (LoginAttempt.address, address, limits.per_address),
    ):
        count, oldest = _window_failures(session, column, value, since)
        if count >= allowed:
            wait = limits.window_seconds - int((now - (oldest or now)).total_seconds())
            raise RateLimited(max(wait, 1))


def login(
    session: Session, account: str, password: str, *, address: str, limits: RateLimits
) -> NewSession | None:
    """Check a password login; a new session on success, None on failure (which is counted).

    Raises:
        RateLimited: too many recent failures for this account or address (checked before the password).
    """
    account = account[:64]
    check_rate_limit(session, account, address, limits)
    user = session.scalar(select(User).where(User.name == account))
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password[:MAX_PASSWORD_LENGTH])
    ok = ok and user is not None and not user.disabled
    session.add(LoginAttempt(account=account, address=address, at=utcnow(), success=ok))
    if not ok or user is None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    sid = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        LoginSession(
            user_id=user.id, session_hash=_sha256(sid), csrf_token=csrf, created_at=now, last_seen_at=now,
            address=address,
        )
    )
    audit.record(session, actor=user.name, role=user.role, action="session.login", target=user.name, address=address)
    return NewSession(sid, csrf, principal_for(user, via="session", csrf_token=csrf))


def resolve_session(
    session: Session, session_id: str, *, idle_seconds: int, absolute_seconds: int
) -> Principal | None:
    """The principal of a live session (within both timeouts, account enabled); else None (and ends it)."""
    if not session_id or len(session_id) > 200:
        return None
    row = session.scalar(select(LoginSession).where(LoginSession.session_hash == _sha256(session_id)))
    if row is None or row.ended_at is not None:
        return None
    now = utcnow()
    expired = (now - row.last_seen_at).total_seconds() > idle_seconds or (
        now - row.created_at
    ).total_seconds() > absolute_seconds
    user = session.get(User, row.user_id)
    if expired or user is None or user.disabled:
        row.ended_at = now
        return None
    # Touch at most every few seconds: enough for the idle timeout, cheap for Dash's many callbacks.
    if (now - row.last_seen_at).total_seconds() > min(30, idle_seconds / 4):
        row.last_seen_at = now
    return principal_for(user, via="session", csrf_token=row.csrf_token)


def logout(session: Session, session_id: str, *, address: str | None = None) -> bool:
    row = session.scalar(select(LoginSession).where(LoginSession.session_hash == _sha256(session_id)))
    if row is None or row.ended_at is not None:
        return False
    row.ended_at = utcnow()
    user = session.get(User, row.user_id)
    if user is not None:
        audit.record(session, actor=user.name, role=user.role, action="session.logout", target=user.name, address=address)
    return True
