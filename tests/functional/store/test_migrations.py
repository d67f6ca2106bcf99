"""The schema comes from the migrations alone, and matches what the queries are written against."""

from __future__ import annotations

import os
import subprocess
import sys

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from vfnet.store import Store
from vfnet.store.tables import metadata

TABLES = {"tokens", "hosts", "devices", "claims", "flavors", "placements", "instances"}
NETWORKING = {"qos_policies", "networks", "subnets", "ip_free_ranges", "ports", "ip_allocations"}


def test_opening_an_empty_database_migrates_it_to_head(database_url):
    store = Store.open(database_url)
    try:
        with store.engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
            version = MigrationContext.configure(conn).get_current_revision()
    finally:
        store.close()
    assert names >= TABLES | NETWORKING | {"alembic_version"}
    assert version == "0006"


def test_the_migrated_schema_matches_the_table_declarations(store):
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_opening_twice_is_harmless_and_keeps_the_data(database_url):
    first = Store.open(database_url)
    first.register_host("compute-1")
    first.close()
    second = Store.open(database_url)
    try:
        assert [host.name for host in second.list_hosts()] == ["compute-1"]
    finally:
        second.close()


def test_importing_the_store_does_not_touch_the_database(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "VFNET_DATABASE_URL"}
    subprocess.run([sys.executable, "-c", "import vfnet.store"], cwd=tmp_path, env=env, check=True)
    assert list(tmp_path.iterdir()) == []
