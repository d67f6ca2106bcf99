"""A small declarative sysfs tree for discovery tests: kernel formats, relative links."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BRIDGE = "0000:00:02.0"


@dataclass
class SysfsTree:
    """Writes PCI functions the way the kernel lays them out under ``root``.

    Every function is a directory below ``devices/pci0000:00/<bridge>/``, reached through a
    relative ``bus/pci/devices/<bdf>`` link; VFs are siblings of their PF.
    """

    root: Path

    def device_dir(self, bdf: str) -> Path:
        return self.root / "devices" / "pci0000:00" / BRIDGE / bdf

    def function(
        self,
        bdf: str,
        *,
        vendor: str = "0x8086",
        device: str = "0x10c9",
        subsystem: tuple[str, str] = ("0x8086", "0x0000"),
        pci_class: str = "0x020000",
        revision: str = "0x01",
        driver: str | None = "igb",
        numa_node: str = "-1",
        iommu_group: int | None = None,
    ) -> Path:
        path = self.device_dir(bdf)
        path.mkdir(parents=True)
        files = {
            "vendor": vendor,
            "device": device,
            "subsystem_vendor": subsystem[0],
            "subsystem_device": subsystem[1],
            "class": pci_class,
            "revision": revision,
            "numa_node": numa_node,
            "modalias": _modalias(vendor, device, subsystem, pci_class),
        }
        for name, value in files.items():
            (path / name).write_text(value + "\n")
        if driver is not None:
            (self.root / "bus/pci/drivers" / driver).mkdir(parents=True, exist_ok=True)
            (path / "driver").symlink_to(f"../../../../bus/pci/drivers/{driver}")
        if iommu_group is not None:
            (self.root / "kernel/iommu_groups" / str(iommu_group)).mkdir(parents=True)
            (path / "iommu_group").symlink_to(f"../../../../kernel/iommu_groups/{iommu_group}")
        link = self.root / "bus/pci/devices" / bdf
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(path, link.parent))
        return path

    def pf(
        self,
        bdf: str,
        vfs: list[str],
        *,
        total_vfs: int = 7,
        vf_device: str = "10ca",
        vf_driver: str | None = "igbvf",
        **kwargs: Any,
    ) -> Path:
        """A PF with ``vfs`` enabled (``virtfnN`` -> ``../<vf>``, ``physfn`` -> ``../<pf>``)."""
        path = self.function(bdf, **kwargs)
        sriov = {
            "sriov_totalvfs": total_vfs,
            "sriov_numvfs": len(vfs),
            "sriov_offset": 128,
            "sriov_stride": 2,
            "sriov_vf_device": vf_device,
        }
        for name, value in sriov.items():
            (path / name).write_text(f"{value}\n")
        for index, vf in enumerate(vfs):
            self.function(vf, device=f"0x{vf_device[-4:]}", driver=vf_driver)
            (path / f"virtfn{index}").symlink_to(f"../{vf}")
            (self.device_dir(vf) / "physfn").symlink_to(f"../{bdf}")
        return path

    def netdev(self, bdf: str, name: str, **attrs: str) -> Path:
        """``net/<name>/`` with address, operstate, carrier, mtu (overridable by ``attrs``)."""
        path = self.device_dir(bdf) / "net" / name
        path.mkdir(parents=True)
        values = {"address": "52:54:00:00:01:00", "operstate": "up", "carrier": "1", "mtu": "1500"}
        values.update(attrs)
        for attr, value in values.items():
            (path / attr).write_text(value + "\n")
        return path

    def vdpa(self, vf: str, name: str, driver: str | None, chardev: str | None = None) -> Path:
        path = self.device_dir(vf) / name
        path.mkdir()
        if driver is not None:
            (self.root / "bus/vdpa/drivers" / driver).mkdir(parents=True, exist_ok=True)
            (path / "driver").symlink_to(f"../../../../../bus/vdpa/drivers/{driver}")
        if chardev is not None:
            (path / chardev).mkdir()
            (path / chardev / "dev").write_text("239:0\n")
        link = self.root / "bus/vdpa/devices" / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(path, link.parent))
        return path


def _modalias(vendor: str, device: str, subsystem: tuple[str, str], pci_class: str) -> str:
    def eight(value: str) -> str:
        return f"{int(value, 16):08X}"

    klass = int(pci_class, 16)
    return (
        f"pci:v{eight(vendor)}d{eight(device)}sv{eight(subsystem[0])}sd{eight(subsystem[1])}"
        f"bc{klass >> 16:02X}sc{(klass >> 8) & 0xFF:02X}i{klass & 0xFF:02X}"
    )
