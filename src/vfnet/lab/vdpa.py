"""vDPA devices on VFs: ``vdpaN`` under the VF, bound to vhost_vdpa with its char device."""

from __future__ import annotations

from vfnet.lab.tree import DIR, Link, Tree
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import VdpaDevice

VHOST_VDPA_MAJOR = 509
DRIVER = "vhost_vdpa"


class VdpaWriter:
    """Adds and removes vDPA devices, numbering them as ``vdpa dev add`` and the kernel do."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self._names = set(tree.names("bus/vdpa/devices"))
        self._chardevs = set(tree.names("class/vhost-vdpa"))

    def add(self, vf: PciAddress, vf_path: str) -> VdpaDevice:
        name = _lowest_free("vdpa", self._names)
        chardev = _lowest_free("vhost-vdpa-", self._chardevs)
        minor = int(chardev.rpartition("-")[2])
        path = f"{vf_path}/{name}"
        self.tree.write(
            path,
            {
                "driver": Link(f"bus/vdpa/drivers/{DRIVER}"),
                "driver_override": b"(null)\n",
                "subsystem": Link("bus/vdpa"),
                "uevent": f"DRIVER={DRIVER}\nMODALIAS=vdpa:v00001AF4d00000001\n".encode(),
                "power": DIR,
                f"{chardev}/dev": f"{VHOST_VDPA_MAJOR}:{minor}\n".encode(),
                f"{chardev}/uevent": (
                    f"MAJOR={VHOST_VDPA_MAJOR}\nMINOR={minor}\nDEVNAME={chardev}\n".encode()
                ),
                f"{chardev}/subsystem": Link("class/vhost-vdpa"),
                f"{chardev}/device": Link(path),
                f"{chardev}/power": DIR,
            },
        )
        self.tree.link(f"bus/vdpa/devices/{name}", path)
        self.tree.link(f"bus/vdpa/drivers/{DRIVER}/{name}", path)
        self.tree.link(f"class/vhost-vdpa/{chardev}", f"{path}/{chardev}")
        return VdpaDevice(name=name, parent=vf, driver=DRIVER, chardev=f"/dev/{chardev}")

    def remove(self, vf_path: str, name: str) -> None:
        path = f"{vf_path}/{name}"
        for chardev in self.tree.names(path):
            if chardev.startswith("vhost-vdpa-"):
                self.tree.remove(f"class/vhost-vdpa/{chardev}")
                self._chardevs.discard(chardev)
        self.tree.remove(f"bus/vdpa/drivers/{DRIVER}/{name}")
        self.tree.remove(f"bus/vdpa/devices/{name}")
        self.tree.remove(path)
        self._names.discard(name)


def _lowest_free(prefix: str, used: set[str]) -> str:
    name = next(f"{prefix}{i}" for i in range(len(used) + 1) if f"{prefix}{i}" not in used)
    used.add(name)
    return name
