"""libvirt XML for vfnet's VMs: one device per way a port is plugged, and whole domains.

How each ``vnic_type`` reaches the guest (as Nova's libvirt driver plugs them):

``direct``           ``<interface type='hostdev' managed='yes'>``: the VF itself; libvirt
                     puts the port's MAC and VLAN on it through the PF as it hands it over.
``macvtap``          ``<interface type='direct'>`` in ``passthrough`` mode on the VF netdev.
                     No ``<vlan>``: the agent's VF driver sets the VLAN on the VF, as Nova
                     does for macvtap, so one writer owns it (libvirt would accept a tag
                     there too, since 1.3.5).
``direct-physical``  ``<hostdev mode='subsystem' type='pci' managed='yes'>``: the whole PF.
``vdpa``             ``<interface type='vdpa'>`` on ``/dev/vhost-vdpa-N``.
``normal``           ``<interface type='bridge'>`` on the physnet's bridge through a tap.

Devices a flavor's PCI aliases ask for (a GPU, an accelerator) are ``<hostdev>`` like a PF.
Everything here is pure: values in, XML text out; libvirt's RelaxNG schemas are the judge
in the tests.

A domain vfnet defines carries ``<metadata><vfnet:instance id='...'/></metadata>`` in
:data:`VFNET_XMLNS`: the agent touches only domains so marked, never one an operator made.

Public API: HostdevInterface, MacvtapInterface, VdpaInterface, PciHostdev, BridgeInterface,
Device, PortPlug, port_device, NumaCell, Domain, VFNET_XMLNS, device_xml, domain_xml.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from vfnet.errors import ValidationError
from vfnet.network.macs import normalise_mac
from vfnet.network.vnic_types import VnicType
from vfnet.pci.address import PciAddress

MAX_VLAN = 4094  # 4095 is reserved by 802.1Q
_VDPA_DEVICE = re.compile(r"/dev/vhost-vdpa-\d+")
# IFNAMSIZ - 1; no '/' or whitespace, which the kernel refuses in interface names.
_NETDEV = re.compile(r"[^/\s]{1,15}")

_T = TypeVar("_T")

VFNET_XMLNS = "https://vfnet.dev/xmlns/libvirt/domain/1"
# The prefix written for the namespace: libvirt keeps whatever prefix a document uses.
ET.register_namespace("vfnet", VFNET_XMLNS)


@dataclass(frozen=True, slots=True)
class HostdevInterface:
    """A VF handed to the guest whole (``direct``); ``vlan`` 0 is a flat network."""

    pci_slot: PciAddress
    mac: str
    vlan: int = 0

    def __post_init__(self) -> None:
        _check_mac(self.mac)
        if not 0 <= self.vlan <= MAX_VLAN:
            raise ValidationError("vlan", f"{self.vlan} is outside 0-{MAX_VLAN}")

    def element(self) -> ET.Element:
        interface = ET.Element("interface", type="hostdev", managed="yes")
        ET.SubElement(interface, "mac", address=self.mac)
        ET.SubElement(interface, "driver", name="vfio")
        _pci_source(interface, self.pci_slot, with_type=True)
        if self.vlan:
            ET.SubElement(ET.SubElement(interface, "vlan"), "tag", id=str(self.vlan))
        return interface


@dataclass(frozen=True, slots=True)
class MacvtapInterface:
    """A macvtap in passthrough mode on the VF's netdev (``macvtap``)."""

    netdev: str
    mac: str
    mtu: int | None = None

    def __post_init__(self) -> None:
        _check_mac(self.mac)
        _check_netdev("netdev", self.netdev)

    def element(self) -> ET.Element:
        interface = ET.Element("interface", type="direct")
        ET.SubElement(interface, "mac", address=self.mac)
        ET.SubElement(interface, "source", dev=self.netdev, mode="passthrough")
        ET.SubElement(interface, "model", type="virtio")
        _mtu(interface, self.mtu)
        return interface


