"""Device-plugin selector keys as small filters, each answering ``matches(device, host)``."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from vfnet.errors import InvalidPciAddress, InvalidSelector
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import HostDevices, PciDevice
from vfnet.pci.vf_ranges import VfRangeRef, parse_vf_range_ref

_HEX_ID = re.compile(r"^[0-9a-fA-F]{4}$")
_VDPA_DRIVERS = {"vhost": "vhost_vdpa", "virtio": "virtio_vdpa"}


class DeviceFilter(Protocol):
    def matches(self, device: PciDevice, host: HostDevices) -> bool: ...


@dataclass(frozen=True, slots=True)
class VendorsIn:
    ids: frozenset[str]

    def matches(self, device: PciDevice, host: HostDevices) -> bool:
        return device.vendor_id in self.ids


@dataclass(frozen=True, slots=True)
class DevicesIn:
    """The device's own product id: a VF's id, not its PF's."""

    ids: frozenset[str]

    def matches(self, device: PciDevice, host: HostDevices) -> bool:
        return device.product_id in self.ids


@dataclass(frozen=True, slots=True)
class DriversIn:
    names: frozenset[str]

    def matches(self, device: PciDevice, host: HostDevices) -> bool:
        return device.driver in self.names


@dataclass(frozen=True, slots=True)
class AddressesIn:
    addresses: frozenset[PciAddress]

    def matches(self, device: PciDevice, host: HostDevices) -> bool:
        return device.address in self.addresses


@dataclass(frozen=True, slots=True)
class MatchesNothing:
    """A selector on something vfnet does not read yet: it must not quietly match all."""

    unreadable: str

    def matches(self, device: PciDevice, host: HostDevices) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class PfNamesIn:
    """VFs whose PF netdev (the uplink on switchdev) has one of these names, any case."""

    refs: tuple[VfRangeRef, ...]

    def matches(self, device: PciDevice, host: HostDevices) -> bool:
        pf = host.get(device.parent_addr) if device.parent_addr else None
        name = pf.ifname if pf else None
        if name is None:
            return False
        return any(
            ref.pf.lower() == name.lower() and ref.covers(device.vf_index) for ref in self.refs
        )

    def named_pfs(self, host: HostDevices) -> Iterator[tuple[VfRangeRef, PciDevice]]:
        """Each reference with the PF it names, for those PFs this host has."""
        for ref in self.refs:
            pf = next((d for d in host if d.parent_addr is None and _named(d, ref.pf)), None)
            if pf is not None:
                yield ref, pf


@dataclass(frozen=True, slots=True)
class RootDevicesIn:
    """VFs whose PF sits at one of these addresses."""

    refs: tuple[VfRangeRef, ...]
    pfs: tuple[PciAddress, ...]  # ref.pf of each ref, parsed

    def matches(self, device: PciDevice, host: HostDevices) -> bool:
        if device.parent_addr is None:
            return False
        return any(
            pf == device.parent_addr and ref.covers(device.vf_index)
            for pf, ref in zip(self.pfs, self.refs, strict=True)
        )

    def named_pfs(self, host: HostDevices) -> Iterator[tuple[VfRangeRef, PciDevice]]:
        """Each reference with the PF it names, for those PFs this host has."""
        for address, ref in zip(self.pfs, self.refs, strict=True):
            pf = host.get(address)
            if pf is not None:
                yield ref, pf


@dataclass(frozen=True, slots=True)
class LinkTypesIn:
    types: frozenset[str]

    def matches(self, device: PciDevice, host: HostDevices) -> bool:
        return link_type(device) in self.types


@dataclass(frozen=True, slots=True)
class VdpaDriverIs:
    driver: str

    def matches(self, device: PciDevice, host: HostDevices) -> bool:
        return device.vdpa is not None and device.vdpa.driver == self.driver


