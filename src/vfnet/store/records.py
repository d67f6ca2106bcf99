"""What the store hands out and takes in: plain frozen values, no database handles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from ipaddress import ip_network
from typing import Any

from vfnet.network.ipam import IpRange, parse_ip
from vfnet.network.networks import Network, NetworkType, Segment
from vfnet.network.ports import Port
from vfnet.network.qos import QosPolicy, QosRule
from vfnet.network.subnets import Subnet
from vfnet.network.vnic_types import VnicType
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType
from vfnet.pci.selection import TagValue


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An API token; its plaintext is never stored, only its sha256."""

    id: str
    role: str  # admin | member | agent
    project: str | None
    host: str | None
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class HostRecord:
    """A compute host: NUMA cell -> socket, the physnets and bridges it declares."""

    name: str
    generation: int
    report_generation: int
    numa_sockets: Mapping[int, int]
    physnets: tuple[str, ...]
    bridges: Mapping[str, str]  # physnet -> Linux bridge, for vnic_type normal
    created_at: datetime
    reported_at: datetime | None
    manages_vfs: bool = False  # its agent verifies each released VF's reset
    desired_generation: int = 0  # the version of the host's desired state
    problems: tuple[str, ...] = ()  # what the agent last could not do with the host
    # PF address -> the VF attributes its NIC refused (min_tx_rate...), as last reported.
    refused: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReportedDevice:
    """One device as an agent reports it: the selected PCI function, tags and health."""

    address: PciAddress
    dev_type: DeviceType
    vendor_id: str
    product_id: str
    numa_node: int | None = None
    parent_addr: PciAddress | None = None
    vf_index: int | None = None
    driver: str | None = None
    ifname: str | None = None
    mac: str | None = None
    tags: Mapping[str, TagValue] = field(default_factory=dict)
    resource_name: str | None = None
    healthy: bool = True
    health_reasons: tuple[str, ...] = ()

    @property
    def physnet(self) -> str | None:
        value = self.tags.get("physical_network")
        return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """A device the server tracks: the reported facts plus its state and owner.

    ``vanished`` is set on a claimed or allocated device missing from the latest
    report: it is kept, and removed when released.
    """

    host: str
    reported: ReportedDevice
    state: str
    owner: str | None
    vanished: bool = False
    request_id: str | None = None
    claim_generation: int = 0  # how many times it was claimed

    @property
    def address(self) -> PciAddress:
        return self.reported.address

    @property
    def dev_type(self) -> DeviceType:
        return self.reported.dev_type

    @property
    def physnet(self) -> str | None:
        return self.reported.physnet


@dataclass(frozen=True, slots=True)
class PoolRecord:
    """Devices of one host sharing a pool key, with how many are free."""

    host: str
    vendor_id: str
    product_id: str
    numa_node: int | None
    dev_type: str
    physnet: str | None
    tags: Mapping[str, str | None]
    parent_addr: str | None  # the PF of a VF pool; None for PF and PCI pools
    free: int
    total: int


@dataclass(frozen=True, slots=True)
class ReportResult:
    """What applying an inventory report did; ``applied`` is false for a stale report."""

    host: str
    applied: bool
    generation: int
    report_generation: int
    added: tuple[PciAddress, ...] = ()
    removed: tuple[PciAddress, ...] = ()
    updated: tuple[PciAddress, ...] = ()  # free devices whose reported properties changed
    deferred: tuple[PciAddress, ...] = ()  # busy devices whose changes wait for their release
    vanished: tuple[PciAddress, ...] = ()


@dataclass(frozen=True, slots=True)
class ClaimedDevice:
    address: PciAddress
    request_id: str
    status: str  # claimed | allocated


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    """The devices one owner holds on one host; ``generation`` is the host's after the write."""

    owner: str
    host: str
    devices: tuple[ClaimedDevice, ...]
    generation: int

    @property
    def addresses(self) -> tuple[PciAddress, ...]:
        return tuple(d.address for d in self.devices)


