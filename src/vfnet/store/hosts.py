"""Hosts: registered by their agents, each with an inventory generation.

A host also keeps, per PF address, the VF attributes its NIC refused (``refused``):
added to from agents' reports, never dropped by one (a NIC does not learn), cleared
by an admin after a firmware change.
"""

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

Refused = dict[str, frozenset[str]]  # PF address -> the VF attributes its NIC refused


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


def generation_and_refused(conn: sa.Connection, name: str) -> tuple[int, Refused]:
    """The host's generation and its PFs' refused attributes, in one read (for a claim)."""
    query = sa.select(hosts.c.generation, hosts.c.refused).where(hosts.c.name == name)
    row = conn.execute(query).one_or_none()
    if row is None:
        raise NotFound("host", name)
    return int(row.generation), _refused(row.refused)


def add_refused(conn: sa.Connection, name: str, found: Mapping[str, Iterable[str]]) -> bool:
    """Add ``found`` (PF address -> attributes) to the host's refusals; false if none is new.

    The row is read for update, so two reports of one host add up instead of one
    overwriting the other. A change stamps the host: schedulers reload what it refused.
    """
    current = _refused_for_update(conn, name)
    merged = {pf: set(attrs) for pf, attrs in current.items()}
    for pf, attrs in found.items():
        merged.setdefault(pf, set()).update(attrs)
    if {pf: frozenset(attrs) for pf, attrs in merged.items() if attrs} == current:
        return False
    _write_refused(conn, name, merged)
    return True


def forget_refused(conn: sa.Connection, name: str, pf: str | None = None) -> Refused:
    """Drop what ``pf`` (None: every PF of the host) refused; returns what was dropped."""
    current = _refused_for_update(conn, name)
    dropped = {p: attrs for p, attrs in current.items() if pf is None or p == pf}
    if dropped:
        _write_refused(conn, name, {p: a for p, a in current.items() if p not in dropped})
    return dropped


def add_problem(conn: sa.Connection, name: str, problem: str) -> None:
    """Append to the host's problems (its agent's next report replaces them all)."""
    query = sa.select(hosts.c.problems).where(hosts.c.name == name).with_for_update()
    problems = list(conn.execute(query).scalar() or ())
    conn.execute(hosts.update().where(hosts.c.name == name).values(problems=[*problems, problem]))


def _refused_for_update(conn: sa.Connection, name: str) -> Refused:
    query = sa.select(hosts.c.refused).where(hosts.c.name == name).with_for_update()
    row = conn.execute(query).one_or_none()
    if row is None:
        raise NotFound("host", name)
    return _refused(row.refused)


def _write_refused(conn: sa.Connection, name: str, refused: Mapping[str, Iterable[str]]) -> None:
    stored = {pf: sorted(attrs) for pf, attrs in sorted(refused.items()) if attrs}
    conn.execute(hosts.update().where(hosts.c.name == name).values(refused=stored))
    stamp_changed(conn, name)


def _refused(stored: Mapping[str, Iterable[str]] | None) -> Refused:
    return {pf: frozenset(attrs) for pf, attrs in (stored or {}).items() if attrs}


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
        refused={pf: tuple(sorted(attrs)) for pf, attrs in _refused(row.refused).items()},
    )
