"""A host's desired state as stored: its generation, the writes that bump it, what it is built from.

Every write that can change what a host's agent must do bumps the host's
``desired_generation`` in the write's own transaction: binding and unbinding, a bound
port's settings, a policy or network its ports use, a release and its verification.
A long-polling agent wakes on the bump. Readers take the generation before the rest,
so a document is never older than the generation it is published under.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa

from vfnet.errors import NotFound
from vfnet.pci.address import PciAddress
from vfnet.store import networks, ports, qos, releasing
from vfnet.store.records import NetworkRecord, PortRecord, QosPolicyRecord
from vfnet.store.tables import claims, devices, hosts
from vfnet.store.tables import networks as networks_table
from vfnet.store.tables import ports as ports_table

# Port fields that are not part of any VF's settings: changing them bumps nothing.
NOT_DESIRED = frozenset({"name", "device_id"})


@dataclass(frozen=True, slots=True)
class DesiredInputs:
    """What a host's desired state is built from, read at ``generation``."""

    host: str
    generation: int
    ports: tuple[PortRecord, ...] = ()  # bound on the host, with a claimed device
    networks: Mapping[str, NetworkRecord] = field(default_factory=dict)
    policies: Mapping[str, QosPolicyRecord] = field(default_factory=dict)
    # claim owner -> its VFs on the host, with their claim generation
    claimed: Mapping[str, tuple[tuple[PciAddress, int], ...]] = field(default_factory=dict)
    released: Mapping[PciAddress, int] = field(default_factory=dict)


def generation(conn: sa.Connection, host: str) -> int:
    query = sa.select(hosts.c.desired_generation).where(hosts.c.name == host)
    value = conn.execute(query).scalar()
    if value is None:
        raise NotFound("host", host)
    return int(value)


def bump(conn: sa.Connection, names: Iterable[str | None]) -> None:
    """Bump the desired generation of each named host (None: not bound anywhere)."""
    wanted = sorted({name for name in names if name is not None})
    if wanted:
        conn.execute(
            hosts.update()
            .where(hosts.c.name.in_(wanted))
            .values(desired_generation=hosts.c.desired_generation + 1)
        )


def bump_for_network(conn: sa.Connection, network_id: str) -> None:
    """Bump every host with a port of the network bound on it."""
    _bump_where(conn, ports_table.c.network_id == network_id)


def bump_for_policy(conn: sa.Connection, policy_id: str) -> None:
    """Bump every host with a port using the policy, its own or its network's."""
    on_network = sa.select(networks_table.c.id).where(networks_table.c.qos_policy_id == policy_id)
    _bump_where(
        conn,
        sa.or_(ports_table.c.qos_policy_id == policy_id, ports_table.c.network_id.in_(on_network)),
    )


def _bump_where(conn: sa.Connection, condition: sa.ColumnElement[bool]) -> None:
    bound = sa.select(ports_table.c.host).where(ports_table.c.host.is_not(None), condition)
    conn.execute(
        hosts.update()
        .where(hosts.c.name.in_(bound))
        .values(desired_generation=hosts.c.desired_generation + 1)
    )


def inputs(conn: sa.Connection, host: str) -> DesiredInputs:
    """Everything the host's desired state is built from; the generation is read first."""
    at = generation(conn, host)
    claimed = _claimed_vfs(conn, host)
    held = tuple(
        port
        for port in ports.list_all(conn, network_id=None, project_id=None, host=host)
        if port.claim_owner is not None and port.claim_owner in claimed
    )
    network_ids = sorted({port.network_id for port in held})
    found = {network_id: networks.get(conn, network_id) for network_id in network_ids}
    policy_ids = {port.qos_policy_id for port in held}
    policy_ids |= {network.qos_policy_id for network in found.values()}
    policies = {pid: qos.get(conn, pid) for pid in sorted(p for p in policy_ids if p)}
    return DesiredInputs(host, at, held, found, policies, claimed, releasing.releasing(conn, host))


def _claimed_vfs(conn: sa.Connection, host: str) -> dict[str, tuple[tuple[PciAddress, int], ...]]:
    query = (
        sa.select(claims.c.owner, claims.c.address, devices.c.claim_generation)
        .join(
            devices,
            sa.and_(devices.c.host == claims.c.host, devices.c.address == claims.c.address),
        )
        .where(claims.c.host == host, devices.c.dev_type.in_(releasing.RESET_TYPES))
        .order_by(claims.c.address)
    )
    found: dict[str, list[tuple[PciAddress, int]]] = {}
    for row in conn.execute(query):
        found.setdefault(row.owner, []).append(
            (PciAddress.parse(row.address), int(row.claim_generation))
        )
    return {owner: tuple(vfs) for owner, vfs in found.items()}
