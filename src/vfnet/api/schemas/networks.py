"""Bodies of /v1/networks: provider networks with Neutron's ``provider:*`` field names."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from vfnet.api.schemas.base import Ident, Label, RequestBody, ResponseBody, neutron_field

NETWORK_TYPE = "provider:network_type"
PHYSNET = "provider:physical_network"
SEGMENTATION_ID = "provider:segmentation_id"
# What its ports' netdevs are set to: IPv4's minimum up to common jumbo frames (as the store).
Mtu = Annotated[int, Field(ge=68, le=9216)]


class NetworkIn(RequestBody):
    """A new network. The segment's own rules (VLAN 1-4094, no id on flat, a physnet on
    both) are checked by ``vfnet.network.networks`` so that each refusal says why."""

    name: Label
    #: Admins may create a network for any project; by default it is the caller's.
    project_id: Ident | None = None
    network_type: str | None = Field(default=None, alias="provider:network_type")
    physical_network: str | None = Field(default=None, alias="provider:physical_network")
    segmentation_id: int | None = Field(default=None, alias="provider:segmentation_id")
    admin_state_up: bool = True
    shared: bool = False
    qos_policy_id: Ident | None = None
    mtu: Mtu = 1500


class NetworkUpdate(RequestBody):
    """A partial update: only the fields given change; the segment never does.

    The defaults are never applied (unset fields are left out); they only keep ``null``
    out of fields that cannot be empty.
    """

    name: Label = ""
    admin_state_up: bool = True
    shared: bool = False
    #: ``null`` detaches the network's policy.
    qos_policy_id: Ident | None = None
    #: Set on the netdevs of its ports bound from now on and of those bound already.
    mtu: Mtu = 1500


class NetworkOut(ResponseBody):
    id: str
    name: str
    project_id: str
    network_type: str = neutron_field("provider:network_type")
    physical_network: str | None = neutron_field("provider:physical_network")
    segmentation_id: int | None = neutron_field("provider:segmentation_id")
    admin_state_up: bool
    shared: bool
    qos_policy_id: str | None
    mtu: int
    #: ACTIVE while admin_state_up, DOWN otherwise: a network has no agent of its own.
    status: str
    subnets: list[str]
    created_at: datetime


class NetworkList(ResponseBody):
    networks: list[NetworkOut]
