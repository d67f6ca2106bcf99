"""What an emulated host looks like: its NICs, their VFs and the platform they sit in."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Any

from vfnet.errors import ValidationError
from vfnet.lab.nics import NicModel, nic_model


@dataclass(frozen=True, slots=True)
class Platform:
    """The machine around the NICs: root complex, IOMMU, NUMA and naming conventions.

    ``server`` is a two-socket style x86 server (Sky Lake-E root ports, VT-d groups,
    systemd names). ``qemu`` is a Q35 guest with QEMU's emulated 82576 (``-device igb``):
    no IOMMU, no NUMA, kernel ``ethN`` names, the card's subsystem ids are Red Hat's.
    """

    name: str
    root_port: tuple[str, str, str, str]  # vendor, device, subsystem vendor, subsystem device
    host_bridge: tuple[str, str] | None
    iommu: bool
    numa: bool
    predictable_names: bool
    cpus_per_node: int
    default_first_bus: int
    nic_subsystem: tuple[str, str] | None = None
    pf_mac_oui: str | None = None
    only_nic: str | None = None


PLATFORMS: Mapping[str, Platform] = MappingProxyType(
    {
        "server": Platform(
            name="server",
            root_port=("8086", "2030", "8086", "0000"),
            host_bridge=("8086", "2020"),
            iommu=True,
            numa=True,
            predictable_names=True,
            cpus_per_node=16,
            default_first_bus=0x3B,
        ),
        "qemu": Platform(
            name="qemu",
            root_port=("1b36", "000c", "1b36", "0000"),
            host_bridge=None,
            iommu=False,
            numa=False,
            predictable_names=False,
            cpus_per_node=2,
            default_first_bus=0x01,
            nic_subsystem=("1af4", "1100"),
            pf_mac_oui="52:54:00",
            only_nic="82576",
        ),
    }
)


@dataclass(frozen=True, slots=True)
class HostSpec:
    """One emulated host: ``pfs`` PFs of ``nic`` with ``vfs`` VFs each."""

    nic: str
    pfs: int
    vfs: int
    numa_nodes: int = 1
    vdpa: bool = False
    vdpa_pf: int | None = None  # with vdpa: only this PF's VFs (0-based) carry vDPA devices
    switchdev: bool = False
    first_bus: int | None = None
    hostname: str = "host-1"
    ports_per_card: int | None = None
    platform: str = "server"
    domain: int = 0

    def __post_init__(self) -> None:
        model = nic_model(self.nic)
        platform = self.platform_info
        if self.pfs < 1:
            raise ValidationError("pfs", f"a host needs at least 1 PF, got {self.pfs}")
        if self.numa_nodes < 1:
            raise ValidationError("numa_nodes", f"must be at least 1, got {self.numa_nodes}")
        if self.ports < 1:
            raise ValidationError("ports_per_card", f"must be at least 1, got {self.ports}")
        total = model.total_vfs_for(self.ports)
        if not 0 <= self.vfs <= total:
            raise ValidationError(
                "vfs", f"{self.vfs} is outside 0..{total} (sriov_totalvfs of {model.name})"
            )
        self._check_platform(model, platform)
        if self.vdpa and not model.vdpa:
            raise ValidationError("vdpa", f"{model.name} has no vDPA support")
        if self.vdpa_pf is not None and not (self.vdpa and 0 <= self.vdpa_pf < self.pfs):
            raise ValidationError(
                "vdpa_pf", f"{self.vdpa_pf} must name one of the {self.pfs} PFs, with vdpa on"
            )
        if self.switchdev and not model.switchdev:
            raise ValidationError("switchdev", f"{model.name} has no switchdev mode")
        if not 0 <= self.bus <= 0xFE:
            raise ValidationError("first_bus", f"{self.bus:#x} is outside 0..0xfe")

    def _check_platform(self, model: NicModel, platform: Platform) -> None:
        if platform.only_nic and model.name != platform.only_nic:
            raise ValidationError(
                "platform", f"{platform.name} emulates only the {platform.only_nic}"
            )
        if not platform.numa and self.numa_nodes != 1:
            raise ValidationError("numa_nodes", f"platform {platform.name} has no NUMA")

    @property
    def model(self) -> NicModel:
        return nic_model(self.nic)

    @property
    def platform_info(self) -> Platform:
        try:
            return PLATFORMS[self.platform]
        except KeyError:
            known = ", ".join(sorted(PLATFORMS))
            raise ValidationError(
                "platform", f"unknown platform {self.platform!r}; known: {known}"
            ) from None

    @property
    def ports(self) -> int:
        """Functions (ports) per card; QEMU's igb is one function per device."""
        if self.ports_per_card is not None:
            return self.ports_per_card
        if self.platform == "qemu":
            return 1
        return nic_model(self.nic).ports_per_card

    @property
    def bus(self) -> int:
        """The bus of the first card's PFs."""
        if self.first_bus is not None:
            return self.first_bus
        return self.platform_info.default_first_bus

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> HostSpec:
        data: dict[str, Any] = json.loads(text)
        return cls(**data)
