"""A host's desired state document, built from what the store holds for it.

The document is the one ``docs/agent.md`` describes and the agent parses: per claimed VF
bound to a port, the owner, its claim generation, the VF settings
``network.vf_config.settings_for_port`` gives (the port, its network's segment, the
effective QoS policy), the MTU of its network and its attachment: a port of a container
instance goes into the namespace ``vfnet-c-<instance id>`` as ``eth<N>`` (N: the port's
place in the instance) with its fixed IPs and routes, one of a VM to the libvirt domain
named after the instance with its ``vnic_type``, any other stays on the host; per
releasing VF, the claim generation it was released at; per instance placed on the host
(one in ERROR too: the agent keeps trying), what the agent builds for it besides its VFs
(``instances``; a VM without a flavor gets 1 vCPU and 512 MiB).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ipaddress import ip_address, ip_network
from typing import Any

from vfnet.network.qos import effective_policy
from vfnet.network.vf_config import settings_for_port
from vfnet.network.vf_settings import VfSettings
from vfnet.pci.address import PciAddress
from vfnet.store import Store
from vfnet.store.desired import DesiredInputs, on_host
from vfnet.store.instances import SUSPENDED, InstanceRecord
from vfnet.store.records import PortRecord, SubnetRecord

Json = dict[str, Any]
HOST_ATTACH: Json = {"kind": "host"}
VM_VCPUS, VM_MEMORY_MIB = 1, 512  # a VM created without a flavor
CONTAINER_NETNS = "vfnet-c-{}"


def instances_of(store: Store, inputs: DesiredInputs) -> Mapping[str, InstanceRecord]:
    """The instances the document speaks of: read with the rest of ``inputs``."""
    return inputs.instances


def document(inputs: DesiredInputs, instances: Mapping[str, InstanceRecord] | None = None) -> Json:
    """The desired state of ``inputs.host`` at ``inputs.generation``, as JSON."""
    known = inputs.instances if instances is None else instances
    addresses = _vfs_of_ports(inputs)
    routes = _routes(inputs, known.values())
    devices: dict[str, Json] = {}
    for port in inputs.ports:
        for address, claim_generation in _held_by(inputs, port):
            entry = {
                "owner": port.claim_owner,
                "claim_generation": claim_generation,
                "port_id": port.id,
                **_settings_json(_settings(inputs, port)),
                "mtu": inputs.networks[port.network_id].mtu,
                "attach": attach_of(port, known, inputs, routes.get(port.id, [])),
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
        "instances": {
            instance.id: _instance_json(inputs, instance, routes)
            for instance in known.values()
            if on_host(instance, inputs.host)
        },
    }


def attach_of(
    port: PortRecord,
    instances: Mapping[str, InstanceRecord],
    inputs: DesiredInputs,
    routes: list[Json],
) -> Json:
    """Where the port's VF goes: a container's namespace, a VM's domain, or the host."""
    instance = instances.get(port.device_id)
    if instance is None or port.id not in instance.port_ids:
        return dict(HOST_ATTACH)
    if instance.kind == "vm":
        return {
            "kind": "libvirt",
            "name": instance.id,
            "vnic_type": port.vnic_type,
            "instance": instance.id,
        }
    return {
        "kind": "netns",
        "name": CONTAINER_NETNS.format(instance.id),
        "ifname": _ifname(instance, port.id),
        "addresses": _addresses(port, inputs.subnets),
        "routes": routes,
        "instance": instance.id,
    }


def instance_state(instance: InstanceRecord, host: str) -> str:
    """``suspended``, ``migrating`` (on the source of a migration until it is over: its
    devices leave, what the instance runs stays where the target takes it over), or
    ``running``."""
    if instance.state == SUSPENDED:
        return "suspended"
    migration = instance.migration or {}
    if migration.get("source") == host and migration.get("target") != host:
        return "migrating"
    return "running"


def _instance_json(
    inputs: DesiredInputs, instance: InstanceRecord, routes: Mapping[str, list[Json]]
) -> Json:
    flavor = inputs.flavors.get(instance.flavor) if instance.flavor else None
    bridge_ports = []
    for port in _ports_of(inputs.normal_ports, instance):
        physnet = inputs.networks[port.network_id].physical_network
        bridge = inputs.bridges.get(physnet) if physnet else None
        if bridge is None:  # bound before the host's bridge went: nothing to plug it into
            continue
        bridge_ports.append(
            {
                "port_id": port.id,
                "mac": port.mac_address,
                "bridge": bridge,
                "ifname": _ifname(instance, port.id),
                "mtu": inputs.networks[port.network_id].mtu,
                "addresses": _addresses(port, inputs.subnets),
                "routes": routes.get(port.id, []),
            }
        )
    return {
        "kind": instance.kind,
        "state": instance_state(instance, inputs.host),
        "vcpus": flavor.vcpus if flavor else _unsized(instance, VM_VCPUS),
        "memory_mib": flavor.ram_mb if flavor else _unsized(instance, VM_MEMORY_MIB),
        "numa_cells": flavor.numa_cells if flavor else 0,
        "hostdevs": [str(a) for a in inputs.hostdevs.get(instance.claim_owner or "", ())],
        "bridge_ports": bridge_ports,
    }


def _unsized(instance: InstanceRecord, size: int) -> int | None:
    """A VM without a flavor still needs a size to be defined: the smallest useful one."""
    return size if instance.kind == "vm" else None


def _ifname(instance: InstanceRecord, port_id: str) -> str:
    return f"eth{instance.port_ids.index(port_id)}"


def _ports_of(ports: Iterable[PortRecord], instance: InstanceRecord) -> list[PortRecord]:
    """Those of ``ports`` the instance holds, in its interface order."""
    mine = {port.id: port for port in ports if port.id in instance.port_ids}
    return [mine[port_id] for port_id in instance.port_ids if port_id in mine]


def _addresses(port: PortRecord, subnets: Mapping[str, SubnetRecord]) -> list[str]:
    """The port's fixed IPs with their subnet's prefix length (``10.0.0.5/24``)."""
    found = []
    for fixed in port.fixed_ips:
        subnet = subnets.get(fixed.subnet_id)
        if subnet is not None:
            found.append(f"{fixed.ip_address}/{ip_network(subnet.cidr).prefixlen}")
    return found


def _routes(inputs: DesiredInputs, instances: Iterable[InstanceRecord]) -> dict[str, list[Json]]:
    """Port id -> its default routes: per instance and IP version, through the gateway of
    the first port (in interface order) with a subnet that has one; none on the others,
    so an instance never has two default routes of one version."""
    routes: dict[str, list[Json]] = {}
    everything = (*inputs.ports, *inputs.normal_ports)
    for instance in instances:
        versions: set[int] = set()
        for port in _ports_of(everything, instance):
            for fixed in port.fixed_ips:
                subnet = inputs.subnets.get(fixed.subnet_id)
                if subnet is None or subnet.gateway_ip is None:
                    continue
                version = ip_address(subnet.gateway_ip).version
                if version not in versions:
                    versions.add(version)
                    route = {"dst": "default", "gateway": subnet.gateway_ip}
                    routes.setdefault(port.id, []).append(route)
    return routes


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
