"""Generated hosts: write a sysfs tree faithful to the kernel's for a HostSpec.

``root`` plays the role of ``/sys``: ``root/bus/pci/devices``, ``root/devices/pci0000:3a/...``,
``root/class/net``, ``root/bus/pci/drivers/<drv>``, ``root/kernel/iommu_groups``,
``root/bus/vdpa/devices``. ``lspci -O sysfs.path=<root>/bus/pci`` lists it as it would list
the real card. ``root/.vfnet-host.json`` records the HostSpec so tools know it is generated.
"""

from __future__ import annotations

from pathlib import Path

from vfnet.errors import ValidationError
from vfnet.lab.functions import HostWriter
from vfnet.lab.hostspec import PLATFORMS, HostSpec, Platform
from vfnet.lab.layout import HostLayout, plan_host
from vfnet.lab.nics import NIC_MODELS, NicModel, nic_model
from vfnet.lab.tree import DIR, WRITE_ONLY, Entry, Link, Tree
from vfnet.lab.vdpa import DRIVER as VDPA_DRIVER
from vfnet.pci.devices import HostDevices, PciDevice

MARKER = ".vfnet-host.json"
BUILTIN_DRIVERS = frozenset({"pcieport"})

__all__ = [
    "MARKER",
    "NIC_MODELS",
    "PLATFORMS",
    "HostSpec",
    "NicModel",
    "Platform",
    "generate_host",
    "nic_model",
    "read_marker",
]


def generate_host(spec: HostSpec, root: Path) -> HostDevices:
    """Write the host's tree under ``root`` and return the model of exactly what it wrote."""
    layout = plan_host(spec)
    if Path(root).exists() and any(Path(root).iterdir()):
        raise ValidationError("root", f"{root} is not empty; a host is generated into a new dir")
    tree = Tree(root)
    _write_skeleton(tree, layout)
    writer = HostWriter(tree, layout)
    devices: list[PciDevice] = [
        writer.write_bridge(bridge, i) for i, bridge in enumerate(layout.bridges)
    ]
    uplinks = [writer.write_pf(pf, spec.vfs) for pf in layout.pfs]
    for pf, pf_device in zip(layout.pfs, uplinks, strict=True):
        vfs = [writer.write_vf(pf, n) for n in range(spec.vfs)]
        reps = tuple(vf.representor for vf in vfs if vf.representor is not None)
        # by name, as the directory lists them: the uplink, then representors
        netdevs = tuple(sorted((*pf_device.netdevs, *reps), key=lambda n: n.name))
        devices.append(writer.pf_record(pf, spec.vfs, netdevs))
        devices.extend(vfs)
    tree.put(MARKER, spec.to_json().encode())
    return HostDevices.of(devices)


def read_marker(root: Path) -> HostSpec:
    """The HostSpec a generated tree was written from."""
    return HostSpec.from_json((Path(root) / MARKER).read_text())


def _write_skeleton(tree: Tree, layout: HostLayout) -> None:
    """Bus, driver, class and IOMMU directories that exist before any device does."""
    spec, model = layout.spec, layout.spec.model
    tree.write(
        "bus/pci",
        {
            "devices": DIR,
            "slots": DIR,
            "drivers_autoprobe": b"1\n",
            "drivers_probe": WRITE_ONLY,
            "rescan": WRITE_ONLY,
            "resource_alignment": b"\n",
            "uevent": WRITE_ONLY,
        },
    )
    for driver in sorted({model.pf_driver, model.vf_driver, "pcieport"}):
        tree.write(f"bus/pci/drivers/{driver}", _driver_files("pci", driver))
        if driver not in BUILTIN_DRIVERS:
            tree.write(f"module/{driver}", {"drivers": DIR})
    tree.write("class/net", {})
    tree.write("class/ptp", {})
    if spec.platform_info.iommu:
        tree.write("kernel/iommu_groups", {})
        for node in range(spec.numa_nodes):
            tree.write(f"devices/virtual/iommu/dmar{node}", {"devices": DIR})
    if spec.vdpa:
        tree.write("bus/vdpa", {"devices": DIR, "drivers_autoprobe": b"1\n"})
        tree.write(f"bus/vdpa/drivers/{VDPA_DRIVER}", _driver_files("vdpa", VDPA_DRIVER))
        tree.write(f"module/{VDPA_DRIVER}", {"drivers": DIR})
        tree.write("class/vhost-vdpa", {})


def _driver_files(bus: str, driver: str) -> dict[str, Entry]:
    files: dict[str, Entry] = {name: WRITE_ONLY for name in ("bind", "unbind", "uevent")}
    if bus == "pci":
        files |= {"new_id": WRITE_ONLY, "remove_id": WRITE_ONLY}
    if driver not in BUILTIN_DRIVERS:
        files["module"] = Link(f"module/{driver}")
    return files
