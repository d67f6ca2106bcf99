"""Device health from what discovery read: PF link and driver, VF driver, netdev and IOMMU group.

A pure function: the same host read gives the same verdicts. A device with reasons is
reported ``healthy=false`` with them, and the server keeps it unschedulable. A PF's own
reasons are also its VFs' reasons, prefixed with the PF's name (``pf ens1f0: no
carrier``), since a VF of a PF without link carries no traffic either.
"""

from __future__ import annotations

from collections.abc import Mapping

from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType, HostDevices, PciDevice

# operstate values (RFC 2863, as the kernel spells them) of an interface that passes no traffic.
_DOWN = frozenset({"down", "lowerlayerdown", "notpresent"})

Reasons = tuple[str, ...]


def assess(
    host: HostDevices, in_use: frozenset[PciAddress] = frozenset()
) -> dict[PciAddress, Reasons]:
    """Every PF, VF and vDPA device of ``host`` -> why it is unhealthy (``()``: healthy).

    ``in_use`` are the devices the server has handed out: a VF attached to a container
    has its netdev in the container's namespace, so the host not seeing it is expected.
    An IOMMU group is required of a VF bound to VFIO, and of every VF on a host whose
    IOMMU is on (some device has a group); a host without an IOMMU can still give VFs'
    netdevs to containers, so their missing groups are not held against them there.
    """
    iommu_on = any(device.iommu_group is not None for device in host)
    verdicts: dict[PciAddress, Reasons] = {}
    for pf in host.pfs():
        verdicts[pf.address] = _pf_reasons(pf, host)
    for device in host:
        if device.dev_type in (DeviceType.VF, DeviceType.VDPA):
            own = _vf_reasons(device, device.address in in_use, iommu_on)
            verdicts[device.address] = _inherited(device, host, verdicts) + own
    return verdicts


def is_vfio(driver: str | None) -> bool:
    """``vfio-pci`` and the vendor variants (``mlx5_vfio_pci``, ``ice-vfio-pci``)."""
    return driver is not None and "vfio" in driver


def _pf_reasons(pf: PciDevice, host: HostDevices) -> Reasons:
    name = f"pf {pf.ifname or pf.address}"
    if pf.driver is None:
        return (f"{name}: driver unbound",)
    reasons: list[str] = []
    netdev = pf.netdev
    if netdev is None:
        if not is_vfio(pf.driver):
            reasons.append(f"{name}: no netdev (driver {pf.driver})")
    elif netdev.carrier is False:
        reasons.append(f"{name}: no carrier")
    elif netdev.operstate in _DOWN:
        reasons.append(f"{name}: operstate {netdev.operstate}")
    enabled = pf.sriov.num_vfs if pf.sriov else 0
    present = len(host.vfs_of(pf.address))
    if present < enabled:
        reasons.append(f"{name}: {enabled} VFs enabled, {present} present")
    return tuple(reasons)


def _inherited(
    device: PciDevice, host: HostDevices, verdicts: Mapping[PciAddress, Reasons]
) -> Reasons:
    parent = device.parent_addr
    if parent is None:
        return ()
    if host.get(parent) is None:
        return (f"pf {parent}: gone",)
    # "N VFs enabled, M present" is the PF's own business: the VFs that are present work.
    return tuple(r for r in verdicts.get(parent, ()) if "VFs enabled" not in r)


def _vf_reasons(vf: PciDevice, in_use: bool, iommu_on: bool) -> Reasons:
    if vf.driver is None:
        return ("driver unbound",)
    reasons: list[str] = []
    vfio = is_vfio(vf.driver)
    expects_netdev = not vfio and vf.vdpa is None and not in_use
    if expects_netdev and vf.netdev is None:
        reasons.append(f"no netdev (driver {vf.driver})")
    if vf.iommu_group is None and (vfio or iommu_on):
        reasons.append("no IOMMU group")
    return tuple(reasons)
