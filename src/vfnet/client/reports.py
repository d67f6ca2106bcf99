"""Inventory reports as the API takes them: one JSON object per selected device."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from vfnet.pci.selection import SelectedDevice


def device_report(
    selected: SelectedDevice, *, healthy: bool = True, reasons: Sequence[str] = ()
) -> dict[str, Any]:
    """The body entry of ``PUT /v1/hosts/{name}/inventory`` for one device."""
    device = selected.device
    return {
        "address": str(device.address),
        "dev_type": device.dev_type.value,
        "vendor_id": device.vendor_id,
        "product_id": device.product_id,
        "numa_node": device.numa_node,
        "parent_addr": None if device.parent_addr is None else str(device.parent_addr),
        "vf_index": device.vf_index,
        "driver": device.driver,
        "ifname": device.ifname,
        "mac": device.mac,
        "tags": {name: value for name, value in selected.tags.items() if _scalar(value)},
        "resource_name": selected.resource_name,
        "healthy": healthy,
        "health_reasons": list(reasons),
    }


def inventory_report(selected: Iterable[SelectedDevice]) -> list[dict[str, Any]]:
    return [device_report(item) for item in selected]


def _scalar(value: object) -> bool:
    # The API keeps tags as strings, booleans, integers or null.
    return value is None or isinstance(value, str | bool | int)
