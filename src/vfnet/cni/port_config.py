"""What a bound vfnet port asks of a container's VF: its settings, MAC, MTU and addresses.

Pure: it takes the API's JSON for the port, its network, its effective QoS policy and
its subnets, and returns values. The VF's settings come from
``network.vf_config.settings_for_port``, the function the server publishes a host's
desired state with, so the VF the plugin sets reads exactly as the host's agent wants it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vfnet.cni.protocol import CniError, Code, IpConfig
from vfnet.errors import ValidationError
from vfnet.network.networks import Network, parse_segment
from vfnet.network.ports import Port
from vfnet.network.qos import QosPolicy, parse_rule
from vfnet.network.vf_config import settings_for_port
from vfnet.network.vf_settings import VfSettings
from vfnet.network.vnic_types import VnicType

__all__ = ["PortConfig", "policy_id_of", "port_config"]

Json = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class PortConfig:
    """The VF of port ``port_id`` (``pci_slot``) as the port wants it in the container."""

    port_id: str
    pci_slot: str
    settings: VfSettings
    mac: str
    mtu: int | None  # None: the network says nothing, the netdev's MTU is left alone
    ips: tuple[IpConfig, ...]  # CIDRs on the port's subnets, each with its gateway


def policy_id_of(port: Json, network: Json) -> str | None:
    """The QoS policy that applies: the port's own, else its network's (as
    ``network.qos.effective_policy`` picks it: whole, rules never merged)."""
    return port.get("qos_policy_id") or network.get("qos_policy_id")


def port_config(
    port: Json, network: Json, policy: Json | None, subnets: Mapping[str, Json]
) -> PortConfig:
    """The config of bound ``port``; ``policy`` is its effective QoS policy, ``subnets``
    those of its fixed IPs by id. Raises CniError when the port has no VF."""
    try:
        settings = settings_for_port(_port(port), _network(network), _policy(policy))
    except (ValidationError, KeyError, TypeError, ValueError) as error:
        raise CniError(
            Code.DECODING_FAILURE, f"port {port.get('id')}: unreadable: {error}"
        ) from None
    slot = (port.get("binding:profile") or {}).get("pci_slot")
    if not slot:
        raise CniError(
            Code.BINDING_FAILED,
            f"port: {port['id']} is bound on host {port.get('binding:host_id')} without a VF",
        )
    return PortConfig(
        port_id=str(port["id"]),
        pci_slot=str(slot),
        settings=settings,
        mac=settings.mac,
        mtu=network.get("mtu"),
        ips=tuple(_ip(fixed, subnets) for fixed in port.get("fixed_ips") or ()),
    )


def _port(port: Json) -> Port:
    return Port(
        network_id=port["network_id"],
        mac_address=port["mac_address"],
        vnic_type=VnicType(port["binding:vnic_type"]),
        admin_state_up=port["admin_state_up"],
        port_security_enabled=port["port_security_enabled"],
        propagate_uplink_status=port["propagate_uplink_status"],
        profile=dict(port.get("binding:profile") or {}),
        qos_policy_id=port.get("qos_policy_id"),
        id=port["id"],
    )


def _network(network: Json) -> Network:
    segment = parse_segment(
        network["provider:network_type"],
        network.get("provider:physical_network"),
        network.get("provider:segmentation_id"),
    )
    return Network(network["name"], network["project_id"], segment, network["admin_state_up"])


def _policy(policy: Json | None) -> QosPolicy | None:
    if policy is None:
        return None
    rules = tuple(parse_rule(rule["type"], rule) for rule in policy.get("rules") or ())
    return QosPolicy(policy["id"], rules)


def _ip(fixed: Json, subnets: Mapping[str, Json]) -> IpConfig:
    subnet = subnets[fixed["subnet_id"]]
    prefix = ipaddress.ip_network(subnet["cidr"]).prefixlen
    return IpConfig(f"{fixed['ip_address']}/{prefix}", subnet.get("gateway_ip"), 0)
