"""The desired state of one host, as the server publishes it and the agent reconciles to it.

The JSON document (``GET`` of a host's desired state) is::

    {
      "host": "compute-1",
      "generation": 42,                     # bumped on every change to this document
      "devices": {                          # claimed VFs, by PCI address
        "0000:3b:02.1": {
          "owner": "instance:6f1c...",      # who holds the claim (instance or CNI sandbox)
          "claim_generation": 7,            # the device's claim counter at this claim
          "port_id": "0b7e...",
          "mac": "fa:16:3e:12:34:56",       # unicast, not all zeros
          "vlan": 100, "qos": 0, "vlan_proto": "802.1Q",   # 0-4094, 0-7, 802.1Q|802.1ad
          "spoofchk": true, "trust": false,
          "min_tx_rate": 0, "max_tx_rate": 10,             # Mbps, 0: none
          "link_state": "auto",             # auto | enable | disable
          "mtu": 1500,                      # the network's; null: leave the netdev's alone
          "attach": {"kind": "netns", "name": "vfnet-c-6f1c", "ifname": "eth0",
                     "addresses": ["10.0.0.5/24"],
                     "routes": [{"dst": "default", "gateway": "10.0.0.1"}],
                     "instance": "6f1c..."},
          "mirror_to": "0000:3b:02.3"       # optional: copy its traffic to this VF
        }
      },
      "released": {                         # VFs to reset, with the claim generation
        "0000:3b:02.2": 6                   # they were released at
      },
      "instances": {                        # optional: the instances placed on this host
        "6f1c...": {
          "kind": "container",              # vm | container
          "state": "running",               # running | suspended | migrating
          "vcpus": 2, "memory_mib": 2048, "numa_cells": 0,   # the flavor's (null, 0: none)
          "hostdevs": ["0000:af:00.0"],     # its flavor's PCI devices (a GPU...)
          "bridge_ports": [{"port_id": "9d2e...", "mac": "fa:16:3e:00:00:07",
                            "bridge": "br-phys1", "ifname": "eth1", "mtu": 1500,
                            "addresses": ["10.1.0.4/24"], "routes": []}]
        }
      }
    }

``attach`` is ``{"kind": "host"}`` (the VF netdev stays in the host namespace),
``{"kind": "netns", "name": <namespace>, "ifname": <name inside, or null>, "addresses":
[<CIDR>...], "routes": [{"dst": "default"|<CIDR>, "gateway": <IP>|null}...], "instance":
<id>|null}`` or ``{"kind": "libvirt", "name": <domain>, "vnic_type": "direct"|"macvtap"|
"direct-physical"|"vdpa"|null, "instance": <id>|null}``; the keys after ``name`` and
``ifname`` may be left out. ``mirror_to`` (optional, absent or null for none) names
another VF whose port receives a copy of what this VF sends and receives. An instance
that is ``suspended`` or ``migrating`` has its SR-IOV devices unplugged: its VFs stay
claimed and configured, at home. Every object refuses unknown keys and every value is
checked before the agent acts; a bad one raises ``ValidationError`` whose field is a
path such as ``devices[0000:3b:02.1].mac`` or ``instances[6f1c].bridge_ports[0].mtu``.

A device is either claimed or released, never both. The agent echoes ``claim_generation``
in its reports, so the server can drop a report about a claim that has since moved on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as SchemaError

from vfnet.agent import desired_checks as check
from vfnet.agent.attach.netns import Route
from vfnet.errors import ValidationError
from vfnet.network.macs import normalise_mac
from vfnet.network.vf_settings import LinkState, VfSettings
from vfnet.pci.address import PciAddress

__all__ = [
    "AttachKind",
    "Attachment",
    "BridgePort",
    "ClaimedVf",
    "DesiredState",
    "InstanceSpec",
    "InstanceState",
    "parse_desired",
]

VLAN_PROTOCOLS = ("802.1Q", "802.1ad")
MAX_VLAN = check.MAX_VLAN
MAX_QOS = 7  # the 3-bit priority code point
MAX_RATE = 2**32 - 1  # IFLA_VF_RATE carries u32 Mbps
MTU_RANGE = check.MTU_RANGE
VNIC_TYPES = ("direct", "macvtap", "direct-physical", "vdpa")  # how a VF reaches a guest
IFNAME = Field(min_length=1, max_length=15)  # IFNAMSIZ - 1


class AttachKind(StrEnum):
    HOST = "host"
    NETNS = "netns"
    LIBVIRT = "libvirt"


class InstanceState(StrEnum):
    RUNNING = "running"
    SUSPENDED = "suspended"  # its SR-IOV devices unplugged; a VM saved to disk
    MIGRATING = "migrating"  # its SR-IOV devices unplugged while it moves to another host


@dataclass(frozen=True, slots=True)
class Attachment:
    """Where a claimed VF goes: the host, a network namespace, or a libvirt domain."""

    kind: AttachKind = AttachKind.HOST
    name: str | None = None  # namespace or domain name
    ifname: str | None = None  # the VF netdev's name inside a namespace
    # netns: the port's fixed IPs with their subnet's prefix, and routes through it.
    addresses: tuple[str, ...] = ()
    routes: tuple[Route, ...] = ()
    # libvirt: how the VF reaches the guest (direct, macvtap, direct-physical, vdpa).
    vnic_type: str | None = None
    instance: str | None = None  # the instance the VF belongs to, if any


@dataclass(frozen=True, slots=True)
class BridgePort:
    """A normal port of an instance: a veth (container) or tap (VM) on a Linux bridge."""

    port_id: str
    mac: str
    bridge: str  # the host's bridge for the port's physical network
    ifname: str  # its name inside a container (eth<N>); a VM's tap is named by the agent
    mtu: int | None = None
    addresses: tuple[str, ...] = ()
    routes: tuple[Route, ...] = ()


@dataclass(frozen=True, slots=True)
class InstanceSpec:
    """An instance on this host: what the agent builds for it besides its VFs."""

    id: str
    kind: str  # "vm" | "container"
    state: InstanceState = InstanceState.RUNNING
    vcpus: int | None = None  # vm
    memory_mib: int | None = None  # vm
    numa_cells: int = 0  # vm: 0 for no NUMA topology
    hostdevs: tuple[PciAddress, ...] = ()  # flavor-alias PCI devices (GPUs...) for a vm
    bridge_ports: tuple[BridgePort, ...] = ()


HOST = Attachment()


@dataclass(frozen=True, slots=True)
class ClaimedVf:
    """One claimed VF: whose it is, at which claim generation, and what it must hold."""

    address: PciAddress
    owner: str
    claim_generation: int
    port_id: str
    settings: VfSettings
    mtu: int | None = None
    attach: Attachment = HOST
    mirror_to: PciAddress | None = None  # the VF that gets a copy of this one's traffic


@dataclass(frozen=True, slots=True)
class DesiredState:
    host: str
    generation: int
    claimed: Mapping[PciAddress, ClaimedVf] = field(default_factory=dict)
    released: Mapping[PciAddress, int] = field(default_factory=dict)  # -> claim generation
    instances: Mapping[str, InstanceSpec] = field(default_factory=dict)  # by instance id

    def to_json(self) -> dict[str, Any]:
        """The document :func:`parse_desired` reads, with every key spelled out."""
        return {
            "host": self.host,
            "generation": self.generation,
            "devices": {str(a): _claimed_json(vf) for a, vf in self.claimed.items()},
            "released": {str(a): generation for a, generation in self.released.items()},
            "instances": {i: _instance_json(spec) for i, spec in self.instances.items()},
        }


# The wire schema: types and unknown keys; values are checked on conversion below,
# where the error can name the device by its PCI address.
class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Route(_Wire):
    dst: str = Field(min_length=1)
    gateway: str | None = None


class _HostAttach(_Wire):
    kind: Literal["host"]


class _NetnsAttach(_Wire):
    kind: Literal["netns"]
    name: str = Field(min_length=1, max_length=255)
    ifname: str | None = Field(default=None, min_length=1, max_length=15)  # IFNAMSIZ - 1
    addresses: list[str] = Field(default_factory=list)
    routes: list[_Route] = Field(default_factory=list)
    instance: str | None = Field(default=None, min_length=1)


class _LibvirtAttach(_Wire):
    kind: Literal["libvirt"]
    name: str = Field(min_length=1, max_length=255)
    vnic_type: str | None = None
    instance: str | None = Field(default=None, min_length=1)


class _Device(_Wire):
    owner: str = Field(min_length=1)
    claim_generation: int = Field(ge=0)
    port_id: str = Field(min_length=1)
    mac: str
    vlan: int
    qos: int
    vlan_proto: str
    spoofchk: bool
    trust: bool
    min_tx_rate: int
    max_tx_rate: int
    link_state: str
    mtu: int | None
    attach: Annotated[_HostAttach | _NetnsAttach | _LibvirtAttach, Field(discriminator="kind")]
    mirror_to: str | None = None


class _BridgePort(_Wire):
    port_id: str = Field(min_length=1)
    mac: str
    bridge: str = IFNAME
    ifname: str = IFNAME
    mtu: int | None = None
    addresses: list[str] = Field(default_factory=list)
    routes: list[_Route] = Field(default_factory=list)


class _Instance(_Wire):
    kind: str
    state: str
    vcpus: int | None
    memory_mib: int | None
    numa_cells: int
    hostdevs: list[str]
    bridge_ports: list[_BridgePort]


class _Desired(_Wire):
    host: str = Field(min_length=1)
    generation: int = Field(ge=0)
    devices: dict[str, _Device]
    released: dict[str, Annotated[int, Field(ge=0)]]
    instances: dict[Annotated[str, Field(min_length=1)], _Instance] = Field(default_factory=dict)


def parse_desired(document: object) -> DesiredState:
    """The desired state in ``document`` (decoded JSON), every value checked.

    Raises:
        ValidationError: naming the first bad field by its path and saying why.
    """
    try:
        wire = _Desired.model_validate(document)
    except SchemaError as error:
        first = error.errors()[0]
        raise ValidationError(check.path(first["loc"]), first["msg"]) from None
    claimed = {}
    for key, device in wire.devices.items():
        address = check.pci_address("devices", key)
        claimed[address] = _claimed(address, f"devices[{key}]", device)
    released = {}
    for key, generation in wire.released.items():
        address = check.pci_address("released", key)
        if address in claimed:
            raise ValidationError(f"released[{key}]", "is also claimed in devices")
        released[address] = generation
    instances = {
        key: _instance(key, f"instances[{key}]", spec) for key, spec in wire.instances.items()
    }
    return DesiredState(wire.host, wire.generation, claimed, released, instances)


def _claimed(address: PciAddress, where: str, device: _Device) -> ClaimedVf:
    settings = VfSettings(
        mac=normalise_mac(device.mac, f"{where}.mac"),
        vlan=check.within(f"{where}.vlan", device.vlan, 0, MAX_VLAN),
        qos=check.within(f"{where}.qos", device.qos, 0, MAX_QOS),
        vlan_proto=check.one_of(f"{where}.vlan_proto", device.vlan_proto, VLAN_PROTOCOLS),
        spoofchk=device.spoofchk,
        trust=device.trust,
        min_tx_rate=check.within(f"{where}.min_tx_rate", device.min_tx_rate, 0, MAX_RATE),
        max_tx_rate=check.within(f"{where}.max_tx_rate", device.max_tx_rate, 0, MAX_RATE),
        link_state=LinkState(
            check.one_of(f"{where}.link_state", device.link_state, tuple(LinkState))
        ),
    )
    if settings.max_tx_rate and settings.min_tx_rate > settings.max_tx_rate:
        raise ValidationError(
            f"{where}.min_tx_rate",
            f"{settings.min_tx_rate} Mbps is above max_tx_rate {settings.max_tx_rate} Mbps",
        )
    mtu = check.mtu(f"{where}.mtu", device.mtu)
    attach = _attachment(f"{where}.attach", device.attach)
    mirror_to = None
    if device.mirror_to is not None:
        mirror_to = check.pci_address(f"{where}.mirror_to", device.mirror_to, bracket=False)
        if mirror_to == address:
            raise ValidationError(f"{where}.mirror_to", "a VF cannot mirror to itself")
    return ClaimedVf(
        address,
        device.owner,
        device.claim_generation,
        device.port_id,
        settings,
        mtu,
        attach,
        mirror_to,
    )


def _attachment(where: str, wire: _HostAttach | _NetnsAttach | _LibvirtAttach) -> Attachment:
    if isinstance(wire, _NetnsAttach):
        return Attachment(
            AttachKind.NETNS,
            wire.name,
            wire.ifname,
            check.addresses(f"{where}.addresses", wire.addresses),
            check.routes(f"{where}.routes", ((r.dst, r.gateway) for r in wire.routes)),
            instance=wire.instance,
        )
    if isinstance(wire, _LibvirtAttach):
        vnic_type = wire.vnic_type
        if vnic_type is not None:
            check.one_of(f"{where}.vnic_type", vnic_type, VNIC_TYPES)
        return Attachment(
            AttachKind.LIBVIRT, wire.name, vnic_type=vnic_type, instance=wire.instance
        )
    return HOST


def _instance(key: str, where: str, wire: _Instance) -> InstanceSpec:
    kind = check.one_of(f"{where}.kind", wire.kind, ("vm", "container"))
    state = InstanceState(check.one_of(f"{where}.state", wire.state, tuple(InstanceState)))
    vcpus = None if wire.vcpus is None else check.within(f"{where}.vcpus", wire.vcpus, 1, 4096)
    memory = wire.memory_mib
    if memory is not None:
        memory = check.within(f"{where}.memory_mib", memory, 1, 2**32 - 1)
    hostdevs = tuple(
        check.pci_address(f"{where}.hostdevs[{n}]", text, bracket=False)
        for n, text in enumerate(wire.hostdevs)
    )
    ports = tuple(
        _bridge_port(f"{where}.bridge_ports[{n}]", port) for n, port in enumerate(wire.bridge_ports)
    )
    numa_cells = check.within(f"{where}.numa_cells", wire.numa_cells, 0, 64)
    return InstanceSpec(key, kind, state, vcpus, memory, numa_cells, hostdevs, ports)


def _bridge_port(where: str, wire: _BridgePort) -> BridgePort:
    return BridgePort(
        wire.port_id,
        normalise_mac(wire.mac, f"{where}.mac"),
        wire.bridge,
        wire.ifname,
        check.mtu(f"{where}.mtu", wire.mtu),
        check.addresses(f"{where}.addresses", wire.addresses),
        check.routes(f"{where}.routes", ((r.dst, r.gateway) for r in wire.routes)),
    )


def _attach_json(attach: Attachment) -> dict[str, Any]:
    if attach.kind is AttachKind.NETNS:
        return {
            "kind": attach.kind.value,
            "name": attach.name,
            "ifname": attach.ifname,
            "addresses": list(attach.addresses),
            "routes": [_route_json(route) for route in attach.routes],
            "instance": attach.instance,
        }
    if attach.kind is AttachKind.LIBVIRT:
        return {
            "kind": attach.kind.value,
            "name": attach.name,
            "vnic_type": attach.vnic_type,
            "instance": attach.instance,
        }
    return {"kind": attach.kind.value}


def _route_json(route: Route) -> dict[str, Any]:
    return {"dst": route.dst, "gateway": route.gateway}


def _instance_json(spec: InstanceSpec) -> dict[str, Any]:
    return {
        "kind": spec.kind,
        "state": spec.state.value,
        "vcpus": spec.vcpus,
        "memory_mib": spec.memory_mib,
        "numa_cells": spec.numa_cells,
        "hostdevs": [str(address) for address in spec.hostdevs],
        "bridge_ports": [
            {
                "port_id": port.port_id,
                "mac": port.mac,
                "bridge": port.bridge,
                "ifname": port.ifname,
                "mtu": port.mtu,
                "addresses": list(port.addresses),
                "routes": [_route_json(route) for route in port.routes],
            }
            for port in spec.bridge_ports
        ],
    }


def _claimed_json(vf: ClaimedVf) -> dict[str, Any]:
    s = vf.settings
    attach = _attach_json(vf.attach)
    document: dict[str, Any] = {
        "owner": vf.owner,
        "claim_generation": vf.claim_generation,
        "port_id": vf.port_id,
        "mac": s.mac,
        "vlan": s.vlan,
        "qos": s.qos,
        "vlan_proto": s.vlan_proto,
        "spoofchk": s.spoofchk,
        "trust": s.trust,
        "min_tx_rate": s.min_tx_rate,
        "max_tx_rate": s.max_tx_rate,
        "link_state": s.link_state.value,
        "mtu": vf.mtu,
        "attach": attach,
    }
    if vf.mirror_to is not None:
        document["mirror_to"] = str(vf.mirror_to)
    return document
