"""SysfsReader: the only code that opens /sys; turns a sysfs root into the PCI model.

discover: read every ``bus/pci/devices/<bdf>`` -> link PFs to VFs through ``virtfnN``
-> find each VF's switchdev representor -> put vDPA devices on their VFs.
Whatever cannot be read becomes a warning on the device (and a log line), never a crash.
"""

from __future__ import annotations

import logging
from pathlib import Path

from vfnet.discovery.attrs import AttrDir, describe
from vfnet.discovery.formats import representor_vf
from vfnet.discovery.functions import UNKNOWN_CLASS, UNKNOWN_ID, FunctionFacts, read_function
from vfnet.discovery.vdpa import read_vdpa_devices
from vfnet.errors import InvalidPciAddress, SysfsError
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType, HostDevices, Netdev, PciDevice, VdpaDevice

log = logging.getLogger(__name__)

_VfLink = tuple[PciAddress, int | None]  # (pf, vf_index)


class SysfsReader:
    """Reads the PCI functions under ``root`` (``/sys`` or a generated tree)."""

    def __init__(self, root: Path = Path("/sys")) -> None:
        self.root = root

    def read(self) -> HostDevices:
        facts = self._read_functions()
        host_warnings: list[str] = []
        vdpa = self._read_vdpa(host_warnings)
        devices = assemble(facts, vdpa)
        for warning in host_warnings:
            log.warning("%s: %s", self.root, warning)
        for device in devices:
            for warning in device.warnings:
                log.warning("%s: %s", device.address, warning)
        return HostDevices.of(devices)

    def _read_functions(self) -> dict[PciAddress, FunctionFacts]:
        path = f"{self.root}/bus/pci/devices"
        try:
            bus = AttrDir(path)
        except OSError as error:
            raise SysfsError(f"{path}: cannot list PCI devices: {describe(error)}") from error
        facts: dict[PciAddress, FunctionFacts] = {}
        with bus:
            for name in bus.names():
                try:
                    address = PciAddress.parse(name)
                except InvalidPciAddress:
                    log.warning("%s/%s: not a PCI address, skipped", path, name)
                    continue
                try:
                    with bus.sub(name) as device:
                        facts[address] = read_function(address, name, device)
                except OSError as error:
                    # A dangling bus link: nothing about the function can be read.
                    log.warning("%s/%s: %s, skipped", path, name, describe(error))
        return facts

    def _read_vdpa(self, warnings: list[str]) -> list[VdpaDevice]:
        try:
            bus = AttrDir(f"{self.root}/bus/vdpa/devices")
        except FileNotFoundError:
            return []
        except OSError as error:
            warnings.append(f"bus/vdpa/devices: {describe(error)}")
            return []
        with bus:
            return read_vdpa_devices(bus, warnings)


def assemble(facts: dict[PciAddress, FunctionFacts], vdpa: list[VdpaDevice]) -> list[PciDevice]:
    """Resolve PF/VF links, representors and vDPA over facts read independently."""
    vf_links = _link_vfs(facts)
    representors = _find_representors(facts, vf_links)
    vdpa_of = _place_vdpa(facts, vf_links, vdpa)
    # Kernel names are fixed-width hex, so their text order is address order and
    # HostDevices.of then sorts an already ordered list cheaply.
    ordered = sorted(facts.items(), key=lambda pair: pair[1].name)
    return [
        _device(item, vf_links.get(address), representors.get(address), vdpa_of.get(address))
        for address, item in ordered
    ]


def _link_vfs(facts: dict[PciAddress, FunctionFacts]) -> dict[PciAddress, _VfLink]:
    """VF -> (PF, N) from the PFs' ``virtfnN`` links; a ``physfn`` alone gives no index."""
    by_name = {item.name: item.address for item in facts.values()}
    links: dict[PciAddress, _VfLink] = {}
    for pf in facts.values():
        if pf.sriov is None:
            continue
        for index, target in pf.virtfns:
            vf = by_name.get(target)
            if vf is None:
                pf.warnings.append(f"virtfn{index}: points to {target!r}, not a PCI function here")
            else:
                links[vf] = (pf.address, index)
        found = len(pf.virtfns) - sum(1 for _, t in pf.virtfns if t not in by_name)
        if pf.sriov.num_vfs > found:
            pf.warnings.append(
                f"sriov_numvfs: {pf.sriov.num_vfs} VFs enabled but {found} virtfn links found"
            )
    for child in facts.values():
        if child.physfn is not None:
            _check_physfn(child, child.physfn, by_name, links)
    return links


