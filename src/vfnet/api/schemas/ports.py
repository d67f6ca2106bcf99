"""Bodies of /v1/ports: Neutron's port fields, ``binding:*`` included.

``binding:vnic_type``, ``binding:profile``, MACs and fixed IPs are checked by
``vfnet.network`` (so a refused vnic type says why vfnet cannot serve it); the schema
only fixes their JSON types.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from vfnet.api.schemas.base import Ident, Label, Name, RequestBody, ResponseBody, neutron_field

VNIC_TYPE = "binding:vnic_type"
PROFILE = "binding:profile"
HOST_ID = "binding:host_id"
VIF_TYPE = "binding:vif_type"
VIF_DETAILS = "binding:vif_details"
FAILURE_REASON = "binding:failure_reason"


class FixedIpIn(RequestBody):
    """A fixed IP asked for: an address, a subnet to take the lowest free one of, or both."""

    subnet_id: Ident | None = None
    ip_address: str | None = None


class PortIn(RequestBody):
    network_id: Ident
    name: Label = ""
    #: Admins may create a port for any project; a member's port is its own project's.
    project_id: Ident | None = None
    mac_address: str | None = None
    #: Left out: one address from the network's first subnet of each IP version.
    fixed_ips: list[FixedIpIn] | None = None
    vnic_type: str = Field(default="normal", alias="binding:vnic_type")
    admin_state_up: bool = True
    port_security_enabled: bool = True
    propagate_uplink_status: bool = True
    security_groups: list[str] = Field(default_factory=list)
    profile: dict[str, Any] = Field(default_factory=dict, alias="binding:profile")
    mirror_to: Ident | None = None
    qos_policy_id: Ident | None = None
    #: Admins only: bind the port on this host as soon as it exists.
    host_id: Name | None = Field(default=None, alias="binding:host_id")


class PortUpdate(RequestBody):
    """A partial update: only the fields given change (defaults are never applied).

    ``binding:host_id`` (admins) binds the port on that host; ``null`` unbinds it.
    """

    name: Label = ""
    admin_state_up: bool = True
    port_security_enabled: bool = True
    propagate_uplink_status: bool = True
    profile: dict[str, Any] = Field(default_factory=dict, alias="binding:profile")
    qos_policy_id: Ident | None = None
    mirror_to: Ident | None = None
    vnic_type: str = Field(default="normal", alias="binding:vnic_type")
    mac_address: str = ""
    #: What uses the port (an instance id); set by whoever plugs it.
    device_id: Label = ""
    host_id: Name | None = Field(default=None, alias="binding:host_id")


class FixedIpOut(ResponseBody):
    subnet_id: str
    ip_address: str


class PortOut(ResponseBody):
    id: str
    name: str
    network_id: str
    project_id: str | None
    mac_address: str
    fixed_ips: list[FixedIpOut]
    vnic_type: str = neutron_field("binding:vnic_type")
    admin_state_up: bool
    port_security_enabled: bool
    propagate_uplink_status: bool
    security_groups: list[str]
    profile: dict[str, Any] = neutron_field("binding:profile")
    mirror_to: str | None
    qos_policy_id: str | None
    #: DOWN until the host's agent reports the device applied, then ACTIVE.
    status: str
    #: Why the host's agent reported the port ERROR (null otherwise).
    status_reason: str | None = None
    host_id: str | None = neutron_field("binding:host_id")
    #: unbound, binding_failed, hw_veb, hostdev_physical, vdpa or bridge.
    vif_type: str = neutron_field("binding:vif_type")
    vif_details: dict[str, Any] = neutron_field("binding:vif_details")
    #: Why the last binding failed, naming the host and what it has; null otherwise.
    failure_reason: str | None = neutron_field("binding:failure_reason")
    device_id: str
    created_at: datetime


class PortList(ResponseBody):
    ports: list[PortOut]
