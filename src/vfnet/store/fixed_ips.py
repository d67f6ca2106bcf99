"""A port's fixed IPs: chosen (lowest free) or checked (asked for), recorded, and given back.

Free addresses are taken row by row from ``ipam`` (concurrent creators lock different
free rows); ``ip_allocations``' primary key (subnet, address) is the last word if
anything above were wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import ip_address

import sqlalchemy as sa

from vfnet.errors import IpAddressExhausted, ValidationError
from vfnet.network.ipam import IpAddress, parse_ip
from vfnet.network.subnets import FIXED_IPS, Subnet, check_requested_ip
from vfnet.store import ipam, subnets
from vfnet.store.records import FixedIp, FixedIpRequest, SubnetRecord
from vfnet.store.tables import ip_allocations

_ALLOCATE = ip_allocations.insert()


class _InUse:
    """The addresses of one subnet that ports hold, asked one at a time."""

    def __init__(self, conn: sa.Connection, subnet_id: str) -> None:
        self._conn = conn
        self._subnet_id = subnet_id

    def __contains__(self, address: object) -> bool:
        query = sa.select(ip_allocations.c.port_id).where(
            ip_allocations.c.subnet_id == self._subnet_id,
            ip_allocations.c.ip_address == str(address),
        )
        return self._conn.execute(query).first() is not None


def allocate(
    conn: sa.Connection,
    network_id: str,
    port_id: str,
    requested: Sequence[FixedIpRequest] | None,
    on_network: Sequence[SubnetRecord],
) -> tuple[FixedIp, ...]:
    """Give the port its fixed IPs: ``requested``, or (None) the lowest free address of the
    first subnet of each IP version that has one. ``[]`` asks for none. ``on_network``
    are the network's subnets, oldest first (``subnets.with_network``)."""
    if requested is not None and not requested:
        return ()
    found = [record.to_subnet() for record in on_network]
    given: list[FixedIp] = []
    if requested is None:
        for subnet, address in _lowest_per_version(conn, found):
            given.append(_record(conn, port_id, subnet.id, address))
    for index, item in enumerate(requested or ()):
        subnet, address = _requested(conn, network_id, found, index, item)
        # Recorded at once, so the same address asked twice is seen as in use.
        given.append(_record(conn, port_id, subnet.id, address))
    return tuple(sorted(given, key=_order))


def release(conn: sa.Connection, port_id: str, network_id: str) -> None:
    """Return the port's addresses to their subnets' free ranges (the rows go with the port)."""
    held = conn.execute(
        sa.select(ip_allocations.c.subnet_id, ip_allocations.c.ip_address).where(
            ip_allocations.c.port_id == port_id
        )
    ).all()
    if not held:
        return
    by_id = {record.id: record.to_subnet() for record in subnets.for_network(conn, network_id)}
    for row in held:
        ipam.give_back(conn, by_id[row.subnet_id], ip_address(row.ip_address))


def of_ports(conn: sa.Connection, port_ids: Iterable[str]) -> dict[str, tuple[FixedIp, ...]]:
    wanted = list(port_ids)
    if not wanted:
        return {}
    query = sa.select(ip_allocations).where(ip_allocations.c.port_id.in_(wanted))
    grouped: dict[str, list[FixedIp]] = {}
    for row in conn.execute(query):
        grouped.setdefault(row.port_id, []).append(FixedIp(row.subnet_id, row.ip_address))
    return {port: tuple(sorted(ips, key=_order)) for port, ips in grouped.items()}


def _lowest_per_version(
    conn: sa.Connection, found: Sequence[Subnet]
) -> list[tuple[Subnet, IpAddress]]:
    chosen = []
    for version in sorted({subnet.ip_version for subnet in found}):
        candidates = [subnet for subnet in found if subnet.ip_version == version]
        chosen.append(_first_with_room(conn, candidates))
    return chosen


def _first_with_room(conn: sa.Connection, candidates: Sequence[Subnet]) -> tuple[Subnet, IpAddress]:
    """The lowest free address of the first subnet that has one; when all are full, the
    last one's IpAddressExhausted (a network usually has one subnet per version)."""
    for subnet in candidates[:-1]:
        try:
            return subnet, ipam.take_lowest(conn, subnet)
        except IpAddressExhausted:
            continue
    return candidates[-1], ipam.take_lowest(conn, candidates[-1])


def _requested(
    conn: sa.Connection,
    network_id: str,
    found: Sequence[Subnet],
    index: int,
    item: FixedIpRequest,
) -> tuple[Subnet, IpAddress]:
    if item.subnet_id is None and item.ip_address is None:
        raise ValidationError(f"{FIXED_IPS}[{index}]", "give a subnet_id, an ip_address or both")
    if item.subnet_id is not None:
        subnet = _subnet(conn, network_id, found, item.subnet_id)
    else:
        subnet = _subnet_holding(network_id, found, str(item.ip_address))
    if item.ip_address is None:
        return subnet, ipam.take_lowest(conn, subnet)
    address = check_requested_ip(subnet, item.ip_address, _InUse(conn, subnet.id))
    ipam.take(conn, subnet.id, address)
    return subnet, address


def _subnet(conn: sa.Connection, network_id: str, found: Sequence[Subnet], wanted: str) -> Subnet:
    for subnet in found:
        if subnet.id == wanted:
            return subnet
    subnets.get(conn, wanted)  # NotFound when it is no subnet at all
    raise ValidationError(FIXED_IPS, f"subnet {wanted!r} is not on network {network_id!r}")


def _subnet_holding(network_id: str, found: Sequence[Subnet], text: str) -> Subnet:
    address = parse_ip(text, FIXED_IPS)
    for subnet in found:
        if address in subnet.cidr:
            return subnet
    cidrs = ", ".join(str(subnet.cidr) for subnet in found) or "none"
    raise ValidationError(
        FIXED_IPS, f"{address} is outside every subnet of network {network_id!r} ({cidrs})"
    )


def _record(conn: sa.Connection, port_id: str, subnet_id: str, address: IpAddress) -> FixedIp:
    conn.execute(
        _ALLOCATE, {"subnet_id": subnet_id, "ip_address": str(address), "port_id": port_id}
    )
    return FixedIp(subnet_id, str(address))


def _order(fixed: FixedIp) -> tuple[int, int]:
    address = ip_address(fixed.ip_address)
    return address.version, int(address)
