"""The SR-IOV device plugin's ``resourceList``: parsed, checked, and matched against a host."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from vfnet.errors import InvalidSelector
from vfnet.pci import selector_filters as f
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import HostDevices, PciDevice
from vfnet.pci.selection import SelectedDevice, TagValue
from vfnet.pci.vf_ranges import check_vf_range_bounds

DEFAULT_PREFIX = "intel.com"
_RESOURCE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
# An extended-resource prefix is a DNS subdomain, as Kubernetes requires.
_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_POOL_KEYS = frozenset(
    {"resourceName", "resourcePrefix", "deviceType", "excludeTopology", "selectors",
     "additionalInfo"}
)  # fmt: skip


class DeviceKind(StrEnum):
    """A pool's ``deviceType``: which PCI base class it scans and which selectors it allows."""

    NET = "netDevice"
    ACCELERATOR = "accelerator"
    AUX_NET = "auxNetDevice"


_BASE_CLASS = {DeviceKind.NET: "02", DeviceKind.ACCELERATOR: "12", DeviceKind.AUX_NET: "02"}
_COMMON = frozenset({"vendors", "devices", "drivers"})
_NET_ONLY = frozenset({"ddpProfiles", "pKeys", "vdpaType"})
_AUX_ONLY = frozenset({"auxTypes"})
_PF_LINK = frozenset({"pfNames", "rootDevices", "linkTypes", "isRdma", "needVhostNet"})
_BY_ADDRESS = frozenset({"pciAddresses", "acpiIndexes"})
_ALLOWED = {
    DeviceKind.NET: _COMMON | _BY_ADDRESS | _PF_LINK | _NET_ONLY,
    DeviceKind.ACCELERATOR: _COMMON | _BY_ADDRESS,
    DeviceKind.AUX_NET: _COMMON | _PF_LINK | _AUX_ONLY,
}


@dataclass(frozen=True, slots=True)
class Selector:
    """One selector object: every filter must hold (AND). ``ranges`` feed the bounds check."""

    filters: tuple[f.DeviceFilter, ...]
    need_vhost_net: bool = False
    ranges: tuple[tuple[str, f.RangedFilter], ...] = ()

    def matches(self, device: PciDevice, host: HostDevices) -> bool:
        return all(one.matches(device, host) for one in self.filters)


@dataclass(frozen=True, slots=True)
class ResourcePool:
    """One ``resourceList`` entry: a named pool and its selector objects (OR, in order)."""

    name: str
    prefix: str
    kind: DeviceKind
    selectors: tuple[Selector, ...]
    exclude_topology: bool = False
    additional_info: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    entry: str = ""

    @property
    def resource_name(self) -> str:
        return f"{self.prefix}/{self.name}"

    def candidates(self, host: HostDevices) -> Iterator[PciDevice]:
        """Devices the plugin would scan for this pool, before selectors."""
        if self.kind is DeviceKind.AUX_NET:
            return  # vfnet has no auxiliary (sub-function) device model yet
        for device in host:
            if not device.class_code.startswith(_BASE_CLASS[self.kind]) or device.driver is None:
                continue
            if device.sriov is not None and device.sriov.num_vfs > 0:
                continue  # a PF with VFs is offered only through its VFs
            yield device

    def claim(self, device: PciDevice, host: HostDevices) -> SelectedDevice | None:
        """The first selector object that matches claims the device, with its flags."""
        for selector in self.selectors:
            if selector.matches(device, host):
                tags: dict[str, TagValue] = {}
                if selector.need_vhost_net:
                    tags["need_vhost_net"] = True
                if self.exclude_topology:
                    tags["exclude_topology"] = True
                return SelectedDevice(device, tags, self.resource_name)
        return None


@dataclass(frozen=True, slots=True)
class ResourceList:
    """Every pool, in configuration order; the first pool to claim a device keeps it."""

    pools: tuple[ResourcePool, ...]

    def validate(self, host: HostDevices) -> None:
        """Refuse VF ranges beyond what their PF can ever have (``sriov_totalvfs``)."""
        for pool in self.pools:
            for selector in pool.selectors:
                for where, ranged in selector.ranges:
                    for ref, pf in ranged.named_pfs(host):
                        total = pf.sriov.total_vfs if pf.sriov else 0
                        check_vf_range_bounds(ref, total, entry=pool.entry, field=where)

    def select(self, host: HostDevices) -> list[SelectedDevice]:
        """The host's devices that some pool claims, each in exactly one pool."""
        self.validate(host)
        claimed: dict[PciAddress, SelectedDevice] = {}
        for pool in self.pools:
            for device in pool.candidates(host):
                if device.address in claimed:
                    continue
                selected = pool.claim(device, host)
                if selected is not None:
                    claimed[device.address] = selected
        return [claimed[address] for address in sorted(claimed)]


def parse_resource_list(config: Mapping[str, Any] | str, *, source: str = "") -> ResourceList:
    """Parse the device plugin's ``config.json`` (its object or its JSON text).

    ``source`` (a file, a section) prefixes every entry named in errors, now and in
    ``validate``.
    """
    top = source or "config.json"
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except json.JSONDecodeError as err:
            raise InvalidSelector(top, None, f"not valid JSON: {err}") from None
    if not isinstance(config, Mapping):
        raise InvalidSelector(top, None, "expected an object with 'resourceList'")
    unknown = sorted(set(config) - {"resourceList"})
    if unknown:
        raise InvalidSelector(top, unknown[0], "unknown key; expected 'resourceList'")
    entries = config.get("resourceList", [])
    if not isinstance(entries, list):
        raise InvalidSelector(top, "resourceList", "expected a list of pools")
    prefix = f"{source} " if source else ""
    pools = tuple(_parse_pool(raw, f"{prefix}resourceList[{i}]") for i, raw in enumerate(entries))
    _refuse_duplicate_names(pools)
    return ResourceList(pools)


