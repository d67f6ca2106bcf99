"""Pools: devices grouped as Nova groups them, with free counts.

Public API: PoolKey, pool_key(selected), Pool(key, free), build_pools(selected), NON_POOL_TAGS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType
from vfnet.pci.selection import SelectedDevice

# Tags that reach placement only: they never split pools.
NON_POOL_TAGS = frozenset({"resource_class", "traits"})


@dataclass(frozen=True, slots=True)
class PoolKey:
    """The identity of a pool: every key:value a request spec can be matched against.

    Values are strings or ``None``, as Nova's scheduler sees them. Two devices share a
    pool only when their key sets and values are identical.
    """

    items: frozenset[tuple[str, str | None]]

    @classmethod
    def of(cls, values: Mapping[str, str | None]) -> PoolKey:
        return cls(frozenset(values.items()))

    def as_dict(self) -> dict[str, str | None]:
        return dict(self.items)

    def get(self, name: str) -> str | None:
        for key, value in self.items:
            if key == name:
                return value
        return None

    def __len__(self) -> int:
        return len(self.items)


def _as_pool_value(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def pool_key(selected: SelectedDevice) -> PoolKey:
    """Nova's pool key: ids, NUMA node, type, tags, parent (or own) address, PF netdev."""
    device = selected.device
    values: dict[str, str | None] = {
        "vendor_id": device.vendor_id,
        "product_id": device.product_id,
        "numa_node": None if device.numa_node is None else str(device.numa_node),
        "dev_type": device.dev_type.value,
        "address": str(device.parent_addr or device.address),
    }
    for name, value in selected.tags.items():
        if name not in NON_POOL_TAGS:
            values[name] = _as_pool_value(value)
    if selected.resource_name is not None:
        # Device-plugin pools are distinct resources even when their devices look alike.
        values["resource_name"] = selected.resource_name
    if device.dev_type is not DeviceType.PCI:
        values.setdefault("remote_managed", "false")
    return PoolKey.of(values)


@dataclass(slots=True)
class Pool:
    """Devices sharing one key. ``free`` is kept in claim order: the last added goes first."""

    key: PoolKey
    free: list[PciAddress] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.free)

    @property
    def numa_node(self) -> int | None:
        value = self.key.get("numa_node")
        return None if value is None else int(value)

    @property
    def dev_type(self) -> str:
        return self.key.get("dev_type") or ""


def build_pools(selected: Iterable[SelectedDevice]) -> list[Pool]:
    """Group devices into pools, ordered as Nova orders them (fewer keys first, stable)."""
    pools: dict[PoolKey, Pool] = {}
    for item in selected:
        key = pool_key(item)
        pools.setdefault(key, Pool(key)).free.append(item.device.address)
    return sorted(pools.values(), key=lambda pool: len(pool.key))
