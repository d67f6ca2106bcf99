"""Neutron's ``[sriov_nic]`` physical_device_mappings and exclude_devices, parsed and applied."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from vfnet.errors import InvalidHostConfig, InvalidPciAddress
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import HostDevices, PciDevice
from vfnet.pci.selection import TagValue

MAPPINGS = "physical_device_mappings"
EXCLUDE = "exclude_devices"


@dataclass(frozen=True, slots=True)
class SriovNicConfig:
    """PF netdev -> physnet (its VFs get that ``physical_network``), and VFs never offered.

    ``entry`` names where the settings came from, for errors found once the host is known.
    """

    physnets: Mapping[str, str] = field(default_factory=dict)  # pf -> physnet
    exclude: Mapping[str, frozenset[PciAddress]] = field(default_factory=dict)  # pf -> VFs
    entry: str = "sriov_nic"

    @property
    def device_mappings(self) -> dict[str, list[str]]:
        """``{physnet: [pf, ...]}``, as the Neutron agent reports it."""
        mappings: dict[str, list[str]] = {}
        for pf, physnet in self.physnets.items():
            mappings.setdefault(physnet, []).append(pf)
        return mappings

    @property
    def excluded(self) -> frozenset[PciAddress]:
        return frozenset().union(*self.exclude.values())

    def validate(self, host: HostDevices) -> None:
        """Every mapped PF must be an SR-IOV PF of this host."""
        for pf in self.physnets:
            device = _pf_named(pf, host)
            if device is None:
                raise InvalidHostConfig(
                    self.entry, MAPPINGS, f"PF {pf!r} does not exist on this host"
                )
            if device.sriov is None:
                raise InvalidHostConfig(self.entry, MAPPINGS, f"{pf!r} is not an SR-IOV PF")

    def tags_for(self, device: PciDevice, host: HostDevices) -> dict[str, TagValue] | None:
        """The physnet of a VF whose PF is mapped, like a ``devname`` device_spec for VFs only."""
        if device.parent_addr is None:
            return None
        pf = host.get(device.parent_addr)
        physnet = self.physnets.get(pf.ifname or "") if pf else None
        return None if physnet is None else {"physical_network": physnet}


def _pf_named(name: str, host: HostDevices) -> PciDevice | None:
    for device in host:
        if device.parent_addr is None and device.ifname == name:
            return device
    return None


def parse_sriov_nic(raw: Mapping[str, object], *, entry: str = "sriov_nic") -> SriovNicConfig:
    """Parse both options; each is Neutron's comma list as one string, or a list of items."""
    unknown = sorted(set(raw) - {MAPPINGS, EXCLUDE})
    if unknown:
        raise InvalidHostConfig(entry, unknown[0], f"unknown key; expected {MAPPINGS}, {EXCLUDE}")
    physnets = _parse_mappings(_items(raw.get(MAPPINGS, []), entry, MAPPINGS), entry)
    exclude = _parse_exclude(_items(raw.get(EXCLUDE, []), entry, EXCLUDE), entry)
    for pf in exclude:
        if pf not in physnets:
            raise InvalidHostConfig(entry, EXCLUDE, f"PF {pf!r} is not in {MAPPINGS}")
    return SriovNicConfig(physnets, exclude, entry)


def _items(value: object, entry: str, key: str) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidHostConfig(entry, key, "expected a comma-separated string or a list of them")
    return [item.strip() for item in value if item.strip()]


def _parse_mappings(items: list[str], entry: str) -> dict[str, str]:
    physnets: dict[str, str] = {}
    for item in items:
        physnet, colon, pf = (part.strip() for part in item.partition(":"))
        if not colon or ":" in pf or not physnet or not pf:
            raise InvalidHostConfig(
                entry, MAPPINGS, f"{item!r} is not physnet:pf_netdev (one colon, both named)"
            )
        if physnets.get(pf, physnet) != physnet:
            raise InvalidHostConfig(
                entry, MAPPINGS, f"PF {pf!r} is mapped to both {physnets[pf]!r} and {physnet!r}"
            )
        physnets[pf] = physnet
    return physnets


def _parse_exclude(items: list[str], entry: str) -> dict[str, frozenset[PciAddress]]:
    exclude: dict[str, frozenset[PciAddress]] = {}
    for item in items:
        # Split on the first colon only: the PCI addresses on the right have colons too.
        pf, _, vfs = (part.strip() for part in item.partition(":"))
        if not pf:
            raise InvalidHostConfig(entry, EXCLUDE, f"{item!r} names no PF before ':'")
        if pf in exclude:
            raise InvalidHostConfig(entry, EXCLUDE, f"PF {pf!r} is listed twice")
        exclude[pf] = _parse_vf_addresses(pf, vfs, entry)
    return exclude


def _parse_vf_addresses(pf: str, text: str, entry: str) -> frozenset[PciAddress]:
    addresses: list[PciAddress] = []
    for raw in (part.strip() for part in text.split(";")):
        if not raw:
            continue
        try:
            address = PciAddress.parse(raw)
        except InvalidPciAddress as err:
            raise InvalidHostConfig(entry, EXCLUDE, f"PF {pf!r}: {raw!r}: {err.reason}") from None
        if address in addresses:
            raise InvalidHostConfig(entry, EXCLUDE, f"PF {pf!r}: {raw} is listed twice")
        addresses.append(address)
    return frozenset(addresses)
