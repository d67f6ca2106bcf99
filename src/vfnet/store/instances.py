"""Instances (VMs and containers): their rows, and the ports they hold through ``device_id``.

A port belongs to at most one instance: taking ports is one conditional UPDATE of
``ports.device_id`` from empty, so two instances racing for a port cannot both get it,
on SQLite or PostgreSQL; the loser's Conflict names the port and its holder.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from vfnet.errors import Conflict, NotFound
from vfnet.pci.address import PciAddress
from vfnet.store import claims, desired, hosts
from vfnet.store.inventory import RETRIES, HostInventories
from vfnet.store.tables import instances
from vfnet.store.tables import ports as ports_table

BUILD, ACTIVE, ERROR, DELETING = "BUILD", "ACTIVE", "ERROR", "DELETING"
# Devices held but unplugged by the agent: saved to disk (suspended), or moving hosts.
SUSPENDED, MIGRATING = "SUSPENDED", "MIGRATING"
_UNPLUGGED = frozenset({SUSPENDED, MIGRATING})
_CHANGEABLE = frozenset({"host", "state", "reason", "claim_owner", "migration"})


@dataclass(frozen=True, slots=True)
class InstanceRecord:
    """A VM or container; ``port_ids`` in the order asked (eth0, eth1, ...)."""

    id: str
    name: str
    project_id: str | None
    kind: str  # vm | container
    flavor: str | None
    host: str | None
    state: str
    reason: str | None
    claim_owner: str | None
    port_ids: tuple[str, ...]
    made_port_ids: tuple[str, ...]
    created_at: datetime
    #: The migration under way, or None: ``source``, ``target``, ``target_owner`` (the
    #: owner of the target's claim), ``live`` and ``phase`` (``unplugging``: the source
    #: agent unplugs the SR-IOV devices; ``moving``: ports rebound on the target).
    migration: Mapping[str, Any] | None = None


def create(
    conn: sa.Connection,
    *,
    name: str,
    project_id: str | None,
    kind: str,
    flavor: str | None,
    port_ids: Sequence[str],
    made_port_ids: Sequence[str],
) -> InstanceRecord:
    """Insert the instance in BUILD and take its ports (Conflict: one belongs to another)."""
    record = InstanceRecord(
        id=str(uuid.uuid4()),
        name=name,
        project_id=project_id,
        kind=kind,
        flavor=flavor,
        host=None,
        state=BUILD,
        reason=None,
        claim_owner=None,
        port_ids=tuple(port_ids),
        made_port_ids=tuple(made_port_ids),
        created_at=datetime.now(UTC),
    )
    conn.execute(
        instances.insert().values(
            id=record.id,
            name=name,
            project_id=project_id,
            kind=kind,
            flavor=flavor,
            state=BUILD,
            port_ids=list(port_ids),
            made_port_ids=list(made_port_ids),
            created_at=record.created_at,
        )
    )
    _take_ports(conn, record.id, port_ids)
    return record


def _take_ports(conn: sa.Connection, instance_id: str, port_ids: Sequence[str]) -> None:
    if not port_ids:
        return
    taken = conn.execute(
        ports_table.update()
        .where(ports_table.c.id.in_(list(port_ids)), ports_table.c.device_id == "")
        .values(device_id=instance_id)
    )
    if taken.rowcount == len(set(port_ids)):
        return
    query = sa.select(ports_table.c.id, ports_table.c.device_id).where(
        ports_table.c.id.in_(list(port_ids)), ports_table.c.device_id != instance_id
    )
    held = conn.execute(query).first()
    if held is None:
        raise NotFound("port", next(iter(port_ids)))
    # Raising rolls back the whole transaction: the instance row and every port taken.
    raise Conflict(f"port {held.id} is already bound to instance {held.device_id}")


def get(conn: sa.Connection, instance_id: str) -> InstanceRecord:
    row = conn.execute(sa.select(instances).where(instances.c.id == instance_id)).one_or_none()
    if row is None:
        raise NotFound("instance", instance_id)
    return _record(row)


def list_all(conn: sa.Connection, *, project_id: str | None) -> list[InstanceRecord]:
    query = sa.select(instances).order_by(instances.c.created_at, instances.c.id)
    if project_id is not None:
        query = query.where(instances.c.project_id == project_id)
    return [_record(row) for row in conn.execute(query)]


def update(
    conn: sa.Connection,
    instance_id: str,
    changes: dict[str, object],
    allowed: frozenset[str] | None = None,
    action: str = "change",
) -> InstanceRecord:
    """Change the instance, only from a state in ``allowed`` (None: any).

    Raises:
        NotFound: no such instance.
        Conflict: its state is not in ``allowed``; names the state and ``action``.
    """
    unknown = changes.keys() - _CHANGEABLE
    if unknown:
        raise ValueError(f"instance fields {sorted(unknown)} cannot change")
    before = _locked(conn, instance_id, allowed, action)
    conn.execute(instances.update().where(instances.c.id == instance_id).values(**changes))
    return _changed(conn, before)


def attach_port(
    conn: sa.Connection, instance_id: str, port_id: str, *, made: bool, allowed: frozenset[str]
) -> InstanceRecord:
    """Take the port for the instance and append it to its ports (its next ``eth<N>``).

    Raises:
        Conflict: the instance's state is not in ``allowed``, or the port is attached
            already (to this instance or another; the message names which).
    """
    before = _locked(conn, instance_id, allowed, "attach a port to")
    if port_id in before.port_ids:
        raise Conflict(f"port {port_id} is already attached to instance {instance_id}")
    _take_ports(conn, instance_id, [port_id])
    values: dict[str, object] = {"port_ids": [*before.port_ids, port_id]}
    if made:
        values["made_port_ids"] = [*before.made_port_ids, port_id]
    conn.execute(instances.update().where(instances.c.id == instance_id).values(**values))
    return _changed(conn, before)


def detach_port(conn: sa.Connection, instance_id: str, port_id: str) -> InstanceRecord:
    """Take the port out of the instance's ports and give it back (``device_id`` empty).

    Raises:
        Conflict: the port is not one of the instance's.
    """
    before = _locked(conn, instance_id, None, "detach a port from")
    if port_id not in before.port_ids:
        raise Conflict(f"port {port_id} is not attached to instance {instance_id}")
    conn.execute(
        instances.update()
        .where(instances.c.id == instance_id)
        .values(
            port_ids=[p for p in before.port_ids if p != port_id],
            made_port_ids=[p for p in before.made_port_ids if p != port_id],
        )
    )
    conn.execute(
        ports_table.update()
        .where(ports_table.c.id == port_id, ports_table.c.device_id == instance_id)
        .values(device_id="")
    )
    return _changed(conn, before)


def _locked(
    conn: sa.Connection, instance_id: str, allowed: frozenset[str] | None, action: str
) -> InstanceRecord:
    """The instance, its row locked to the transaction's end (PostgreSQL; SQLite has one
    writer), so two changes of its ports or state never overwrite each other."""
    query = sa.select(instances).where(instances.c.id == instance_id).with_for_update()
    row = conn.execute(query).one_or_none()
    if row is None:
        raise NotFound("instance", instance_id)
    found = _record(row)
    if allowed is not None and found.state not in allowed:
        needed = " or ".join(sorted(allowed))
        raise Conflict(
            f"instance {instance_id} is {found.state}: cannot {action} it (needs {needed})"
        )
    return found


def _changed(conn: sa.Connection, before: InstanceRecord) -> InstanceRecord:
    """The instance after a change; its hosts' desired state moves when what an agent
    acts on changed: its ports, its host, a migration, or going to or from unplugged."""
    after = get(conn, before.id)
    unplugged = {before.state, after.state} & _UNPLUGGED and before.state != after.state
    if (
        unplugged
        or before.migration != after.migration
        or before.host != after.host
        or before.port_ids != after.port_ids
    ):
        desired.bump(conn, [before.host, after.host, *_migration_hosts(before, after)])
    return after


def _migration_hosts(*records: InstanceRecord) -> list[str | None]:
    """The source and target of the records' migrations: both show the instance while
    it moves, so both documents move when it does."""
    found: list[str | None] = []
    for record in records:
        migration = record.migration or {}
        found += [migration.get("source"), migration.get("target")]
    return found


def delete(conn: sa.Connection, instance_id: str) -> None:
    """Forget the instance; ports still pointing at it are given back (device_id empty)."""
    conn.execute(
        ports_table.update().where(ports_table.c.device_id == instance_id).values(device_id="")
    )
    conn.execute(instances.delete().where(instances.c.id == instance_id))


def _record(row: sa.Row[tuple[object, ...]]) -> InstanceRecord:
    return InstanceRecord(
        id=row.id,
        name=row.name,
        project_id=row.project_id,
        kind=row.kind,
        flavor=row.flavor,
        host=row.host,
        state=row.state,
        reason=row.reason,
        claim_owner=row.claim_owner,
        port_ids=tuple(row.port_ids),
        made_port_ids=tuple(row.made_port_ids),
        created_at=row.created_at,
        migration=dict(row.migration) if row.migration is not None else None,
    )


class InstanceStore:
    """Mixed into ``Store``; relies on its ``_read`` and ``_write`` transactions."""

    if TYPE_CHECKING:
        inventories: HostInventories

        def _read(self) -> AbstractContextManager[sa.Connection]: ...
        def _write(self) -> AbstractContextManager[sa.Connection]: ...

    def create_instance(
        self,
        *,
        name: str,
        project_id: str | None,
        kind: str,
        flavor: str | None,
        port_ids: Sequence[str],
        made_port_ids: Sequence[str] = (),
    ) -> InstanceRecord:
        """Conflict naming the port when one already belongs to another instance."""
        with self._write() as conn:
            return create(
                conn,
                name=name,
                project_id=project_id,
                kind=kind,
                flavor=flavor,
                port_ids=port_ids,
                made_port_ids=made_port_ids,
            )

    def get_instance(self, instance_id: str) -> InstanceRecord:
        with self._read() as conn:
            return get(conn, instance_id)

    def list_instances(self, *, project_id: str | None = None) -> list[InstanceRecord]:
        """Every instance (None), else the project's."""
        with self._read() as conn:
            return list_all(conn, project_id=project_id)

    def update_instance(self, instance_id: str, **changes: object) -> InstanceRecord:
        """``host``, ``state``, ``reason``, ``claim_owner``, ``migration``."""
        with self._write() as conn:
            return update(conn, instance_id, changes)

    def transition_instance(
        self, instance_id: str, allowed: frozenset[str], action: str, **changes: object
    ) -> InstanceRecord:
        """``update_instance`` only from a state in ``allowed``; Conflict names the state
        and ``action`` (``suspend``, ``migrate``...) otherwise."""
        with self._write() as conn:
            return update(conn, instance_id, changes, allowed, action)

    def attach_instance_port(
        self, instance_id: str, port_id: str, *, made: bool, allowed: frozenset[str]
    ) -> InstanceRecord:
        """Append the port to the instance's ports, taking it (Conflict: it is attached
        already, or the instance is in a state not ``allowed``)."""
        with self._write() as conn:
            return attach_port(conn, instance_id, port_id, made=made, allowed=allowed)

    def detach_instance_port(self, instance_id: str, port_id: str) -> InstanceRecord:
        """Remove the port from the instance's ports (Conflict: it is not one of them)."""
        with self._write() as conn:
            return detach_port(conn, instance_id, port_id)

    def release_device(self, host: str, owner: str, address: PciAddress) -> None:
        """Free one device of ``owner``'s claim, keeping the rest (verified reset first
        on hosts that manage VFs, as every release). NotFound: ``owner`` holds none there."""
        alone = f"{owner}:{address}"

        def split() -> None:
            with self.inventories.host_lock(host), self._write() as conn:
                hosts.bump_generation(conn, host, hosts.generation(conn, host))
                claims.split_off(conn, host, owner, address, alone)

        self.inventories.retrying(split, RETRIES)
        self.inventories.release(alone)

    def delete_instance(self, instance_id: str) -> None:
        with self._write() as conn:
            delete(conn, instance_id)
