"""Small host descriptions for inventory tests: PFs, VFs and vDPA devices as SelectedDevice."""

from __future__ import annotations

from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType, PciDevice, VdpaDevice
from vfnet.pci.selection import SelectedDevice, TagValue

X710_PF, X710_VF = "1572", "154c"


def pf_address(pf: int) -> PciAddress:
    return PciAddress(0, 0x3B + pf, 0, 0)


def vf_address(pf: int, vf: int) -> PciAddress:
    return PciAddress(0, 0x3B + pf, 2 + vf // 8, vf % 8)


def pf(index: int, numa: int | None = 0, **tags: TagValue) -> SelectedDevice:
    device = PciDevice(pf_address(index), DeviceType.PF, "8086", X710_PF, numa_node=numa)
    return SelectedDevice(device, tags)


def vf(
    pf_index: int, index: int, numa: int | None = 0, vdpa: bool = False, **tags: TagValue
) -> SelectedDevice:
    address = vf_address(pf_index, index)
    device = PciDevice(
        address,
        DeviceType.VDPA if vdpa else DeviceType.VF,
        "8086",
        X710_VF,
        numa_node=numa,
        parent_addr=pf_address(pf_index),
        vf_index=index,
        vdpa=VdpaDevice(f"vdpa{index}", address, "vhost_vdpa") if vdpa else None,
    )
    return SelectedDevice(device, tags)


def card(
    pf_index: int, vfs: int, numa: int | None = 0, with_pf: bool = True, **tags: TagValue
) -> list[SelectedDevice]:
    """A PF and its VFs, the VFs carrying ``tags``."""
    head = [pf(pf_index, numa)] if with_pf else []
    return head + [vf(pf_index, i, numa, **tags) for i in range(vfs)]


def pci(bus: int, numa: int | None = 0, **tags: TagValue) -> SelectedDevice:
    device = PciDevice(PciAddress(0, bus, 0, 0), DeviceType.PCI, "10de", "1eb8", numa_node=numa)
    return SelectedDevice(device, tags)
