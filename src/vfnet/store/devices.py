"""Device rows: reading them as records and pools, and writing a host's rows back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from vfnet.errors import NotFound
from vfnet.inventory.claims import HostInventory
from vfnet.inventory.pools import PoolKey, pool_key
from vfnet.inventory.reports import Tracked
from vfnet.inventory.states import DeviceState, DeviceStatus
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType, Netdev, PciDevice
from vfnet.pci.selection import SelectedDevice
from vfnet.store.records import DeviceRecord, PoolRecord, ReportedDevice
from vfnet.store.tables import devices

FREE = "available"
# Pool key entries shown as PoolRecord fields rather than as tags.
POOL_FIELDS = ("vendor_id", "product_id", "numa_node", "dev_type", "address")


def list_records(
    conn: sa.Connection,
    *,
    host: str | None = None,
    dev_type: str | None = None,
    state: str | None = None,
    physnet: str | None = None,
) -> list[DeviceRecord]:
    query = sa.select(devices).order_by(devices.c.host, devices.c.address)
    for column, value in (
        (devices.c.host, host),
        (devices.c.dev_type, dev_type),
        (devices.c.state, state),
        (devices.c.physnet, physnet),
    ):
        if value is not None:
            query = query.where(column == value)
    return [record_of(row) for row in conn.execute(query)]


def get_record(conn: sa.Connection, host: str, address: PciAddress | str) -> DeviceRecord:
    row = conn.execute(
        sa.select(devices).where(devices.c.host == host, devices.c.address == str(address))
    ).one_or_none()
    if row is None:
        raise NotFound("device", f"{host}/{address}")
    return record_of(row)


def record_of(row: Any) -> DeviceRecord:
    reported = ReportedDevice(
        address=PciAddress.parse(row.address),
        dev_type=DeviceType(row.dev_type),
        vendor_id=row.vendor_id,
        product_id=row.product_id,
        numa_node=row.numa_node,
        parent_addr=PciAddress.parse(row.parent_addr) if row.parent_addr else None,
        vf_index=row.vf_index,
        driver=row.driver,
        ifname=row.ifname,
        mac=row.mac,
        tags=dict(row.tags),
        resource_name=row.resource_name,
        healthy=bool(row.healthy),
        health_reasons=tuple(row.health_reasons),
    )
    return DeviceRecord(
        row.host,
        reported,
        row.state,
        row.owner,
        bool(row.vanished),
        row.request_id,
        int(row.claim_generation),
    )


def selected_of(reported: ReportedDevice) -> SelectedDevice:
    """The pci model of a reported device, as pools and claims see it."""
    netdevs = (Netdev(reported.ifname, mac=reported.mac),) if reported.ifname else ()
    device = PciDevice(
        address=reported.address,
        dev_type=reported.dev_type,
        vendor_id=reported.vendor_id,
        product_id=reported.product_id,
        driver=reported.driver,
        numa_node=reported.numa_node,
        netdevs=netdevs,
        parent_addr=reported.parent_addr,
        vf_index=reported.vf_index,
    )
    return SelectedDevice(device, reported.tags, reported.resource_name)


def is_free(record: DeviceRecord) -> bool:
    return record.state == FREE and record.reported.healthy and not record.vanished


def pools_of(records: Iterable[DeviceRecord]) -> list[PoolRecord]:
    """Group a host's devices by Nova's pool key, counting free and total."""
    grouped: dict[tuple[str, PoolKey], list[DeviceRecord]] = {}
    for record in records:
        key = pool_key(selected_of(record.reported))
        grouped.setdefault((record.host, key), []).append(record)
    return [_pool(host, key, members) for (host, key), members in grouped.items()]


def _pool(host: str, key: PoolKey, members: Sequence[DeviceRecord]) -> PoolRecord:
    values = key.as_dict()
    first = members[0].reported
    return PoolRecord(
        host=host,
        vendor_id=first.vendor_id,
        product_id=first.product_id,
        numa_node=first.numa_node,
        dev_type=first.dev_type.value,
        physnet=first.physnet,
        tags={name: value for name, value in values.items() if name not in POOL_FIELDS},
        parent_addr=str(first.parent_addr) if first.parent_addr else None,
        free=sum(1 for member in members if is_free(member)),
        total=len(members),
    )


@dataclass(frozen=True, slots=True)
class HostRows:
    """A host's device rows in the shapes HostInventory is restored from."""

    selected: list[SelectedDevice]
    statuses: dict[PciAddress, DeviceStatus]
    unhealthy: frozenset[PciAddress]
    vanished: frozenset[PciAddress]
    reasons: dict[PciAddress, tuple[str, ...]]

    def tracked(self) -> list[Tracked]:
        """The rows exactly as stored, to diff the next write against."""
        return [
            Tracked(
                item,
                status=self.statuses[item.device.address],
                healthy=item.device.address not in self.unhealthy,
                vanished=item.device.address in self.vanished,
            )
            for item in self.selected
        ]

    def inventory(self, generation: int) -> HostInventory:
        return HostInventory(
            self.selected, self.unhealthy, generation, self.statuses, self.vanished
        )


