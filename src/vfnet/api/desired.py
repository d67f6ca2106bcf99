"""A host's desired state document, built from what the store holds for it.

The document is the one ``docs/agent.md`` describes and the agent parses: per claimed VF
bound to a port, the owner, its claim generation and the VF settings
``network.vf_config.settings_for_port`` gives (the port, its network's segment, the
effective QoS policy); per releasing VF, the claim generation it was released at.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vfnet.network.qos import effective_policy
from vfnet.network.vf_config import settings_for_port
from vfnet.network.vf_settings import VfSettings
from vfnet.pci.address import PciAddress
from vfnet.store.desired import DesiredInputs
from vfnet.store.records import PortRecord

Json = dict[str, Any]
HOST_ATTACH: Json = {"kind": "host"}  # attachments to namespaces and domains come later


def document(inputs: DesiredInputs) -> Json:
    """The desired state of ``inputs.host`` at ``inputs.generation``, as JSON."""
    addresses = _vfs_of_ports(inputs)
    devices: dict[str, Json] = {}
    for port in inputs.ports:
        for address, claim_generation in inputs.claimed.get(port.claim_owner or "", ()):
            entry = {
                "owner": port.claim_owner,
                "claim_generation": claim_generation,
                "port_id": port.id,
                **_settings_json(_settings(inputs, port)),
                "mtu": None,
                "attach": dict(HOST_ATTACH),
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


def _vfs_of_ports(inputs: DesiredInputs) -> dict[str, PciAddress]:
    """Each port's (first) VF on the host: where a mirror on this host points."""
    found = {}
    for port in inputs.ports:
        held = inputs.claimed.get(port.claim_owner or "", ())
        if held:
            found[port.id] = held[0][0]
    return found


def _mirror_target(port: PortRecord, addresses: Mapping[str, PciAddress]) -> str | None:
    """The VF of the port mirrored to, when it is on this host (else no mirror here)."""
    if port.mirror_to is None or port.mirror_to not in addresses:
        return None
    return str(addresses[port.mirror_to])
