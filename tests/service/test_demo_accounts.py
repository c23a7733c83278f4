"""`dtscope demo-accounts`: one account per role, random passwords in a 0600 file, idempotent, logins work."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from service.demo_accounts import ACCOUNTS_FILE, ensure_demo_accounts, file_mode
from service.principal import ROLES
from service.store import open_store
from service.store.models import User
from tests.service.conftest import PASSWORD, Service

LINE = re.compile(r"^(demo-[a-z-]+)\t(\S+)\trole=(\w+) regions=(\S+)")


def _accounts(path: Path) -> dict[str, tuple[str, str]]:
    """name -> (password, role) from the accounts file."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = LINE.match(line)
        if m:
            found[m.group(1)] = (m.group(2), m.group(3))
    return found


def test_one_account_per_role_in_a_private_file_and_each_password_logs_in(
    make_service: Callable[..., Service], demo_home: Path, copy_home: Callable[[Path, Path], Path], tmp_path: Path
) -> None:
    home = copy_home(demo_home, tmp_path / "home")
    svc = make_service(home)
    old_umask = os.umask(0o000)  # a permissive umask must not widen the file
    try:
        result = ensure_demo_accounts(svc.store, home)
    finally:
        os.umask(old_umask)
    path = home / ACCOUNTS_FILE
    assert result.path == path and result.existing == []
    assert file_mode(path) == 0o600
    on_disk = _accounts(path)
    assert sorted(role for _, role in on_disk.values()) == sorted(ROLES)
    assert {a.name: pw for a, pw in result.created} == {name: pw for name, (pw, _) in on_disk.items()}
    assert len({pw for pw, _ in on_disk.values()}) == len(ROLES)  # random, not one shared password
    with svc.store.unit() as s:
        users = {u.name: u for u in s.scalars(select(User))}
    assert {u.role for u in users.values()} == set(ROLES)
    owner = users["demo-owner"]
    assert owner.department  # an owner sees its department's scenarios: the demo one has a department
    for name, (password, _) in on_disk.items():
        done = svc.login(name, password)
        assert done.status_code == 303, (name, done.text)
        svc.client.cookies.clear()
    assert svc.login("demo-admin", "not the password at all").status_code == 401


def test_second_run_creates_nothing_and_changes_no_password(
    make_service: Callable[..., Service], demo_home: Path, copy_home: Callable[[Path, Path], Path], tmp_path: Path
) -> None:
    home = copy_home(demo_home, tmp_path / "home")
    svc = make_service(home)
    svc.user("demo-leader", "leader")  # an account of that name made by someone else: never overwritten
    first = ensure_demo_accounts(svc.store, home)
    assert first.existing == ["demo-leader"] and len(first.created) == len(ROLES) - 1
    before = (home / ACCOUNTS_FILE).read_text(encoding="utf-8")
    with svc.store.unit() as s:
        hashes = {u.name: u.password_hash for u in s.scalars(select(User))}
    second = ensure_demo_accounts(svc.store, home)
    assert second.created == [] and len(second.existing) == len(ROLES)
    assert (home / ACCOUNTS_FILE).read_text(encoding="utf-8") == before
    with svc.store.unit() as s:
        assert {u.name: u.password_hash for u in s.scalars(select(User))} == hashes
    assert svc.login("demo-leader", PASSWORD).status_code == 303  # still the password it was made with
    assert "demo-leader" not in _accounts(home / ACCOUNTS_FILE)


def test_a_wider_existing_file_is_narrowed_to_0600(
    make_service: Callable[..., Service], demo_home: Path, copy_home: Callable[[Path, Path], Path], tmp_path: Path
) -> None:
    home = copy_home(demo_home, tmp_path / "home")
    svc = make_service(home)
    path = home / ACCOUNTS_FILE
    path.write_text("# notes\n", encoding="utf-8")
    path.chmod(0o644)
    ensure_demo_accounts(svc.store, home)
    assert file_mode(path) == 0o600
    assert path.read_text(encoding="utf-8").startswith("# notes\n") and len(_accounts(path)) == len(ROLES)


@pytest.mark.slow
def test_cli_prints_once_then_says_where_the_file_is(
    demo_home: Path, copy_home: Callable[[Path, Path], Path], tmp_path: Path
) -> None:
    home = copy_home(demo_home, tmp_path / "home")
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("DTSCOPE_DATABASE_URL", None)
    cmd = [sys.executable, "-m", "service", "demo-accounts", "--home", str(home)]
    first = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env, timeout=120)
    assert first.returncode == 0, first.stderr
    on_disk = _accounts(home / ACCOUNTS_FILE)
    assert len(on_disk) == len(ROLES)
    assert all(pw in first.stdout for pw, _ in on_disk.values())  # printed once …
    assert str(home / ACCOUNTS_FILE) in first.stdout.replace("\n", "")
    second = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env, timeout=120)
    assert second.returncode == 0, second.stderr
    assert "exist already" in second.stdout
    assert str(home / ACCOUNTS_FILE) in second.stdout.replace("\n", "")
    assert not any(pw in second.stdout for pw, _ in on_disk.values())  # … and never again
    store = open_store(f"sqlite:///{home / 'service.db'}")
    with store.unit() as s:
        assert sorted(s.scalars(select(User.role))) == sorted(ROLES)