@dataclass(frozen=True, slots=True)
class VdpaInterface:
    """A vDPA device on a VF, seen by the guest as virtio-net (``vdpa``)."""

    device: str  # /dev/vhost-vdpa-N
    mac: str

    def __post_init__(self) -> None:
        _check_mac(self.mac)
        if not _VDPA_DEVICE.fullmatch(self.device):
            raise ValidationError("vdpa_device", f"{self.device!r} is not /dev/vhost-vdpa-N")

    def element(self) -> ET.Element:
        interface = ET.Element("interface", type="vdpa")
        ET.SubElement(interface, "mac", address=self.mac)
        ET.SubElement(interface, "source", dev=self.device)
        ET.SubElement(interface, "model", type="virtio")
        return interface


@dataclass(frozen=True, slots=True)
class PciHostdev:
    """A whole PCI function: a PF (``direct-physical``) or a flavor alias's device."""

    pci_slot: PciAddress

    def element(self) -> ET.Element:
        hostdev = ET.Element("hostdev", mode="subsystem", type="pci", managed="yes")
        ET.SubElement(hostdev, "driver", name="vfio")
        _pci_source(hostdev, self.pci_slot, with_type=False)
        return hostdev


@dataclass(frozen=True, slots=True)
class BridgeInterface:
    """A ``normal`` port: a tap on the Linux bridge the host has for the port's physnet."""

    bridge: str
    tap: str
    mac: str
    mtu: int | None = None

    def __post_init__(self) -> None:
        _check_mac(self.mac)
        _check_netdev("bridge", self.bridge)
        _check_netdev("tap", self.tap)
        if self.tap.startswith(("vnet", "macvtap", "macvlan")):
            # libvirt names its own taps so, and ignores or refuses such a target name.
            raise ValidationError("tap", f"{self.tap!r} uses a prefix libvirt reserves")

    def element(self) -> ET.Element:
        interface = ET.Element("interface", type="bridge")
        ET.SubElement(interface, "mac", address=self.mac)
        ET.SubElement(interface, "source", bridge=self.bridge)
        ET.SubElement(interface, "target", dev=self.tap)
        ET.SubElement(interface, "model", type="virtio")
        _mtu(interface, self.mtu)
        return interface


Device = HostdevInterface | MacvtapInterface | VdpaInterface | PciHostdev | BridgeInterface


@dataclass(frozen=True, slots=True)
class PortPlug:
    """What the agent knows of one bound port on its host: enough to plug it into a VM."""

    vnic_type: VnicType
    mac: str
    vlan: int = 0
    pci_slot: PciAddress | None = None  # the claimed VF, or PF for direct-physical
    netdev: str | None = None  # the VF's netdev on the host (macvtap)
    vdpa_device: str | None = None  # /dev/vhost-vdpa-N (vdpa)
    bridge: str | None = None  # the physnet's bridge (normal)
    tap: str | None = None  # the tap vfnet names for the port (normal)
    mtu: int | None = None


def port_device(port: PortPlug) -> Device:
    """The device that plugs ``port`` into a VM, by its vnic type.

    Raises:
        ValidationError: the vnic type cannot reach a VM, or a value it needs is missing.
    """
    build = _PORT_DEVICES.get(port.vnic_type)
    if build is None:
        served = ", ".join(kind.value for kind in _PORT_DEVICES)
        raise ValidationError(
            "vnic_type", f"{port.vnic_type.value!r} cannot be plugged into a VM (served: {served})"
        )
    return build(port)


def _needed(port: PortPlug, name: str, value: _T | None) -> _T:
    if value is None:
        raise ValidationError(name, f"is required to plug a {port.vnic_type.value!r} port")
    return value


_PORT_DEVICES: Mapping[VnicType, Callable[[PortPlug], Device]] = {
    VnicType.DIRECT: lambda p: HostdevInterface(_needed(p, "pci_slot", p.pci_slot), p.mac, p.vlan),
    VnicType.MACVTAP: lambda p: MacvtapInterface(_needed(p, "netdev", p.netdev), p.mac, p.mtu),
    VnicType.DIRECT_PHYSICAL: lambda p: PciHostdev(_needed(p, "pci_slot", p.pci_slot)),
    VnicType.VDPA: lambda p: VdpaInterface(_needed(p, "vdpa_device", p.vdpa_device), p.mac),
    VnicType.NORMAL: lambda p: BridgeInterface(
        _needed(p, "bridge", p.bridge), _needed(p, "tap", p.tap), p.mac, p.mtu
    ),
}


