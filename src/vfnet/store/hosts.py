"""Hosts: registered by their agents, each with an inventory generation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import sqlalchemy as sa

from vfnet.errors import NotFound, StaleGeneration, ValidationError
from vfnet.store.changes import next_seq
from vfnet.store.records import HostRecord
from vfnet.store.tables import hosts

# report_generation of a host that has never reported: any report is newer.
NEVER_REPORTED = -1


def register(
    conn: sa.Connection,
    name: str,
    *,
    numa_sockets: Mapping[int, int] | None,
    physnets: Iterable[str],
    bridges: Mapping[str, str] | None,
    manages_vfs: bool = False,
) -> HostRecord:
    """Create the host, or update what it declares; its inventory is left alone.

    Either way the host is stamped as changed: its NUMA sockets and bridges are
    facts the scheduler weighs.
    """
    if not name:
        raise ValidationError("name", "a host needs a name")
    declared = {
        "numa_sockets": {str(cell): socket for cell, socket in (numa_sockets or {}).items()},
        "physnets": sorted(set(physnets)),
        "bridges": dict(bridges or {}),
        "manages_vfs": manages_vfs,
        "changed_seq": next_seq(conn),
    }
    updated = conn.execute(hosts.update().where(hosts.c.name == name).values(declared))
    if updated.rowcount == 0:
        conn.execute(
            hosts.insert().values(
                name=name,
                generation=0,
                report_generation=NEVER_REPORTED,
                created_at=datetime.now(UTC),
                **declared,
            )
        )
    return get(conn, name)


def get(conn: sa.Connection, name: str) -> HostRecord:
    row = conn.execute(sa.select(hosts).where(hosts.c.name == name)).one_or_none()
    if row is None:
        raise NotFound("host", name)
    return _record(row)


def list_all(conn: sa.Connection) -> list[HostRecord]:
    return [_record(row) for row in conn.execute(sa.select(hosts).order_by(hosts.c.name))]


def generation(conn: sa.Connection, name: str) -> int:
    value = conn.execute(sa.select(hosts.c.generation).where(hosts.c.name == name)).scalar()
    if value is None:
        raise NotFound("host", name)
    return int(value)


def bump_generation(conn: sa.Connection, name: str, expected: int, **values: object) -> int:
    """Compare-and-set the host generation from ``expected`` to ``expected + 1``.

    Placement's optimistic concurrency: whoever wrote the host since ``expected`` was
    read wins, and this writer gets StaleGeneration (its transaction rolls back).
    The caller stamps the host (``stamp_changed``) as the transaction's last write.
    """
    result = conn.execute(
        hosts.update()
        .where(hosts.c.name == name, hosts.c.generation == expected)
        .values(generation=expected + 1, **values)
    )
    if result.rowcount == 0:
        raise StaleGeneration(f"host {name!r} inventory changed since generation {expected}")
    return expected + 1


def stamp_changed(conn: sa.Connection, name: str) -> None:
    """Mark the host's free devices as changed, for schedulers' views to reload it.

    Taken last in a writer's transaction: the counter row stays locked until commit,
    so the later the stamp, the shorter writers of other hosts queue behind it.
    """
    conn.execute(hosts.update().where(hosts.c.name == name).values(changed_seq=next_seq(conn)))


def note_report(
    conn: sa.Connection, name: str, *, report_generation: int, values: Mapping[str, object]
) -> bool:
    """Record that a report changing nothing arrived (``values``: when, and the agent's
    problems); false if a newer one came first."""
    result = conn.execute(
        hosts.update()
        .where(hosts.c.name == name, hosts.c.report_generation < report_generation)
        .values({**values, "report_generation": report_generation})
    )
    return result.rowcount == 1


def _record(row: sa.Row[tuple[object, ...]]) -> HostRecord:
    return HostRecord(
        name=row.name,
        generation=row.generation,
        report_generation=row.report_generation,
        numa_sockets={int(cell): int(socket) for cell, socket in row.numa_sockets.items()},
        physnets=tuple(row.physnets),
        bridges=dict(row.bridges),
        created_at=row.created_at,
        reported_at=row.reported_at,
        manages_vfs=bool(row.manages_vfs),
        desired_generation=int(row.desired_generation),
        problems=tuple(row.problems or ()),
    )
