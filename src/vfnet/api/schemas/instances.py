"""Bodies of /v1/instances: a VM or container with its ports, and where it landed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from vfnet.api.schemas.base import FromText, Ident, Name, RequestBody, ResponseBody
from vfnet.inventory.requests import NumaPolicy

GroupName = Annotated[str, Field(min_length=1, max_length=64)]
PortIds = Annotated[list[Ident], Field(max_length=32)]


class InstanceIn(RequestBody):
    name: Annotated[str, Field(min_length=1, max_length=255)]
    kind: Literal["vm", "container"]
    #: Existing ports, attached in this order (eth0, eth1, ... in a container).
    ports: PortIds = Field(default_factory=list)
    #: A normal port is made on each of these networks, after ``ports``, as Nova does.
    networks: PortIds = Field(default_factory=list)
    flavor: Name | None = None
    #: Admins create for any project; a member's instance is always its own project's.
    project_id: Ident | None = None
    #: HA pairs: the ports of one group get devices of different PFs.
    ha_groups: dict[GroupName, PortIds] = Field(default_factory=dict, max_length=16)
    #: The host NUMA nodes the instance runs on (absent: no NUMA filtering).
    numa_cells: (
        Annotated[list[Annotated[int, Field(ge=0, le=1023)]], Field(max_length=64)] | None
    ) = None
    numa_policy: Annotated[NumaPolicy, FromText] | None = None
    policy: Literal["pack", "spread"] = "pack"
    #: Admins only: the host to place the instance on (Nova's ``--availability-zone
    #: nova:HOST``); it must fit as any chosen host would.
    host: Name | None = None


class AttachPortIn(RequestBody):
    """A port to attach hot: an existing one, or a normal port made on a network."""

    port_id: Ident | None = None
    network_id: Ident | None = None

    @model_validator(mode="after")
    def _one(self) -> AttachPortIn:
        if (self.port_id is None) == (self.network_id is None):
            raise ValueError("give either port_id or network_id")
        return self


class MigrateIn(RequestBody):
    #: The target host; absent: the scheduler picks one other than the instance's own.
    host: Name | None = None
    #: Live: the SR-IOV devices are unplugged on the source (waited for) before the move.
    live: bool = False


class MigrationOut(ResponseBody):
    source: str
    target: str
    live: bool
    #: ``unplugging`` (the source's agent unplugs the SR-IOV devices) or ``moving``
    #: (the ports are bound on the target, whose agent plugs them).
    phase: str


class InstancePortOut(ResponseBody):
    id: str
    network_id: str
    vnic_type: str
    status: str
    vif_type: str
    #: The device the port's VF (or PF, vDPA device) is, on ``host``.
    pci_slot: str | None
    #: The interface name inside a container (None for a VM).
    ifname: str | None


class InstanceDeviceOut(ResponseBody):
    address: str
    #: The port id, or ``<alias>-<n>`` for a flavor's alias request.
    request_id: str
    status: str


class InstanceOut(ResponseBody):
    id: str
    name: str
    project_id: str | None
    kind: str
    flavor: str | None
    host: str | None
    state: str
    reason: str | None
    ports: list[InstancePortOut]
    devices: list[InstanceDeviceOut]
    #: The migration under way, or null.
    migration: MigrationOut | None = None
    created_at: datetime


class InstanceList(ResponseBody):
    instances: list[InstanceOut]
