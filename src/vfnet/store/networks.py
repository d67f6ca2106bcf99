"""Networks: a provider segment each, unique by its segment key, deleted only without ports.

A network's MTU (Neutron's ``mtu``) is what its ports' netdevs are set to on the host;
changing it reaches the desired state of every host with a port of it bound.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from vfnet.errors import NotFound, ValidationError
from vfnet.network.networks import (
    Network,
    Segment,
    check_network_deletable,
    validate_network,
)
from vfnet.store import desired, qos
from vfnet.store.records import NetworkRecord
from vfnet.store.tables import networks, ports, subnets

KIND = "network"
UPDATABLE = frozenset({"name", "admin_state_up", "shared", "qos_policy_id", "mtu"})
DEFAULT_MTU = 1500
# IPv4's minimum (RFC 791) up to the largest jumbo frame NICs commonly take.
MTU_RANGE = (68, 9216)
# Built once: the API reads a network on every port request.
_BY_ID = sa.select(networks).where(networks.c.id == sa.bindparam("network"))
# The network with its subnet ids in one statement: a row per subnet (one with a NULL
# subnet id when it has none).
_WITH_SUBNETS = (
    sa.select(networks, subnets.c.id.label("subnet_id"))
    .outerjoin(subnets, subnets.c.network_id == networks.c.id)
    .where(networks.c.id == sa.bindparam("network"))
    .order_by(subnets.c.created_at, subnets.c.id)
)


@dataclass(frozen=True, slots=True)
class NetworkWithMtu(Network):
    """A network to create with its MTU: the domain's ``Network`` leaves the MTU, a matter of
    the hosts' netdevs and not of the segment, to the store."""

    mtu: int = DEFAULT_MTU


def check_mtu(value: object) -> int:
    """``value`` as an MTU; ValidationError naming ``mtu`` when it is not one."""
    low, high = MTU_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError("mtu", f"must be a whole number of bytes {low}-{high}, not {value!r}")
    return value


def segment_key(segment: Segment) -> str | None:
    """``Segment.key`` as text for the unique column; None when it reserves nothing.

    The scope word keeps a physnet named like an overlay type apart from that overlay.
    """
    reserved = segment.key
    if reserved is None:
        return None
    scope = "physnet" if segment.physical_network is not None else "overlay"
    assert isinstance(reserved, tuple)
    return json.dumps([scope, *reserved])


def create(
    conn: sa.Connection, network: Network, *, network_id: str, now: datetime
) -> NetworkRecord:
    """Insert ``network`` (with its MTU when a :class:`NetworkWithMtu`, else the default);
    Conflict when its segment is taken (the unique key backs this)."""
    mtu = check_mtu(network.mtu if isinstance(network, NetworkWithMtu) else DEFAULT_MTU)
    key = segment_key(network.segment)
    taken = (
        key is not None
        and conn.execute(sa.select(networks.c.id).where(networks.c.segment_key == key)).first()
    )
    # Checked here for the domain's message; the unique key catches a racing creator,
    # whose retry then lands here.
    validate_network(network, {network.segment.key} if taken else ())
    qos.require(conn, network.qos_policy_id)
    segment = network.segment
    conn.execute(
        networks.insert().values(
            id=network_id,
            name=network.name,
            project_id=network.project_id,
            network_type=segment.network_type.value,
            physical_network=segment.physical_network,
            segmentation_id=segment.segmentation_id,
            segment_key=key,
            admin_state_up=network.admin_state_up,
            shared=network.shared,
            qos_policy_id=network.qos_policy_id,
            mtu=mtu,
            created_at=now,
        )
    )
    return get(conn, network_id)


def get(conn: sa.Connection, network_id: str) -> NetworkRecord:
    rows = conn.execute(_WITH_SUBNETS, {"network": network_id}).all()
    if not rows:
        raise NotFound(KIND, network_id)
    return _record(rows[0], tuple(row.subnet_id for row in rows if row.subnet_id is not None))


