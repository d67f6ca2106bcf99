"""Synthetic inventory reports: PFs with VFs, as an agent would report them."""

from __future__ import annotations

from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType
from vfnet.store.records import ReportedDevice

INTEL = "8086"
X710_PF, X710_VF = "1572", "154c"


def pf_address(pf: int) -> PciAddress:
    return PciAddress(0, 0x3B + pf, 0, 0)


def vf_address(pf: int, vf: int) -> PciAddress:
    rid = pf_address(pf).rid + 0x10 + vf
    return PciAddress.from_rid(0, rid)


def pf(
    pf: int, *, numa_node: int = 0, physnet: str = "physnet1", healthy: bool = True
) -> ReportedDevice:
    return ReportedDevice(
        address=pf_address(pf),
        dev_type=DeviceType.PF,
        vendor_id=INTEL,
        product_id=X710_PF,
        numa_node=numa_node,
        driver="i40e",
        ifname=f"ens{pf}f0",
        tags={"physical_network": physnet},
        healthy=healthy,
        health_reasons=() if healthy else ("link down",),
    )


def vf(
    pf: int, vf: int, *, numa_node: int = 0, physnet: str = "physnet1", healthy: bool = True
) -> ReportedDevice:
    return ReportedDevice(
        address=vf_address(pf, vf),
        dev_type=DeviceType.VF,
        vendor_id=INTEL,
        product_id=X710_VF,
        numa_node=numa_node,
        parent_addr=pf_address(pf),
        vf_index=vf,
        driver="iavf",
        ifname=f"ens{pf}f0v{vf}",
        tags={"physical_network": physnet},
        healthy=healthy,
        health_reasons=() if healthy else ("link down",),
    )


def host_report(pfs: int, vfs_per_pf: int, *, physnet: str = "physnet1") -> list[ReportedDevice]:
    """``pfs`` PFs, alternating NUMA nodes 0 and 1, each with ``vfs_per_pf`` VFs."""
    report: list[ReportedDevice] = []
    for index in range(pfs):
        numa = index % 2
        report.append(pf(index, numa_node=numa, physnet=physnet))
        report += [vf(index, n, numa_node=numa, physnet=physnet) for n in range(vfs_per_pf)]
    return report
