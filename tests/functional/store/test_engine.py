"""Where the database is and how SQLite connections are set up."""

from __future__ import annotations

from pathlib import Path

import pytest

from vfnet.errors import ValidationError
from vfnet.store import Store
from vfnet.store.engine import database_url


@pytest.mark.parametrize(
    ("given", "environ", "expected"),
    [
        (
            "sqlite:////tmp/a.db",
            {"VFNET_DATABASE_URL": "sqlite:////tmp/b.db"},
            "sqlite:////tmp/a.db",
        ),
        (None, {"VFNET_DATABASE_URL": "sqlite:////tmp/b.db"}, "sqlite:////tmp/b.db"),
        (None, {}, f"sqlite:///{Path.cwd() / 'vfnet.db'}"),
        ("postgresql://u@db/vfnet", {}, "postgresql+psycopg://u@db/vfnet"),
        ("postgresql+psycopg://u@db/vfnet", {}, "postgresql+psycopg://u@db/vfnet"),
    ],
)
def test_the_database_url_comes_from_the_caller_then_the_environment(given, environ, expected):
    assert database_url(given, environ) == expected


def test_a_database_url_of_another_kind_is_refused():
    with pytest.raises(ValidationError) as refused:
        database_url("mysql://u@db/vfnet", {})
    assert refused.value.field == "database_url"


@pytest.mark.parametrize(
    ("pragma", "expected"), [("journal_mode", "wal"), ("foreign_keys", 1), ("busy_timeout", 30000)]
)
def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path, pragma, expected):
    store = Store.open(f"sqlite:///{tmp_path / 'vfnet.db'}")
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql(f"PRAGMA {pragma}").scalar() == expected
    finally:
        store.close()