@dataclass(frozen=True, slots=True)
class FlavorRecord:
    name: str
    vcpus: int
    ram_mb: int
    numa_cells: int
    extra_specs: Mapping[str, str]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PlacementRecord:
    """Where an instance went: its host, the claim owner, and the request it came from."""

    instance_id: str
    host: str
    owner: str
    project: str | None
    request: Mapping[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NetworkRecord:
    """A network with its provider segment and the ids of its subnets (oldest first)."""

    id: str
    name: str
    project_id: str
    network_type: str
    physical_network: str | None
    segmentation_id: int | None
    admin_state_up: bool
    shared: bool
    qos_policy_id: str | None
    subnet_ids: tuple[str, ...]
    created_at: datetime
    mtu: int = 1500

    @property
    def segment(self) -> Segment:
        return Segment(NetworkType(self.network_type), self.physical_network, self.segmentation_id)

    def to_network(self) -> Network:
        return Network(
            name=self.name,
            project_id=self.project_id,
            segment=self.segment,
            admin_state_up=self.admin_state_up,
            shared=self.shared,
            qos_policy_id=self.qos_policy_id,
            id=self.id,
        )


@dataclass(frozen=True, slots=True)
class SubnetRecord:
    """A subnet; ``allocation_pools`` holds ``(start, end)`` address texts."""

    id: str
    name: str
    network_id: str
    project_id: str
    cidr: str
    ip_version: int
    gateway_ip: str | None
    allocation_pools: tuple[tuple[str, str], ...]
    created_at: datetime

    def to_subnet(self) -> Subnet:
        return Subnet(
            network_id=self.network_id,
            cidr=ip_network(self.cidr),
            gateway_ip=None if self.gateway_ip is None else parse_ip(self.gateway_ip, "gateway_ip"),
            allocation_pools=tuple(IpRange.parse(a, b) for a, b in self.allocation_pools),
            name=self.name,
            id=self.id,
        )


@dataclass(frozen=True, slots=True)
class FixedIp:
    subnet_id: str
    ip_address: str


@dataclass(frozen=True, slots=True)
class FixedIpRequest:
    """A fixed IP a user asks for: a subnet, an address, or both."""

    subnet_id: str | None = None
    ip_address: str | None = None


UNBOUND = "unbound"


@dataclass(frozen=True, slots=True)
class PortRecord:
    """A port with its fixed IPs and binding (``host`` is ``binding:host_id``)."""

    id: str
    name: str
    network_id: str
    project_id: str | None
    mac_address: str
    fixed_ips: tuple[FixedIp, ...]
    vnic_type: str
    admin_state_up: bool
    port_security_enabled: bool
    propagate_uplink_status: bool
    profile: Mapping[str, Any]
    mirror_to: str | None
    qos_policy_id: str | None
    device_id: str
    status: str
    host: str | None
    vif_type: str
    vif_details: Mapping[str, Any]
    failure_reason: str | None
    claim_owner: str | None
    created_at: datetime
    status_reason: str | None = None  # why the agent reported it ERROR

    @property
    def bound(self) -> bool:
        """Bound (or tried to bind) on a host: its VF was chosen for these settings."""
        return self.host is not None

    def to_port(self) -> Port:
        return Port(
            network_id=self.network_id,
            mac_address=self.mac_address,
            vnic_type=VnicType(self.vnic_type),
            admin_state_up=self.admin_state_up,
            port_security_enabled=self.port_security_enabled,
            propagate_uplink_status=self.propagate_uplink_status,
            profile=dict(self.profile),
            mirror_to=self.mirror_to,
            qos_policy_id=self.qos_policy_id,
            fixed_ips=tuple(parse_ip(f.ip_address, "fixed_ips") for f in self.fixed_ips),
            name=self.name,
            id=self.id,
        )


@dataclass(frozen=True, slots=True)
class QosPolicyRecord:
    id: str
    name: str
    project_id: str
    shared: bool
    rules: tuple[QosRule, ...]
    created_at: datetime

    def to_policy(self) -> QosPolicy:
        return QosPolicy(self.id, self.rules)
