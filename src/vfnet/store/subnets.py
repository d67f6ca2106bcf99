"""Subnets: validated against their network's other CIDRs, with their free ranges seeded."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from vfnet.errors import Conflict, InUse, NotFound, ValidationError
from vfnet.network.networks import Network
from vfnet.network.subnets import SubnetRequest, validate_subnet
from vfnet.store import ipam, networks
from vfnet.store.records import SubnetRecord
from vfnet.store.tables import ip_allocations, subnets
from vfnet.store.tables import networks as network_rows

KIND = "subnet"
# Built once: these run on every port creation.
_OF_NETWORK = sa.select(subnets).where(subnets.c.network_id == sa.bindparam("network"))
_COLUMNS = tuple(column.name for column in subnets.c)
# A network with every column of its subnets (prefixed ``subnet_``): a row per subnet,
# one with NULLs when it has none.
_WITH_NETWORK = (
    sa.select(network_rows, *(column.label(f"subnet_{column.name}") for column in subnets.c))
    .outerjoin(subnets, subnets.c.network_id == network_rows.c.id)
    .where(network_rows.c.id == sa.bindparam("network"))
)
UPDATABLE = frozenset({"name", "gateway_ip"})


def create(
    conn: sa.Connection,
    request: SubnetRequest,
    *,
    subnet_id: str,
    project_id: str,
    now: datetime,
) -> SubnetRecord:
    """Insert the subnet ``request`` describes, its pools as free ranges.

    The network row stays locked to commit, so two subnets created at once on one
    network cannot both miss that they overlap.
    """
    network = networks.lock(conn, request.network_id)
    others = [record.to_subnet().cidr for record in for_network(conn, network.id)]
    subnet = validate_subnet(request, others)
    conn.execute(
        subnets.insert().values(
            id=subnet_id,
            name=subnet.name,
            network_id=network.id,
            project_id=project_id,
            cidr=str(subnet.cidr),
            ip_version=subnet.ip_version,
            gateway_ip=None if subnet.gateway_ip is None else str(subnet.gateway_ip),
            allocation_pools=[[str(p.first), str(p.last)] for p in subnet.allocation_pools],
            created_at=now,
        )
    )
    ipam.seed(conn, subnet_id, subnet.free_ranges())
    return get(conn, subnet_id)


def get(conn: sa.Connection, subnet_id: str) -> SubnetRecord:
    row = conn.execute(sa.select(subnets).where(subnets.c.id == subnet_id)).first()
    if row is None:
        raise NotFound(KIND, subnet_id)
    return _record(row._mapping)


def list_all(conn: sa.Connection, *, network_id: str | None) -> list[SubnetRecord]:
    query = sa.select(subnets).order_by(subnets.c.created_at, subnets.c.id)
    if network_id is not None:
        query = query.where(subnets.c.network_id == network_id)
    return [_record(row._mapping) for row in conn.execute(query)]


def for_network(conn: sa.Connection, network_id: str) -> list[SubnetRecord]:
    """The network's subnets, oldest first."""
    found = [_record(row._mapping) for row in conn.execute(_OF_NETWORK, {"network": network_id})]
    return _oldest_first(found)


def with_network(conn: sa.Connection, network_id: str) -> tuple[Network, list[SubnetRecord]]:
    """The network (NotFound) and its subnets oldest first, in one read: a port creation
    needs both."""
    rows = conn.execute(_WITH_NETWORK, {"network": network_id}).all()
    if not rows:
        raise NotFound(networks.KIND, network_id)
    found = [
        _record({name: row._mapping[f"subnet_{name}"] for name in _COLUMNS})
        for row in rows
        if row.subnet_id is not None
    ]
    return networks.model_of(rows[0]), _oldest_first(found)


def _oldest_first(found: list[SubnetRecord]) -> list[SubnetRecord]:
    return sorted(found, key=lambda record: (record.created_at, record.id))


def update(conn: sa.Connection, subnet_id: str, changes: Mapping[str, object]) -> SubnetRecord:
    """A new name, or a gateway that fits the CIDR, lies outside the pools and is no port's."""
    for name in changes:
        if name not in UPDATABLE:
            raise ValidationError(name, "cannot be updated; a subnet's name and gateway_ip can")
    current = _locked(conn, subnet_id)
    values: dict[str, object] = {}
    if "name" in changes:
        values["name"] = str(changes["name"])
    if "gateway_ip" in changes:
        values["gateway_ip"] = _new_gateway(conn, current, changes["gateway_ip"])
    if values:
        conn.execute(subnets.update().where(subnets.c.id == subnet_id).values(values))
    return get(conn, subnet_id)


def delete(conn: sa.Connection, subnet_id: str) -> None:
    """Refused while ports hold addresses of it; its free ranges go with it."""
    _locked(conn, subnet_id)
    count = int(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(ip_allocations)
            .where(ip_allocations.c.subnet_id == subnet_id)
        ).scalar_one()
    )
    if count:
        noun = "address is" if count == 1 else "addresses are"
        raise InUse(f"subnet {subnet_id!r}: {count} {noun} still held by ports; delete them first")
    conn.execute(subnets.delete().where(subnets.c.id == subnet_id))


def _locked(conn: sa.Connection, subnet_id: str) -> SubnetRecord:
    row = conn.execute(
        sa.select(subnets).where(subnets.c.id == subnet_id).with_for_update(key_share=True)
    ).first()
    if row is None:
        raise NotFound(KIND, subnet_id)
    return _record(row._mapping)


def _new_gateway(conn: sa.Connection, current: SubnetRecord, given: object) -> str | None:
    if given is not None and not isinstance(given, str):
        raise ValidationError("gateway_ip", f"must be an IP address or null, not {given!r}")
    pools = [{"start": start, "end": end} for start, end in current.allocation_pools]
    checked = validate_subnet(
        SubnetRequest(current.network_id, current.cidr, gateway_ip=given, allocation_pools=pools)
    )
    if checked.gateway_ip is None:
        return None
    held = conn.execute(
        sa.select(ip_allocations.c.port_id).where(
            ip_allocations.c.subnet_id == current.id,
            ip_allocations.c.ip_address == str(checked.gateway_ip),
        )
    ).first()
    if held is not None:
        raise Conflict(f"gateway_ip: {checked.gateway_ip} is held by port {held.port_id}")
    return str(checked.gateway_ip)


def _record(row: Mapping[Any, Any]) -> SubnetRecord:
    return SubnetRecord(
        id=row["id"],
        name=row["name"],
        network_id=row["network_id"],
        project_id=row["project_id"],
        cidr=row["cidr"],
        ip_version=row["ip_version"],
        gateway_ip=row["gateway_ip"],
        allocation_pools=tuple((first, last) for first, last in row["allocation_pools"]),
        created_at=row["created_at"],
    )
