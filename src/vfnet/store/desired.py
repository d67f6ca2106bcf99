"""A host's desired state as stored: its generation, the writes that bump it, what it is built from.

Every write that can change what a host's agent must do bumps the host's
``desired_generation`` in the write's own transaction: binding and unbinding, a bound
port's settings, a policy or network its ports use (its MTU too), a release and its
verification. A long-polling agent wakes on the bump. Readers take the generation
before the rest, so a document is never older than the generation it is published under.

Besides the ports with a claimed VF, a document needs the host's instances (what the
agent builds for them: their normal ports on the host's bridges, their flavor's PCI
devices), the subnets of every port's addresses and the host's bridges; all of it is
read in the one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa

from vfnet.errors import NotFound
from vfnet.pci.address import PciAddress
from vfnet.store import flavors, instances, networks, ports, qos, releasing, subnets
from vfnet.store import hosts as hosts_store
from vfnet.store.instances import InstanceRecord
from vfnet.store.records import (
    FlavorRecord,
    NetworkRecord,
    PortRecord,
    QosPolicyRecord,
    SubnetRecord,
)
from vfnet.store.tables import claims, devices, hosts
from vfnet.store.tables import instances as instances_table
from vfnet.store.tables import networks as networks_table
from vfnet.store.tables import ports as ports_table

# Port fields that are not part of any VF's settings: changing them bumps nothing.
NOT_DESIRED = frozenset({"name", "device_id"})
NORMAL = "normal"  # the vnic_type of a port on a Linux bridge: no device of its own


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
    normal_ports: tuple[PortRecord, ...] = ()  # vnic_type normal, bound on the host
    subnets: Mapping[str, SubnetRecord] = field(default_factory=dict)  # of every network above
    # On the host (ERROR ones included, for the renderer to leave out) or holding a port.
    instances: Mapping[str, InstanceRecord] = field(default_factory=dict)
    flavors: Mapping[str, FlavorRecord] = field(default_factory=dict)  # of those instances
    bridges: Mapping[str, str] = field(default_factory=dict)  # physnet -> the host's bridge
    # instance claim owner -> its devices on the host that no port is bound to
    hostdevs: Mapping[str, tuple[PciAddress, ...]] = field(default_factory=dict)


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
    bound = ports.list_all(conn, network_id=None, project_id=None, host=host)
    held = tuple(
        port for port in bound if port.claim_owner is not None and port.claim_owner in claimed
    )
    normal = tuple(port for port in bound if port.vnic_type == NORMAL)
    network_ids = sorted({port.network_id for port in (*held, *normal)})
    found = {network_id: networks.get(conn, network_id) for network_id in network_ids}
    policy_ids = {port.qos_policy_id for port in held}
    policy_ids |= {network.qos_policy_id for network in found.values()}
    policies = {pid: qos.get(conn, pid) for pid in sorted(p for p in policy_ids if p)}
    ranges = {s.id: s for n in network_ids for s in subnets.for_network(conn, n)}
    present = _instances(conn, host, {port.device_id for port in (*held, *normal)})
    sizes = _flavors(conn, {i.flavor for i in present.values() if i.flavor})
    return DesiredInputs(
        host, at, held, found, policies, claimed, releasing.releasing(conn, host),
        normal_ports=normal, subnets=ranges, instances=present, flavors=sizes,
        bridges=dict(hosts_store.get(conn, host).bridges),
        hostdevs=_unbound_devices(conn, host, present.values(), bound),
    )  # fmt: skip


def on_host(instance: InstanceRecord, host: str) -> bool:
    """Whether the agent of ``host`` builds ``instance``: placed there, or the source of
    its migration until the migration is over (so the source lets go of it only once the
    target holds it). One in ERROR stays (a port the agent could not plug does not give
    up the rest, and the agent must keep trying); one that failed to boot was never placed."""
    return instance.host == host or (instance.migration or {}).get("source") == host


def _instances(conn: sa.Connection, host: str, holding: Iterable[str]) -> dict[str, InstanceRecord]:
    """The instances on the host, those its bound ports belong to, and those migrating
    (few at a time: ``on_host`` tells whether this host is their source), by id."""
    wanted = sorted(name for name in holding if name)
    query = sa.select(instances_table.c.id).where(
        sa.or_(
            instances_table.c.host == host,
            instances_table.c.id.in_(wanted),
            instances_table.c.migration.is_not(None),  # its source may be this host
        )
    )
    found = {}
    for instance_id in sorted(conn.execute(query).scalars()):
        try:
            found[instance_id] = instances.get(conn, instance_id)
        except NotFound:  # deleted since the ids were read
            continue
    return found


def _flavors(conn: sa.Connection, names: Iterable[str]) -> dict[str, FlavorRecord]:
    found = {}
    for name in sorted(names):
        try:
            found[name] = flavors.get(conn, name)
        except NotFound:  # deleted under its instances: they render without sizes
            continue
    return found


def _unbound_devices(
    conn: sa.Connection,
    host: str,
    present: Iterable[InstanceRecord],
    bound: Iterable[PortRecord],
) -> dict[str, tuple[PciAddress, ...]]:
    """Per instance claim on the host, its devices no port is bound to (a flavor's aliases)."""
    owners = sorted({i.claim_owner for i in present if i.claim_owner and on_host(i, host)})
    if not owners:
        return {}
    slots = {str(port.profile.get("pci_slot")) for port in bound if port.profile.get("pci_slot")}
    query = (
        sa.select(claims.c.owner, claims.c.address)
        .where(claims.c.host == host, claims.c.owner.in_(owners))
        .order_by(claims.c.address)
    )
    found: dict[str, list[PciAddress]] = {}
    for row in conn.execute(query):
        if row.address not in slots:
            found.setdefault(row.owner, []).append(PciAddress.parse(row.address))
    return {owner: tuple(addresses) for owner, addresses in found.items()}


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
