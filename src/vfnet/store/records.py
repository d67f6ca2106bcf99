"""What the store hands out and takes in: plain frozen values, no database handles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType
from vfnet.pci.selection import TagValue


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An API token; its plaintext is never stored, only its sha256."""

    id: str
    role: str  # admin | member | agent
    project: str | None
    host: str | None
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class HostRecord:
    """A compute host: NUMA cell -> socket, the physnets and bridges it declares."""

    name: str
    generation: int
    report_generation: int
    numa_sockets: Mapping[int, int]
    physnets: tuple[str, ...]
    bridges: Mapping[str, str]  # physnet -> Linux bridge, for vnic_type normal
    created_at: datetime
    reported_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReportedDevice:
    """One device as an agent reports it: the selected PCI function, tags and health."""

    address: PciAddress
    dev_type: DeviceType
    vendor_id: str
    product_id: str
    numa_node: int | None = None
    parent_addr: PciAddress | None = None
    vf_index: int | None = None
    driver: str | None = None
    ifname: str | None = None
    mac: str | None = None
    tags: Mapping[str, TagValue] = field(default_factory=dict)
    resource_name: str | None = None
    healthy: bool = True
    health_reasons: tuple[str, ...] = ()

    @property
    def physnet(self) -> str | None:
        value = self.tags.get("physical_network")
        return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """A device the server tracks: the reported facts plus its state and owner.

    ``vanished`` is set on a claimed or allocated device missing from the latest
    report: it is kept, and removed when released.
    """

    host: str
    reported: ReportedDevice
    state: str
    owner: str | None
    vanished: bool = False
    request_id: str | None = None

    @property
    def address(self) -> PciAddress:
        return self.reported.address

    @property
    def dev_type(self) -> DeviceType:
        return self.reported.dev_type

    @property
    def physnet(self) -> str | None:
        return self.reported.physnet


@dataclass(frozen=True, slots=True)
class PoolRecord:
    """Devices of one host sharing a pool key, with how many are free."""

    host: str
    vendor_id: str
    product_id: str
    numa_node: int | None
    dev_type: str
    physnet: str | None
    tags: Mapping[str, str | None]
    parent_addr: str | None  # the PF of a VF pool; None for PF and PCI pools
    free: int
    total: int


@dataclass(frozen=True, slots=True)
class ReportResult:
    """What applying an inventory report did; ``applied`` is false for a stale report."""

    host: str
    applied: bool
    generation: int
    report_generation: int
    added: tuple[PciAddress, ...] = ()
    removed: tuple[PciAddress, ...] = ()
    updated: tuple[PciAddress, ...] = ()  # free devices whose reported properties changed
    deferred: tuple[PciAddress, ...] = ()  # busy devices whose changes wait for their release
    vanished: tuple[PciAddress, ...] = ()


@dataclass(frozen=True, slots=True)
class ClaimedDevice:
    address: PciAddress
    request_id: str
    status: str  # claimed | allocated


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    """The devices one owner holds on one host; ``generation`` is the host's after the write."""

    owner: str
    host: str
    devices: tuple[ClaimedDevice, ...]
    generation: int

    @property
    def addresses(self) -> tuple[PciAddress, ...]:
        return tuple(d.address for d in self.devices)


@dataclass(frozen=True, slots=True)
class FlavorRecord:
    name: str
    vcpus: int
    ram_mb: int
    numa_cells: int
    extra_specs: Mapping[str, str]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PlacementRecord:
    """Where an instance went: its host, the claim owner, and the request it came from."""

    instance_id: str
    host: str
    owner: str
    project: str | None
    request: Mapping[str, Any]
    created_at: datetime