def model(conn: sa.Connection, network_id: str) -> Network:
    """The network as ``vfnet.network`` sees it, in one read (no subnet ids)."""
    row = conn.execute(_BY_ID, {"network": network_id}).first()
    if row is None:
        raise NotFound(KIND, network_id)
    return model_of(row)


def model_of(row: sa.Row[tuple[object, ...]]) -> Network:
    """The network of a row holding the networks table's columns (and maybe others)."""
    return _record(row, ()).to_network()


def list_all(conn: sa.Connection, *, project_id: str | None) -> list[NetworkRecord]:
    """Every network (``project_id`` None), else the project's own and the shared ones."""
    query = sa.select(networks).order_by(networks.c.created_at, networks.c.id)
    if project_id is not None:
        query = query.where(sa.or_(networks.c.project_id == project_id, networks.c.shared))
    subnet_ids = _subnet_ids(conn)
    return [_record(row, subnet_ids.get(row.id, ())) for row in conn.execute(query)]


def update(conn: sa.Connection, network_id: str, changes: Mapping[str, object]) -> NetworkRecord:
    """Change what ``changes`` names; a new MTU bumps the hosts with its ports bound."""
    for name in changes:
        if name not in UPDATABLE:
            raise ValidationError(
                name, f"cannot be updated; a network's {', '.join(sorted(UPDATABLE))} can"
            )
    if "name" in changes and not str(changes["name"]).strip():
        raise ValidationError("name", "must not be empty")
    for flag in ("admin_state_up", "shared"):
        if flag in changes and not isinstance(changes[flag], bool):
            raise ValidationError(flag, f"must be true or false, not {changes[flag]!r}")
    if "mtu" in changes:
        check_mtu(changes["mtu"])
    policy = changes.get("qos_policy_id")
    qos.require(conn, None if policy is None else str(policy))
    if changes:
        done = conn.execute(networks.update().where(networks.c.id == network_id).values(changes))
        if done.rowcount == 0:
            raise NotFound(KIND, network_id)
        if "mtu" in changes:
            desired.bump_for_network(conn, network_id)
    return get(conn, network_id)


def delete(conn: sa.Connection, network_id: str) -> None:
    """Refused while the network has ports; its subnets (and their ranges) go with it.

    A port created meanwhile by another transaction makes the delete trip the ports'
    foreign key, and the rerun counts it.
    """
    get(conn, network_id)
    count = conn.execute(
        sa.select(sa.func.count()).select_from(ports).where(ports.c.network_id == network_id)
    ).scalar_one()
    check_network_deletable(network_id, int(count))
    conn.execute(networks.delete().where(networks.c.id == network_id))


def lock(conn: sa.Connection, network_id: str) -> NetworkRecord:
    """The network, its row locked until commit against a concurrent change of its subnets."""
    found = conn.execute(
        sa.select(networks.c.id).where(networks.c.id == network_id).with_for_update(key_share=True)
    ).first()
    if found is None:
        raise NotFound(KIND, network_id)
    return get(conn, network_id)


def _subnet_ids(conn: sa.Connection) -> dict[str, tuple[str, ...]]:
    query = sa.select(subnets.c.network_id, subnets.c.id).order_by(
        subnets.c.created_at, subnets.c.id
    )
    grouped: dict[str, list[str]] = {}
    for row in conn.execute(query):
        grouped.setdefault(row.network_id, []).append(row.id)
    return {network: tuple(ids) for network, ids in grouped.items()}


def _record(row: sa.Row[tuple[object, ...]], subnet_ids: tuple[str, ...]) -> NetworkRecord:
    return NetworkRecord(
        id=row.id,
        name=row.name,
        project_id=row.project_id,
        network_type=row.network_type,
        physical_network=row.physical_network,
        segmentation_id=row.segmentation_id,
        admin_state_up=row.admin_state_up,
        shared=row.shared,
        qos_policy_id=row.qos_policy_id,
        subnet_ids=subnet_ids,
        created_at=row.created_at,
        mtu=row.mtu,
    )
