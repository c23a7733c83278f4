"""The store on real SQLite and a real PostgreSQL (started here with initdb/pg_ctl in a temp folder)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from service import auth
from service.settings import RateLimits
from service.store import Base, open_store
from service.store.db import UnknownRevision, current_revision, downgrade, head_revision, make_engine, migrate


def _pg_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL cluster on a free port (as the `postgres` user when running as root)."""
    bindir = _pg_bin()
    if bindir is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("PostgreSQL binaries (initdb, pg_ctl) are missing in CI; `make unit` installs them")
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found; run `make unit` (installs Debian's postgresql)")
    root = Path(tempfile.mkdtemp(prefix="dtscope-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        root.chmod(0o700)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    run = lambda *args: subprocess.run([*prefix, *args], check=True, capture_output=True, text=True, timeout=120)  # noqa: E731
    run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-o",
        f"-p {port} -k {sock} -c listen_addresses=127.0.0.1", "start")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       check=False, capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    engine = make_engine(url)
    with engine.begin() as con:  # a clean database for the next test
        con.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def test_migrations_build_the_schema_of_the_models_and_go_down_again(db_url: str) -> None:
    store = open_store(db_url)
    assert current_revision(store.engine) == head_revision() and store.ready()
    found = inspect(store.engine)
    for table in Base.metadata.sorted_tables:
        columns = {c["name"]: c for c in found.get_columns(table.name)}
        assert set(columns) == {c.name for c in table.columns}, table.name
        for c in table.columns:
            assert columns[c.name]["nullable"] == c.nullable, (table.name, c.name)
    downgrade(store.engine, "base")
    assert not set(inspect(store.engine).get_table_names()) & set(Base.metadata.tables)
    migrate(store.engine)
    assert store.ready()
    store.engine.dispose()


def test_a_store_at_a_revision_this_build_does_not_ship_is_refused_by_name(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as con:  # a store migrated by a pre-release build to a revision squashed since
        con.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        con.execute(text("INSERT INTO alembic_version VALUES ('0002')"))
    engine.dispose()
    with pytest.raises(UnknownRevision, match="at revision 0002, which this dtscope does not know"):
        open_store(db_url)


def test_accounts_tokens_sessions_and_audit_round_trip(db_url: str) -> None:
    store = open_store(db_url)
    with store.unit() as s:
        auth.add_user(s, "ana", role="evaluator", regions=("pudong",), password="a long password")
        _, token = auth.create_token(s, "ana", expires=timedelta(days=1))
        _, expired = auth.create_token(s, "ana", expires=timedelta(seconds=-1))
    with store.unit() as s:
        who = auth.authenticate_token(s, token)
        assert who is not None and who.role == "evaluator" and who.regions == ("pudong",)
        assert auth.authenticate_token(s, expired) is None
        with pytest.raises(auth.AccountError, match="already exists"):
            auth.add_user(s, "ana", role="leader", regions=("*",), password="another long one")
    limits = RateLimits(per_account=2, per_address=100, window_seconds=60)
    with store.unit() as s:
        new = auth.login(s, "ana", "a long password", address="10.1.1.1", limits=limits)
        assert new is not None
    with store.unit() as s:
        assert auth.resolve_session(s, new.session_id, idle_seconds=60, absolute_seconds=60) is not None
        assert auth.login(s, "ana", "wrong password!", address="10.1.1.1", limits=limits) is None
    with store.unit() as s:
        assert auth.login(s, "ana", "wrong password!", address="10.1.1.1", limits=limits) is None
    with store.unit() as s, pytest.raises(auth.RateLimited):
        auth.login(s, "ana", "a long password", address="10.1.1.1", limits=limits)
    with store.unit() as s:
        actions = [e.action for e in auth.audit.events(s)]
    assert actions[:4] == ["user.add", "token.create", "token.create", "session.login"]
    with store.engine.connect() as con, pytest.raises(Exception, match="append-only"):
        con.execute(text("UPDATE audit_events SET actor = 'x'"))
    with store.engine.connect() as con, pytest.raises(Exception, match="append-only"):
        con.execute(text("DELETE FROM audit_events"))
    store.engine.dispose()