def _check_physfn(
    child: FunctionFacts,
    physfn: str,
    by_name: dict[str, PciAddress],
    links: dict[PciAddress, _VfLink],
) -> None:
    """A VF's own ``physfn`` confirms its PF, or stands in for a missing ``virtfn`` link."""
    pf = by_name.get(physfn) or _address_or_none(physfn)
    if pf is None:
        child.warnings.append(f"physfn: points to {physfn!r}, not a PCI function (ignored)")
    elif child.address not in links:
        child.warnings.append(f"physfn: PF {pf} has no virtfn link to this VF")
        links[child.address] = (pf, None)
    elif links[child.address][0] != pf:
        child.warnings.append(f"physfn: points to {pf}, virtfn from {links[child.address][0]}")


def _find_representors(
    facts: dict[PciAddress, FunctionFacts], vf_links: dict[PciAddress, _VfLink]
) -> dict[PciAddress, Netdev]:
    """VF N's representor is the ``pf<P>vf<N>`` netdev under its PF's ``net/``.

    It stays among the PF's netdevs too, as sysfs lists it there; ``PciDevice.netdev``
    skips representors, so the PF's own netdev is the uplink.
    """
    vf_by_index = {link: vf for vf, link in vf_links.items()}
    representors: dict[PciAddress, Netdev] = {}
    for pf in facts.values():
        if pf.sriov is None:
            continue
        for netdev in pf.netdevs:
            index = representor_vf(netdev.phys_port_name)
            if index is None:
                continue
            vf = vf_by_index.get((pf.address, index))
            if vf is None:
                pf.warnings.append(f"net/{netdev.name}: representor of missing VF {index}")
            else:
                representors[vf] = netdev
    return representors


def _place_vdpa(
    facts: dict[PciAddress, FunctionFacts],
    vf_links: dict[PciAddress, _VfLink],
    vdpa: list[VdpaDevice],
) -> dict[PciAddress, VdpaDevice]:
    placed: dict[PciAddress, VdpaDevice] = {}
    for device in vdpa:
        parent = facts.get(device.parent)
        if parent is None:
            log.warning("vdpa %s: parent %s is not a PCI function here", device.name, device.parent)
        elif device.parent not in vf_links:
            parent.warnings.append(f"vdpa {device.name}: parent is not a VF (ignored)")
        elif device.parent in placed:
            parent.warnings.append(f"vdpa {device.name}: VF already carries a vDPA device")
        else:
            placed[device.parent] = device
    return placed


def _device(
    facts: FunctionFacts,
    vf_link: _VfLink | None,
    representor: Netdev | None,
    vdpa: VdpaDevice | None,
) -> PciDevice:
    if facts.sriov is not None:
        dev_type = DeviceType.PF
    elif vf_link is not None:
        dev_type = DeviceType.VF if vdpa is None else DeviceType.VDPA
    else:
        dev_type = DeviceType.PCI
    ids = facts.ids
    return PciDevice(
        address=facts.address,
        dev_type=dev_type,
        vendor_id=ids.get("vendor_id", UNKNOWN_ID),
        product_id=ids.get("product_id", UNKNOWN_ID),
        subsystem_vendor_id=ids.get("subsystem_vendor_id", UNKNOWN_ID),
        subsystem_device_id=ids.get("subsystem_device_id", UNKNOWN_ID),
        class_code=ids.get("class_code", UNKNOWN_CLASS),
        revision=facts.revision,
        driver=facts.driver,
        numa_node=facts.numa_node,
        iommu_group=facts.iommu_group,
        netdevs=tuple(facts.netdevs),
        parent_addr=None if vf_link is None else vf_link[0],
        vf_index=None if vf_link is None else vf_link[1],
        sriov=facts.sriov,
        vdpa=vdpa,
        representor=representor,
        warnings=tuple(facts.warnings),
    )


def _address_or_none(text: str) -> PciAddress | None:
    try:
        return PciAddress.parse(text)
    except InvalidPciAddress:
        return None
