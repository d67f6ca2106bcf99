"""Alembic environment: runs migrations on the connection ``vfnet.store.engine`` hands in."""

from __future__ import annotations

from alembic import context

from vfnet.store.tables import metadata


def run_migrations_online() -> None:
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("vfnet migrations run against a live connection only")
run_migrations_online()
