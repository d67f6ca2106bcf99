"""Bodies of /v1/hosts: registration, inventory reports, and what is read back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from vfnet.api.schemas.base import FromText, HexId, Name, RequestBody, ResponseBody
from vfnet.errors import ValidationError
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType
from vfnet.store.records import ReportedDevice

TagValue = str | bool | int | None
PhysnetName = Annotated[str, Field(min_length=1, max_length=255)]


class HostIn(RequestBody):
    name: Name
    #: NUMA cell -> CPU socket, as the agent reads it; keys are cell numbers as text in JSON.
    numa_sockets: dict[Annotated[str, Field(pattern=r"^[0-9]+$")], Annotated[int, Field(ge=0)]] = (
        Field(default_factory=dict)
    )
    physnets: list[PhysnetName] = Field(default_factory=list)
    #: physnet -> Linux bridge, for vnic_type normal ports.
    bridges: dict[PhysnetName, Annotated[str, Field(min_length=1, max_length=15)]] = Field(
        default_factory=dict
    )
    #: Its agent resets released VFs and reports the reset verified: until then a
    #: released VF is ``releasing``, not free.
    manages_vfs: bool = False


class HostOut(ResponseBody):
    name: str
    generation: int
    report_generation: int
    numa_sockets: dict[str, int]
    physnets: list[str]
    bridges: dict[str, str]
    created_at: datetime
    reported_at: datetime | None
    manages_vfs: bool
    desired_generation: int
    problems: list[str]
    #: PF address -> the VF attributes its NIC refused (``min_tx_rate``, ``rate``,
    #: ``link_state``, ``mirror``...): ports needing one are not placed on that PF.
    refused: dict[str, list[str]]


class HostList(ResponseBody):
    hosts: list[HostOut]


class DeviceReport(RequestBody):
    address: str
    dev_type: Annotated[DeviceType, FromText]
    vendor_id: HexId
    product_id: HexId
    numa_node: Annotated[int, Field(ge=0)] | None = None
    parent_addr: str | None = None
    vf_index: Annotated[int, Field(ge=0)] | None = None
    driver: Annotated[str, Field(max_length=64)] | None = None
    ifname: Annotated[str, Field(max_length=64)] | None = None
    mac: Annotated[str, Field(pattern=r"^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$")] | None = None
    tags: dict[Annotated[str, Field(min_length=1, max_length=64)], TagValue] = Field(
        default_factory=dict
    )
    resource_name: Annotated[str, Field(max_length=255)] | None = None
    healthy: bool = True
    health_reasons: list[str] = Field(default_factory=list)

    @field_validator("address", "parent_addr")
    @classmethod
    def _kernel_pci_address(cls, value: str | None) -> str | None:
        # InvalidPciAddress is a ValueError, so pydantic reports it against the field.
        return None if value is None else str(PciAddress.parse(value))

    @model_validator(mode="after")
    def _vf_has_parent(self) -> DeviceReport:
        if self.dev_type in (DeviceType.VF, DeviceType.VDPA) and self.parent_addr is None:
            raise ValueError(f"a {self.dev_type.value} device needs parent_addr")
        return self

    def to_reported(self) -> ReportedDevice:
        return ReportedDevice(
            address=PciAddress.parse(self.address),
            dev_type=self.dev_type,
            vendor_id=self.vendor_id.lower(),
            product_id=self.product_id.lower(),
            numa_node=self.numa_node,
            parent_addr=PciAddress.parse(self.parent_addr) if self.parent_addr else None,
            vf_index=self.vf_index,
            driver=self.driver,
            ifname=self.ifname,
            mac=self.mac.lower() if self.mac else None,
            tags=dict(self.tags),
            resource_name=self.resource_name,
            healthy=self.healthy,
            health_reasons=tuple(self.health_reasons),
        )


class InventoryIn(RequestBody):
    #: The agent's own counter; a report older than the last applied one is ignored.
    report_generation: Annotated[int, Field(ge=0)]
    devices: list[DeviceReport]
    #: What the agent could not do with the host (num_vfs refused, a PF missing);
    #: absent: unchanged, [] : none any more.
    problems: list[Annotated[str, Field(max_length=1024)]] | None = Field(
        default=None, max_length=256
    )

    def reported_devices(self) -> tuple[ReportedDevice, ...]:
        """The devices as the store takes them.

        Raises:
            ValidationError: one PCI address appears twice (naming the second one).
        """
        seen: set[str] = set()
        for position, device in enumerate(self.devices):
            if device.address in seen:
                field = f"devices[{position}].address"
                raise ValidationError(field, f"PCI address {device.address} is reported twice")
            seen.add(device.address)
        return tuple(device.to_reported() for device in self.devices)


class InventoryOut(ResponseBody):
    host: str
    applied: bool
    generation: int
    report_generation: int
    added: list[str]
    removed: list[str]
    vanished: list[str]
