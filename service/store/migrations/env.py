"""Alembic environment: runs on the connection :func:`service.store.db.migrate` hands over."""

from __future__ import annotations

from alembic import context

from service.store.models import Base


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:  # pragma: no cover - the store always passes its connection
        raise RuntimeError("run migrations through service.store.db.migrate(engine)")
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if getattr(context, "config", None) is not None:  # inside an Alembic command (not when a tool imports it)
    run()
