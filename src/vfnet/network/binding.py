"""Port binding: can this port bind on this host, and with which vif type, details and profile.

A port that cannot bind gets a ``BindingFailed`` value whose reason names the host and
what it lacks, so an operator never has to read logs to learn why.

Public API: HostNetworking, ClaimedDevice, Binding, BindingFailed, bind_port, reported,
unbound_profile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from vfnet.network.networks import BINDABLE_TYPES, Network
from vfnet.network.ports import DEVICE_KEYS, Port, PortStatus
from vfnet.network.vnic_types import SRIOV_KINDS, VIF_TYPES, VnicType
from vfnet.pci.selection import SelectedDevice

BINDING_FAILED = "binding_failed"


@dataclass(frozen=True, slots=True)
class HostNetworking:
    """What a host offers ports: its physnets, the vnic types it serves, and the physnets
    on which it has a Linux bridge for ``normal`` ports."""

    host: str
    physnets: frozenset[str]
    vnic_types: frozenset[VnicType]
    bridges: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ClaimedDevice:
    """The device the scheduler claimed for a port, as the binding profile names it."""

    pci_slot: str
    pci_vendor_info: str
    physical_network: str | None
    mac: str | None = None

    @classmethod
    def from_selected(cls, selected: SelectedDevice) -> ClaimedDevice:
        device = selected.device
        return cls(str(device.address), device.vendor_info, selected.physical_network, device.mac)


@dataclass(frozen=True, slots=True)
class Binding:
    host: str
    vif_type: str
    vif_details: Mapping[str, str | bool]
    profile: Mapping[str, object]
    mac_address: str
    # DOWN until the host's agent reports the device applied.
    status: PortStatus = PortStatus.DOWN


@dataclass(frozen=True, slots=True)
class BindingFailed:
    host: str
    reason: str
    vif_type: str = field(default=BINDING_FAILED, init=False)


_Check = Callable[[Port, Network, HostNetworking, ClaimedDevice | None], str | None]


def bind_port(
    port: Port, network: Network, host: HostNetworking, device: ClaimedDevice | None = None
) -> Binding | BindingFailed:
    """Bind ``port`` of ``network`` on ``host`` with the claimed ``device`` (none for normal)."""
    for check in _CHECKS:
        reason = check(port, network, host, device)
        if reason is not None:
            return BindingFailed(host.host, reason)
    profile = dict(port.profile)
    mac = port.mac_address
    if device is not None:
        profile.update(_device_keys(port, device))
        # A whole PF keeps its own MAC: the port takes it, as Neutron copies it back.
        if port.vnic_type is VnicType.DIRECT_PHYSICAL and device.mac:
            mac = device.mac
    details: dict[str, str | bool] = {
        "port_filter": False,
        "connectivity": "l2",
        "vlan": str(network.segment.vlan),
    }
    return Binding(host.host, VIF_TYPES[port.vnic_type], details, profile, mac)


def reported(binding: Binding, *, applied: bool, admin_state_up: bool) -> Binding:
    """The binding once the agent reports: ACTIVE when applied and up, DOWN otherwise."""
    status = PortStatus.ACTIVE if applied and admin_state_up else PortStatus.DOWN
    return replace(binding, status=status)


def unbound_profile(profile: Mapping[str, object]) -> dict[str, object]:
    """The profile after unbinding: device keys go, the user's (``trusted``...) stay."""
    return {key: value for key, value in profile.items() if key not in DEVICE_KEYS}


def _served(
    port: Port, network: Network, host: HostNetworking, _: ClaimedDevice | None
) -> str | None:
    if port.vnic_type in host.vnic_types:
        return None
    served = ", ".join(sorted(host.vnic_types)) or "none"
    return f"host {host.host} does not serve vnic_type {port.vnic_type.value!r}; it serves {served}"


def _not_switchdev(
    port: Port, network: Network, host: HostNetworking, _: ClaimedDevice | None
) -> str | None:
    capabilities = port.profile.get("capabilities")
    if port.vnic_type is not VnicType.DIRECT or not isinstance(capabilities, tuple | list):
        return None
    if "switchdev" not in capabilities:
        return None
    return (
        "a direct port with the 'switchdev' capability needs an OVS/OVN hardware-offload "
        "control plane, which vfnet is not; drop the capability from binding:profile"
    )


def _segment_type(
    port: Port, network: Network, host: HostNetworking, _: ClaimedDevice | None
) -> str | None:
    kind = network.segment.network_type
    if kind in BINDABLE_TYPES:
        return None
    return (
        f"network {network.name!r} is a {kind.value} network; a {port.vnic_type.value} port "
        "binds only on flat or vlan networks, because the NIC's switch knows VLANs, not overlays"
    )


def _physnet(
    port: Port, network: Network, host: HostNetworking, _: ClaimedDevice | None
) -> str | None:
    physnet = network.segment.physical_network
    bridged = port.vnic_type is VnicType.NORMAL
    offered = host.bridges if bridged else host.physnets
    if physnet in offered:
        return None
    has = ", ".join(sorted(offered)) or "none"
    if bridged:
        return (
            f"host {host.host} has no bridge on physical network {physnet!r}; "
            f"it has bridges on {has}"
        )
    return f"host {host.host} has no physical network {physnet!r}; it has {has}"


def _device(
    port: Port, network: Network, host: HostNetworking, device: ClaimedDevice | None
) -> str | None:
    if port.vnic_type not in SRIOV_KINDS:
        return None
    if device is None:
        return f"no device was claimed on host {host.host} for this {port.vnic_type.value} port"
    physnet = network.segment.physical_network
    if device.physical_network != physnet:
        return (
            f"device {device.pci_slot} on host {host.host} is on physical network "
            f"{device.physical_network!r}, the network is on {physnet!r}"
        )
    return None


_CHECKS: tuple[_Check, ...] = (_served, _not_switchdev, _segment_type, _physnet, _device)


def _device_keys(port: Port, device: ClaimedDevice) -> dict[str, object]:
    keys: dict[str, object] = {
        "pci_slot": device.pci_slot,
        "pci_vendor_info": device.pci_vendor_info,
        "physical_network": device.physical_network,
    }
    if port.vnic_type is VnicType.DIRECT_PHYSICAL and device.mac:
        keys["device_mac_address"] = device.mac
    return keys