@dataclass(frozen=True, slots=True)
class NumaCell:
    """One guest NUMA node: which vCPUs it holds and how much memory."""

    cpus: tuple[int, ...]
    memory_mib: int


@dataclass(frozen=True, slots=True)
class Domain:
    """A vfnet VM as libvirt defines it: size, NUMA layout and devices."""

    name: str
    uuid: uuid.UUID
    memory_mib: int
    vcpus: int
    numa_cells: tuple[NumaCell, ...] = ()
    devices: tuple[Device, ...] = ()
    type: str = "kvm"
    arch: str = "x86_64"
    vfnet_instance: str | None = None  # the instance it is, in its <metadata>

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name:
            raise ValidationError("name", f"{self.name!r} is empty or holds '/'")
        if self.memory_mib < 1:
            raise ValidationError("memory_mib", f"{self.memory_mib} is not a positive size")
        if self.vcpus < 1:
            raise ValidationError("vcpus", f"{self.vcpus} is not a positive count")
        if self.numa_cells:
            _check_numa(self.numa_cells, self.vcpus, self.memory_mib)


def device_xml(device: Device) -> str:
    """The device element as libvirt's attach and detach calls take it."""
    return ET.tostring(device.element(), encoding="unicode")


def domain_xml(domain: Domain) -> str:
    """The whole ``<domain>`` document for libvirt's define call."""
    root = ET.Element("domain", type=domain.type)
    ET.SubElement(root, "name").text = domain.name
    ET.SubElement(root, "uuid").text = str(domain.uuid)
    if domain.vfnet_instance is not None:
        metadata = ET.SubElement(root, "metadata")
        ET.SubElement(metadata, f"{{{VFNET_XMLNS}}}instance", id=domain.vfnet_instance)
    ET.SubElement(root, "memory", unit="MiB").text = str(domain.memory_mib)
    ET.SubElement(root, "vcpu").text = str(domain.vcpus)
    os_element = ET.SubElement(root, "os")
    ET.SubElement(os_element, "type", arch=domain.arch).text = "hvm"
    if domain.numa_cells:
        numa = ET.SubElement(ET.SubElement(root, "cpu"), "numa")
        for index, cell in enumerate(domain.numa_cells):
            cpus = ",".join(str(cpu) for cpu in cell.cpus)
            memory = str(cell.memory_mib)
            ET.SubElement(numa, "cell", id=str(index), cpus=cpus, memory=memory, unit="MiB")
    devices = ET.SubElement(root, "devices")
    devices.extend(device.element() for device in domain.devices)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode")


def _check_numa(cells: tuple[NumaCell, ...], vcpus: int, memory_mib: int) -> None:
    placed = sorted(cpu for cell in cells for cpu in cell.cpus)
    if placed != list(range(vcpus)):
        raise ValidationError(
            "numa_cells", f"the cells' cpus {placed} must hold each of vCPUs 0-{vcpus - 1} once"
        )
    if any(not cell.cpus for cell in cells):
        raise ValidationError("numa_cells", "every cell needs at least one vCPU")
    total = sum(cell.memory_mib for cell in cells)
    if total != memory_mib:
        raise ValidationError(
            "numa_cells", f"the cells' memory adds up to {total} MiB, not {memory_mib} MiB"
        )


def _pci_source(parent: ET.Element, address: PciAddress, *, with_type: bool) -> None:
    # An <interface type='hostdev'> needs the address type; a <hostdev> implies it.
    attributes = {"type": "pci"} if with_type else {}
    attributes |= {
        "domain": f"{address.domain:#06x}",
        "bus": f"{address.bus:#04x}",
        "slot": f"{address.slot:#04x}",
        "function": f"{address.function:#x}",
    }
    ET.SubElement(ET.SubElement(parent, "source"), "address", attributes)


def _mtu(interface: ET.Element, mtu: int | None) -> None:
    if mtu is not None:
        ET.SubElement(interface, "mtu", size=str(mtu))


def _check_mac(mac: str) -> None:
    if normalise_mac(mac, "mac") != mac:
        raise ValidationError("mac", f"{mac!r} is not in lower-case colon form")


def _check_netdev(field: str, name: str) -> None:
    if not _NETDEV.fullmatch(name):
        raise ValidationError(field, f"{name!r} is not an interface name (1-15, no '/')")
