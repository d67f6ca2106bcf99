"""Ports: what a user may ask of one, and the VF settings its fields stand for.

Call order for a new port: resolve its MAC (``macs``) and fixed IPs (``subnets``), then
``validate_port`` with the network, the caller's role and, for ``mirror_to``, the target
port and its network.

Public API: PortStatus, Port, PortRequest, DEVICE_KEYS, USER_KEYS, validate_port,
check_profile, check_security_groups, check_mirror_to, check_port_update.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from vfnet.errors import Conflict, Forbidden, ValidationError
from vfnet.network.ipam import IpAddress
from vfnet.network.networks import ADMIN_ROLE, Network
from vfnet.network.vnic_types import SRIOV_KINDS, VF_KINDS, VnicType, parse_vnic_type

PROFILE = "binding:profile"
# Written by vfnet when a port binds (from the claimed device), never by a user.
DEVICE_KEYS = frozenset(
    {
        "pci_slot", "pci_vendor_info", "physical_network", "device_mac_address",
        "pf_mac_address", "vf_num", "card_serial_number", "allocation", "arq_uuid",
    }
)  # fmt: skip
USER_KEYS = frozenset({"trusted", "capabilities"})


class PortStatus(StrEnum):
    DOWN = "DOWN"
    ACTIVE = "ACTIVE"
    BUILD = "BUILD"


@dataclass(frozen=True, slots=True)
class PortRequest:
    """A port as a user writes it (the MAC and fixed IPs are resolved separately)."""

    network_id: str
    vnic_type: str | None = None
    admin_state_up: bool = True
    port_security_enabled: bool = True
    # Neutron's default since its uplink-status-propagation extension became the norm.
    propagate_uplink_status: bool = True
    security_groups: Sequence[str] = ()
    profile: Mapping[str, object] = field(default_factory=dict)
    mirror_to: str | None = None
    qos_policy_id: str | None = None
    name: str = ""
    # Given before validation so that ``mirror_to`` can be checked against it.
    id: str = ""


@dataclass(frozen=True, slots=True)
class Port:
    network_id: str
    mac_address: str
    vnic_type: VnicType = VnicType.NORMAL
    admin_state_up: bool = True
    port_security_enabled: bool = True
    propagate_uplink_status: bool = True
    profile: Mapping[str, object] = field(default_factory=dict)
    mirror_to: str | None = None
    qos_policy_id: str | None = None
    fixed_ips: tuple[IpAddress, ...] = ()
    name: str = ""
    id: str = ""

    @property
    def spoofchk(self) -> bool:
        """Port security is the VF's MAC anti-spoofing: the NIC has no other filter."""
        return self.port_security_enabled

    @property
    def link_state(self) -> str:
        """The VF link state: admin down always wins (Neutron bug 2078789), then uplink."""
        if not self.admin_state_up:
            return "disable"
        return "auto" if self.propagate_uplink_status else "enable"

    @property
    def trusted(self) -> bool:
        return self.profile.get("trusted") is True


def validate_port(
    request: PortRequest,
    network: Network,
    *,
    role: str,
    mac_address: str,
    mirror_target: tuple[Port, Network] | None = None,
) -> Port:
    """The port ``request`` describes on ``network``; ``mirror_target`` is the port named by
    ``mirror_to`` with its network (the caller raises ``NotFound`` when there is none)."""
    vnic_type = parse_vnic_type(request.vnic_type)
    check_security_groups(vnic_type, request.security_groups)
    port = Port(
        network_id=network.id or request.network_id,
        mac_address=mac_address,
        vnic_type=vnic_type,
        admin_state_up=request.admin_state_up,
        port_security_enabled=request.port_security_enabled,
        propagate_uplink_status=request.propagate_uplink_status,
        profile=check_profile(request.profile, role),
        mirror_to=request.mirror_to,
        qos_policy_id=request.qos_policy_id,
        name=request.name,
        id=request.id,
    )
    if request.mirror_to is not None:
        if mirror_target is None:
            raise ValidationError("mirror_to", "the caller must pass the target port")
        check_mirror_to(port, network, *mirror_target)
    return port


def check_security_groups(vnic_type: VnicType, security_groups: Sequence[str]) -> None:
    """vfnet filters no traffic, so a security group on a port would be a false promise."""
    if not security_groups:
        return
    if vnic_type in SRIOV_KINDS:
        reason = (
            f"a {vnic_type.value} port's traffic goes straight to the NIC, which cannot "
            "enforce security groups; only MAC anti-spoofing (port_security_enabled) applies"
        )
    else:
        reason = "vfnet's bridge does not filter traffic either; leave security_groups empty"
    raise ValidationError("security_groups", reason)


def check_profile(profile: Mapping[str, object], role: str) -> dict[str, object]:
    """The user part of ``binding:profile``: admins only, and only ``trusted``/``capabilities``."""
    if not profile:
        return {}
    if role != ADMIN_ROLE:
        raise Forbidden(f"only an admin may set {PROFILE}; the {role} role may not")
    checked: dict[str, object] = {}
    for key, value in profile.items():
        where = f"{PROFILE}.{key}"
        if key in DEVICE_KEYS:
            raise ValidationError(where, "is set by vfnet from the device the port binds to")
        if key == "trusted":
            checked[key] = _bool(where, value)
        elif key == "capabilities":
            checked[key] = _words(where, value)
        else:
            raise ValidationError(
                where, f"unknown key; a user may set {', '.join(sorted(USER_KEYS))}"
            )
    return checked


def check_mirror_to(port: Port, network: Network, target: Port, target_network: Network) -> None:
    """``mirror_to`` names another VF port on the same physnet: the NIC copies within its switch."""
    if port.id and port.id in (port.mirror_to, target.id):
        raise ValidationError("mirror_to", "a port cannot mirror to itself")
    for which, kind in (("this port", port.vnic_type), ("the target port", target.vnic_type)):
        if kind not in VF_KINDS:
            raise ValidationError(
                "mirror_to", f"{which} is {kind.value}; mirroring copies between VFs of one NIC"
            )
    ours = network.segment.physical_network
    theirs = target_network.segment.physical_network
    if ours != theirs:
        raise ValidationError(
            "mirror_to",
            f"port {target.id!r} is on physical network {theirs!r}, not {ours!r}; "
            "a NIC mirrors only within one physical network",
        )


def check_port_update(port: Port, changes: Mapping[str, object], *, bound: bool) -> None:
    """Fields a bound port cannot change: its VF was chosen and configured for them."""
    if not bound:
        return
    for name in ("binding:vnic_type", "mac_address", "network_id"):
        if name in changes and changes[name] != _current(port, name):
            raise Conflict(f"{name}: cannot change while the port is bound; unbind it first")


def _current(port: Port, name: str) -> object:
    if name == "binding:vnic_type":
        return port.vnic_type.value
    return getattr(port, name)


def _bool(field_name: str, value: object) -> bool:
    # Nova writes "true"/"false" strings here; both spellings mean the same.
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValidationError(field_name, f"must be true or false, not {value!r}")


def _words(field_name: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValidationError(field_name, f"must be a list of strings, not {value!r}")
    return tuple(value)
