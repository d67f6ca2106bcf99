"""Small hand-built hosts for tests: SR-IOV NICs as PciDevice records, VF addresses computed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from vfnet.pci.address import PciAddress
from vfnet.pci.devices import (
    DeviceType,
    HostDevices,
    Netdev,
    PciDevice,
    SriovCapability,
    VdpaDevice,
)
from vfnet.pci.selection import SelectedDevice


def sriov_nic(
    address: str,
    ifname: str | None,
    *,
    num_vfs: int,
    total_vfs: int = 8,
    vendor_id: str = "8086",
    pf_product: str = "1572",
    vf_product: str = "154c",
    pf_driver: str = "i40e",
    vf_driver: str | None = "iavf",
    offset: int = 16,
    stride: int = 1,
    numa_node: int | None = 0,
    class_code: str = "020000",
) -> list[PciDevice]:
    """A PF and its ``num_vfs`` VFs at ``PF_RID + offset + n * stride``, named ``<pf>v<n>``."""
    pf_addr = PciAddress.parse(address)
    pf = PciDevice(
        address=pf_addr,
        dev_type=DeviceType.PF,
        vendor_id=vendor_id,
        product_id=pf_product,
        class_code=class_code,
        driver=pf_driver,
        numa_node=numa_node,
        netdevs=(Netdev(ifname),) if ifname else (),
        sriov=SriovCapability(total_vfs, num_vfs, offset, stride, vf_product),
    )
    vfs = [
        PciDevice(
            address=PciAddress.from_rid(pf_addr.domain, pf_addr.rid + offset + n * stride),
            dev_type=DeviceType.VF,
            vendor_id=vendor_id,
            product_id=vf_product,
            class_code=class_code,
            driver=vf_driver,
            numa_node=numa_node,
            netdevs=(Netdev(f"{ifname}v{n}"),) if ifname and vf_driver else (),
            parent_addr=pf_addr,
            vf_index=n,
        )
        for n in range(num_vfs)
    ]
    return [pf, *vfs]


def plain_nic(
    address: str, ifname: str, *, product: str = "10d3", driver: str = "e1000e"
) -> PciDevice:
    """A NIC without SR-IOV (the management port, say)."""
    return PciDevice(
        address=PciAddress.parse(address),
        dev_type=DeviceType.PCI,
        vendor_id="8086",
        product_id=product,
        driver=driver,
        netdevs=(Netdev(ifname),),
    )


def with_vdpa(vf: PciDevice, driver: str | None, name: str = "vdpa0") -> PciDevice:
    """The VF carrying a vDPA device, as discovery reports it (dev_type vdpa)."""
    vdpa = VdpaDevice(name=name, parent=vf.address, driver=driver)
    return replace(vf, dev_type=DeviceType.VDPA, vdpa=vdpa)


def host(*devices: PciDevice | list[PciDevice]) -> HostDevices:
    flat: list[PciDevice] = []
    for item in devices:
        flat.extend(item if isinstance(item, list) else [item])
    return HostDevices.of(flat)


def two_port_x710(num_vfs: int = 4, total_vfs: int = 8) -> HostDevices:
    """ens1f0 (0000:3b:00.0, VFs from 3b:02.0) and ens1f1 (0000:3b:00.1, VFs from 3b:0a.0)."""
    return host(
        sriov_nic("0000:3b:00.0", "ens1f0", num_vfs=num_vfs, total_vfs=total_vfs),
        sriov_nic("0000:3b:00.1", "ens1f1", num_vfs=num_vfs, total_vfs=total_vfs, offset=79),
    )


def addresses(selected: Iterable[SelectedDevice]) -> list[str]:
    return [str(item.device.address) for item in selected]
