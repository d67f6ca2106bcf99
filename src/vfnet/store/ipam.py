"""A subnet's free addresses persisted as ranges: the lowest taken, one taken, one given back.

Each row of ``ip_free_ranges`` is an inclusive span of free addresses, stored as
fixed-width hex keys so that text order is numeric order for IPv4 and IPv6. No call
ever reads the addresses in use, so a port costs the same on an empty /16 and on a
nearly full one.

Concurrency. A creator deletes the lowest free row it can lock (``FOR UPDATE SKIP
LOCKED``) in one ``DELETE ... RETURNING`` and, when the row was a range, writes back its
remainder. If one lock per subnet were held to commit instead, every port creation on a
subnet would wait for the previous one's WAL flush, and throughput would be one commit at
a time. So when a creator takes the first address of a larger range, it also lays out
the next ``WINDOW - 1`` addresses as one-address rows: concurrent creators then each lock
a different row and commit together. A creator that finds every free row locked waits
for one (``FOR UPDATE``) and looks again. On SQLite, whose writers are serialised by
BEGIN IMMEDIATE, the same statement simply deletes the lowest row.

Given-back addresses return as one-address rows, not joined to their neighbours:
joining would lock rows that creators hold.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from vfnet.errors import Conflict
from vfnet.network.ipam import FreeRanges, IpAddress
from vfnet.network.subnets import Subnet, allocate_ip
from vfnet.store.tables import ip_free_ranges as ranges

KEY_WIDTH = 32  # hex digits of a 128-bit address
# Addresses laid out as separate rows when a range is split: how many creators on one
# subnet can commit at once.
WINDOW = 16
# Each round waits for another writer's commit, so a bound this size is never reached
# unless something is wrong.
ROUNDS = 100

# Built once: these run on every port creation, where building a statement would cost
# as much as running it.
_THIS_ROW = (ranges.c.subnet_id == sa.bindparam("subnet")) & (
    ranges.c.first_key == sa.bindparam("first")
)
_LOWEST = (
    sa.select(ranges.c.first_key, ranges.c.last_key)
    .where(ranges.c.subnet_id == sa.bindparam("subnet"))
    .order_by(ranges.c.first_key)
    .limit(1)
)
_LOWEST_WAITING = _LOWEST.with_for_update()
# Nearly always a one-address row (see WINDOW), so one statement takes the address.
_TAKE_LOWEST_UNLOCKED = (
    ranges.delete()
    .where(
        ranges.c.subnet_id == sa.bindparam("subnet"),
        ranges.c.first_key
        == sa.select(ranges.c.first_key)
        .where(ranges.c.subnet_id == sa.bindparam("subnet"))
        .order_by(ranges.c.first_key)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery(),
    )
    .returning(ranges.c.first_key, ranges.c.last_key)
)
_HOLDING = (
    sa.select(ranges.c.first_key, ranges.c.last_key)
    .where(ranges.c.subnet_id == sa.bindparam("subnet"), ranges.c.first_key <= sa.bindparam("at"))
    .order_by(ranges.c.first_key.desc())
    .limit(1)
)
_HOLDING_LOCKED = _HOLDING.with_for_update()
_INSERT = ranges.insert()
_MOVE_FIRST = ranges.update().where(_THIS_ROW).values(first_key=sa.bindparam("new_first"))
_MOVE_LAST = ranges.update().where(_THIS_ROW).values(last_key=sa.bindparam("new_last"))
_DROP = ranges.delete().where(_THIS_ROW)


def key(address: IpAddress | int) -> str:
    return f"{int(address):0{KEY_WIDTH}x}"


def seed(conn: sa.Connection, subnet_id: str, free: FreeRanges) -> None:
    """Write a new subnet's free ranges (its allocation pools)."""
    rows = [_row(subnet_id, first, last) for first, last in free.free]
    if rows:
        conn.execute(_INSERT, rows)


def take_lowest(conn: sa.Connection, subnet: Subnet) -> IpAddress:
    """The lowest free address no concurrent creator holds, taken; IpAddressExhausted
    (from ``allocate_ip``) when the subnet has none left."""
    params = {"subnet": subnet.id}
    for _ in range(ROUNDS):
        row = conn.execute(_TAKE_LOWEST_UNLOCKED, params).first()
        if row is not None:
            return _took_first(conn, subnet, row)
        if conn.execute(_LOWEST, params).first() is None:
            allocate_ip(subnet, FreeRanges(subnet.ip_version, (), ()))
        # Every free row is held: wait for the lowest one's holder to commit, then look again.
        conn.execute(_LOWEST_WAITING, params).first()
    raise Conflict(f"fixed_ips: subnet {subnet.id} is too busy to allocate from; try again")


def take(conn: sa.Connection, subnet_id: str, address: IpAddress) -> None:
    """Remove ``address`` from the free row holding it, if one does (an address asked
    for outside the pools never was free)."""
    wanted = int(address)
    params = {"subnet": subnet_id, "at": key(wanted)}
    for _ in range(ROUNDS):
        row = conn.execute(_HOLDING_LOCKED, params).first()
        if row is not None and int(row.last_key, 16) >= wanted:
            _split_around(conn, subnet_id, row, wanted)
            return
        # The row may have changed while we waited for it: look again without waiting.
        now = conn.execute(_HOLDING, params).first()
        if now is None or int(now.last_key, 16) < wanted:
            return
    raise Conflict(f"fixed_ips: subnet {subnet_id} is too busy to allocate from; try again")


def give_back(conn: sa.Connection, subnet: Subnet, address: IpAddress) -> None:
    """Make ``address`` free again; an address outside every pool stays out."""
    if any(address in pool for pool in subnet.allocation_pools):
        value = int(address)
        conn.execute(_INSERT, _row(subnet.id, value, value))


def _took_first(conn: sa.Connection, subnet: Subnet, row: Any) -> IpAddress:
    """The first address of a row just deleted; the rest of it written back, the next few
    addresses as their own rows."""
    first, last = int(row.first_key, 16), int(row.last_key, 16)
    address, _ = allocate_ip(subnet, FreeRanges(subnet.ip_version, (), ((first, last),)))
    if first == last:
        return address
    window_end = min(last, first + WINDOW - 1)
    rest = [_row(subnet.id, value, value) for value in range(first + 1, window_end + 1)]
    if window_end < last:
        rest.append(_row(subnet.id, window_end + 1, last))
    conn.execute(_INSERT, rest)
    return address


def _split_around(conn: sa.Connection, subnet_id: str, row: Any, wanted: int) -> None:
    first, last = int(row.first_key, 16), int(row.last_key, 16)
    this = {"subnet": subnet_id, "first": row.first_key}
    if first == last:
        conn.execute(_DROP, this)
    elif wanted == first:
        conn.execute(_MOVE_FIRST, {**this, "new_first": key(first + 1)})
    else:
        conn.execute(_MOVE_LAST, {**this, "new_last": key(wanted - 1)})
        if wanted < last:
            conn.execute(_INSERT, _row(subnet_id, wanted + 1, last))


def _row(subnet_id: str, first: int, last: int) -> dict[str, str]:
    return {"subnet_id": subnet_id, "first_key": key(first), "last_key": key(last)}
