"""Device records: what a host has, as discovery reads it and the generator writes it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from vfnet.pci.address import PciAddress


class DeviceType(StrEnum):
    """Nova's device types; a VF with a vDPA device on it is ``vdpa``."""

    PCI = "type-PCI"
    PF = "type-PF"
    VF = "type-VF"
    VDPA = "vdpa"


@dataclass(frozen=True, slots=True)
class VdpaDevice:
    """A vDPA device (``/sys/bus/vdpa/devices/vdpaN``) whose parent is a VF."""

    name: str  # vdpa0
    parent: PciAddress  # the VF it sits on
    driver: str | None  # vhost_vdpa | virtio_vdpa | None when unbound
    chardev: str | None = None  # /dev/vhost-vdpa-0 when bound to vhost_vdpa


@dataclass(frozen=True, slots=True)
class Netdev:
    """A network interface of a PCI function (``<dev>/net/<name>``)."""

    name: str
    mac: str | None = None
    operstate: str | None = None  # up, down, unknown, lowerlayerdown, ...
    carrier: bool | None = None  # None when unreadable (admin down)
    mtu: int | None = None
    phys_port_name: str | None = None  # p0, pf0vf3; None when unsupported
    phys_switch_id: str | None = None  # set on switchdev uplinks and representors


@dataclass(frozen=True, slots=True)
class SriovCapability:
    """The PF-only SR-IOV files."""

    total_vfs: int
    num_vfs: int
    offset: int
    stride: int
    vf_device: str  # 4 lower-case hex digits


@dataclass(frozen=True, slots=True)
class PciDevice:
    """One PCI function as the host presents it.

    Ids are 4 lower-case hex digits (``8086``), ``class_code`` 6 (``020000``).
    ``parent_addr`` and ``vf_index`` are set on VFs; ``sriov`` on PFs; ``vdpa`` on a VF
    carrying a vDPA device (whose ``dev_type`` is then ``vdpa``); ``representor`` is the
    switchdev representor netdev of a VF. ``warnings`` lists what could not be read.
    """

    address: PciAddress
    dev_type: DeviceType
    vendor_id: str
    product_id: str
    subsystem_vendor_id: str = "0000"
    subsystem_device_id: str = "0000"
    class_code: str = "020000"
    revision: str = "00"
    driver: str | None = None
    numa_node: int | None = None
    iommu_group: int | None = None
    netdevs: tuple[Netdev, ...] = ()
    parent_addr: PciAddress | None = None
    vf_index: int | None = None
    sriov: SriovCapability | None = None
    vdpa: VdpaDevice | None = None
    representor: Netdev | None = None
    warnings: tuple[str, ...] = ()

    @property
    def netdev(self) -> Netdev | None:
        """The function's own netdev; on a switchdev PF, the uplink (``phys_port_name`` pN)."""
        for dev in self.netdevs:
            if dev.phys_port_name is None or not dev.phys_port_name.startswith("pf"):
                return dev
        return None

    @property
    def ifname(self) -> str | None:
        dev = self.netdev
        return dev.name if dev else None

    @property
    def mac(self) -> str | None:
        dev = self.netdev
        return dev.mac if dev else None

    @property
    def link_state(self) -> str | None:
        dev = self.netdev
        return dev.operstate if dev else None

    @property
    def vendor_info(self) -> str:
        """``vendor:product`` as Neutron's ``pci_vendor_info``."""
        return f"{self.vendor_id}:{self.product_id}"

    @property
    def is_network(self) -> bool:
        return self.class_code.startswith("02")


@dataclass(frozen=True, slots=True)
class HostDevices:
    """Every PCI function of one host, by address, with PF -> VF links."""

    devices: Mapping[PciAddress, PciDevice] = field(default_factory=dict)

    @classmethod
    def of(cls, devices: list[PciDevice] | tuple[PciDevice, ...]) -> HostDevices:
        return cls({d.address: d for d in sorted(devices, key=lambda d: d.address)})

    def __iter__(self) -> Iterator[PciDevice]:
        return iter(self.devices.values())

    def __len__(self) -> int:
        return len(self.devices)

    def __getitem__(self, address: PciAddress) -> PciDevice:
        return self.devices[address]

    def get(self, address: PciAddress) -> PciDevice | None:
        return self.devices.get(address)

    def vfs_of(self, pf: PciAddress) -> list[PciDevice]:
        """The VFs of a PF, in ``virtfnN`` order."""
        vfs = [d for d in self.devices.values() if d.parent_addr == pf]
        return sorted(vfs, key=lambda d: d.vf_index if d.vf_index is not None else 1 << 30)

    def pfs(self) -> list[PciDevice]:
        return [d for d in self.devices.values() if d.dev_type is DeviceType.PF]

    def by_ifname(self, name: str) -> PciDevice | None:
        for device in self.devices.values():
            if any(n.name == name for n in device.netdevs):
                return device
        return None
