"""What a local host offers, read from its sysfs tree: PFs then their VFs, selections, pools.

``vfnet host inspect`` without a NAME prints this; ``vfnet lab`` shows its hosts with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vfnet.cli.output import Column, render_table
from vfnet.config import HostConfig
from vfnet.inventory.pools import Pool
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType, HostDevices, PciDevice
from vfnet.pci.selection import SelectedDevice

DEVICE_COLUMNS = (
    "address", "type", "ids", "driver", "netdev", "mac",
    Column("link_state", "LINK"), Column("numa_node", "NUMA"), "vfs", "selected", "tags", "pool",
)  # fmt: skip
POOL_COLUMNS = ("pool", Column("dev_type", "TYPE"), Column("numa_node", "NUMA"), "free", "key")
# Shown in their own pool columns, so left out of the KEY column.
_POOL_KEY_SHOWN = frozenset({"dev_type", "numa_node"})


def census(devices: HostDevices) -> str:
    """``2 PFs, 16 VFs (4 vDPA), 18 PCI functions`` in one line."""
    counts = {kind: 0 for kind in DeviceType}
    for device in devices:
        counts[device.dev_type] += 1
    vfs = counts[DeviceType.VF] + counts[DeviceType.VDPA]
    vdpa = f" ({counts[DeviceType.VDPA]} vDPA)" if counts[DeviceType.VDPA] else ""
    return (
        f"{_count(counts[DeviceType.PF], 'PF')}, {_count(vfs, 'VF')}{vdpa}, "
        f"{_count(len(devices), 'PCI function')}"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def inspection(
    root: Path,
    config: HostConfig | None,
    devices: HostDevices,
    selected: Sequence[SelectedDevice],
    pools: Sequence[Pool],
) -> dict[str, Any]:
    """What ``inspect`` shows, as plain data: devices in PF -> VF order, pools, warnings."""
    chosen = {item.device.address: item for item in selected}
    pool_of = {address: n for n, pool in enumerate(pools, 1) for address in pool.free}
    return {
        "sysfs_root": str(root),
        "config": None if config is None else config.source,
        "summary": census(devices),
        "devices": [
            device_view(device, depth, chosen.get(device.address), pool_of.get(device.address))
            for device, depth in tree_order(devices)
        ],
        "pools": [pool_view(n, pool) for n, pool in enumerate(pools, 1)],
        "warnings": [f"{d.address}: {w}" for d in devices for w in d.warnings],
    }


def tree_order(devices: HostDevices) -> list[tuple[PciDevice, int]]:
    """Devices in address order with each PF's VFs right under it (depth 1), by VF index."""
    ordered = []
    for device in devices:
        if device.parent_addr is not None and device.parent_addr in devices.devices:
            continue
        ordered.append((device, 0))
        if device.dev_type is DeviceType.PF:
            ordered.extend((vf, 1) for vf in devices.vfs_of(device.address))
    return ordered


def device_view(
    device: PciDevice, depth: int, selected: SelectedDevice | None, pool: int | None
) -> dict[str, Any]:
    sriov = device.sriov
    vdpa = device.vdpa
    return {
        "address": str(device.address),
        "depth": depth,
        "type": device.dev_type.value,
        "vendor_id": device.vendor_id,
        "product_id": device.product_id,
        "subsystem_vendor_id": device.subsystem_vendor_id,
        "subsystem_device_id": device.subsystem_device_id,
        "class_code": device.class_code,
        "revision": device.revision,
        "driver": device.driver,
        "numa_node": device.numa_node,
        "iommu_group": device.iommu_group,
        "netdev": device.ifname,
        "mac": device.mac,
        "link_state": device.link_state,
        "pf": _text(device.parent_addr),
        "vf_index": device.vf_index,
        "sriov": None
        if sriov is None
        else {"total_vfs": sriov.total_vfs, "num_vfs": sriov.num_vfs, "vf_device": sriov.vf_device},
        "vdpa": None
        if vdpa is None
        else {"name": vdpa.name, "driver": vdpa.driver, "chardev": vdpa.chardev},
        "representor": device.representor.name if device.representor else None,
        "selected": selected is not None,
        "tags": dict(selected.tags) if selected else {},
        "resource_name": selected.resource_name if selected else None,
        "pool": pool,
        "warnings": list(device.warnings),
    }


def pool_view(number: int, pool: Pool) -> dict[str, Any]:
    return {
        "pool": number,
        "dev_type": pool.dev_type,
        "numa_node": pool.numa_node,
        "free": pool.count,
        "key": dict(sorted(pool.key.as_dict().items())),
        "devices": [str(address) for address in pool.free],
    }


def render_inspection(report: dict[str, Any]) -> str:
    """The text form: a summary line, the PF -> VF table, the pools, the warnings."""
    config = report["config"] or "none"
    parts = [f"sysfs {report['sysfs_root']}, config {config}: {report['summary']}"]
    if report["config"] is None:
        parts.append("No --config given: every device is listed and none is selected.")
    rows = [_device_row(device) for device in report["devices"]]
    parts += ["", render_table(rows, DEVICE_COLUMNS)]
    if report["pools"]:
        pools = [
            {**pool, "key": {k: v for k, v in pool["key"].items() if k not in _POOL_KEY_SHOWN}}
            for pool in report["pools"]
        ]
        parts += ["", render_table(pools, POOL_COLUMNS)]
    if report["warnings"]:
        parts += ["", "Warnings:", *(f"  {w}" for w in report["warnings"])]
    return "\n".join(parts)


def _device_row(device: dict[str, Any]) -> dict[str, Any]:
    sriov = device["sriov"]
    return {
        **device,
        "address": "  " * device["depth"] + device["address"],
        "ids": f"{device['vendor_id']}:{device['product_id']}",
        "vfs": None if sriov is None else f"{sriov['num_vfs']}/{sriov['total_vfs']}",
    }


def _text(address: PciAddress | None) -> str | None:
    return None if address is None else str(address)
