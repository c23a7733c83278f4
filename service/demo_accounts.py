"""Demo accounts: one per role with a random password, so ``make run`` works on a fresh clone.

There is no default password anywhere. :func:`ensure_demo_accounts` creates the accounts that do not exist
yet (``demo-leader``, ``demo-evaluator``, ``demo-owner``, ``demo-data-scientist``, ``demo-admin``), each
with a fresh random password, and appends their names and passwords to ``<home>/demo-accounts.txt``,
created with mode 0600 (owner read/write only). It never changes an account that exists: a second call
creates nothing and says where the file is.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from service import auth
from service.principal import ALL_REGIONS, Role
from service.store import Store
from service.store.models import User

ACCOUNTS_FILE = "demo-accounts.txt"
FILE_MODE = 0o600


@dataclass(frozen=True)
class DemoAccount:
    """One demo account: its name, role, region scope and (for owners) department."""

    name: str
    role: Role
    regions: tuple[str, ...]
    department: str | None = None


@dataclass
class DemoAccountsResult:
    """What :func:`ensure_demo_accounts` did.

    Attributes:
        path: the 0600 file holding the passwords of the accounts it created (now or earlier).
        created: ``(account, password)`` for each account created by this call — shown once.
        existing: names of demo accounts that already existed (left untouched).
    """

    path: Path
    created: list[tuple[DemoAccount, str]] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)


def demo_department(published_dir: Path) -> str | None:
    """The department owning the most published scenarios (the demo owner's department), if any."""
    path = published_dir / "scenarios.parquet"
    if not path.is_file():
        return None
    import polars as pl

    frame = pl.read_parquet(path, columns=["owner"])
    if frame.height == 0:
        return None
    counts = frame.group_by("owner").len().sort(["len", "owner"], descending=[True, False])
    return str(counts["owner"][0])


def demo_accounts(department: str | None) -> list[DemoAccount]:
    """The five demo accounts, all regions in scope (a region-scoped account is one ``users add`` away)."""
    everywhere = (ALL_REGIONS,)
    return [
        DemoAccount("demo-leader", "leader", everywhere),
        DemoAccount("demo-evaluator", "evaluator", everywhere),
        DemoAccount("demo-owner", "owner", everywhere, department),
        DemoAccount("demo-data-scientist", "data_scientist", everywhere),
        DemoAccount("demo-admin", "admin", everywhere),
    ]


def _append_private(path: Path, text: str) -> None:
    """Append ``text`` to ``path``, creating it 0600; an existing file is narrowed to 0600 first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # the umask may have narrowed it further; an old file may be wider
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_demo_accounts(store: Store, home: Path, *, department: str | None = None) -> DemoAccountsResult:
    """Create the demo accounts that do not exist yet; record their passwords in ``home/demo-accounts.txt``.

    Args:
        store: the open service store.
        home: the dtscope home folder (the file goes there).
        department: the owner account's department (default: :func:`demo_department` of the published set).

    Returns:
        What was created (with the passwords, to print once) and what already existed.
    """
    path = home / ACCOUNTS_FILE
    if department is None:
        department = demo_department(home / "published_tables")
    result = DemoAccountsResult(path=path)
    with store.unit() as session:
        taken = set(session.scalars(select(User.name)))
        for account in demo_accounts(department):
            if account.name in taken:
                result.existing.append(account.name)
                continue
            password = auth.random_password()
            auth.add_user(
                session, account.name, role=account.role, regions=account.regions, password=password,
                department=account.department,
            )
            result.created.append((account, password))
        if result.created:
            # written before the accounts commit: a failure here leaves no account without its password on disk
            lines = [f"# dtscope demo accounts, created {datetime.now(UTC):%Y-%m-%d %H:%M} UTC (log in at /login)"]
            for account, password in result.created:
                scope = ",".join(account.regions)
                extra = f" department={account.department}" if account.department else ""
                lines.append(f"{account.name}\t{password}\trole={account.role} regions={scope}{extra}")
            _append_private(path, "\n".join(lines) + "\n")
    return result


def file_mode(path: Path) -> int:
    """The permission bits of ``path`` (``0o600`` for the accounts file)."""
    return stat.S_IMODE(path.stat().st_mode)
