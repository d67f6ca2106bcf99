"""NIC models an emulated host can carry: the ids, drivers and SR-IOV geometry of real cards."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from vfnet.errors import ValidationError


@dataclass(frozen=True, slots=True)
class NicModel:
    """One SR-IOV NIC as the kernel presents it.

    ``total_vfs`` is what the driver reports in ``sriov_totalvfs`` (igb says 7 where the
    capability says 8: ``cap_total_vfs``). ``device_vfs`` is a device-wide VF budget shared
    by the ports (E810), so one port alone gets all of it. VFs of port ``fn`` start at
    ``vf_offset(fn)`` routing ids past the PF, ``vf_stride`` apart.
    """

    name: str
    vendor: str
    pf_device: str
    vf_device: str
    subsystem_vendor: str
    subsystem_device: str
    vf_subsystem_device: str
    revision: str
    pf_driver: str
    vf_driver: str
    total_vfs: int
    cap_total_vfs: int
    first_vf_offset: int
    vf_stride: int
    ports_per_card: int
    link_speed: str  # PCIe link, as current_link_speed shows it
    link_width: int
    speed_mbps: int  # Ethernet port speed, as net/<if>/speed shows it
    mac_oui: str
    class_code: str = "020000"
    device_vfs: int | None = None
    vdpa: bool = False
    switchdev: bool = False
    vf_netdev_prefix: str | None = None

    def total_vfs_for(self, ports: int) -> int:
        """VFs per PF when the card exposes ``ports`` functions."""
        if self.device_vfs is not None:
            return self.device_vfs // ports
        return self.total_vfs

    def cap_total_vfs_for(self, ports: int) -> int:
        """TotalVFs in the SR-IOV capability of each PF."""
        if self.device_vfs is not None:
            return self.total_vfs_for(ports)
        return self.cap_total_vfs

    def vf_offset(self, fn: int, ports: int) -> int:
        """``sriov_offset`` of the PF at function ``fn``.

        Interleaved parts (82576: stride 2) share one offset; the others give each
        port a contiguous block after the previous port's block, as X710 and mlx5 do.
        """
        if self.vf_stride > 1:
            return self.first_vf_offset
        return self.first_vf_offset + fn * (self.total_vfs_for(ports) - 1)


_MODELS = (
    NicModel(
        name="82576",
        vendor="8086",
        pf_device="10c9",
        vf_device="10ca",
        subsystem_vendor="8086",
        subsystem_device="a03c",
        vf_subsystem_device="a03c",
        revision="01",
        pf_driver="igb",
        vf_driver="igbvf",
        total_vfs=7,
        cap_total_vfs=8,
        first_vf_offset=128,
        vf_stride=2,
        ports_per_card=2,
        link_speed="2.5 GT/s PCIe",
        link_width=4,
        speed_mbps=1000,
        mac_oui="00:1b:21",
    ),
    NicModel(
        name="x710",
        vendor="8086",
        pf_device="1572",
        vf_device="154c",
        subsystem_vendor="8086",
        subsystem_device="0001",
        vf_subsystem_device="0000",
        revision="02",
        pf_driver="i40e",
        vf_driver="iavf",
        total_vfs=64,
        cap_total_vfs=64,
        first_vf_offset=16,
        vf_stride=1,
        ports_per_card=2,
        link_speed="8.0 GT/s PCIe",
        link_width=8,
        speed_mbps=10000,
        mac_oui="3c:fd:fe",
    ),
    NicModel(
        name="e810",
        vendor="8086",
        pf_device="1592",
        vf_device="1889",
        subsystem_vendor="8086",
        subsystem_device="0002",
        vf_subsystem_device="0000",
        revision="02",
        pf_driver="ice",
        vf_driver="iavf",
        total_vfs=128,
        cap_total_vfs=128,
        device_vfs=256,
        first_vf_offset=8,
        vf_stride=1,
        ports_per_card=2,
        link_speed="16.0 GT/s PCIe",
        link_width=16,
        speed_mbps=100000,
        mac_oui="b4:96:91",
        switchdev=True,
    ),
    NicModel(
        name="cx6dx",
        vendor="15b3",
        pf_device="101d",
        vf_device="101e",
        subsystem_vendor="15b3",
        subsystem_device="0016",
        vf_subsystem_device="0016",
        revision="00",
        pf_driver="mlx5_core",
        vf_driver="mlx5_core",
        total_vfs=127,
        cap_total_vfs=127,
        first_vf_offset=2,
        vf_stride=1,
        ports_per_card=2,
        link_speed="16.0 GT/s PCIe",
        link_width=16,
        speed_mbps=100000,
        mac_oui="0c:42:a1",
        vdpa=True,
        switchdev=True,
    ),
)

_ALIASES = {"igb": "82576", "i40e": "x710", "ice": "e810", "mlx5": "cx6dx"}

NIC_MODELS: Mapping[str, NicModel] = MappingProxyType(
    {m.name: m for m in _MODELS}
    | {alias: next(m for m in _MODELS if m.name == name) for alias, name in _ALIASES.items()}
)


def nic_model(name: str) -> NicModel:
    """The model called ``name`` (or its driver name); ValidationError if there is none."""
    try:
        return NIC_MODELS[name]
    except KeyError:
        known = ", ".join(sorted(NIC_MODELS))
        raise ValidationError("nic", f"unknown NIC model {name!r}; known: {known}") from None
