"""Shared functional fixtures: a migrated store on SQLite, and on PostgreSQL when asked.

Set ``VFNET_TEST_POSTGRES`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
to run every store-backed test against PostgreSQL too. Each PostgreSQL test gets a fresh
schema of its own, dropped afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from vfnet.store import Store

POSTGRES_ENV = "VFNET_TEST_POSTGRES"


def _backends() -> list[object]:
    backends: list[object] = ["sqlite"]
    if os.environ.get(POSTGRES_ENV):
        backends.append(pytest.param("postgresql", marks=pytest.mark.postgres))
    return backends


@pytest.fixture(params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A url to an empty database: a tmp SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'vfnet.db'}"
        return
    yield from _postgres_schema(os.environ[POSTGRES_ENV])


def _postgres_schema(base_url: str) -> Iterator[str]:
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A Store opened (and so migrated to head) on an empty database."""
    opened = Store.open(database_url)
    try:
        yield opened
    finally:
        opened.close()
