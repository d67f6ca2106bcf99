"""A subnet's free addresses persisted as ranges: the lowest taken, one taken, one given back.

Each row of ``ip_free_ranges`` is an inclusive span of free addresses, stored as
fixed-width hex keys so that text order is numeric order for IPv4 and IPv6. Taking the
lowest free address reads one row and shrinks or deletes it; no call ever reads the
addresses in use, so a port costs the same on an empty /16 and on a nearly full one.
Callers hold the subnet row locked (``subnets.for_network(..., lock=True)``) so that
concurrent writers on one subnet queue instead of reading the same lowest row.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

import sqlalchemy as sa

from vfnet.network.ipam import FreeRanges, IpAddress
from vfnet.network.subnets import Subnet, allocate_ip
from vfnet.store.tables import ip_free_ranges as ranges

KEY_WIDTH = 32  # hex digits of a 128-bit address


def key(address: IpAddress | int) -> str:
    return f"{int(address):0{KEY_WIDTH}x}"


def address_of(value: str, version: int) -> IpAddress:
    number = int(value, 16)
    return IPv4Address(number) if version == 4 else IPv6Address(number)


def seed(conn: sa.Connection, subnet_id: str, free: FreeRanges) -> None:
    """Write a new subnet's free ranges (its allocation pools)."""
    rows = [
        {"subnet_id": subnet_id, "first_key": key(first), "last_key": key(last)}
        for first, last in free.free
    ]
    if rows:
        conn.execute(ranges.insert(), rows)


def take_lowest(conn: sa.Connection, subnet: Subnet) -> IpAddress:
    """The subnet's lowest free address, taken; IpAddressExhausted when there is none."""
    address, rest = allocate_ip(subnet, _lowest(conn, subnet))
    this = (ranges.c.subnet_id == subnet.id) & (ranges.c.first_key == key(address))
    if rest.free:
        conn.execute(ranges.update().where(this).values(first_key=key(rest.free[0][0])))
    else:
        conn.execute(ranges.delete().where(this))
    return address


def _lowest(conn: sa.Connection, subnet: Subnet) -> FreeRanges:
    """The subnet's lowest free range alone (empty when the subnet is full)."""
    row = conn.execute(
        sa.select(ranges.c.first_key, ranges.c.last_key)
        .where(ranges.c.subnet_id == subnet.id)
        .order_by(ranges.c.first_key)
        .limit(1)
    ).first()
    spans = () if row is None else ((int(row.first_key, 16), int(row.last_key, 16)),)
    return FreeRanges(subnet.ip_version, spans, spans)


def take(conn: sa.Connection, subnet_id: str, address: IpAddress) -> None:
    """Remove ``address`` from the free range holding it, if one does."""
    wanted = int(address)
    row = conn.execute(
        sa.select(ranges.c.first_key, ranges.c.last_key)
        .where(ranges.c.subnet_id == subnet_id, ranges.c.first_key <= key(wanted))
        .order_by(ranges.c.first_key.desc())
        .limit(1)
    ).first()
    if row is None or int(row.last_key, 16) < wanted:
        return
    first, last = int(row.first_key, 16), int(row.last_key, 16)
    this = (ranges.c.subnet_id == subnet_id) & (ranges.c.first_key == row.first_key)
    if first == last:
        conn.execute(ranges.delete().where(this))
    elif wanted == first:
        conn.execute(ranges.update().where(this).values(first_key=key(first + 1)))
    else:
        conn.execute(ranges.update().where(this).values(last_key=key(wanted - 1)))
        if wanted < last:
            conn.execute(
                ranges.insert().values(
                    subnet_id=subnet_id, first_key=key(wanted + 1), last_key=row.last_key
                )
            )


def give_back(conn: sa.Connection, subnet: Subnet, address: IpAddress) -> None:
    """Make ``address`` free again, joined to its neighbours; an address outside every
    pool (a fixed IP asked for outside them) was never free and stays out."""
    if not any(address in pool for pool in subnet.allocation_pools):
        return
    value = int(address)
    neighbours = conn.execute(
        sa.select(ranges.c.first_key, ranges.c.last_key).where(
            ranges.c.subnet_id == subnet.id,
            (ranges.c.last_key == key(value - 1)) | (ranges.c.first_key == key(value + 1)),
        )
    ).all()
    before = next((row for row in neighbours if row.last_key == key(value - 1)), None)
    after = next((row for row in neighbours if row.first_key == key(value + 1)), None)
    of_subnet = ranges.c.subnet_id == subnet.id
    if after is not None:
        conn.execute(ranges.delete().where(of_subnet, ranges.c.first_key == after.first_key))
    last_key = after.last_key if after is not None else key(value)
    if before is not None:
        conn.execute(
            ranges.update()
            .where(of_subnet, ranges.c.first_key == before.first_key)
            .values(last_key=last_key)
        )
    else:
        conn.execute(
            ranges.insert().values(subnet_id=subnet.id, first_key=key(value), last_key=last_key)
        )