def link_type(device: PciDevice) -> str | None:
    """The link type read from the PCI class: InfiniBand controllers (0207), else Ethernet.

    The plugin asks netlink for the netdev's encapsulation; the device model carries no
    such thing, and the class tells the two apart for the NICs vfnet knows.
    """
    if not device.is_network:
        return None
    return "infiniband" if device.class_code.startswith("0207") else "ether"


RangedFilter = PfNamesIn | RootDevicesIn


def ranged(one: DeviceFilter) -> RangedFilter | None:
    """The filter itself when it takes VF ranges, whose bounds need the host to check."""
    return one if isinstance(one, PfNamesIn | RootDevicesIn) else None


def _named(device: PciDevice, name: str) -> bool:
    return device.ifname is not None and device.ifname.lower() == name.lower()


def _strings(value: object, entry: str, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InvalidSelector(entry, field, f"expected a list of non-empty strings, not {value!r}")
    return value


def _hex_ids(value: object, entry: str, field: str) -> frozenset[str] | None:
    ids = _strings(value, entry, field)
    for one in ids:
        if not _HEX_ID.match(one):
            raise InvalidSelector(entry, field, f"{one!r} is not a 4-digit hex id like '8086'")
    return frozenset(one.lower() for one in ids) or None


def parse_vendors(value: object, entry: str, field: str) -> DeviceFilter | None:
    ids = _hex_ids(value, entry, field)
    return VendorsIn(ids) if ids else None


def parse_devices(value: object, entry: str, field: str) -> DeviceFilter | None:
    ids = _hex_ids(value, entry, field)
    return DevicesIn(ids) if ids else None


def parse_drivers(value: object, entry: str, field: str) -> DeviceFilter | None:
    names = frozenset(_strings(value, entry, field))
    return DriversIn(names) if names else None


def parse_pci_addresses(value: object, entry: str, field: str) -> DeviceFilter | None:
    try:
        addresses = frozenset(PciAddress.parse(one) for one in _strings(value, entry, field))
    except InvalidPciAddress as err:
        raise InvalidSelector(entry, field, f"{err.text!r}: {err.reason}") from None
    return AddressesIn(addresses) if addresses else None


def parse_pf_names(value: object, entry: str, field: str) -> DeviceFilter | None:
    refs = tuple(
        parse_vf_range_ref(one, entry=entry, field=field) for one in _strings(value, entry, field)
    )
    return PfNamesIn(refs) if refs else None


def parse_root_devices(value: object, entry: str, field: str) -> DeviceFilter | None:
    refs = tuple(
        parse_vf_range_ref(one, entry=entry, field=field) for one in _strings(value, entry, field)
    )
    try:
        pfs = tuple(PciAddress.parse(ref.pf) for ref in refs)
    except InvalidPciAddress as err:
        raise InvalidSelector(entry, field, f"{err.text!r}: {err.reason}") from None
    return RootDevicesIn(refs, pfs) if refs else None


def parse_link_types(value: object, entry: str, field: str) -> DeviceFilter | None:
    types = frozenset(one.lower() for one in _strings(value, entry, field))
    return LinkTypesIn(types) if types else None


def parse_is_rdma(value: object, entry: str, field: str) -> DeviceFilter | None:
    if not isinstance(value, bool):
        raise InvalidSelector(entry, field, f"expected true or false, not {value!r}")
    return MatchesNothing("RDMA resources") if value else None


def parse_vdpa_type(value: object, entry: str, field: str) -> DeviceFilter | None:
    if not isinstance(value, str) or value not in _VDPA_DRIVERS:
        raise InvalidSelector(entry, field, f"{value!r} is not one of vhost, virtio")
    return VdpaDriverIs(_VDPA_DRIVERS[value])


def unreadable(what: str) -> Callable[[object, str, str], DeviceFilter | None]:
    """A parser for a selector key whose device attribute vfnet does not read."""

    def parse(value: object, entry: str, field: str) -> DeviceFilter | None:
        return MatchesNothing(what) if _strings(value, entry, field) else None

    return parse
