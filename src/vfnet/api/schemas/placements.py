"""Bodies of /v1/placements: what an instance needs, and where it was placed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from vfnet.api.schemas.base import FromText, Name, RequestBody, ResponseBody
from vfnet.inventory.requests import NumaPolicy

# The vnic types ports accept (vfnet.network.vnic_types), so a placement asks for no other.
VnicType = Literal["direct", "macvtap", "direct-physical", "vdpa", "normal"]
GroupName = Annotated[str, Field(min_length=1, max_length=64)]


class InstancePortIn(RequestBody):
    """An instance's port: one device of the kind its vnic_type needs."""

    id: Name
    vnic_type: VnicType = "direct"
    physnet: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    trusted: bool | None = None
    numa_policy: Annotated[NumaPolicy, FromText] | None = None
    #: Ports sharing a group get VFs of different PFs (an HA pair).
    pf_group: GroupName | None = None


class AliasRequestIn(RequestBody):
    """``count`` devices of a configured ``[pci] alias``, as a flavor would ask."""

    alias: Annotated[str, Field(min_length=1, max_length=256)]
    count: Annotated[int, Field(ge=1, le=64)] = 1
    pf_group: GroupName | None = None


class PlacementIn(RequestBody):
    instance_id: Name
    #: Admins may place for any project; a member's placement is always its own project's.
    project: Name | None = None
    flavor: Name | None = None
    pci_requests: list[AliasRequestIn] = Field(default_factory=list)
    ports: list[InstancePortIn] = Field(default_factory=list)
    #: The host NUMA nodes the instance's CPUs run on; PCI NUMA policies apply against
    #: them. Absent: the instance has no NUMA topology and NUMA policies do not filter.
    numa_cells: (
        Annotated[list[Annotated[int, Field(ge=0, le=1023)]], Field(max_length=64)] | None
    ) = None
    #: Overrides the flavor's hw:pci_numa_affinity_policy.
    numa_policy: Annotated[NumaPolicy, FromText] | None = None
    #: pack fills the busiest host first; spread the emptiest.
    policy: Literal["pack", "spread"] = "pack"


class PlacedDeviceOut(ResponseBody):
    address: str
    request_id: str
    status: str


class PlacementOut(ResponseBody):
    instance_id: str
    project: str | None
    host: str
    devices: list[PlacedDeviceOut]
    created_at: datetime | None = None


class PlacementList(ResponseBody):
    placements: list[PlacementOut]
