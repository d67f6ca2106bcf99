"""Host changes: which hosts moved since a scheduler last looked, and each one's free pools.

Every write that can change a host's free devices or declared facts stamps the host
row with the next value of one counter (``host_change_counter``), in the writer's own
transaction. The counter's row lock is held to commit, so a reader that sees stamp N
also sees every stamp below it: "hosts stamped after ``since``" never skips one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from vfnet.inventory.pools import PoolKey, pool_key
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType
from vfnet.store.devices import FREE, selected_of
from vfnet.store.records import ReportedDevice
from vfnet.store.tables import devices, host_change_counter, hosts

# Beyond this many names an IN list costs more than reading every host once.
NAMES_PER_QUERY = 500


@dataclass(frozen=True, slots=True)
class HostFacts:
    """What the scheduler's view holds of one host, read at host ``generation``.

    ``pools`` has every pool the host has, free count 0 included, so the set of keys
    only changes when the host reports new devices.
    """

    name: str
    generation: int
    pools: Mapping[PoolKey, int]
    numa_sockets: Mapping[int, int | None]
    normal_physnets: frozenset[str]
    has_pci: bool
    refused: Mapping[str, frozenset[str]] = field(default_factory=dict)  # PF -> attributes


def next_seq(conn: sa.Connection) -> int:
    """Take the next change stamp; the counter row stays locked until ``conn`` commits."""
    bumped = (
        host_change_counter.update()
        .where(host_change_counter.c.id == 1)
        .values(seq=host_change_counter.c.seq + 1)
        .returning(host_change_counter.c.seq)
    )
    return int(conn.execute(bumped).scalar_one())


def changed_since(conn: sa.Connection, since: int) -> tuple[int, list[str]]:
    """The new high-water mark and the hosts stamped after ``since`` (one indexed query)."""
    query = (
        sa.select(hosts.c.name, hosts.c.changed_seq)
        .where(hosts.c.changed_seq > since)
        .order_by(hosts.c.changed_seq)
    )
    rows = conn.execute(query).all()
    high = max((int(row.changed_seq) for row in rows), default=since)
    return high, [row.name for row in rows]


def facts(conn: sa.Connection, names: Collection[str] | None = None) -> list[HostFacts]:
    """The facts of the hosts ``names`` (None: every host); unknown names are left out.

    Host rows are read before device rows, so a fact's generation is never newer than
    the devices it counts.
    """
    if names is None:
        return _facts(conn, None)
    ordered = sorted(set(names))
    found: list[HostFacts] = []
    for start in range(0, len(ordered), NAMES_PER_QUERY):
        found += _facts(conn, ordered[start : start + NAMES_PER_QUERY])
    return found


def _facts(conn: sa.Connection, names: list[str] | None) -> list[HostFacts]:
    host_query = sa.select(
        hosts.c.name, hosts.c.generation, hosts.c.numa_sockets, hosts.c.bridges, hosts.c.refused
    )
    device_query = sa.select(*_POOL_COLUMNS, devices.c.host, devices.c.healthy, devices.c.state)
    device_query = device_query.where(devices.c.vanished == sa.false())
    if names is not None:
        host_query = host_query.where(hosts.c.name.in_(names))
        device_query = device_query.where(devices.c.host.in_(names))
    host_rows = conn.execute(host_query).all()
    pools: dict[str, dict[PoolKey, int]] = {}
    keys = _PoolKeys()
    for row in conn.execute(device_query):
        counts = pools.setdefault(row.host, {})
        key = keys.of(row)
        counts[key] = counts.get(key, 0) + (row.state == FREE and bool(row.healthy))
    return [
        HostFacts(
            name=row.name,
            generation=int(row.generation),
            pools=pools.get(row.name, {}),
            numa_sockets={int(cell): int(socket) for cell, socket in row.numa_sockets.items()},
            normal_physnets=frozenset(row.bridges),
            has_pci=row.name in pools,
            refused={pf: frozenset(attrs) for pf, attrs in (row.refused or {}).items()},
        )
        for row in host_rows
    ]


_POOL_COLUMNS = (
    devices.c.address,
    devices.c.dev_type,
    devices.c.vendor_id,
    devices.c.product_id,
    devices.c.numa_node,
    devices.c.parent_addr,
    devices.c.tags,
    devices.c.resource_name,
)


class _PoolKeys:
    """Pool keys of device rows, made once per distinct row shape: hosts repeat them."""

    def __init__(self) -> None:
        self._made: dict[tuple[Any, ...], PoolKey] = {}

    def of(self, row: Any) -> PoolKey:
        # The pool's address is the parent PF's, or the device's own for a PF.
        shape = (
            row.parent_addr or row.address,
            row.dev_type,
            row.vendor_id,
            row.product_id,
            row.numa_node,
            row.resource_name,
            _frozen(row.tags.items()),
        )
        key = self._made.get(shape)
        if key is None:
            key = self._made[shape] = pool_key(selected_of(_reported(row)))
        return key


def _reported(row: Any) -> ReportedDevice:
    return ReportedDevice(
        address=PciAddress.parse(row.address),
        dev_type=DeviceType(row.dev_type),
        vendor_id=row.vendor_id,
        product_id=row.product_id,
        numa_node=row.numa_node,
        parent_addr=PciAddress.parse(row.parent_addr) if row.parent_addr else None,
        tags=dict(row.tags),
        resource_name=row.resource_name,
    )


def _frozen(items: Iterable[tuple[str, Any]]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(items))
