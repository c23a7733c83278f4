"""Fixtures for the service tests: one real demo home (``dtscope demo`` + ``dtscope run``), copied per test
module that writes, a fresh store per test, and accounts with tokens for every role."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from service.auth import add_user, create_token
from service.principal import PRINCIPAL_ENVIRON_KEY, ROLES
from service.settings import RateLimits, ServiceSettings, default_database_url
from service.store import Store, open_store
from service.store.models import Round

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
DTSCOPE = str(Path(sys.executable).parent / "dtscope")
IN_SCOPE, OUT_OF_SCOPE = "pudong", "hongkou"


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home where `dtscope demo` and `dtscope run` ran (the real published set and warehouse)."""
    home = tmp_path_factory.mktemp("demo-home")
    prebuilt = os.environ.get("DTSCOPE_TEST_DEMO_HOME")  # a home built the same way, to save ~25 s locally
    if prebuilt:
        return _copy_home(Path(prebuilt), home / "home")
    for cmd in (["demo"], ["run"]):
        done = subprocess.run([DTSCOPE, *cmd, "--home", str(home)], check=False, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
    return home


def _copy_home(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns("mlruns", "service.db*"))
    return dst


@pytest.fixture(scope="session")
def copy_home() -> Callable[[Path, Path], Path]:
    """A private copy of a home (published set and warehouse), for tests that write or tamper."""
    return _copy_home


@pytest.fixture(scope="module")
def module_home(request: pytest.FixtureRequest, demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the demo home that one test module's tests share (a test that changes the warehouse
    copies it again)."""
    return _copy_home(demo_home, tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]) / "home")


def bearer(token: str | None) -> dict[str, str]:
    """The header that presents an API token (none without a token)."""
    return {"Authorization": f"Bearer {token}"} if token else {}


def echo_dashboard(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """A stand-in WSGI dashboard that shows what the service put in its environ."""
    principal = environ.get(PRINCIPAL_ENVIRON_KEY)
    body = json.dumps(
        {
            "path": environ.get("PATH_INFO"),
            "method": environ.get("REQUEST_METHOD"),
            "role": getattr(principal, "role", None),
            "regions": list(getattr(principal, "regions", ())),
            "name": getattr(principal, "name", None),
        }
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


@dataclass
class Service:
    client: TestClient
    store: Store
    settings: ServiceSettings
    app: Any

    def user(self, name: str, role: str, regions: tuple[str, ...] = (IN_SCOPE,), department: str | None = None) -> str:
        """Add an account and return an API token for it."""
        with self.store.unit() as s:
            add_user(s, name, role=role, regions=regions, password=PASSWORD, department=department)
            _, token = create_token(s, name, expires=None)
        return token

    def open_round(
        self, token: str, *, scheme: str = "default", regions: tuple[str, ...] = (IN_SCOPE,), period: str = "2024"
    ) -> Any:
        """``POST /api/v1/rounds`` as the holder of ``token``; the response."""
        body = {"scheme": scheme, "period": period, "regions": list(regions)}
        return self.client.post("/api/v1/rounds", json=body, headers=bearer(token))

    def stored_round(self, rid: int) -> Round:
        """Round ``rid`` as the store holds it, to read (change it in a ``store.unit()`` of your own)."""
        with self.store.unit() as s:
            r = s.get(Round, rid)
            assert r is not None, f"no round {rid} in the store"
            return r

    def login(self, name: str, password: str = PASSWORD) -> Any:
        page = self.client.get("/login")
        csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        return self.client.post(
            "/login", data={"name": name, "password": password, "csrf_token": csrf, "next": "/"}, follow_redirects=False
        )


@pytest.fixture
def make_service(tmp_path: Path) -> Iterator[Callable[..., Service]]:
    """Build a service over ``home`` with a fresh SQLite store; settings can be overridden."""
    made: list[TestClient] = []

    def build(home: Path, *, dashboard: Any = echo_dashboard, **changes: Any) -> Service:
        db_dir = tmp_path / f"store{len(made)}"
        db_dir.mkdir()
        settings = ServiceSettings(
            home=home,
            database_url=default_database_url(db_dir),
            allowed_hosts=("testserver",),
            rate_limits=RateLimits(per_account=5, per_address=20, window_seconds=900),
        ).with_(**changes)
        store = open_store(settings.database_url, lock_dir=db_dir)
        from service.app import create_app

        app = create_app(settings, store=store, dashboard=dashboard)
        client = TestClient(app, raise_server_exceptions=False)
        made.append(client)
        return Service(client, store, settings, app)

    yield build
    for c in made:
        c.close()


@pytest.fixture
def tokens_by_role(make_service: Callable[..., Service], demo_home: Path) -> tuple[Service, dict[str, str]]:
    svc = make_service(demo_home)
    return svc, {role: svc.user(f"{role}-pd", role, department="区科经委" if role == "owner" else None) for role in ROLES}
