"""A host's desired state document, built from what the store holds for it.

The document is the one ``docs/agent.md`` describes and the agent parses: per claimed VF
bound to a port, the owner, its claim generation and the VF settings
``network.vf_config.settings_for_port`` gives (the port, its network's segment, the
effective QoS policy) and its attachment: a port of a container instance goes into the
namespace ``vfnet-c-<instance id>`` as ``eth<N>`` (N: the port's place in the instance),
one of a VM to the libvirt domain named after the instance, any other stays on the host;
per releasing VF, the claim generation it was released at.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vfnet.errors import NotFound
from vfnet.network.qos import effective_policy
from vfnet.network.vf_config import settings_for_port
from vfnet.network.vf_settings import VfSettings
from vfnet.pci.address import PciAddress
from vfnet.store import Store
from vfnet.store.desired import DesiredInputs
from vfnet.store.instances import InstanceRecord
from vfnet.store.records import PortRecord

Json = dict[str, Any]
HOST_ATTACH: Json = {"kind": "host"}
CONTAINER_NETNS = "vfnet-c-{}"


def instances_of(store: Store, inputs: DesiredInputs) -> dict[str, InstanceRecord]:
    """The instances the host's bound ports belong to, by id."""
    found = {}
    for instance_id in sorted({port.device_id for port in inputs.ports if port.device_id}):
        try:
            found[instance_id] = store.get_instance(instance_id)
        except NotFound:  # a device_id that names no instance: the VF stays on the host
            continue
    return found


def attach_of(port: PortRecord, instances: Mapping[str, InstanceRecord]) -> Json:
    """Where the port's VF goes: a container's namespace, a VM's domain, or the host."""
    instance = instances.get(port.device_id)
    if instance is None or port.id not in instance.port_ids:
        return dict(HOST_ATTACH)
    if instance.kind == "vm":
        return {"kind": "libvirt", "name": instance.id}
    ifname = f"eth{instance.port_ids.index(port.id)}"
    return {"kind": "netns", "name": CONTAINER_NETNS.format(instance.id), "ifname": ifname}


def document(inputs: DesiredInputs, instances: Mapping[str, InstanceRecord] | None = None) -> Json:
    """The desired state of ``inputs.host`` at ``inputs.generation``, as JSON."""
    addresses = _vfs_of_ports(inputs)
    devices: dict[str, Json] = {}
    for port in inputs.ports:
        for address, claim_generation in _held_by(inputs, port):
            entry = {
                "owner": port.claim_owner,
                "claim_generation": claim_generation,
                "port_id": port.id,
                **_settings_json(_settings(inputs, port)),
                "mtu": None,
                "attach": attach_of(port, instances or {}),
                "mirror_to": _mirror_target(port, addresses),
            }
            devices[str(address)] = entry
    released = {
        str(address): generation
        for address, generation in sorted(inputs.released.items())
        if str(address) not in devices
    }
    return {
        "host": inputs.host,
        "generation": inputs.generation,
        "devices": devices,
        "released": released,
    }


def _settings(inputs: DesiredInputs, port: PortRecord) -> VfSettings:
    network = inputs.networks[port.network_id]
    own = inputs.policies.get(port.qos_policy_id) if port.qos_policy_id else None
    inherited = inputs.policies.get(network.qos_policy_id) if network.qos_policy_id else None
    policy = effective_policy(
        own.to_policy() if own else None, inherited.to_policy() if inherited else None
    )
    return settings_for_port(port.to_port(), network.to_network(), policy)


def _settings_json(settings: VfSettings) -> Json:
    return {
        "mac": settings.mac,
        "vlan": settings.vlan,
        "qos": settings.qos,
        "vlan_proto": settings.vlan_proto,
        "spoofchk": settings.spoofchk,
        "trust": settings.trust,
        "min_tx_rate": settings.min_tx_rate,
        "max_tx_rate": settings.max_tx_rate,
        "link_state": settings.link_state.value,
    }


def _held_by(inputs: DesiredInputs, port: PortRecord) -> tuple[tuple[PciAddress, int], ...]:
    """The port's VFs: those of its claim, or, when the claim is an instance's holding
    several, the one bound to the port (its ``pci_slot``)."""
    held = inputs.claimed.get(port.claim_owner or "", ())
    slot = port.profile.get("pci_slot")
    if len(held) > 1 and slot:
        return tuple(item for item in held if str(item[0]) == str(slot))
    return held


def _vfs_of_ports(inputs: DesiredInputs) -> dict[str, PciAddress]:
    """Each port's (first) VF on the host: where a mirror on this host points."""
    found = {}
    for port in inputs.ports:
        held = _held_by(inputs, port)
        if held:
            found[port.id] = held[0][0]
    return found


def _mirror_target(port: PortRecord, addresses: Mapping[str, PciAddress]) -> str | None:
    """The VF of the port mirrored to, when it is on this host (else no mirror here)."""
    if port.mirror_to is None or port.mirror_to not in addresses:
        return None
    return str(addresses[port.mirror_to])