def _refuse_duplicate_names(pools: tuple[ResourcePool, ...]) -> None:
    seen: dict[str, str] = {}
    for pool in pools:
        if pool.resource_name in seen:
            raise InvalidSelector(
                pool.entry,
                "resourceName",
                f"{pool.resource_name!r} is already used by {seen[pool.resource_name]}",
            )
        seen[pool.resource_name] = pool.entry


def _parse_pool(raw: object, entry: str) -> ResourcePool:
    if not isinstance(raw, Mapping):
        raise InvalidSelector(entry, None, f"expected an object, not {type(raw).__name__}")
    name = raw.get("resourceName")
    if not isinstance(name, str) or not _RESOURCE_NAME.match(name):
        raise InvalidSelector(
            entry, "resourceName", f"{name!r} is required and may use only A-Z a-z 0-9 _ -"
        )
    entry = f"{entry} {name!r}"
    unknown = sorted(set(raw) - _POOL_KEYS)
    if unknown:
        raise InvalidSelector(entry, unknown[0], "unknown key")
    prefix = raw.get("resourcePrefix", DEFAULT_PREFIX)
    if not isinstance(prefix, str) or not _PREFIX.match(prefix):
        raise InvalidSelector(entry, "resourcePrefix", f"{prefix!r} is not a DNS subdomain")
    kind = _parse_kind(raw.get("deviceType", DeviceKind.NET.value), entry)
    return ResourcePool(
        name=name,
        prefix=prefix,
        kind=kind,
        selectors=_parse_selectors(raw.get("selectors"), kind, entry),
        exclude_topology=_as_bool(raw.get("excludeTopology", False), entry, "excludeTopology"),
        additional_info=_parse_additional_info(raw.get("additionalInfo", {}), entry),
        entry=entry,
    )


def _parse_kind(value: object, entry: str) -> DeviceKind:
    try:
        return DeviceKind(str(value))
    except ValueError:
        allowed = ", ".join(kind.value for kind in DeviceKind)
        raise InvalidSelector(entry, "deviceType", f"{value!r} is not one of {allowed}") from None


def _parse_selectors(raw: object, kind: DeviceKind, entry: str) -> tuple[Selector, ...]:
    if raw is None:
        return (Selector(()),)  # absent selectors do not filter, as in the plugin
    objects = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(objects, list) or not objects:
        raise InvalidSelector(entry, "selectors", "expected an object or a non-empty list")
    return tuple(
        _parse_selector(obj, kind, entry, f"selectors[{index}]")
        for index, obj in enumerate(objects)
    )


def _parse_selector(raw: object, kind: DeviceKind, entry: str, where: str) -> Selector:
    if not isinstance(raw, Mapping):
        raise InvalidSelector(entry, where, f"expected an object, not {type(raw).__name__}")
    filters: list[f.DeviceFilter] = []
    ranges: list[tuple[str, f.RangedFilter]] = []
    for key, value in raw.items():
        field_name = f"{where}.{key}"
        if key not in _ALLOWED[kind]:
            known = any(key in allowed for allowed in _ALLOWED.values())
            reason = f"not allowed for deviceType {kind.value}" if known else "unknown key"
            raise InvalidSelector(entry, field_name, reason)
        if key == "needVhostNet":
            continue
        one = _FILTER_PARSERS[key](value, entry, field_name)
        if one is not None:
            filters.append(one)
            if (with_ranges := f.ranged(one)) is not None:
                ranges.append((field_name, with_ranges))
    need_vhost_net = _as_bool(raw.get("needVhostNet", False), entry, f"{where}.needVhostNet")
    if raw.get("isRdma") is True and raw.get("vdpaType"):
        raise InvalidSelector(entry, f"{where}.isRdma", "isRdma and vdpaType exclude each other")
    return Selector(tuple(filters), need_vhost_net, tuple(ranges))


def _as_bool(value: object, entry: str, field_name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidSelector(entry, field_name, f"expected true or false, not {value!r}")
    return value


def _parse_additional_info(raw: object, entry: str) -> Mapping[str, Mapping[str, str]]:
    def is_text_map(value: object) -> bool:
        return isinstance(value, Mapping) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        )

    if not isinstance(raw, Mapping) or not all(is_text_map(value) for value in raw.values()):
        raise InvalidSelector(
            entry, "additionalInfo", "expected an object of objects of strings ('*' or a PCI key)"
        )
    return {str(key): dict(value) for key, value in raw.items()}


_FILTER_PARSERS: Mapping[str, Callable[[object, str, str], f.DeviceFilter | None]] = {
    "vendors": f.parse_vendors,
    "devices": f.parse_devices,
    "drivers": f.parse_drivers,
    "pciAddresses": f.parse_pci_addresses,
    "acpiIndexes": f.unreadable("acpi_index"),
    "ddpProfiles": f.unreadable("DDP profile"),
    "pKeys": f.unreadable("InfiniBand pKey"),
    "auxTypes": f.unreadable("auxiliary device type"),
    "pfNames": f.parse_pf_names,
    "rootDevices": f.parse_root_devices,
    "linkTypes": f.parse_link_types,
    "isRdma": f.parse_is_rdma,
    "vdpaType": f.parse_vdpa_type,
}
