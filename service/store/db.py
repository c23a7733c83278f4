"""Engine, migrations and units of work for the store.

SQLite in the home folder by default (WAL, a busy timeout so several worker processes share it), PostgreSQL
when ``DTSCOPE_DATABASE_URL`` names one. :func:`open_store` brings the schema to the newest migration
(``alembic upgrade head``, run programmatically under a lock) before anything else touches it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite connections get WAL, foreign keys and a 30 s busy timeout."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config() -> Config:
    """The Alembic configuration of the migrations shipped in this package (no ini file needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known_revisions() -> set[str]:
    """Every revision id of the migrations shipped in this package."""
    return {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


class UnknownRevision(RuntimeError):
    """The store was migrated by a build whose migrations this one does not ship."""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as con:
        return MigrationContext.configure(con).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """``alembic upgrade <revision>`` on ``engine``; on PostgreSQL under an advisory lock."""
    cfg = alembic_config()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(724311)")
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


class Store:
    """The store behind one database URL: an engine and a session factory.

    Use :meth:`unit` for one transaction (committed on success, rolled back on error).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextlib.contextmanager
    def unit(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def ready(self) -> bool:
        """True when the database answers and its schema is at the newest migration."""
        try:
            return current_revision(self.engine) == head_revision()
        except Exception:
            return False


def open_store(url: str, *, lock_dir: Path | None = None) -> Store:
    """Open the store at ``url``, migrating it to the newest schema first.

    Args:
        url: SQLAlchemy URL.
        lock_dir: folder for a file lock that serialises migrations of a SQLite store between processes.
    """
    from filelock import FileLock

    engine = make_engine(url)
    found = current_revision(engine)
    if found is not None and found not in known_revisions():
        engine.dispose()
        raise UnknownRevision(
            f"the store's schema is at revision {found}, which this dtscope does not know (a pre-release store, "
            "from before the migrations were squashed into one baseline); move the store aside and start again"
        )
    if found != head_revision():
        if engine.dialect.name == "sqlite" and lock_dir is not None:
            lock_dir.mkdir(parents=True, exist_ok=True)
            with FileLock(str(lock_dir / "service.db.migrate.lock"), timeout=60):
                if current_revision(engine) != head_revision():
                    migrate(engine)
        else:
            migrate(engine)
    return Store(engine)
