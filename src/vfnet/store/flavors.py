"""Flavors: named vcpus, RAM, NUMA cells and extra specs (PCI aliases among them)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import sqlalchemy as sa

from vfnet.errors import Conflict, NotFound, ValidationError
from vfnet.store.records import FlavorRecord
from vfnet.store.tables import flavors


def create(
    conn: sa.Connection,
    name: str,
    vcpus: int,
    ram_mb: int,
    numa_cells: int,
    extra_specs: Mapping[str, str],
) -> FlavorRecord:
    _check(name, vcpus, ram_mb, numa_cells)
    if conn.execute(sa.select(flavors.c.name).where(flavors.c.name == name)).first():
        raise Conflict(f"flavor {name!r} already exists")
    record = FlavorRecord(name, vcpus, ram_mb, numa_cells, dict(extra_specs), datetime.now(UTC))
    conn.execute(
        flavors.insert().values(
            name=name,
            vcpus=vcpus,
            ram_mb=ram_mb,
            numa_cells=numa_cells,
            extra_specs=dict(extra_specs),
            created_at=record.created_at,
        )
    )
    return record


def get(conn: sa.Connection, name: str) -> FlavorRecord:
    row = conn.execute(sa.select(flavors).where(flavors.c.name == name)).one_or_none()
    if row is None:
        raise NotFound("flavor", name)
    return _record(row)


def list_all(conn: sa.Connection) -> list[FlavorRecord]:
    return [_record(row) for row in conn.execute(sa.select(flavors).order_by(flavors.c.name))]


def delete(conn: sa.Connection, name: str) -> None:
    if conn.execute(flavors.delete().where(flavors.c.name == name)).rowcount == 0:
        raise NotFound("flavor", name)


def _check(name: str, vcpus: int, ram_mb: int, numa_cells: int) -> None:
    if not name:
        raise ValidationError("name", "must not be empty")
    for field, value, least in (
        ("vcpus", vcpus, 1),
        ("ram_mb", ram_mb, 1),
        ("numa_cells", numa_cells, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValidationError(field, f"must be a whole number >= {least}, not {value!r}")


def _record(row: sa.Row[tuple[object, ...]]) -> FlavorRecord:
    return FlavorRecord(
        name=row.name,
        vcpus=row.vcpus,
        ram_mb=row.ram_mb,
        numa_cells=row.numa_cells,
        extra_specs=dict(row.extra_specs),
        created_at=row.created_at,
    )
