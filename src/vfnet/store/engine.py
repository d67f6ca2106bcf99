"""Connecting to the database (SQLite or PostgreSQL) and bringing its schema to head."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from vfnet.errors import ValidationError

DATABASE_URL_ENV = "VFNET_DATABASE_URL"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
POOL_RECYCLE_SECONDS = 1800
# Execution option naming how a SQLite transaction begins: writers take the write
# lock up front (BEGIN IMMEDIATE) so two writers queue on busy_timeout instead of
# one failing when it upgrades a read lock.
SQLITE_BEGIN = "vfnet_sqlite_begin"
# Constraint violations a concurrent writer causes: a unique key or a foreign key
# (PostgreSQL's SQLSTATEs; SQLite's UNIQUE, PRIMARY KEY and FOREIGN KEY extended codes).
_RACE_SQLSTATES = frozenset({"23505", "23503"})
_RACE_SQLITE_CODES = frozenset({2067, 1555, 787})


def database_url(url: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The given url, else ``VFNET_DATABASE_URL``, else ``vfnet.db`` in the working directory."""
    env = os.environ if environ is None else environ
    chosen = url or env.get(DATABASE_URL_ENV) or f"sqlite:///{Path.cwd() / 'vfnet.db'}"
    if not chosen.startswith(("sqlite", "postgresql")):
        raise ValidationError(
            "database_url", f"use sqlite:/// or postgresql+psycopg://, not {chosen!r}"
        )
    if chosen.startswith("postgresql://"):
        chosen = "postgresql+psycopg://" + chosen.removeprefix("postgresql://")
    return chosen


def create_engine(url: str, *, pool_size: int = 20) -> sa.Engine:
    """An engine with vfnet's connection settings; connects lazily."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, pool_size)
    # No pre-ping: it is a round trip on every checkout, three per port creation. A
    # connection the server closed fails its request instead, and the pool then drops
    # every connection of that age; recycling keeps idle ones from going stale.
    return sa.create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=POOL_RECYCLE_SECONDS
    )


def _sqlite_engine(url: str, pool_size: int) -> sa.Engine:
    engine = sa.create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        # Straight to the driver: every transaction begins here, and SQLAlchemy's
        # statement path costs more than the BEGIN itself.
        driver = connection.connection.driver_connection
        assert driver is not None, "a connection that begins is open"
        driver.execute(f"BEGIN {mode}")

    return engine


def writer(engine: sa.Engine) -> sa.Engine:
    """The same engine (same pool) whose transactions are meant to write."""
    return engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})


def lost_a_race(error: sa.exc.IntegrityError) -> bool:
    """Whether ``error`` is what another transaction's write causes (a unique or foreign
    key violation), so the write may run again; a NOT NULL or CHECK violation is a fault
    in the write itself and would fail the same way every time."""
    cause = error.orig
    return (
        getattr(cause, "sqlstate", None) in _RACE_SQLSTATES
        or getattr(cause, "sqlite_errorcode", None) in _RACE_SQLITE_CODES
    )


def upgrade(engine: sa.Engine) -> None:
    """Run every Alembic migration not yet applied: the only way the schema is made."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with writer(engine).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