def load(conn: sa.Connection, host: str) -> HostRows:
    """Every row of one host, and nothing else: a claim needs no other host's devices."""
    query = sa.select(devices).where(devices.c.host == host).order_by(devices.c.address)
    records = [record_of(row) for row in conn.execute(query)]
    return HostRows(
        selected=[selected_of(record.reported) for record in records],
        statuses={
            r.address: DeviceStatus(DeviceState(r.state), r.owner, r.request_id) for r in records
        },
        unhealthy=frozenset(r.address for r in records if not r.reported.healthy),
        vanished=frozenset(r.address for r in records if r.vanished),
        reasons={r.address: r.reported.health_reasons for r in records},
    )


def write_changes(
    conn: sa.Connection,
    host: str,
    before: Mapping[PciAddress, Tracked],
    after: Sequence[Tracked],
    reasons: Mapping[PciAddress, tuple[str, ...]],
) -> None:
    """Make the host's rows go from ``before`` to ``after``, touching only what changed."""
    now = {item.address: item for item in after}
    gone = [str(address) for address in before if address not in now]
    if gone:
        conn.execute(devices.delete().where(devices.c.host == host, devices.c.address.in_(gone)))
    new = [_row(host, item, reasons) for item in after if item.address not in before]
    if new:
        conn.execute(devices.insert(), new)
    whole, status_only = [], []
    for item in after:
        old = before.get(item.address)
        if old is None or old == item:
            continue
        if (old.selected, old.healthy) == (item.selected, item.healthy):
            status_only.append(_keyed(host, item.address, _status_columns(item)))
        else:
            row = _row(host, item, reasons)
            whole.append(_keyed(host, item.address, row))
    for changed in (whole, status_only):
        if changed:
            conn.execute(_update_by_key(), changed)


def _status_columns(item: Tracked) -> dict[str, Any]:
    status = item.status
    return {
        "state": status.state.value,
        "owner": status.owner,
        "request_id": status.request_id,
        "vanished": item.vanished,
    }


def _row(host: str, item: Tracked, reasons: Mapping[PciAddress, tuple[str, ...]]) -> dict[str, Any]:
    device = item.selected.device
    physnet = item.selected.physical_network
    return {
        "host": host,
        "address": str(device.address),
        "dev_type": device.dev_type.value,
        "vendor_id": device.vendor_id,
        "product_id": device.product_id,
        "numa_node": device.numa_node,
        "parent_addr": str(device.parent_addr) if device.parent_addr else None,
        "vf_index": device.vf_index,
        "driver": device.driver,
        "ifname": device.ifname,
        "mac": device.mac,
        "physnet": physnet,
        "tags": dict(item.selected.tags),
        "resource_name": item.selected.resource_name,
        "healthy": item.healthy,
        "health_reasons": list(reasons.get(device.address, ())),
        **_status_columns(item),
    }


def _update_by_key() -> sa.Update:
    return devices.update().where(
        devices.c.host == sa.bindparam("k_host"), devices.c.address == sa.bindparam("k_address")
    )


def _keyed(host: str, address: PciAddress, row: dict[str, Any]) -> dict[str, Any]:
    keyed = {name: value for name, value in row.items() if name not in ("host", "address")}
    keyed["k_host"] = host
    keyed["k_address"] = str(address)
    return keyed
