"""vDPA devices (``bus/vdpa/devices/vdpaN``) and the VFs they sit on."""

from __future__ import annotations

from vfnet.discovery.attrs import AttrDir, describe
from vfnet.errors import InvalidPciAddress
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import VdpaDevice

_CHARDEV_PREFIX = "vhost-vdpa-"


def read_vdpa_devices(bus: AttrDir, warnings: list[str]) -> list[VdpaDevice]:
    """Each ``vdpaN`` whose link leads into a PCI function's directory; others are warned of."""
    devices = []
    for name in sorted(bus.names()):
        try:
            target = bus.link(name)
        except OSError as error:
            warnings.append(f"vdpa {name}: {describe(error)}")
            continue
        # ../../../devices/pci0000:00/.../<VF BDF>/vdpa0: the parent is the directory above.
        parent_name = target.rstrip("/").rsplit("/", 2)[-2] if "/" in target else ""
        try:
            parent = PciAddress.parse(parent_name)
        except InvalidPciAddress:
            warnings.append(f"vdpa {name}: parent {parent_name!r} is not a PCI function")
            continue
        try:
            with bus.sub(name) as vdpa_dir:
                devices.append(_read_vdpa(name, parent, vdpa_dir))
        except OSError as error:
            warnings.append(f"vdpa {name}: {describe(error)}")
    return devices


def _read_vdpa(name: str, parent: PciAddress, vdpa_dir: AttrDir) -> VdpaDevice:
    driver = vdpa_dir.link_name("driver")
    chardevs = sorted(n for n in vdpa_dir.names() if n.startswith(_CHARDEV_PREFIX))
    return VdpaDevice(
        name=name,
        parent=parent,
        driver=driver,
        chardev=f"/dev/{chardevs[0]}" if chardevs else None,
    )
